"""Mutation operators for the rules about what official answers look like beyond their schema
(harness/dialects/kit/official.py, harness/headers.py aside) and for the RELAY_DEFECTS rows R22-R44
that one exchange can show: ids rewritten (R31), model rewritten (R39), a max_tokens stop
reported as a natural one (R34), U+FFFD in text (R37), tool arguments as an object (R28), error
frames in a 200 stream without `event: error` (R32), plus the issue-13 rules (tool-delta content,
empty fragments, Anthropic usage, server blocks never enabled, Responses snapshots that disagree,
error param/code).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from harness import sse
from harness.model import Exchange
from harness.traffic import RecordedInteraction
from tests.truth.mutation import Mutation, body_text, with_body

Obj = dict[str, Any]


def _request(it: RecordedInteraction) -> Obj | None:
    req = it.exchange.request.json
    return req if isinstance(req, dict) else None


def _with_request(ex: Exchange, req: Obj) -> Exchange:
    return replace(ex, request=replace(ex.request, body=json.dumps(req).encode("utf-8")))


def _body(it: RecordedInteraction) -> Obj | None:
    if it.exchange.status != 200 or it.exchange.is_sse:
        return None
    try:
        body = json.loads(body_text(it))
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _error_body(it: RecordedInteraction) -> Obj | None:
    if (it.exchange.status or 0) < 400:
        return None
    try:
        body = json.loads(body_text(it))
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("error"), dict) else None


def _events(it: RecordedInteraction) -> list[tuple[str | None, Obj]] | None:
    """(event name, data) of each event of a 200 stream, or None when a payload is not JSON."""
    if it.exchange.status != 200:
        return None
    events, _ = sse.parse(it.exchange.body)
    out: list[tuple[str | None, Obj]] = []
    for e in events:
        if e.data == "[DONE]":
            out.append((e.event, {"[DONE]": True}))
            continue
        try:
            out.append((e.event, json.loads(e.data)))
        except ValueError:
            return None
    return out


def _write(events: list[tuple[str | None, Obj]]) -> str:
    parts = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        payload = "[DONE]" if data.get("[DONE]") is True else json.dumps(data, ensure_ascii=False)
        parts.append(f"{head}data: {payload}\n\n")
    return "".join(parts)


def _body_op(edit: Callable[[Obj, RecordedInteraction], Exchange | Obj | None]) -> Callable:
    def apply(it: RecordedInteraction) -> Exchange | None:
        body = _body(it)
        if body is None:
            return None
        out = edit(copy.deepcopy(body), it)
        if out is None or isinstance(out, Exchange):
            return out
        return with_body(it, json.dumps(out, ensure_ascii=False))

    return apply


def _stream_op(edit: Callable[[list[tuple[str | None, Obj]], RecordedInteraction], Any]) -> Callable:
    def apply(it: RecordedInteraction) -> Exchange | None:
        if not it.exchange.is_sse:
            return None
        events = _events(it)
        if not events:
            return None
        out = edit(copy.deepcopy(events), it)
        if out is None or isinstance(out, Exchange):
            return out
        return with_body(it, _write(out))

    return apply


# ---- ids (R31, issue 13: chatcmpl-<uuid4>, msg_<timestamp>, 450-character resp_ ids) ---------------


def chat_uuid_id(body: Obj, it: RecordedInteraction) -> Obj:
    body["id"] = f"chatcmpl-{uuid.uuid4()}"
    return body


def chat_stream_uuid_id(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    new = f"chatcmpl-{uuid.uuid4()}"
    for _, d in events:
        if "id" in d:
            d["id"] = new
    return events


def messages_double_prefix(body: Obj, it: RecordedInteraction) -> Obj:  # R31 msg_msg_
    body["id"] = "msg_" + str(body["id"])
    return body


def messages_timestamp_id(body: Obj, it: RecordedInteraction) -> Obj:
    body["id"] = "msg_1764633600123"
    return body


def messages_bedrock_tool_id(body: Obj, it: RecordedInteraction) -> Obj | None:  # R31 tooluse_ -> toolu_
    for block in body.get("content") or []:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            block["id"] = "toolu_kZJMlvQmRJ6eAyJE5GIl7Q"  # a Bedrock tooluse_ id with its prefix rewritten
            return body
    return None


def responses_long_id(body: Obj, it: RecordedInteraction) -> Obj:
    body["id"] = "resp_" + "Q2hhdENvbXBsZXRpb25Ub1Jlc3BvbnNl" * 14  # 448 characters of base64
    return body


# ---- model (R39) ---------------------------------------------------------------------------------


def model_rewritten(body: Obj, it: RecordedInteraction) -> Obj | None:
    req = _request(it)
    if req is None or not isinstance(req.get("model"), str) or "model" not in body:
        return None
    body["model"] = "deepseek-chat"
    return body


# ---- a max_tokens stop reported as natural (R34) --------------------------------------------------


def chat_truncated_as_stop(body: Obj, it: RecordedInteraction) -> Exchange | None:
    req, usage = _request(it), body.get("usage")
    choices = body.get("choices") or []
    if req is None or not isinstance(usage, dict) or len(choices) != 1 or choices[0].get("finish_reason") != "stop":
        return None
    req = dict(req, max_completion_tokens=usage["completion_tokens"])
    req.pop("max_tokens", None)
    return _with_request(with_body(it, json.dumps(body)), req)


def messages_truncated_as_end_turn(body: Obj, it: RecordedInteraction) -> Exchange | None:
    req, usage = _request(it), body.get("usage")
    if req is None or not isinstance(usage, dict) or body.get("stop_reason") != "end_turn":
        return None
    return _with_request(with_body(it, json.dumps(body)), dict(req, max_tokens=usage["output_tokens"]))


def responses_truncated_as_completed(body: Obj, it: RecordedInteraction) -> Exchange | None:
    """R34 exactly: the upstream hit max_tokens, the relay says response.completed."""
    req, usage = _request(it), body.get("usage")
    if req is None or not isinstance(usage, dict) or body.get("status") != "completed":
        return None
    req = dict(req, max_output_tokens=usage["output_tokens"])
    body["max_output_tokens"] = usage["output_tokens"]
    return _with_request(with_body(it, json.dumps(body)), req)


# ---- U+FFFD (R37) --------------------------------------------------------------------------------


def _garble(text: str) -> str:
    cut = max(1, len(text) // 2)
    return text[:cut] + "\ufffd\ufffd" + text[cut:]


def chat_replacement_char(body: Obj, it: RecordedInteraction) -> Obj | None:
    msg = (body.get("choices") or [{}])[0].get("message") or {}
    if not isinstance(msg.get("content"), str) or not msg["content"]:
        return None
    msg["content"] = _garble(msg["content"])
    return body


def messages_replacement_char(body: Obj, it: RecordedInteraction) -> Obj | None:
    for block in body.get("content") or []:
        if isinstance(block, dict) and block.get("type") == "text" and block.get("text"):
            block["text"] = _garble(block["text"])
            return body
    return None


def responses_replacement_char(body: Obj, it: RecordedInteraction) -> Obj | None:
    for item in body.get("output") or []:
        for part in item.get("content") or [] if isinstance(item, dict) and item.get("type") == "message" else []:
            if isinstance(part, dict) and part.get("type") == "output_text" and part.get("text"):
                part["text"] = _garble(part["text"])
                return body
    return None


def chat_stream_replacement_char(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    for _, d in events:
        for c in d.get("choices") or []:
            delta = c.get("delta") or {}
            if isinstance(delta.get("content"), str) and len(delta["content"]) > 1:
                delta["content"] = _garble(delta["content"])
                return events
    return None


# ---- tool calls (R28, issue 13) ------------------------------------------------------------------


def chat_args_as_object(body: Obj, it: RecordedInteraction) -> Obj | None:  # R28
    for c in body.get("choices") or []:
        for call in (c.get("message") or {}).get("tool_calls") or []:
            try:
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
            except (KeyError, ValueError):
                return None
            return body
    return None


def _tool_delta_chunks(events: list[tuple[str | None, Obj]]) -> list[Obj]:
    return [d for _, d in events if any((c.get("delta") or {}).get("tool_calls") for c in d.get("choices") or [])]


def chat_tool_delta_content(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    chunks = _tool_delta_chunks(events)
    if not chunks:
        return None
    for d in chunks:
        d["choices"][0]["delta"]["content"] = ""
    return events


def chat_empty_fragment(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    """An extra "" arguments delta after a call's first delta (a relay re-chunking the stream)."""
    for k, (name, d) in enumerate(events):
        for c in d.get("choices") or []:
            for call in (c.get("delta") or {}).get("tool_calls") or []:
                args = (call.get("function") or {}).get("arguments")
                if call.get("id") and isinstance(args, str):
                    extra = copy.deepcopy(d)
                    extra["choices"] = [
                        {
                            "index": c.get("index", 0),
                            "delta": {"tool_calls": [{"index": call["index"], "function": {"arguments": ""}}]},
                            "finish_reason": None,
                        }
                    ]
                    extra.pop("usage", None)
                    extra.pop("obfuscation", None)
                    return [*events[: k + 1], (name, extra), *events[k + 1 :]]
    return None


# ---- Anthropic usage and content blocks ----------------------------------------------------------


def messages_usage_fields_dropped(body: Obj, it: RecordedInteraction) -> Obj | None:
    usage = body.get("usage")
    if not isinstance(usage, dict) or "cache_read_input_tokens" not in usage:
        return None
    usage.pop("cache_creation_input_tokens", None)
    usage.pop("cache_read_input_tokens", None)
    usage.pop("cache_creation", None)
    return body


def _current_format(events: list[tuple[str | None, Obj]]) -> bool:
    deltas = [d for _, d in events if d.get("type") == "message_delta"]
    return bool(deltas) and "input_tokens" in (deltas[-1].get("usage") or {})


def messages_start_usage_zero(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    if not _current_format(events):
        return None
    for _, d in events:
        if d.get("type") == "message_start":
            d["message"]["usage"]["input_tokens"] = 0
    return events


def messages_stream_usage_fields_dropped(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    if not _current_format(events):
        return None
    for _, d in events:
        if d.get("type") == "message_start":
            for k in ("cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation"):
                d["message"]["usage"].pop(k, None)
    return events


def messages_server_block_not_enabled(body: Obj, it: RecordedInteraction) -> Obj | None:
    req = _request(it)
    if req is None or any(
        isinstance(t, dict) and t.get("type") not in (None, "custom") for t in req.get("tools") or []
    ):
        return None
    if not isinstance(body.get("content"), list):
        return None
    tool_id = "srvtoolu_01SnV7n4h3ZQtz14JriSp4xa"
    body["content"] = [
        {"type": "server_tool_use", "id": tool_id, "name": "web_search", "input": {"query": "relaycheck"}},
        {"type": "web_search_tool_result", "tool_use_id": tool_id, "content": []},
        *body["content"],
    ]
    return body


# ---- error frames in a 200 stream without `event: error` (R32) -----------------------------------


def messages_error_frame_unnamed(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    cut = next((k for k, (_, d) in enumerate(events) if d.get("type") == "content_block_stop"), None)
    if cut is None:
        return None
    err = {"type": "error", "error": {"type": "api_error", "message": "upstream closed"}}
    return [*events[: cut + 1], ("message", err)]


def responses_error_frame_unnamed(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    cut = next((k for k, (_, d) in enumerate(events) if d.get("type") == "response.completed"), None)
    if cut is None:
        return None
    seq = events[cut][1].get("sequence_number", 0)
    err = {"type": "error", "code": "server_error", "message": "upstream failed", "param": None, "sequence_number": seq}
    return [*events[:cut], (None, err)]


# ---- Responses snapshots that disagree -----------------------------------------------------------


def responses_completed_model_differs(events: list[tuple[str | None, Obj]], it: RecordedInteraction) -> Any:
    for _, d in events:
        if d.get("type") == "response.completed":
            d["response"]["created_at"] = int(d["response"].get("created_at") or 0) + 7
            return events
    return None


# ---- error param / code --------------------------------------------------------------------------


def error_param_none_string(it: RecordedInteraction) -> Exchange | None:
    body = _error_body(it)
    if body is None:
        return None
    body["error"]["param"] = "None"
    return with_body(it, json.dumps(body))


def error_code_status(it: RecordedInteraction) -> Exchange | None:
    body = _error_body(it)
    if body is None:
        return None
    body["error"]["code"] = str(it.exchange.status)
    return with_body(it, json.dumps(body))


def _m(endpoint: str, stream: bool, name: str, code: str, op: Callable, defect: str) -> Mutation:
    kind = "stream." if stream else ""
    return Mutation(f"{endpoint}.shape.{kind}{name}", endpoint, stream, code, op, defect)


MUTATIONS: list[Mutation] = [
    _m("chat", False, "uuid-id", "id.shape", _body_op(chat_uuid_id), "issue 13: chatcmpl-<uuid4>"),
    _m("chat", True, "uuid-id", "id.shape", _stream_op(chat_stream_uuid_id), "issue 13: chatcmpl-<uuid4>"),
    _m("messages", False, "msg-msg-id", "id.shape", _body_op(messages_double_prefix), "R31 msg_msg_"),
    _m("messages", False, "timestamp-id", "id.shape", _body_op(messages_timestamp_id), "issue 13: msg_<timestamp>"),
    _m("messages", False, "bedrock-tool-id", "id.shape", _body_op(messages_bedrock_tool_id), "R31 tooluse_"),
    _m("responses", False, "450-char-id", "id.shape", _body_op(responses_long_id), "issue 13: long resp_ id"),
    _m("chat", False, "model-rewritten", "model.rewritten", _body_op(model_rewritten), "R39"),
    _m("messages", False, "model-rewritten", "model.rewritten", _body_op(model_rewritten), "R39"),
    _m("responses", False, "model-rewritten", "model.rewritten", _body_op(model_rewritten), "R39"),
    _m("chat", False, "truncated-as-stop", "stop.truncated_as_complete", _body_op(chat_truncated_as_stop), "R34"),
    _m(
        "messages",
        False,
        "truncated-as-end-turn",
        "stop.truncated_as_complete",
        _body_op(messages_truncated_as_end_turn),
        "R34",
    ),
    _m(
        "responses",
        False,
        "truncated-as-completed",
        "stop.truncated_as_complete",
        _body_op(responses_truncated_as_completed),
        "R34",
    ),
    _m("chat", False, "fffd", "text.replacement_char", _body_op(chat_replacement_char), "R37"),
    _m("chat", True, "fffd", "text.replacement_char", _stream_op(chat_stream_replacement_char), "R37"),
    _m("messages", False, "fffd", "text.replacement_char", _body_op(messages_replacement_char), "R37"),
    _m("responses", False, "fffd", "text.replacement_char", _body_op(responses_replacement_char), "R37"),
    _m("chat", False, "args-as-object", "tool.args", _body_op(chat_args_as_object), "R28"),
    _m(
        "chat",
        True,
        "tool-delta-content",
        "grammar.chat.tool_delta_content",
        _stream_op(chat_tool_delta_content),
        "issue 13",
    ),
    _m("chat", True, "empty-fragment", "grammar.chat.empty_fragment", _stream_op(chat_empty_fragment), "R29"),
    _m("messages", False, "usage-fields", "usage.fields", _body_op(messages_usage_fields_dropped), "R31 / issue 13"),
    _m(
        "messages",
        True,
        "usage-fields",
        "usage.fields",
        _stream_op(messages_stream_usage_fields_dropped),
        "R31 / issue 13",
    ),
    _m(
        "messages",
        True,
        "start-usage-zero",
        "grammar.messages.usage_start",
        _stream_op(messages_start_usage_zero),
        "issue 13",
    ),
    _m(
        "messages",
        False,
        "server-block-not-enabled",
        "content.not_enabled",
        _body_op(messages_server_block_not_enabled),
        "issue 13",
    ),
    _m("messages", True, "error-frame-unnamed", "error.in_200", _stream_op(messages_error_frame_unnamed), "R32"),
    _m("responses", True, "error-frame-unnamed", "error.in_200", _stream_op(responses_error_frame_unnamed), "R32"),
    _m(
        "responses",
        True,
        "snapshots-disagree",
        "grammar.responses.consistent",
        _stream_op(responses_completed_model_differs),
        "issue 13",
    ),
    _m("chat", False, "error-param-none", "error.fields", error_param_none_string, "issue 13"),
    _m("chat", False, "error-code-status", "error.fields", error_code_status, "issue 13"),
    _m("responses", False, "error-code-status", "error.fields", error_code_status, "issue 13"),
]
