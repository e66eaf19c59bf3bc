"""Mutation operators for the Messages dialect: each breaks official traffic the way a real relay
did (RELAY_DEFECTS.md rows) or breaks one grammar rule, and names the code that must catch it.

Streams are edited event by event on the raw bytes (untouched events keep their exact bytes,
space padding included), so a mutant differs from the official stream only where it must.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from harness import sse
from harness.model import Exchange
from harness.traffic import RecordedInteraction
from tests.truth.mutation import Mutation, body_text, with_body


@dataclass
class _Ev:
    raw: str  # the event's exact text, blank line included
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type"))


def _events(it: RecordedInteraction) -> list[_Ev]:
    raw = it.exchange.body
    events, _ = sse.parse(raw)
    return [_Ev(raw[e.start : e.end].decode("utf-8"), json.loads(e.data)) for e in events]


def _ev(data: dict[str, Any], name: str | None = None) -> _Ev:
    event = name if name is not None else data["type"]
    head = f"event: {event}\n" if event else ""
    return _Ev(f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n", data)


def _join(it: RecordedInteraction, evs: list[_Ev]) -> Exchange:
    return with_body(it, "".join(e.raw for e in evs))


def _blocks(evs: list[_Ev]) -> list[tuple[int, int, str]]:
    """(start position, stop position, block type) of each content block."""
    out, start = [], None
    for i, e in enumerate(evs):
        if e.type == "content_block_start":
            start = i
        elif e.type == "content_block_stop" and start is not None:
            out.append((start, i, str(evs[start].data["content_block"]["type"])))
    return out


def _body(it: RecordedInteraction) -> dict[str, Any] | None:
    if it.exchange.status != 200:
        return None
    try:
        body = json.loads(body_text(it))
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _json(it: RecordedInteraction, body: Any) -> Exchange:
    return with_body(it, json.dumps(body))


# --- streams ---------------------------------------------------------------------------------


def lost_first_text_delta(it: RecordedInteraction) -> Exchange | None:
    """#1: the first text_delta after a thinking block is dropped. Only observable (and so only
    applied) where that text block has a single text_delta: it then arrives empty."""
    evs = _events(it)
    blocks = _blocks(evs)
    for (_, _, prev), (s, e, kind) in itertools.pairwise(blocks):
        if prev == "thinking" and kind == "text":
            deltas = [i for i in range(s + 1, e) if evs[i].type == "content_block_delta"]
            if len(deltas) == 1:
                return _join(it, evs[: deltas[0]] + evs[deltas[0] + 1 :])
    return None


def text_delta_on_tool_use(it: RecordedInteraction) -> Exchange | None:
    """#8: a text_delta on an open tool_use block."""
    evs = _events(it)
    for s, e, kind in _blocks(evs):
        if kind == "tool_use" and e > s + 1:
            d = evs[s + 1].data
            if d.get("delta", {}).get("type") == "input_json_delta":
                text = d["delta"]["partial_json"]
                bad = {
                    "type": "content_block_delta",
                    "index": d["index"],
                    "delta": {"type": "text_delta", "text": text},
                }
                return _join(it, [*evs[: s + 1], _ev(bad), *evs[s + 2 :]])
    return None


def delta_without_start(it: RecordedInteraction) -> Exchange | None:
    """#9: a content_block_delta with no content_block_start before it."""
    evs = _events(it)
    for s, e, _ in _blocks(evs):
        if e > s + 1:
            return _join(it, evs[:s] + evs[s + 1 :])
    return None


def error_event_in_stream(it: RecordedInteraction) -> Exchange | None:
    """#14: an error sent as a data: line (no event: line) inside the 200 stream."""
    evs = _events(it)
    blocks = _blocks(evs)
    if not blocks:
        return None
    err = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    cut = blocks[0][1] + 1
    return _join(it, [*evs[:cut], _ev(err, name="")])


def stream_stop_reason(it: RecordedInteraction) -> Exchange | None:
    """#17 (stream): tool_use blocks streamed, but message_delta says end_turn."""
    evs = _events(it)
    if not any(k == "tool_use" for _, _, k in _blocks(evs)):
        return None
    out = []
    for e in evs:
        if e.type == "message_delta":
            d = json.loads(json.dumps(e.data))
            d["delta"]["stop_reason"] = "end_turn"
            e = _ev(d)
        out.append(e)
    return _join(it, out)


def no_blank_line(it: RecordedInteraction) -> Exchange | None:
    """#12: two events written with no blank line between them."""
    evs = _events(it)
    for i, e in enumerate(evs[:-1]):
        if e.type == "content_block_delta" and evs[i + 1].type == "content_block_delta":
            second = "\n".join(line for line in evs[i + 1].raw.split("\n") if line.startswith("data:"))
            merged = _Ev(e.raw.rstrip("\n") + "\n" + second + "\n\n", e.data)
            return _join(it, [*evs[:i], merged, *evs[i + 2 :]])
    return None


def missing_event_line(it: RecordedInteraction) -> Exchange | None:
    """Grammar: every Anthropic event has an event: line equal to data.type (chat-style framing)."""
    evs = _events(it)
    if not any(e.type == "content_block_delta" for e in evs):
        return None
    return _join(it, [_ev(e.data, name="") if e.type == "content_block_delta" else e for e in evs])


def missing_signature(it: RecordedInteraction) -> Exchange | None:
    """Grammar: a thinking block must be signed (relays that drop signature_delta, cf. #11)."""
    evs = _events(it)
    keep = [e for e in evs if e.data.get("delta", {}).get("type") != "signature_delta"]
    return _join(it, keep) if len(keep) < len(evs) else None


def block_index_gap(it: RecordedInteraction) -> Exchange | None:
    """Grammar: block indexes run 0, 1, 2 ... without gaps (here the first block is numbered 1)."""
    evs = _events(it)
    blocks = _blocks(evs)
    if not blocks:
        return None
    s, e, _ = blocks[0]
    out = list(evs)
    for i in range(s, e + 1):
        d = json.loads(json.dumps(out[i].data))
        if "index" in d:
            d["index"] = 1
        out[i] = _ev(d)
    return _join(it, out)


def truncated(it: RecordedInteraction) -> Exchange | None:
    """Grammar: the stream ends without message_stop (a relay that closes early)."""
    evs = _events(it)
    return _join(it, [e for e in evs if e.type != "message_stop"])


def after_message_stop(it: RecordedInteraction) -> Exchange | None:
    """Grammar: nothing after message_stop."""
    evs = _events(it)
    return _join(it, [*evs, _ev({"type": "message_stop"})])


def done_sentinel(it: RecordedInteraction) -> Exchange | None:
    """Chat framing leaking into Messages: a data: [DONE] at the end."""
    return with_body(it, body_text(it) + "data: [DONE]\n\n")


def truncated_tool_json(it: RecordedInteraction) -> Exchange | None:
    """#10-like: the last input_json_delta of a tool_use block is lost, so the input is not JSON."""
    evs = _events(it)
    for s, e, kind in _blocks(evs):
        parts = [i for i in range(s + 1, e) if evs[i].data.get("delta", {}).get("partial_json")]
        if kind == "tool_use" and len(parts) >= 2:
            return _join(it, [x for i, x in enumerate(evs) if i != parts[-1]])
    return None


def block_overlap(it: RecordedInteraction) -> Exchange | None:
    """Grammar: one block open at a time (the stop of block 0 moved after the start of block 1)."""
    evs = _events(it)
    blocks = _blocks(evs)
    if len(blocks) < 2:
        return None
    (_, e0, _), (s1, _, _) = blocks[0], blocks[1]
    out = evs[:e0] + evs[e0 + 1 : s1 + 1] + [evs[e0]] + evs[s1 + 1 :]
    return _join(it, out)


def spurious_empty_text(it: RecordedInteraction) -> Exchange | None:
    """litellm#31560 (the shape of #1): an empty text block at index 0 before the real blocks."""
    evs = _events(it)
    blocks = _blocks(evs)
    if not blocks:
        return None
    out: list[_Ev] = []
    for i, e in enumerate(evs):
        if i == blocks[0][0]:
            out.append(_ev({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
            out.append(_ev({"type": "content_block_stop", "index": 0}))
        if "index" in e.data:
            d = json.loads(json.dumps(e.data))
            d["index"] += 1
            e = _ev(d)
        out.append(e)
    return _join(it, out)


# --- bodies ----------------------------------------------------------------------------------


def chat_completion_object(it: RecordedInteraction) -> Exchange | None:
    """#20: a chat.completion returned by /v1/messages."""
    body = _body(it)
    if body is None:
        return None
    chat = {
        "id": "chatcmpl-" + str(body.get("id", "x"))[4:],
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return _json(it, chat)


def openai_error_shape(it: RecordedInteraction) -> Exchange | None:
    """#19: an OpenAI-shaped error body on /v1/messages."""
    if (it.exchange.status or 0) < 400:
        return None
    err = json.loads(body_text(it))["error"]
    return _json(it, {"error": {"message": err.get("message"), "type": err.get("type"), "param": None, "code": None}})


def error_in_200_body(it: RecordedInteraction) -> Exchange | None:
    """#14: an error object in an HTTP 200 body."""
    if _body(it) is None:
        return None
    return _json(it, {"type": "error", "error": {"type": "api_error", "message": "upstream failed"}})


def _tool_body(it: RecordedInteraction) -> tuple[dict[str, Any], int] | None:
    body = _body(it)
    if body is None:
        return None
    for i, block in enumerate(body.get("content") or []):
        if block.get("type") == "tool_use":
            return body, i
    return None


def tool_as_text(it: RecordedInteraction) -> Exchange | None:
    """#16: the tool call written as JSON text instead of a tool_use block."""
    found = _tool_body(it)
    if found is None or not isinstance(it.exchange.request.json, dict) or not it.exchange.request.json.get("tools"):
        return None
    body, i = found
    call = body["content"][i]
    body["content"] = [{"type": "text", "text": json.dumps({"name": call["name"], "arguments": call["input"]})}]
    body["stop_reason"] = "end_turn"
    return _json(it, body)


def body_stop_reason(it: RecordedInteraction) -> Exchange | None:
    """#17: tool_use blocks but stop_reason end_turn."""
    found = _tool_body(it)
    if found is None:
        return None
    body, _ = found
    body["stop_reason"] = "end_turn"
    return _json(it, body)


def wrong_id_prefix(it: RecordedInteraction) -> Exchange | None:
    """A relay's own ids (chatcmpl-…, uuid) instead of msg_…."""
    body = _body(it)
    if body is None:
        return None
    body["id"] = "chatcmpl-" + str(body.get("id"))[4:]
    return _json(it, body)


def tool_args_schema(it: RecordedInteraction) -> Exchange | None:
    """Tool input that does not match the declared input_schema (a required field lost)."""
    found = _tool_body(it)
    req = it.exchange.request.json
    if found is None or not isinstance(req, dict):
        return None
    body, i = found
    call = body["content"][i]
    for tool in req.get("tools") or []:
        if tool.get("name") == call["name"] and (tool.get("input_schema") or {}).get("required"):
            body["content"][i]["input"] = {}
            return _json(it, body)
    return None


def thinking_budget_accepted(it: RecordedInteraction) -> Exchange | None:
    """#21: a request with thinking.budget_tokens under 1024, which the official API rejects."""
    req = it.exchange.request.json
    if _body(it) is None or not isinstance(req, dict):
        return None
    req = dict(req, thinking={"type": "enabled", "budget_tokens": 512})
    request = replace(it.exchange.request, body=json.dumps(req).encode("utf-8"))
    return replace(it.exchange, request=request)


def _m(
    name: str, stream: bool, code: str, fn: Callable[[RecordedInteraction], Exchange | None], defect: str
) -> Mutation:
    return Mutation(f"messages.{name}", "messages", stream, code, fn, defect)


G = "grammar.messages."
MUTATIONS: list[Mutation] = [
    _m("lost-first-text-delta-after-thinking", True, G + "empty_text_block", lost_first_text_delta, "#1"),
    _m("spurious-empty-text-block", True, G + "empty_text_block", spurious_empty_text, "#1 (litellm#31560)"),
    _m("text-delta-on-tool-use", True, G + "delta_type", text_delta_on_tool_use, "#8"),
    _m("delta-without-start", True, G + "delta_without_start", delta_without_start, "#9"),
    _m("error-data-line-in-stream", True, "error.in_200", error_event_in_stream, "#14"),
    _m("stream-stop-reason-not-tool-use", True, "tool.stop_reason", stream_stop_reason, "#17"),
    _m("no-blank-line-between-events", True, "sse.framing", no_blank_line, "#12"),
    _m("missing-event-line", True, "sse.event_name", missing_event_line, "grammar: event line"),
    _m("thinking-without-signature", True, G + "thinking_signature", missing_signature, "grammar; #11"),
    _m("block-index-gap", True, G + "block_index", block_index_gap, "grammar: index"),
    _m("no-message-stop", True, G + "no_message_stop", truncated, "grammar: message_stop last"),
    _m("event-after-message-stop", True, "sse.after_end", after_message_stop, "grammar: nothing after stop"),
    _m("done-sentinel", True, "sse.done", done_sentinel, "grammar: no [DONE]"),
    _m("tool-json-fragment-lost", True, "tool.args", truncated_tool_json, "#10"),
    _m("blocks-overlap", True, G + "block_overlap", block_overlap, "grammar: one block open"),
    _m("chat-completion-object", False, "object.kind", chat_completion_object, "#20"),
    _m("openai-error-shape", False, "error.shape", openai_error_shape, "#19"),
    _m("error-in-200-body", False, "error.in_200", error_in_200_body, "#14"),
    _m("tool-call-as-text", False, "tool.as_text", tool_as_text, "#16"),
    _m("stop-reason-not-tool-use", False, "tool.stop_reason", body_stop_reason, "#17"),
    _m("message-id-prefix", False, "id.prefix", wrong_id_prefix, "id prefix"),
    _m("tool-args-off-schema", False, "tool.args", tool_args_schema, "tool arguments"),
    _m("thinking-budget-accepted", False, G + "request_accepted", thinking_budget_accepted, "#21"),
]
