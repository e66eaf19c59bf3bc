"""Mutation operators for the Chat Completions dialect.

Each one turns an official interaction into a copy broken the way a real relay broke it
(RELAY_DEFECTS.md rows for chat, and the chat stream grammar), and names the code that must
catch it. Operators return None when the interaction has nothing to break (no tool call, no
usage chunk, ...).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from harness.model import Exchange
from harness.traffic import RecordedInteraction
from tests.truth.mutation import Mutation, body_text, with_body

Chunks = list[Any]  # decoded chunk objects, with the string "[DONE]" for the terminator


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _chunks(it: RecordedInteraction) -> Chunks:
    out: Chunks = []
    for block in body_text(it).split("\n\n"):
        if block.startswith("data: "):
            data = block[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def _render(chunks: Chunks) -> str:
    return "".join(f"data: {c if isinstance(c, str) else _dump(c)}\n\n" for c in chunks)


def _body(it: RecordedInteraction) -> dict[str, Any] | None:
    if it.exchange.status != 200:
        return None
    obj = json.loads(body_text(it))
    return obj if isinstance(obj, dict) and obj.get("choices") else None


def _request(it: RecordedInteraction) -> dict[str, Any]:
    req = it.exchange.request.json
    return req if isinstance(req, dict) else {}


def _forced(it: RecordedInteraction) -> bool:
    return isinstance(_request(it).get("tool_choice"), dict)


def _declared(it: RecordedInteraction) -> dict[str, Any]:
    return {
        t["function"]["name"]: t["function"].get("parameters") or {}
        for t in _request(it).get("tools") or []
        if isinstance(t, dict) and isinstance(t.get("function"), dict)
    }


def _body_op(fn: Callable[[dict[str, Any], RecordedInteraction], dict[str, Any] | None]) -> Callable:
    def apply(it: RecordedInteraction) -> Exchange | None:
        body = _body(it)
        if body is None:
            return None
        out = fn(copy.deepcopy(body), it)
        return None if out is None else with_body(it, json.dumps(out, indent=2))

    return apply


def _stream_op(fn: Callable[[Chunks, RecordedInteraction], Chunks | str | None]) -> Callable:
    def apply(it: RecordedInteraction) -> Exchange | None:
        out = fn(_chunks(it), it)
        if out is None:
            return None
        return with_body(it, out if isinstance(out, str) else _render(out))

    return apply


def _tool_calls(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["choices"][0]["message"].get("tool_calls") or []


# ---------------------------------------------------------------------------------------------
# non-streamed bodies


def _error_in_200(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:
    return {"error": {"message": "upstream overloaded", "type": "server_error", "param": None, "code": None}}


def _anthropic_message(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:
    text = body["choices"][0]["message"].get("content") or ""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 20},
    }


def _tool_as_text(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:
    calls = _tool_calls(body)
    if not calls or not _declared(it):
        return None
    msg = body["choices"][0]["message"]
    fn = calls[0]["function"]
    msg["content"] = _dump({"name": fn["name"], "arguments": json.loads(fn["arguments"] or "{}")})
    del msg["tool_calls"]
    body["choices"][0]["finish_reason"] = "stop"
    return body


def _finish_stop(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:
    if not _tool_calls(body) or _forced(it) or body["choices"][0]["finish_reason"] != "tool_calls":
        return None
    body["choices"][0]["finish_reason"] = "stop"
    return body


def _args_emptied(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:
    calls = _tool_calls(body)
    if not calls or body["choices"][0]["finish_reason"] == "length":
        return None
    for call in calls:
        call["function"]["arguments"] = ""
    return body


def _args_off_schema(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:
    calls, declared = _tool_calls(body), _declared(it)
    if not calls or calls[0]["function"]["name"] not in declared:
        return None
    if declared[calls[0]["function"]["name"]].get("type") != "object":
        return None
    calls[0]["function"]["arguments"] = '["not", "an", "object"]'
    return body


def _undeclared_tool(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:
    calls = _tool_calls(body)
    if not calls or not _declared(it):
        return None
    calls[0]["function"]["name"] = "relay_renamed_tool"
    return body


def _id_prefix(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:
    body["id"] = "gen-" + body["id"].removeprefix("chatcmpl-")
    return body


def _usage_total(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:
    body["usage"]["total_tokens"] += 7
    return body


def _no_choices(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:
    del body["choices"]
    return body


def _anthropic_error(it: RecordedInteraction) -> Exchange | None:
    if (it.exchange.status or 0) < 400:
        return None
    anthropic = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    return with_body(it, _dump(anthropic))


def _error_as_string(it: RecordedInteraction) -> Exchange | None:
    if (it.exchange.status or 0) < 400:
        return None
    return with_body(it, _dump({"error": "model not found", "success": False}))


# ---------------------------------------------------------------------------------------------
# streams


def _with_tool_deltas(chunks: Chunks) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in chunks:
        if isinstance(c, dict):
            for ch in c["choices"]:
                out.extend(ch["delta"].get("tool_calls") or [])
    return out


def _all_index_0(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    deltas = _with_tool_deltas(chunks)
    if len({d["index"] for d in deltas}) < 2:
        return None
    for d in deltas:
        d["index"] = 0
    return chunks


def _stream_args_emptied(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    deltas = _with_tool_deltas(chunks)
    if not deltas or _finish(chunks) == "length":
        return None
    for d in deltas:
        if "arguments" in d.get("function", {}):
            d["function"]["arguments"] = ""
    return chunks


def _stream_args_off_schema(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    deltas = [d for d in _with_tool_deltas(chunks) if d["index"] == 0]
    declared = _declared(it)
    if not deltas or deltas[0]["function"].get("name") not in declared or _finish(chunks) == "length":
        return None
    if declared[deltas[0]["function"]["name"]].get("type") != "object":
        return None
    for k, d in enumerate(deltas):
        d["function"]["arguments"] = '["not an object"]' if k == 0 else ""
    return chunks


def _finish(chunks: Chunks) -> str | None:
    for c in chunks:
        if isinstance(c, dict):
            for ch in c["choices"]:
                if ch.get("finish_reason"):
                    return ch["finish_reason"]
    return None


def _no_done(chunks: Chunks, it: RecordedInteraction) -> Chunks:
    return [c for c in chunks if c != "[DONE]"]


def _after_done(chunks: Chunks, it: RecordedInteraction) -> Chunks:
    extra = copy.deepcopy(next(c for c in chunks if isinstance(c, dict)))
    return [*chunks, extra]


def _event_lines(chunks: Chunks, it: RecordedInteraction) -> str:
    # What a relay that copies the Responses/Messages framing writes.
    return "".join(f"event: chunk\n{_render([c])}" for c in chunks)


def _error_line(chunks: Chunks, it: RecordedInteraction) -> Chunks:
    err = {"error": {"message": "Rate limit reached", "type": "rate_limit_error", "param": None}}
    return [*chunks[:-1], err, chunks[-1]]


def _no_blank_line(chunks: Chunks, it: RecordedInteraction) -> str | None:
    if len(chunks) < 3:
        return None
    text = _render(chunks)
    first = text.index("\n\n")
    return text[:first] + "\n" + text[first + 2 :]


def _id_changes(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    objs = [c for c in chunks if isinstance(c, dict)]
    if len(objs) < 2:
        return None
    objs[len(objs) // 2]["id"] = "chatcmpl-relayrewrote0000000000000"
    return chunks


def _no_role(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    first = next(c for c in chunks if isinstance(c, dict))
    if not first["choices"] or "role" not in first["choices"][0]["delta"]:
        return None
    del first["choices"][0]["delta"]["role"]
    return chunks


def _no_tool_name(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    deltas = _with_tool_deltas(chunks)
    if not deltas or "name" not in deltas[0].get("function", {}):
        return None
    del deltas[0]["function"]["name"]
    return chunks


def _no_finish(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    hit = False
    for c in chunks:
        if isinstance(c, dict):
            for ch in c["choices"]:
                if ch.get("finish_reason"):
                    ch["finish_reason"] = None
                    hit = True
    return chunks if hit else None


def _content_after_finish(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    for k, c in enumerate(chunks):
        if isinstance(c, dict) and c["choices"] and c["choices"][0].get("finish_reason"):
            late = copy.deepcopy(c)
            late["choices"][0]["finish_reason"] = None
            late["choices"][0]["delta"] = {"content": " (late)"}
            return [*chunks[: k + 1], late, *chunks[k + 1 :]]
    return None


def _usage_dropped(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    kept = [c for c in chunks if not (isinstance(c, dict) and c["choices"] == [])]
    return kept if len(kept) < len(chunks) else None


def _stream_finish_stop(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    if _forced(it) or _finish(chunks) != "tool_calls":
        return None
    for c in chunks:
        if isinstance(c, dict):
            for ch in c["choices"]:
                if ch.get("finish_reason") == "tool_calls":
                    ch["finish_reason"] = "stop"
    return chunks


def _stream_tool_as_text(chunks: Chunks, it: RecordedInteraction) -> Chunks | None:
    deltas = _with_tool_deltas(chunks)
    if not deltas or not _declared(it) or _finish(chunks) == "length":
        return None
    name = deltas[0]["function"]["name"]
    args = "".join(d["function"].get("arguments", "") for d in deltas if d["index"] == 0)
    out: Chunks = []
    for c in chunks:
        if isinstance(c, dict) and c["choices"] and c["choices"][0]["delta"].get("tool_calls"):
            continue
        if isinstance(c, dict) and c["choices"] and c["choices"][0].get("finish_reason"):
            text = copy.deepcopy(c)
            text["choices"][0]["finish_reason"] = None
            call = {"name": name, "arguments": json.loads(args or "{}")}
            text["choices"][0]["delta"] = {"content": _dump(call)}
            out.append(text)
            c["choices"][0]["finish_reason"] = "stop"
        out.append(c)
    return out


def _b(name: str, code: str, op: Callable, defect: str) -> Mutation:
    """A body operator (bodies and error bodies)."""
    return Mutation(f"chat.{name}", "chat", False, code, op, defect)


def _s(name: str, code: str, op: Callable, defect: str) -> Mutation:
    """A stream operator."""
    return Mutation(f"chat.stream.{name}", "chat", True, code, _stream_op(op), defect)


MUTATIONS: list[Mutation] = [
    # non-streamed bodies and errors
    _b("body.error-in-200", "error.in_200", _body_op(_error_in_200), "#14"),
    _b("body.anthropic-message", "object.kind", _body_op(_anthropic_message), "#20 (mirrored)"),
    _b("body.tool-as-text", "tool.as_text", _body_op(_tool_as_text), "#16"),
    _b("body.finish-not-tool-calls", "tool.stop_reason", _body_op(_finish_stop), "#17"),
    _b("body.tool-args-emptied", "tool.args", _body_op(_args_emptied), "#10"),
    _b("body.tool-args-off-schema", "tool.args", _body_op(_args_off_schema), "#10"),
    _b("body.tool-undeclared", "tool.name", _body_op(_undeclared_tool), "tool.name"),
    _b("body.id-prefix", "id.prefix", _body_op(_id_prefix), "id.prefix"),
    _b("body.usage-total", "usage", _body_op(_usage_total), "usage"),
    _b("body.no-choices", "schema", _body_op(_no_choices), "schema"),
    _b("error.anthropic-shape", "error.shape", _anthropic_error, "#19 (mirrored)"),
    _b("error.string-error", "error.shape", _error_as_string, "error.shape"),
    # streams
    _s("parallel-index-0", "grammar.chat.tool_index", _all_index_0, "#7"),
    _s("tool-args-emptied", "tool.args", _stream_args_emptied, "#10"),
    _s("tool-args-off-schema", "tool.args", _stream_args_off_schema, "#10"),
    _s("no-done", "sse.done", _no_done, "sse.done"),
    _s("after-done", "sse.after_end", _after_done, "sse.after_end"),
    _s("event-lines", "sse.event_name", _event_lines, "sse.event_name"),
    _s("error-data-line", "error.in_200", _error_line, "#14"),
    _s("no-blank-line", "sse.framing", _no_blank_line, "#12"),
    _s("id-changes", "grammar.chat.consistent", _id_changes, "grammar"),
    _s("no-role", "grammar.chat.role", _no_role, "grammar"),
    _s("no-tool-name", "grammar.chat.tool_delta", _no_tool_name, "grammar"),
    _s("no-finish", "grammar.chat.finish", _no_finish, "grammar"),
    _s("content-after-finish", "grammar.chat.after_finish", _content_after_finish, "grammar"),
    _s("usage-dropped", "grammar.chat.usage", _usage_dropped, "grammar"),
    _s("finish-not-tool-calls", "tool.stop_reason", _stream_finish_stop, "#17"),
    _s("tool-as-text", "tool.as_text", _stream_tool_as_text, "#16"),
]
