"""The Responses dialect on small hand-written bodies and streams (no corpus needed): a clean
input yields no failing violation, and each broken input yields exactly the code that names it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from harness.dialects.responses import body as R
from harness.dialects.responses.stream import check_stream
from harness.sse import parse

REQUEST: dict[str, Any] = {
    "model": "gpt-4o",
    "stream": True,
    "input": "weather?",
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ],
}
HEX50 = "10123456789abcdef0123456789abcdef0123456789abcdef0"  # official id shape (harness/dialects/kit/official.py)
MSG, FC, RESP = "msg_" + HEX50, "fc_" + HEX50, "resp_" + HEX50


def response(status: str = "in_progress", output: list[Any] | None = None, usage: Any = None) -> dict[str, Any]:
    return {
        "id": RESP, "object": "response", "created_at": 1760000000, "status": status, "error": None,
        "incomplete_details": None, "instructions": None, "max_output_tokens": None, "model": "gpt-4o",
        "output": output or [], "parallel_tool_calls": True, "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None}, "store": True, "temperature": 1.0,
        "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": REQUEST["tools"], "top_p": 1.0,
        "truncation": "disabled", "usage": usage, "user": None, "metadata": {},
    }  # fmt: skip


MSG_DONE = {
    "id": MSG, "type": "message", "status": "completed", "role": "assistant",
    "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Hi there"}],
}  # fmt: skip
FC_DONE = {
    "id": FC, "type": "function_call", "status": "completed", "arguments": '{"city":"Paris"}',
    "call_id": "call_1AbCdEfGhIjKlMnOpQrStUvW", "name": "get_weather",
}  # fmt: skip
USAGE = {
    "input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15,
}  # fmt: skip
PART = {"item_id": MSG, "output_index": 0, "content_index": 0}
FCI = {"item_id": FC, "output_index": 1}


def clean_events() -> list[dict[str, Any]]:
    empty_part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    return [
        {"type": "response.created", "response": response()},
        {"type": "response.in_progress", "response": response()},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {"id": MSG, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}},
        {"type": "response.content_part.added", **PART, "part": empty_part},
        {"type": "response.output_text.delta", **PART, "delta": "Hi", "logprobs": [], "obfuscation": "x"},
        {"type": "response.output_text.delta", **PART, "delta": " there", "logprobs": [], "obfuscation": "y"},
        {"type": "response.output_text.done", **PART, "text": "Hi there", "logprobs": []},
        {"type": "response.content_part.done", **PART, "part": MSG_DONE["content"][0]},
        {"type": "response.output_item.done", "output_index": 0, "item": MSG_DONE},
        {"type": "response.output_item.added", "output_index": 1, "item": {**FC_DONE, "status": "in_progress",
                                                                           "arguments": ""}},
        {"type": "response.function_call_arguments.delta", **FCI, "delta": '{"city":'},
        {"type": "response.function_call_arguments.delta", **FCI, "delta": '"Paris"}'},
        {"type": "response.function_call_arguments.done", "item_id": FC, "output_index": 1,
         "arguments": '{"city":"Paris"}'},
        {"type": "response.output_item.done", "output_index": 1, "item": FC_DONE},
        {"type": "response.completed", "response": response("completed", [MSG_DONE, FC_DONE], USAGE)},
    ]  # fmt: skip


def sse(events: list[dict[str, Any]], renumber: bool = True, done: bool = False) -> bytes:
    out = []
    for i, d in enumerate(events):
        if renumber:
            d = {**d, "sequence_number": i}
        out.append(f"event: {d['type']}\ndata: {json.dumps(d)}\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def failing(events: list[dict[str, Any]] | bytes, profile: str = "official", request: Any = REQUEST) -> set[str]:
    raw = events if isinstance(events, bytes) else sse(events)
    evs, _ = parse(raw)
    verdict = check_stream(evs, request, "strict", profile)  # type: ignore[arg-type]
    return {v.code for v in verdict.violations if v.fails("strict")}


def drop(events: list[dict[str, Any]], t: str, nth: int = 0) -> list[dict[str, Any]]:
    idx = [i for i, d in enumerate(events) if d["type"] == t][nth]
    return events[:idx] + events[idx + 1 :]


def find(events: list[dict[str, Any]], t: str, nth: int = 0) -> dict[str, Any]:
    return [d for d in events if d["type"] == t][nth]


G = "grammar.responses."


# ---- streams ----------------------------------------------------------------------------------------


def test_clean_stream_passes_and_folds() -> None:
    evs, _ = parse(sse(clean_events()))
    verdict = check_stream(evs, REQUEST, "strict")
    assert [v for v in verdict.violations if v.fails("strict")] == []
    assert R.text(verdict.final) == "Hi there"
    assert [c.name for c in R.tool_calls(verdict.final)] == ["get_weather"]
    assert R.stop_reason(verdict.final) == "completed"


def test_official_oddities_pass() -> None:
    events = clean_events()
    events.insert(2, {"type": "keepalive"})
    events.insert(1, {"type": "response.queued", "response": response("queued")})
    assert failing(events) == set()
    # a background resume (starting_after=1) has no response.created and starts at 2
    resumed = sse(clean_events())
    tail = b"".join(block + b"\n\n" for block in resumed.split(b"\n\n")[2:] if block)
    assert failing(tail, request=None) == set()  # GET /v1/responses/{id}?stream=true: no request body
    # the same tail answering a POST that created the response lost its response.created
    assert G + "first_event" in failing(tail)
    # a .done with no deltas before it is legal for arguments
    assert failing(drop(drop(clean_events(), "response.function_call_arguments.delta"),
                        "response.function_call_arguments.delta")) == set()  # fmt: skip


def test_args_mismatch_and_lost() -> None:  # #2
    events = clean_events()
    find(events, "response.function_call_arguments.done")["arguments"] = "{}"
    assert G + "args_mismatch" in failing(events)


def test_item_done_never_added() -> None:  # #3
    events = clean_events()
    events = [d for d in events if d["type"] != "response.output_item.added" or d["output_index"] != 1]
    assert G + "item_not_added" in failing(events)


def test_item_never_done() -> None:  # #4
    assert failing(drop(clean_events(), "response.output_item.done", 1)) >= {G + "item_not_done"}


def test_text_done_missing() -> None:  # #5
    assert failing(drop(clean_events(), "response.output_text.done")) == {G + "text_done_missing"}


def test_terminal_fields() -> None:  # #6
    events = clean_events()
    for k in ("id", "object", "model"):
        del events[-1]["response"][k]
    assert G + "terminal_fields" in failing(events)


def test_delta_before_added() -> None:  # #6
    events = clean_events()
    delta = events.pop(4)
    events.insert(2, delta)
    assert G + "delta_before_added" in failing(events)


def test_sequence_number() -> None:  # #15
    assert G + "sequence_number" in failing(sse(clean_events(), renumber=False))
    gap = sse(clean_events()).replace(b'"sequence_number": 5}', b'"sequence_number": 9}')
    assert failing(gap) == {G + "sequence_number"}


def test_first_event() -> None:
    assert failing(drop(clean_events(), "response.created")) == {G + "first_event"}


def test_output_index() -> None:
    events = clean_events()
    for d in events[9:14]:
        d["output_index"] = 5
    assert failing(events) == {G + "output_index"}


def test_after_item_done() -> None:
    events = clean_events()
    events.insert(9, copy.deepcopy(events[4]))
    assert G + "after_item_done" in failing(events)


def test_part_unpaired() -> None:
    assert failing(drop(clean_events(), "response.content_part.done")) == {G + "part_unpaired"}


def test_text_mismatch() -> None:
    events = clean_events()
    find(events, "response.output_text.delta")["delta"] = "Ho"
    assert G + "text_mismatch" in failing(events)


def test_args_done_missing() -> None:
    assert failing(drop(clean_events(), "response.function_call_arguments.done")) == {G + "args_done_missing"}


def test_item_id() -> None:
    events = clean_events()
    find(events, "response.function_call_arguments.delta")["item_id"] = "fc_other"
    assert failing(events) == {G + "item_id"}


def test_terminal_missing_and_status() -> None:
    assert failing(clean_events()[:-1]) == {G + "terminal_missing"}
    events = clean_events()
    events[-1]["response"]["status"] = "in_progress"
    assert G + "terminal_status" in failing(events)


def test_after_end_and_error_event() -> None:
    events = clean_events()
    assert failing([*events, copy.deepcopy(events[1])]) == {"sse.after_end"}
    err = {"type": "error", "code": "server_error", "message": "boom", "param": None}
    assert failing([*events[:-1], err, events[-1]]) == {"error.in_200"}


def test_event_name_and_done_profiles() -> None:
    raw = sse(clean_events())
    assert failing(raw.replace(b"event: response.in_progress", b"event: response.created", 1)) == {"sse.event_name"}
    assert failing(raw.replace(b"event: response.in_progress\n", b"", 1)) == {"sse.event_name"}
    assert failing(sse(clean_events(), done=True)) == {"sse.done"}
    assert failing(sse(clean_events(), done=True), profile="open-responses") == set()
    assert failing(raw, profile="open-responses") == {"sse.done"}


def test_stream_accumulate() -> None:
    events = clean_events()
    events[-1]["response"]["output"] = [MSG_DONE, {**FC_DONE, "arguments": '{"city":"Rome"}'}]
    assert failing(events) == {"stream.accumulate"}


def test_folded_stream_judged_like_a_body() -> None:
    events = clean_events()
    for d in events:
        if d["type"] == "response.function_call_arguments.delta":
            d["delta"] = d["delta"].replace("city", "town")
    find(events, "response.function_call_arguments.done")["arguments"] = '{"town":"Paris"}'
    bad = {**FC_DONE, "arguments": '{"town":"Paris"}'}
    find(events, "response.output_item.done", 1)["item"] = bad
    events[-1]["response"]["output"] = [MSG_DONE, bad]
    assert failing(events) == {"tool.args"}


def test_schema_levels_and_extras() -> None:
    events = clean_events()
    del find(events, "response.output_text.delta")["logprobs"]  # strict-only field
    evs, _ = parse(sse(events))
    verdict = check_stream(evs, REQUEST, "strict")
    assert {(v.code, v.severity) for v in verdict.violations} == {("schema", "strict")}
    events = clean_events()
    find(events, "response.output_text.delta")["surprise"] = 1
    evs, _ = parse(sse(events))
    notes = [v for v in check_stream(evs, REQUEST, "strict").violations]
    assert [(v.code, v.severity) for v in notes] == [("schema.extra", "note")]


def test_unknown_event_is_a_note() -> None:
    events = clean_events()
    events.insert(2, {"type": "response.brand_new"})
    evs, _ = parse(sse(events))
    verdict = check_stream(evs, REQUEST, "strict")
    assert {(v.code, v.severity) for v in verdict.violations} == {(G + "unknown_event", "note")}


# ---- bodies and errors ------------------------------------------------------------------------------


def body_failing(body: Any, request: Any = REQUEST) -> set[str]:
    return {v.code for v in R.check_body(body, request, "strict") if v.fails("strict")}


def clean_body() -> dict[str, Any]:
    return response("completed", [copy.deepcopy(MSG_DONE), copy.deepcopy(FC_DONE)], dict(USAGE))


def test_clean_body() -> None:
    assert R.check_body(clean_body(), REQUEST, "strict") == []
    assert R.check_body(clean_body(), None, "strict") == []


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda b: b.update(object="chat.completion"), "object.kind"),
        (lambda b: b.update(id="chatcmpl-1"), "id.prefix"),
        (lambda b: b["output"][1].update(call_id="toolu_1"), "id.prefix"),
        (lambda b: b["output"][0].update(id="item_1"), "id.prefix"),
        (lambda b: b["usage"].update(total_tokens=99), "usage"),
        (lambda b: b.update(usage=None), "usage"),
        (lambda b: b.update(status="incomplete"), G + "status_details"),
        (lambda b: b.update(error={"code": "x", "message": "y"}), "error.in_200"),
        (lambda b: b["output"][1].update(arguments='{"city": 3}'), "tool.args"),
        (lambda b: b["output"][1].update(arguments='{"city": "Pa'), "tool.args"),
        (lambda b: b["output"][1].update(name="rm_rf"), "tool.name"),
        (lambda b: b.pop("previous_response_id"), "schema"),
    ],
)
def test_broken_body(edit: Any, code: str) -> None:
    body = clean_body()
    edit(body)
    assert body_failing(body) == {code}


def test_error_in_200_body() -> None:
    assert body_failing({"error": {"message": "x", "type": "server_error", "param": None, "code": None}}) == {
        "error.in_200"
    }


def test_tool_as_text() -> None:
    body = clean_body()
    body["output"] = [copy.deepcopy(MSG_DONE)]
    body["output"][0]["content"][0]["text"] = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    assert body_failing(body) == {"tool.as_text"}
    # the same JSON answering a structured-output request is an answer, not a tool call
    assert (
        body_failing(body, {**REQUEST, "text": {"format": {"type": "json_schema", "name": "x", "schema": {}}}}) == set()
    )


def test_errors() -> None:
    good = {
        "error": {
            "message": "bad key",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    assert R.check_error(good, 401, "strict") == []
    anthropic = {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
    assert {v.code for v in R.check_error(anthropic, 401, "strict")} == {"error.shape"}
    partial = {"error": {"message": "bad key"}}
    assert {(v.code, v.severity) for v in R.check_error(partial, 401, "strict")} == {("error.shape", "strict")}


def test_auth_headers() -> None:
    assert R.DIALECT.auth_headers("k", "bearer", None) == {"Authorization": "Bearer k"}
