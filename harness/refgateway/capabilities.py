"""Per-model capabilities of the reference gateway, when it is given a capability map (the
built-in gateway is started with the tags of gateways.yaml's `local`): a request that uses a
capability its model lacks is refused with a 400 in the dialect's shape, as an upstream that
does not offer it would, and a model without parallel_tools makes one tool call at a time. So
the tags in gateways.yaml describe what the gateway really does, and `relaycheck discover` can
find them out. Models outside the map (and every model when there is no map) may use anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.refgateway.common import RequestError

CapabilityMap = Mapping[str, Mapping[str, Iterable[str]]]  # endpoint -> model -> tags
NO_PARALLEL = "capability:no-parallel-tools"  # a Ctx flag, like a fault name, never a user fault
IMAGE_PARTS = {"chat": "image_url", "messages": "image", "responses": "input_image"}


def _parts(body: dict[str, Any], endpoint: str) -> Iterable[Any]:
    turns = body.get("messages") if endpoint != "responses" else body.get("input")
    for turn in turns if isinstance(turns, list) else ():
        content = turn.get("content") if isinstance(turn, dict) else None
        yield from content if isinstance(content, list) else ()


def used(body: dict[str, Any], endpoint: str) -> set[str]:
    """The capabilities a request needs (parallel tools aside: a model without them still answers)."""
    out = set()
    if body.get("tools"):
        out.add("tools")
    if any(isinstance(p, dict) and p.get("type") == IMAGE_PARTS[endpoint] for p in _parts(body, endpoint)):
        out.add("vision")
    if endpoint == "messages" and isinstance(body.get("thinking"), dict) and body["thinking"].get("type") == "enabled":
        out.add("thinking")
    if endpoint == "responses" and isinstance(body.get("reasoning"), dict) and body["reasoning"].get("effort"):
        out.add("reasoning")
    if endpoint == "responses" and body.get("previous_response_id"):
        out.add("stored_responses")
    return out


def tags(caps: CapabilityMap | None, endpoint: str, model: str) -> frozenset[str] | None:
    """The model's tags on the endpoint; None when nothing is declared (no limits)."""
    if caps is None or model not in caps.get(endpoint, {}):
        return None
    return frozenset(caps[endpoint][model])


def refuse(caps: CapabilityMap | None, endpoint: str, body: dict[str, Any]) -> None:
    """Raise the 400 an upstream without the capability answers; nothing when it has them all."""
    have = tags(caps, endpoint, str(body.get("model")))
    if have is None:
        return
    missing = sorted(used(body, endpoint) - have)
    if missing:
        param = {"vision": "messages", "thinking": "thinking", "reasoning": "reasoning.effort"}.get(missing[0])
        raise RequestError(400, f"{missing[0]} is not supported with the model '{body['model']}'.", param=param)


def flags(caps: CapabilityMap | None, endpoint: str, model: str) -> frozenset[str]:
    have = tags(caps, endpoint, model)
    return frozenset({NO_PARALLEL}) if have is not None and "parallel_tools" not in have else frozenset()
