"""The Messages dialect on small hand-written bodies and streams (no corpus needed): each rule
fires on the input that breaks it, with exactly its code, and stays quiet on a clean input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import sse
from harness.codes import CORE_CODES
from harness.dialects import get
from harness.dialects.messages import CODES, DIALECT
from harness.model import Violation

TOOLU = "toolu_01AbCdEfGhIjKlMnOpQrStUv"  # official id shapes (harness/dialects/kit/official.py)

REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 4096,
    "stream": True,
    "messages": [{"role": "user", "content": "weather in Paris?"}],
    "tools": [
        {
            "name": "get_weather",
            "description": "weather",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ],
}
USAGE = {
    "input_tokens": 10,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 1,
}


def body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": "msg_01AbCdEfGhIjKlMnOpQrStUv",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {**USAGE, "output_tokens": 5, "service_tier": "standard"},
    }
    out.update(changes)
    return out


def ev(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return data["type"], data


def start() -> tuple[str, dict[str, Any]]:
    msg = {k: v for k, v in body(content=[], stop_reason=None, usage=dict(USAGE)).items()}
    return ev({"type": "message_start", "message": msg})


def block(index: int, content_block: dict[str, Any], *deltas: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [ev({"type": "content_block_start", "index": index, "content_block": content_block})]
    out += [ev({"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
    out.append(ev({"type": "content_block_stop", "index": index}))
    return out


def end(stop_reason: str = "end_turn", output_tokens: int = 12) -> list[tuple[str, dict[str, Any]]]:
    return [
        ev(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            }
        ),
        ev({"type": "message_stop"}),
    ]


TEXT = block(0, {"type": "text", "text": ""}, {"type": "text_delta", "text": "Hi"})
THINK = block(
    0,
    {"type": "thinking", "thinking": "", "signature": ""},
    {"type": "thinking_delta", "thinking": "hmm"},
    {"type": "signature_delta", "signature": "sig"},
)
TOOL = block(
    0,
    {"type": "tool_use", "id": TOOLU, "name": "get_weather", "input": {}},
    {"type": "input_json_delta", "partial_json": '{"city": '},
    {"type": "input_json_delta", "partial_json": '"Paris"}'},
)


def with_index(events: list[tuple[str, dict[str, Any]]], index: int) -> list[tuple[str, dict[str, Any]]]:
    return [(n, {**d, "index": index} if "index" in d else d) for n, d in events]


def wire(events: list[tuple[str | None, Any]], padded: bool = False) -> bytes:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        if padded and text.endswith("}"):
            text = text[:-1] + "     }"  # the official API pads its JSON like this
        out.append((f"event: {name}\n" if name is not None else "") + f"data: {text}\n\n")
    return "".join(out).encode()


def stream_codes(events: list[tuple[str | None, Any]], request: Any = REQUEST, **kw: Any) -> set[str]:
    parsed, _ = sse.parse(wire(events, **kw))
    verdict = DIALECT.check_stream(parsed, request, "strict")
    return {v.code for v in verdict.violations if v.fails("strict")}


def failing(violations: list[Violation]) -> set[str]:
    return {v.code for v in violations if v.fails("strict")}


# --- clean inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        [start(), *TEXT, *end()],
        [start(), ("ping", {"type": "ping"}), *THINK, *with_index(TEXT, 1), *end()],
        [start(), *TOOL, *end("tool_use")],
        [start(), *block(0, {"type": "text", "text": ""}), *end()],  # the official empty answer
        [("ping", {"type": "ping"}), start(), *TEXT, ("ping", {"type": "ping"}), *end()],
    ],
    ids=["text", "thinking-text", "tool", "empty-answer", "pings"],
)
def test_clean_stream(events: list[tuple[str, Any]]) -> None:
    assert stream_codes(events) == set()
    assert stream_codes(events, padded=True) == set()


def test_fold_gives_the_message() -> None:
    parsed, _ = sse.parse(wire([start(), *THINK, *with_index(TOOL, 1), *end("tool_use")]))
    final = DIALECT.check_stream(parsed, REQUEST, "strict").final
    assert final["content"][0] == {"type": "thinking", "thinking": "hmm", "signature": "sig"}
    assert final["content"][1]["input"] == {"city": "Paris"}
    assert final["stop_reason"] == "tool_use" and final["usage"]["output_tokens"] == 12
    assert [c.name for c in DIALECT.tool_calls(final)] == ["get_weather"]
    assert DIALECT.stop_reason(final) == "tool_use"


def test_clean_body_and_error() -> None:
    assert DIALECT.check_body(body(), REQUEST, "strict") == []
    err = {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: x"},
        "request_id": "req_1",
    }
    assert DIALECT.check_error(err, 404, "strict") == []


# --- stream rules, one code each ---------------------------------------------------------------

G = "grammar.messages."
DELTA_ON_TOOL = block(0, {"type": "tool_use", "id": TOOLU, "name": "get_weather", "input": {}})
DELTA_ON_TOOL.insert(1, ev({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}))


@pytest.mark.parametrize(
    ("code", "events"),
    [
        (G + "start", [*TEXT, *end()]),
        (G + "start", [start(), start(), *TEXT, *end()]),
        (G + "block_index", [start(), *with_index(TEXT, 1), *end()]),
        (G + "block_overlap", [start(), TEXT[0], TEXT[1], *with_index(TEXT, 1), TEXT[2], *end()]),
        (G + "delta_without_start", [start(), TEXT[1], *end()]),
        (G + "block_closed", [start(), *TEXT, TEXT[1], *end()]),
        (G + "delta_type", [start(), *DELTA_ON_TOOL, *end()]),
        (G + "unclosed_block", [start(), TEXT[0], TEXT[1], *end()]),
        (G + "thinking_signature", [start(), *THINK[:2], THINK[3], *with_index(TEXT, 1), *end()]),
        (
            G + "empty_text_block",
            [start(), *THINK, *with_index(block(0, {"type": "text", "text": ""}), 1), *end()],
        ),
        (G + "block_after_delta", [start(), *TEXT, end()[0], *with_index(TEXT, 1), end()[1]]),
        (G + "no_message_delta", [start(), *TEXT, end()[1]]),
        (G + "no_message_stop", [start(), *TEXT, end()[0]]),
        ("sse.after_end", [start(), *TEXT, *end(), ("ping", {"type": "ping"})]),
        ("sse.done", [start(), *TEXT, *end(), (None, "[DONE]")]),
        ("sse.event_name", [start(), ("wrong", TEXT[0][1]), *TEXT[1:], *end()]),
        ("sse.event_name", [start(), (None, TEXT[0][1]), *TEXT[1:], *end()]),
        ("sse.json", [start(), ("content_block_start", "{not json"), *end()]),
        (
            "error.in_200",
            [start(), ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "o"}})],
        ),
        ("error.shape", [start(), ("error", {"type": "error", "error": "overloaded"})]),
        (
            "tool.args",
            [start(), *block(0, TOOL[0][1]["content_block"], TOOL[1][1]["delta"]), *end("tool_use")],
        ),
        ("tool.args", [start(), *block(0, TOOL[0][1]["content_block"]), *end("tool_use")]),  # {} lacks city
        ("tool.stop_reason", [start(), *TOOL, *end("end_turn")]),
        ("usage", [start(), *TEXT, *end(output_tokens=0)]),
        ("schema", [start(), ("content_block_stop", {"type": "content_block_stop", "index": "0"}), *end()]),
        ("object.kind", [(None, {"object": "chat.completion.chunk", "choices": []})]),
    ],
)
def test_stream_rule(code: str, events: list[tuple[str | None, Any]]) -> None:
    assert code in stream_codes(events)


def test_stream_rule_codes_are_exact() -> None:
    """A single broken rule yields its code and nothing else."""
    json_on_text = block(0, {"type": "text", "text": ""}, {"type": "input_json_delta", "partial_json": "{}"})
    assert stream_codes([start(), *json_on_text, *end()]) == {G + "delta_type"}
    assert stream_codes([start(), TEXT[1], *end()]) == {G + "delta_without_start"}
    assert stream_codes([start(), *with_index(TEXT, 1), *end()]) == {G + "block_index"}
    assert stream_codes([start(), *TEXT, *end(), (None, "[DONE]")]) == {"sse.done"}


def test_multiline_json_is_strict_framing() -> None:
    raw = wire([start(), *TEXT, *end()]).replace(
        b'data: {"type":"message_stop"}', b'data: {"type":\ndata: "message_stop"}'
    )
    parsed, _ = sse.parse(raw)
    found = DIALECT.check_stream(parsed, REQUEST, "strict").violations
    assert {(v.code, v.severity) for v in found} == {("sse.framing", "strict")}


def test_unknown_event_and_fields_are_notes() -> None:
    parsed, _ = sse.parse(wire([start(), ("brand_new", {"type": "brand_new"}), *TEXT, *end()]))
    found = DIALECT.check_stream(parsed, REQUEST, "strict").violations
    assert [(v.code, v.severity) for v in found] == [(G + "unknown_event", "note")]
    extra = DIALECT.check_body(body(new_field=1), REQUEST, "strict")
    assert [(v.code, v.severity) for v in extra] == [("schema.extra", "note")]


def test_non_empty_start_text_is_strict_only() -> None:
    events = [start(), *block(0, {"type": "text", "text": "Hi"}), *end()]
    parsed, _ = sse.parse(wire(events))
    found = DIALECT.check_stream(parsed, REQUEST, "strict").violations
    assert {(v.code, v.severity) for v in found} == {("schema", "strict")}


# --- bodies and errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "payload", "request_body"),
    [
        ("object.kind", {"object": "chat.completion", "choices": [], "id": "chatcmpl-1"}, REQUEST),
        ("error.in_200", {"type": "error", "error": {"type": "api_error", "message": "x"}}, REQUEST),
        ("id.prefix", body(id="chatcmpl-1"), REQUEST),
        (
            "id.prefix",
            body(
                content=[{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "P"}}],
                stop_reason="tool_use",
            ),
            REQUEST,
        ),
        ("usage", body(usage={**USAGE, "output_tokens": 0}), REQUEST),
        (
            "tool.as_text",
            body(content=[{"type": "text", "text": '{"name": "get_weather", "arguments": {}}'}]),
            REQUEST,
        ),
        (
            "tool.stop_reason",
            body(content=[{"type": "tool_use", "id": TOOLU, "name": "get_weather", "input": {"city": "P"}}]),
            REQUEST,
        ),
        ("tool.stop_reason", body(stop_reason="tool_use"), REQUEST),
        (
            "tool.args",
            body(
                content=[{"type": "tool_use", "id": TOOLU, "name": "get_weather", "input": {}}],
                stop_reason="tool_use",
            ),
            REQUEST,
        ),
        (
            "tool.name",
            body(
                content=[{"type": "tool_use", "id": TOOLU, "name": "nope", "input": {}}],
                stop_reason="tool_use",
            ),
            REQUEST,
        ),
        (
            G + "thinking_signature",
            body(
                content=[
                    {"type": "thinking", "thinking": "x", "signature": ""},
                    {"type": "text", "text": "y"},
                ]
            ),
            REQUEST,
        ),
        (G + "request_accepted", body(), {**REQUEST, "thinking": {"type": "enabled", "budget_tokens": 512}}),
        (
            G + "request_accepted",
            body(),
            {**REQUEST, "thinking": {"type": "enabled", "budget_tokens": 5000}, "max_tokens": 4000},
        ),
        ("schema", body(role="user"), REQUEST),
    ],
)
def test_body_rule(code: str, payload: Any, request_body: Any) -> None:
    assert code in failing(DIALECT.check_body(payload, request_body, "strict"))


def test_json_mode_answer_is_not_a_tool_call() -> None:
    request_body = {
        **REQUEST,
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    }
    answer = body(content=[{"type": "text", "text": '{"name": "get_weather", "city": "Paris"}'}])
    assert failing(DIALECT.check_body(answer, request_body, "strict")) == set()
    answer = body(content=[{"type": "text", "text": '{"city": "Paris"}'}])
    assert failing(DIALECT.check_body(answer, REQUEST, "strict")) == set()


def test_null_stop_reason_is_strict_only() -> None:
    found = DIALECT.check_body(body(stop_reason=None), REQUEST, "strict")
    assert {(v.code, v.severity) for v in found} == {("schema", "strict")}


@pytest.mark.parametrize(
    ("code", "payload", "status"),
    [
        (
            "error.shape",
            {"error": {"message": "bad", "type": "invalid_request_error", "param": None, "code": None}},
            400,
        ),
        ("error.shape", "Bad Gateway", 502),
        ("error.shape", {"type": "error", "error": {"type": "invalid_request_error"}}, 400),
        (G + "error_type", {"type": "error", "error": {"type": "not_found_error", "message": "x"}}, 401),
    ],
)
def test_error_rule(code: str, payload: Any, status: int) -> None:
    assert code in failing(DIALECT.check_error(payload, status, "strict"))


def test_any_4xx_may_be_invalid_request_error() -> None:
    err = {"type": "error", "error": {"type": "invalid_request_error", "message": "x"}, "request_id": None}
    assert DIALECT.check_error(err, 422, "strict") == []


# --- dialect surface ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("x-api-key", {"x-api-key": "k", "anthropic-version": "2023-06-01"}),
        ("bearer", {"Authorization": "Bearer k", "anthropic-version": "2023-06-01"}),
        ("both", {"x-api-key": "k", "Authorization": "Bearer k", "anthropic-version": "2023-06-01"}),
    ],
)
def test_auth_headers(style: str, expected: dict[str, str]) -> None:
    assert DIALECT.auth_headers("k", style, None) == expected  # type: ignore[arg-type]
    assert DIALECT.auth_headers("k", style, "2024-01-01")["anthropic-version"] == "2024-01-01"  # type: ignore[arg-type]


def test_registered_and_codes_named() -> None:
    assert get("messages") is DIALECT and DIALECT.path == "/v1/messages"
    # its grammar, plus two official-API rules only Messages answers carry (declared where emitted)
    assert all(code.startswith("grammar.messages.") for code in set(CODES) - {"content.not_enabled", "usage.fields"})
    assert not set(CODES) & set(CORE_CODES)
    assert DIALECT.text(body()) == "Hello"


def test_schema_files_match_their_builder() -> None:
    """schemas/messages/*/ are written by build.py; a hand edit of one level would drift."""
    import importlib.util

    from harness.validation import SCHEMA_DIR

    spec = importlib.util.spec_from_file_location("messages_build", SCHEMA_DIR / "messages" / "build.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    for level in ("compatible", "strict"):
        for name, schema in builder.build(level).items():
            on_disk = json.loads((SCHEMA_DIR / "messages" / level / f"{name}.json").read_text(encoding="utf-8"))
            assert on_disk == schema, f"{level}/{name}.json is stale: run python schemas/messages/build.py"
