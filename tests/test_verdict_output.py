"""Output a relay vendor can act on (issue 13 §4) and the header rules (§3): one line per rule
per item, one cause one violation, anyOf failures named by the field that broke them, error
bodies named by their real shape, and a reproduce command that sends what the case sent."""

from __future__ import annotations

import json
from typing import Any

from harness.engine import evaluate_exchange
from harness.failure import curl_command, describe
from harness.grouping import group
from harness.headers import check_headers
from harness.model import Chunk, Exchange, Violation, WireRequest
from harness.redact import Redactor
from harness.runner import WRONG_KEY

CHAT = "http://127.0.0.1:9/v1/chat/completions"
ENV_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"  # made up: stands for the key from the environment


def exchange(
    body: str | bytes, *, status: int = 200, path: str = "/v1/chat/completions", sse: bool = False, **headers: str
) -> Exchange:
    raw = body.encode() if isinstance(body, str) else body
    ctype = "text/event-stream" if sse else "application/json"
    sent = {"stream": True, "stream_options": {"include_usage": True}} if sse else {}
    request = WireRequest("POST", f"http://127.0.0.1:9{path}", {}, json.dumps(sent).encode())
    return Exchange(request, status, {"content-type": ctype, **headers}, (Chunk(0.0, raw),))


# ---- one line per rule per item ------------------------------------------------------------------


def test_a_fault_on_every_event_is_one_line_with_count_and_range() -> None:
    vs = [Violation("sse.event_name", f"events[{i}]", "event: line missing") for i in range(3, 289)]
    vs.append(Violation("sse.done", "$", "no [DONE]", severity="strict"))
    groups = group(vs)
    assert [(g.first.code, g.count, g.first_event, g.last_event) for g in groups] == [
        ("sse.event_name", 286, 3, 288),
        ("sse.done", 1, None, None),
    ]
    lines = [line for line in describe(vs, Redactor()) if line.startswith("  [")]
    assert len(lines) == 2
    assert lines[0] == "  [sse.event_name] at events[3..288]: event: line missing (x286, events 3 to 288)"


def test_distinct_fields_stay_distinct_lines() -> None:
    vs = [
        Violation("schema", "events[1].data.model", "wrong type"),
        Violation("schema", "events[2].data.model", "wrong type"),
        Violation("schema", "events[2].data.id", "wrong type"),
    ]
    assert [(g.first.path, g.count) for g in group(vs)] == [("events[1].data.model", 2), ("events[2].data.id", 1)]


# ---- one cause, one violation --------------------------------------------------------------------


def test_error_frame_without_event_line_is_one_violation() -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01AbCdEfGhIjKlMnOpQrStUv",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        },
    }
    err = {"type": "error", "error": {"type": "api_error", "message": "upstream closed"}}
    text = f"event: message_start\ndata: {json.dumps(start)}\n\ndata: {json.dumps(err)}\n\n"
    ev = evaluate_exchange(exchange(text, sse=True, path="/v1/messages"), "messages", stream_requested=True)
    at_error = [v for v in ev.violations if v.path.startswith("events[1]")]
    assert [v.code for v in at_error] == ["error.in_200"]
    assert "not 'error'" in at_error[0].message


# ---- anyOf / oneOf named by the field that broke them --------------------------------------------


def _chat_stream(usage: dict[str, Any]) -> str:
    head = {"id": "chatcmpl-" + "A" * 29, "object": "chat.completion.chunk", "created": 1766084441, "model": "gpt-4o"}
    chunks = [
        {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**head, "choices": [], "usage": usage},
    ]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def test_unknown_field_in_a_chunk_is_a_named_extra_not_an_anyof_dump() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "cost": 0.001}
    ev = evaluate_exchange(exchange(_chat_stream(usage), sse=True), "chat", stream_requested=True)
    assert [(v.code, v.path, v.severity) for v in ev.violations] == [
        ("schema.extra", "events[2].data.usage.cost", "note")
    ]
    assert "'cost'" in ev.violations[0].message


def test_anyof_failure_names_the_field_and_the_closest_branch() -> None:
    usage = {"prompt_tokens": "1", "completion_tokens": 1, "total_tokens": 2}
    ev = evaluate_exchange(exchange(_chat_stream(usage), sse=True), "chat", stream_requested=True)
    schema = [v for v in ev.violations if v.code == "schema"]
    assert schema, ev.violations
    assert all("anyOf" not in v.message or "closest" in v.message for v in schema)
    assert any(v.path == "events[2].data.usage.prompt_tokens" and "closest anyOf branch" in v.message for v in schema)


# ---- error bodies named by their real shape ------------------------------------------------------


def test_unknown_error_shape_is_not_called_openai_shaped() -> None:
    body = json.dumps({"detail": "upstream failed", "status": 502})
    ev = evaluate_exchange(exchange(body, status=502, path="/v1/messages"), "messages")
    (v,) = [v for v in ev.violations if v.code == "error.shape"]
    assert "OpenAI" not in v.message
    assert "unknown shape" in v.message and "'detail'" in v.message and "'status'" in v.message


def test_openai_error_on_messages_is_called_openai_shaped() -> None:
    body = json.dumps({"error": {"message": "bad key", "type": "invalid_request_error", "param": None, "code": None}})
    ev = evaluate_exchange(exchange(body, status=401, path="/v1/messages"), "messages")
    assert any(v.code == "error.shape" and "OpenAI-shaped" in v.message for v in ev.violations)


def test_unknown_error_shape_on_chat_names_its_keys() -> None:
    ev = evaluate_exchange(exchange(json.dumps({"msg": "no", "success": False}), status=500), "chat")
    shape = [v for v in ev.violations if v.code == "error.shape"]
    assert shape and all("Anthropic" not in v.message for v in shape)
    assert "'msg'" in shape[0].message


def test_error_param_and_code_of_the_wrong_kind() -> None:
    body = {"error": {"message": "bad", "type": "invalid_request_error", "param": "None", "code": "400"}}
    ev = evaluate_exchange(exchange(json.dumps(body), status=400), "chat")
    assert {(v.code, v.path, v.severity) for v in ev.violations} == {
        ("error.fields", "$.error.param", "strict"),
        ("error.fields", "$.error.code", "strict"),
    }


# ---- the reproduce command sends what the case sent ----------------------------------------------


def _curl(headers: dict[str, str]) -> str:
    redactor = Redactor([ENV_KEY])
    request = WireRequest("POST", CHAT, headers, b'{"model":"gpt-4o"}')
    return redactor.text(curl_command(request, "RELAY_KEY", redactor))


def test_reproduce_uses_the_key_variable_for_the_real_key() -> None:
    out = _curl({"Authorization": f"Bearer {ENV_KEY}", "content-type": "application/json"})
    assert '"Authorization: Bearer $RELAY_KEY"' in out
    assert ENV_KEY not in out


def test_reproduce_shows_a_wrong_key_as_sent() -> None:
    out = _curl({"Authorization": f"Bearer {WRONG_KEY}"})
    assert f"Authorization: Bearer {WRONG_KEY}" in out
    assert "$RELAY_KEY" not in out
    out = _curl({"x-api-key": WRONG_KEY, "anthropic-version": "2023-06-01"})
    assert f"x-api-key: {WRONG_KEY}" in out and "$RELAY_KEY" not in out


def test_reproduce_without_auth_sends_no_auth_header() -> None:
    out = _curl({"content-type": "application/json"})
    assert "uthorization" not in out and "x-api-key" not in out and "$RELAY_KEY" not in out


def test_reproduce_never_prints_an_unnamed_key() -> None:
    other = "sk-ant-api03-" + "Z" * 40
    out = _curl({"x-api-key": other})
    assert other not in out and "$RELAY_KEY" in out


# ---- headers ---------------------------------------------------------------------------------------


def test_request_id_header_required_on_answers_seen_as_sent() -> None:
    ok = exchange("{}", **{"x-request-id": "req_" + "a" * 32, "date": "x"})
    assert check_headers(ok, "chat") == []
    missing = exchange("{}", date="x")
    (v,) = check_headers(missing, "chat")
    assert (v.code, v.severity, v.path) == ("header.request_id", "strict", "headers.x-request-id")
    found = check_headers(exchange("{}", **{"x-request-id": "req_1", "date": "x"}), "messages")
    assert [(v.code, v.path) for v in found if v.severity == "strict"] == [("header.request_id", "headers.request-id")]


def test_relay_headers_are_listed_as_a_note() -> None:
    ex = exchange(
        "{}", **{"request-id": "req_011C", "date": "x", "x-litellm-model-id": "abc", "x-oneapi-request-id": "1"}
    )
    (v,) = check_headers(ex, "messages")
    assert (v.code, v.severity) == ("header.relay", "note")
    assert v.actual == ["x-litellm-model-id", "x-oneapi-request-id"]


def test_headers_not_judged_unless_asked() -> None:
    """Recordings of other projects scrub request ids: the engine judges headers only when told."""
    body = json.dumps({"error": {"message": "m", "type": "t", "param": None, "code": None}})
    ev = evaluate_exchange(exchange(body, status=400), "chat")
    assert not [v for v in ev.violations if v.code.startswith("header.")]
    ev = evaluate_exchange(exchange(body, status=400, date="x"), "chat", check_headers=True)
    assert [v.code for v in ev.violations if v.code.startswith("header.")] == ["header.request_id"]


def test_headers_without_date_are_not_headers_as_sent() -> None:
    assert check_headers(exchange("{}"), "chat") == []


def test_a_lost_blank_line_is_one_violation_not_a_cascade() -> None:
    """Two chunks merged into one event (no blank line, RELAY_DEFECTS #12): sse.framing once;
    the merged chunks are still judged, so the role and tool-call name they carry are not lost."""
    head = {"id": "chatcmpl-" + "A" * 29, "object": "chat.completion.chunk", "created": 1766084441, "model": "gpt-4o"}
    call = {"index": 0, "id": "call_" + "B" * 24, "type": "function", "function": {"name": "f", "arguments": ""}}
    more = {"index": 0, "function": {"arguments": "{}"}}
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    chunks = [
        {
            **head,
            "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [call]}, "finish_reason": None}],
        },
        {**head, "choices": [{"index": 0, "delta": {"tool_calls": [more]}, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {**head, "choices": [], "usage": usage},
    ]
    merged = f"data: {json.dumps(chunks[0])}\ndata: {json.dumps(chunks[1])}\n\n"
    text = merged + "".join(f"data: {json.dumps(c)}\n\n" for c in chunks[2:]) + "data: [DONE]\n\n"
    ev = evaluate_exchange(exchange(text, sse=True), "chat", stream_requested=False)
    failing = [(v.code, v.path) for v in ev.violations if v.fails("strict") and v.code != "sse.not_stream"]
    assert failing == [("sse.framing", "events[0].data")]
    assert ev.final["choices"][0]["message"]["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}


def test_usage_fields_of_an_undated_recording_are_a_note() -> None:
    body = {
        "id": "msg_01AbCdEfGhIjKlMnOpQrStUv",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }
    ex = exchange(json.dumps(body), path="/v1/messages")
    live = evaluate_exchange(ex, "messages")
    assert [(v.code, v.severity) for v in live.violations if v.code == "usage.fields"] == [("usage.fields", "strict")]
    recorded = evaluate_exchange(ex, "messages", recorded=True)
    assert [(v.code, v.severity) for v in recorded.violations if v.code == "usage.fields"] == [("usage.fields", "note")]
    from datetime import date

    dated = evaluate_exchange(ex, "messages", recorded=True, recorded_on=date(2025, 6, 1))
    assert [(v.code, v.severity) for v in dated.violations if v.code == "usage.fields"] == [("usage.fields", "strict")]
