"""Which variants of a case run (case x model x stream on one gateway), and why one is skipped:
before sending (a capability the model lacks or nobody declared, a model not listed on every
endpoint the case uses) or after (a model the relay does not serve there). No pytest: the pytest
collection (harness/pytest/collection.py) and the detection matrix (harness/detection.py) share it,
so both select the same items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.cases import Case
from harness.gateways import Gateway
from harness.runner import Variant


def expand(case: Case, gateway: Gateway, endpoints: tuple[str, ...]) -> Iterator[tuple[Variant, str | None]]:
    """Variants of one case, each with the reason it is skipped (None: it runs)."""
    # A case whose steps switch endpoints (one question asked in every format) runs only when all
    # of them are selected, and only for a model the gateway serves on all of them.
    used = dict.fromkeys(s.endpoint for s in case.steps)
    if case.endpoint not in endpoints or any(e not in endpoints for e in used):
        return
    streams = {"true": (True,), "false": (False,), "both": (False, True)}[case.stream]
    if case.models is None:
        models: list[str | None] = [m.name for m in gateway.models_for(case.endpoint)]
    elif case.models == ():
        models = [None]
    else:
        models = list(case.models)
    for model in models:
        skip = None
        if model is not None and case.requires:
            # Every endpoint the steps use must offer what the case requires.
            # (A model not listed on the case's own endpoint has none of them.)
            where = list(dict.fromkeys([case.endpoint, *used]))
            infos = [gateway.model(e, model) for e in where]
            if any(info is not None and not info.declared for info in infos):
                skip = undeclared_reason(model)
            else:
                caps = [
                    i.capabilities if i else frozenset()
                    for e, i in zip(where, infos, strict=True)
                    if i or e == case.endpoint
                ]
                missing = [c for c in case.requires if any(c not in have for have in caps)]
                if missing:
                    skip = (
                        f"model {model!r} on gateway {gateway.name!r} lacks capability "
                        f"{', '.join(missing)} (capability tags in the gateway config)"
                    )
        absent = [e for e in used if e != case.endpoint and model is not None and gateway.model(e, model) is None]
        if absent and skip is None:
            skip = (
                f"model {model!r} is not listed for {', '.join(absent)} on gateway {gateway.name!r} "
                f"(the case's steps use that endpoint too)"
            )
        for stream in streams:
            yield Variant(case, gateway.name, model, stream), skip


UNDECLARED = "capability not declared for "


def undeclared_reason(model: str) -> str:
    """The skip reason for a case needing a capability nobody declared; the digest counts it."""
    return f"{UNDECLARED}{model}: run relaycheck discover or tag it in gateways.yaml"


NOT_SERVED = "not served: "


def not_served_reason(result: Any, gateway: Gateway, level: str = "strict") -> str | None:
    """A model nobody declared on this endpoint (a name from --models) that the relay answers
    "not found" for, on a request the case expects to succeed, or leaves out of the model list
    it serves in that dialect, is not offered there; it is not broken. Skipped with the reason
    (the digest counts it). Declared models are failed as usual."""
    variant = result.variant
    first = result.steps[0] if result.steps else None
    if variant.model is None or first is None or first.exchange is None:
        return None
    endpoint = first.step.endpoint
    info = gateway.model(endpoint, variant.model)
    if info is None or info.declared:
        return None
    failing = result.failing(level)
    if failing and all(v.code == "expect.contains" and v.path == "$.data[*].id" for v in failing):
        return (
            f"{NOT_SERVED}the {endpoint} model list (GET /v1/models) does not list {variant.model} (not declared "
            "there): run relaycheck discover or list it in gateways.yaml"
        )
    status = first.exchange.status
    if status in first.step.expect.status or not (
        status == 404 or (status == 400 and b"model_not_found" in (first.exchange.body or b""))
    ):
        return None
    return (
        f"{NOT_SERVED}{endpoint} answered {status} for {variant.model} (not declared there): "
        "run relaycheck discover or list it in gateways.yaml"
    )
