"""Stream-grammar faults: each breaks one rule of a dialect's stream grammar the way a relay
did (see the ``grammar.*`` codes), applied to the finished event list of a clean answer so the
dialect modules keep one clean code path and one call each."""

from __future__ import annotations

import json
from typing import Any

from harness.refgateway.common import Ctx, Event, dump


def _loads(events: list[Event]) -> list[tuple[str | None, Any]]:
    return [(name, data if data == "[DONE]" else json.loads(data)) for name, data in events]


def _dumps(events: list[tuple[str | None, Any]]) -> list[Event]:
    return [(name, data if isinstance(data, str) else dump(data)) for name, data in events]


_CHAT = (
    "chat-role-repeated",
    "chat-id-changes",
    "chat-no-finish-reason",
    "chat-usage-unasked",
    "chat-delta-after-finish",
)


def chat(events: list[Event], ctx: Ctx, usage: dict[str, Any]) -> list[Event]:
    if not any(ctx.has(f) for f in _CHAT):
        return events
    evs = _loads(events)
    chunks = [d for _, d in evs if isinstance(d, dict) and d.get("choices")]
    if ctx.has("chat-role-repeated"):  # every delta says role assistant again
        for d in chunks:
            d["choices"][0]["delta"].setdefault("role", "assistant")
    if ctx.has("chat-id-changes") and len(chunks) > 1:  # a relay re-ids each upstream chunk
        for i, d in enumerate(chunks[1:], 1):
            d["id"] = f"{d['id']}-{i}"
    finish_at = next(
        i
        for i, (_, d) in enumerate(evs)
        if isinstance(d, dict) and d.get("choices") and d["choices"][0]["finish_reason"]
    )
    if ctx.has("chat-no-finish-reason"):
        evs[finish_at][1]["choices"][0]["finish_reason"] = None
    if ctx.has("chat-delta-after-finish"):
        late = json.loads(dump(evs[finish_at][1]))
        late["choices"][0] |= {"delta": {"content": " (continued)"}, "finish_reason": None}
        evs.insert(finish_at + 1, (None, late))
    if ctx.has("chat-usage-unasked") and not (ctx.body.get("stream_options") or {}).get("include_usage"):
        last = json.loads(dump(chunks[-1]))
        evs.insert(len(evs) - (evs[-1][1] == "[DONE]"), (None, {**last, "choices": [], "usage": usage}))
    return _dumps(evs)


_MESSAGES = (
    "messages-unclosed-block",
    "messages-no-message-delta",
    "messages-block-index-gap",
    "messages-blocks-overlap",
    "messages-delta-after-stop",
    "messages-no-message-start",
)


def messages(events: list[Event], ctx: Ctx) -> list[Event]:
    if not any(ctx.has(f) for f in _MESSAGES):
        return events
    evs = _loads(events)

    def kinds(kind: str) -> list[int]:
        return [i for i, (n, _) in enumerate(evs) if n == kind]

    if ctx.has("messages-block-index-gap"):  # blocks numbered from 1 (a relay that skipped one)
        for _, d in evs:
            if isinstance(d, dict) and "index" in d:
                d["index"] += 1
    if ctx.has("messages-delta-after-stop"):  # the first block's last delta moved past its stop
        stop = kinds("content_block_stop")[0]
        if evs[stop - 1][0] == "content_block_delta":
            evs.insert(stop, evs.pop(stop - 1))
    if ctx.has("messages-blocks-overlap") and len(kinds("content_block_stop")) > 1:
        evs.insert(kinds("content_block_start")[1] + 1, evs.pop(kinds("content_block_stop")[0]))
    if ctx.has("messages-unclosed-block"):
        del evs[kinds("content_block_stop")[-1]]
    if ctx.has("messages-no-message-delta"):
        del evs[kinds("message_delta")[0]]
    if ctx.has("messages-no-message-start"):
        del evs[kinds("message_start")[0]]
    return _dumps(evs)


_RESPONSES = (
    "delta-before-added",
    "responses-no-created",
    "responses-no-part-done",
    "responses-text-done-differs",
    "responses-terminal-status",
    "responses-output-index-gap",
    "responses-no-args-done",
    "responses-wrong-item-id",
    "responses-nulls-omitted",
)
_DELTAS = ("response.output_text.delta", "response.function_call_arguments.delta")


def responses(raw: list[dict[str, Any]], ctx: Ctx) -> list[dict[str, Any]]:
    """On the event dicts, before sequence numbers are given (so they stay consecutive)."""
    if not any(ctx.has(f) for f in _RESPONSES):
        return raw
    raw = json.loads(dump(raw))

    def first(kind: str | tuple[str, ...]) -> int | None:
        kinds = (kind,) if isinstance(kind, str) else kind
        return next((i for i, e in enumerate(raw) if e["type"] in kinds), None)

    if ctx.has("delta-before-added") and (d := first(_DELTAS)) is not None:
        # RELAY_DEFECTS #6: the first delta overtakes its item's output_item.added.
        item_id = raw[d]["item_id"]
        added = next(
            i for i, e in enumerate(raw) if e["type"] == "response.output_item.added" and e["item"]["id"] == item_id
        )
        raw.insert(added, raw.pop(d))
    if ctx.has("responses-no-created"):
        raw = [e for e in raw if e["type"] != "response.created"]
    if ctx.has("responses-no-part-done"):
        raw = [e for e in raw if e["type"] != "response.content_part.done"]
    if ctx.has("responses-no-args-done"):
        raw = [e for e in raw if e["type"] != "response.function_call_arguments.done"]
    if ctx.has("responses-text-done-differs") and (i := first("response.output_text.done")) is not None:
        raw[i]["text"] = raw[i]["text"][: len(raw[i]["text"]) // 2]
    if ctx.has("responses-wrong-item-id") and (i := first(_DELTAS)) is not None:
        raw[i]["item_id"] += "x"
    if ctx.has("responses-output-index-gap"):  # output indices counted from 1
        for e in raw:
            if "output_index" in e:
                e["output_index"] += 1
    if ctx.has("responses-terminal-status"):
        raw[-1]["response"]["status"] = "in_progress"
    if ctx.has("responses-nulls-omitted"):
        for e in raw:
            if isinstance(e.get("response"), dict):
                e["response"] = omit_nulls(e["response"], ctx)
    return raw


def omit_nulls(response: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Fault responses-nulls-omitted (RELAY_DEFECTS #15): a Response object without the fields
    that are required but null (error, incomplete_details, instructions, ...)."""
    if not ctx.has("responses-nulls-omitted"):
        return response
    return {k: v for k, v in response.items() if v is not None}
