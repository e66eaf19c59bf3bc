"""The chat dialect on small hand-written bodies and streams (no corpus needed).

Each rule has a broken input that yields exactly its code, and the clean inputs yield none.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from harness import sse, validation
from harness.codes import CORE_CODES
from harness.dialects.base import StreamVerdict
from harness.dialects.chat import CODES, DIALECT, text_tool_call
from harness.model import Violation

CALL_A = "call_aAbCdEfGhIjKlMnOpQrStUvW"
CALL_B = "call_bAbCdEfGhIjKlMnOpQrStUvW"  # official id shapes (harness/dialects/kit/official.py)

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
]
REQ: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
REQ_USAGE = {**REQ, "stream_options": {"include_usage": True}}
REQ_TOOLS = {**REQ, "tools": TOOLS}
USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 5,
    "total_tokens": 15,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, index: int = 0, **top: Any) -> dict:
    base: dict[str, Any] = {
        "id": "chatcmpl-abc123AbCdEfGhIjKlMnOpQrStUvW",
        "object": "chat.completion.chunk",
        "created": 1766084441,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_e413f45763",
        "choices": [{"index": index, "delta": delta or {}, "logprobs": None, "finish_reason": finish}],
        "obfuscation": "Xy1",
    }
    base.update(top)
    return base


def text_chunks(usage: bool = False) -> list[Any]:
    extra = {"usage": None} if usage else {}
    out: list[Any] = [
        chunk({"role": "assistant", "content": "", "refusal": None}, **extra),
        chunk({"content": "Hello"}, **extra),
        chunk({"content": " world"}, **extra),
        chunk({}, "stop", **extra),
    ]
    if usage:
        last = chunk(usage=USAGE)
        last["choices"] = []
        out.append(last)
    return out


def tool_chunks() -> list[Any]:
    def call(i: int, **kw: Any) -> dict[str, Any]:
        return {"tool_calls": [{"index": i, **kw}]}

    return [
        chunk({"role": "assistant", "content": None}),
        chunk(call(0, id=CALL_A, type="function", function={"name": "get_weather", "arguments": ""})),
        chunk(call(0, function={"arguments": '{"city": '})),
        chunk(call(0, function={"arguments": '"Paris"}'})),
        chunk(call(1, id=CALL_B, type="function", function={"name": "get_weather", "arguments": ""})),
        chunk(call(1, function={"arguments": '{"city": "Rome"}'})),
        chunk({}, "tool_calls"),
    ]


def render(chunks: list[Any], done: bool = True) -> str:
    text = "".join(f"data: {json.dumps(c, separators=(',', ':'))}\n\n" for c in chunks)
    return text + ("data: [DONE]\n\n" if done else "")


def run(text: str, request: Any = REQ) -> StreamVerdict:
    events, _ = sse.parse(text)
    return DIALECT.check_stream(events, request, "strict")


def failing(violations: Any) -> set[str]:
    return {v.code for v in violations if v.fails("strict")}


def body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": "chatcmpl-D1GnfAbCdEfGhIjKlMnOpQrStUvWx",
        "object": "chat.completion",
        "created": 1769195279,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi!", "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": copy.deepcopy(USAGE),
        "service_tier": "default",
        "system_fingerprint": None,
    }
    out.update(changes)
    return out


def tool_body(finish: str = "tool_calls", args: str = '{"city": "Paris"}', name: str = "get_weather") -> dict:
    out = body()
    out["choices"][0]["finish_reason"] = finish
    out["choices"][0]["message"].update(
        content=None,
        tool_calls=[{"id": CALL_A, "type": "function", "function": {"name": name, "arguments": args}}],
    )
    return out


# ---------------------------------------------------------------------------------------------
# clean inputs


def test_clean_text_stream_with_usage_null_everywhere() -> None:
    verdict = run(render(text_chunks(usage=True)), REQ_USAGE)
    assert verdict.violations == ()
    assert verdict.final["choices"][0]["message"]["content"] == "Hello world"
    assert verdict.final["usage"]["total_tokens"] == 15
    assert DIALECT.text(verdict.final) == "Hello world"
    assert DIALECT.stop_reason(verdict.final) == "stop"


def test_clean_parallel_tool_stream_folds_both_calls() -> None:
    verdict = run(render(tool_chunks()), REQ_TOOLS)
    assert verdict.violations == ()
    calls = DIALECT.tool_calls(verdict.final)
    assert [(c.id, c.name, c.parsed_arguments()) for c in calls] == [
        (CALL_A, "get_weather", {"city": "Paris"}),
        (CALL_B, "get_weather", {"city": "Rome"}),
    ]


def test_forced_tool_choice_ends_with_stop_officially() -> None:
    chunks = tool_chunks()
    chunks[-1]["choices"][0]["finish_reason"] = "stop"
    forced = {**REQ_TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
    assert failing(run(render(chunks), forced).violations) == set()
    assert failing(DIALECT.check_body(tool_body("stop"), forced, "strict")) == set()


def test_clean_bodies_and_error() -> None:
    assert DIALECT.check_body(body(), REQ, "strict") == []
    assert DIALECT.check_body(tool_body(), REQ_TOOLS, "strict") == []
    err = {"error": {"message": "no such model", "type": "invalid_request_error", "param": None, "code": None}}
    assert DIALECT.check_error(err, 404, "strict") == []


def test_json_mode_answer_is_not_a_tool_call() -> None:
    # Structured output whose fields happen to match the tool's parameters must not be flagged.
    req = {**REQ_TOOLS, "response_format": {"type": "json_object"}}
    b = body()
    b["choices"][0]["message"]["content"] = '{"city": "Paris", "name": "report"}'
    assert DIALECT.check_body(b, req, "strict") == []
    assert text_tool_call('{"answer": "get_weather"}', ["get_weather"]) is None


def test_unknown_field_is_a_note_not_a_failure() -> None:
    b = body(relay_trace_id="x")
    found = DIALECT.check_body(b, REQ, "strict")
    assert [(v.code, v.path, v.severity) for v in found] == [("schema.extra", "$.relay_trace_id", "note")]
    chunks = text_chunks()
    chunks[1]["choices"][0]["delta"]["reasoning_content"] = "hmm"
    found = run(render(chunks)).violations
    assert [(v.code, v.severity) for v in found] == [("schema.extra", "note")]
    assert found[0].path.endswith("delta.reasoning_content")


# ---------------------------------------------------------------------------------------------
# stream framing


def test_event_lines_are_not_chat_framing() -> None:
    text = "".join(f"event: chunk\n{render([c], done=False)}" for c in text_chunks()) + "data: [DONE]\n\n"
    assert failing(run(text).violations) == {"sse.event_name"}


def test_missing_done() -> None:
    assert failing(run(render(text_chunks(), done=False)).violations) == {"sse.done"}


def test_event_after_done() -> None:
    chunks = text_chunks()
    assert failing(run(render(chunks) + render([chunks[1]], done=False)).violations) == {"sse.after_end"}


def test_non_json_data() -> None:
    chunks = text_chunks()
    text = render(chunks[:2], done=False) + "data: {oops\n\n" + render(chunks[2:])
    assert failing(run(text).violations) == {"sse.json"}


def test_error_in_a_data_line() -> None:
    chunks = text_chunks()
    chunks.insert(2, {"error": {"message": "upstream timeout", "type": "server_error"}})
    assert failing(run(render(chunks)).violations) == {"error.in_200"}


def test_two_chunks_without_blank_line() -> None:
    chunks = text_chunks()
    text = render(chunks)
    first = text.index("\n\n")
    assert "sse.framing" in failing(run(text[:first] + "\n" + text[first + 2 :]).violations)


def test_another_dialects_events_on_chat() -> None:
    events = [{"type": "message_start", "message": {"id": "msg_1"}}, {"type": "message_stop"}]
    assert failing(run(render(events)).violations) == {"object.kind"}


def test_chunk_schema() -> None:
    chunks = text_chunks()
    for c in chunks:
        c["created"] = "yesterday"
    assert failing(run(render(chunks)).violations) == {"schema"}


# ---------------------------------------------------------------------------------------------
# stream grammar: one code per rule


def test_grammar_empty() -> None:
    assert failing(run("data: [DONE]\n\n").violations) == {"grammar.chat.empty"}


def test_grammar_consistent() -> None:
    chunks = text_chunks()
    chunks[2]["model"] = "gpt-4o-mini"
    assert failing(run(render(chunks)).violations) == {"grammar.chat.consistent"}


def test_grammar_role_missing_and_repeated() -> None:
    chunks = text_chunks()
    del chunks[0]["choices"][0]["delta"]["role"]
    assert failing(run(render(chunks)).violations) == {"grammar.chat.role"}
    chunks = text_chunks()
    chunks[2]["choices"][0]["delta"]["role"] = "assistant"
    assert failing(run(render(chunks)).violations) == {"grammar.chat.role"}


def test_grammar_tool_delta_first_lacks_name() -> None:
    chunks = tool_chunks()
    del chunks[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"]
    assert "grammar.chat.tool_delta" in failing(run(render(chunks), REQ_TOOLS).violations)


def test_grammar_tool_delta_later_repeats_name() -> None:
    chunks = tool_chunks()
    chunks[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] = "get_weather"
    assert failing(run(render(chunks), REQ_TOOLS).violations) == {"grammar.chat.tool_delta"}


def test_grammar_tool_delta_later_repeats_type_is_strict_only() -> None:
    # LiteLLM repeats type: "function" on every delta (docs/interop.md). The official SDKs overwrite
    # type instead of concatenating it, so it fails strict only; a repeated id still fails both.
    chunks = tool_chunks()
    chunks[2]["choices"][0]["delta"]["tool_calls"][0]["type"] = "function"
    found = [v for v in run(render(chunks), REQ_TOOLS).violations if v.code == "grammar.chat.tool_delta"]
    assert [v.severity for v in found] == ["strict"]
    chunks[2]["choices"][0]["delta"]["tool_calls"][0]["id"] = chunks[1]["choices"][0]["delta"]["tool_calls"][0]["id"]
    found = [v for v in run(render(chunks), REQ_TOOLS).violations if v.code == "grammar.chat.tool_delta"]
    assert [v.severity for v in found] == ["error"]


def test_extra_usage_field_in_a_chunk_is_a_note_not_a_schema_failure() -> None:
    # LiteLLM adds usage.cost (docs/interop.md). usage is anyOf [object, null] in the schema: the
    # extra field must surface as the schema.extra note it is, not as "not valid under anyOf".
    chunks = text_chunks(usage=True)
    chunks[-1]["usage"] = {**chunks[-1]["usage"], "cost": 0.00014}
    found = [v for v in run(render(chunks), REQ_USAGE).violations if v.code.startswith("schema")]
    assert [(v.code, v.path, v.severity) for v in found] == [("schema.extra", "events[4].data.usage.cost", "note")]
    chunks[-1]["usage"]["prompt_tokens"] = "ten"  # a real schema failure inside the same branch still fails
    found = [v for v in run(render(chunks), REQ_USAGE).violations if v.code == "schema"]
    assert found and all(v.path.startswith("events[4].data.usage") for v in found)


def test_grammar_tool_index_all_at_zero() -> None:
    # RELAY_DEFECTS #7: parallel calls all streamed with index 0.
    chunks = tool_chunks()
    for c in chunks:
        for call in c["choices"][0]["delta"].get("tool_calls", []):
            call["index"] = 0
    verdict = run(render(chunks), REQ_TOOLS)
    assert failing(verdict.violations) == {"grammar.chat.tool_index"}
    assert len(DIALECT.tool_calls(verdict.final)) == 2  # still folded per id


def test_grammar_tool_index_skips() -> None:
    chunks = tool_chunks()
    for c in chunks[4:6]:
        c["choices"][0]["delta"]["tool_calls"][0]["index"] = 2
    assert failing(run(render(chunks), REQ_TOOLS).violations) == {"grammar.chat.tool_index"}


def test_grammar_finish_missing_and_twice() -> None:
    chunks = text_chunks()
    chunks[-1]["choices"][0]["finish_reason"] = None
    assert failing(run(render(chunks)).violations) == {"grammar.chat.finish"}
    chunks = text_chunks()
    chunks.append(chunk({}, "stop"))
    assert failing(run(render(chunks)).violations) == {"grammar.chat.finish"}


def test_grammar_after_finish() -> None:
    chunks = [*text_chunks(), chunk({"content": " late"})]
    assert failing(run(render(chunks)).violations) == {"grammar.chat.after_finish"}


def test_grammar_usage_rules() -> None:
    # asked for, never sent
    assert failing(run(render(text_chunks(usage=True)[:-1]), REQ_USAGE).violations) == {"grammar.chat.usage"}
    # sent unasked
    assert failing(run(render(text_chunks(usage=True)), REQ).violations) == {"grammar.chat.usage"}
    # on a content chunk instead of its own choices: [] chunk
    chunks = text_chunks(usage=True)[:-1]
    chunks[-1]["usage"] = USAGE
    assert failing(run(render(chunks), REQ_USAGE).violations) == {"grammar.chat.usage"}
    # not last
    chunks = text_chunks(usage=True)
    chunks.insert(len(chunks) - 2, chunks.pop())
    assert "grammar.chat.usage" in failing(run(render(chunks), REQ_USAGE).violations)


def test_grammar_choice_index() -> None:
    chunks = text_chunks()
    for c in chunks:
        c["choices"][0]["index"] = 1
    assert failing(run(render(chunks)).violations) == {"grammar.chat.choice_index"}


# ---------------------------------------------------------------------------------------------
# the folded stream is judged like a body


def test_stream_tool_args_emptied() -> None:
    # RELAY_DEFECTS #10
    chunks = tool_chunks()
    for c in chunks:
        for call in c["choices"][0]["delta"].get("tool_calls", []):
            call["function"]["arguments"] = ""
    assert failing(run(render(chunks), REQ_TOOLS).violations) == {"tool.args"}


def test_stream_tool_args_off_schema() -> None:
    chunks = tool_chunks()
    chunks[5]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] = '{"town": "Rome"}'
    assert failing(run(render(chunks), REQ_TOOLS).violations) == {"tool.args"}


def test_stream_finish_not_tool_calls() -> None:
    chunks = tool_chunks()
    chunks[-1]["choices"][0]["finish_reason"] = "stop"
    assert failing(run(render(chunks), REQ_TOOLS).violations) == {"tool.stop_reason"}


def test_stream_tool_as_text() -> None:
    chunks = text_chunks()
    chunks[1]["choices"][0]["delta"]["content"] = '{"name": "get_weather", '
    chunks[2]["choices"][0]["delta"]["content"] = '"arguments": {"city": "Paris"}}'
    assert failing(run(render(chunks), REQ_TOOLS).violations) == {"tool.as_text"}


# ---------------------------------------------------------------------------------------------
# bodies


@pytest.mark.parametrize(
    ("broken", "request_body", "code"),
    [
        ({"error": {"message": "rate limited", "type": "requests"}}, REQ, "error.in_200"),
        (
            {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude"},
            REQ,
            "object.kind",
        ),
        ({**body(), "object": "chat.completion.chunk"}, REQ, "object.kind"),
        (body(choices="none"), REQ, "schema"),
        (body(id="gen-123"), REQ, "id.prefix"),
        (body(usage={**USAGE, "total_tokens": 99}), REQ, "usage"),
        (tool_body(finish="stop"), REQ_TOOLS, "tool.stop_reason"),
        (tool_body(args='{"city": 3}'), REQ_TOOLS, "tool.args"),
        (tool_body(args=""), REQ_TOOLS, "tool.args"),
        (tool_body(name="delete_everything"), REQ_TOOLS, "tool.name"),
    ],
)
def test_broken_body(broken: Any, request_body: Any, code: str) -> None:
    assert failing(DIALECT.check_body(broken, request_body, "strict")) == {code}


def test_tool_call_as_text_in_body() -> None:
    b = body()
    b["choices"][0]["message"]["content"] = '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```'
    assert failing(DIALECT.check_body(b, REQ_TOOLS, "strict")) == {"tool.as_text"}


def test_strict_only_schema_failure_has_strict_severity() -> None:
    b = body()
    del b["usage"]  # the SDK copes (usage is Optional); the official API always sends it
    found = DIALECT.check_body(b, REQ, "strict")
    assert [(v.code, v.severity) for v in found] == [("schema", "strict")]
    assert not any(v.fails("compatible") for v in found)


def test_truncated_tool_arguments_are_not_flagged_when_finish_is_length() -> None:
    assert failing(DIALECT.check_body(tool_body(finish="length", args='{"ci'), REQ_TOOLS, "strict")) == set()


# ---------------------------------------------------------------------------------------------
# errors


def test_anthropic_shaped_error_on_chat() -> None:
    found = DIALECT.check_error({"type": "error", "error": {"type": "not_found_error", "message": "x"}}, 404, "strict")
    assert failing(found) == {"error.shape"}
    assert not any(v.fails("compatible") for v in found)  # the openai SDK still reads error.message


def test_error_without_an_error_object() -> None:
    found = DIALECT.check_error({"detail": "Not Found"}, 404, "strict")
    assert {v.code for v in found if v.fails("compatible")} == {"error.shape"}


# ---------------------------------------------------------------------------------------------
# dialect plumbing


def test_auth_headers() -> None:
    assert DIALECT.auth_headers("sk-x", "bearer", None) == {"Authorization": "Bearer sk-x"}
    assert DIALECT.auth_headers("sk-x", "both", "2023-06-01") == {
        "Authorization": "Bearer sk-x",
        "x-api-key": "sk-x",
    }


def test_every_emitted_code_is_listed() -> None:
    assert all(code.startswith("grammar.chat.") for code in CODES)
    listed = set(CODES) | set(CORE_CODES)
    samples: list[Violation] = []
    chunks = tool_chunks()
    for c in chunks:
        for call in c["choices"][0]["delta"].get("tool_calls", []):
            call["index"] = 3
    samples += run(render(chunks, done=False) + render(chunks[:1], done=False), REQ_TOOLS).violations
    samples += DIALECT.check_body(body(id="x"), REQ, "strict")
    assert samples
    assert {v.code for v in samples} <= listed


def test_request_schema() -> None:
    assert validation.is_valid("chat/request", {**REQ_TOOLS, "tool_choice": "auto"})
    bad = {**REQ, "messages": [{"role": "user", "content": [{"text": "no type"}]}]}
    assert not validation.is_valid("chat/request", bad)
    assert not validation.is_valid("chat/request", {"model": "gpt-4o", "messages": []})


def test_request_schema_accepts_every_recorded_request_the_api_accepted() -> None:
    from tests.truth import corpus

    if corpus.corpus_path() is None:
        pytest.skip(corpus.SKIP_REASON)
    items = [it for it in corpus.by_endpoint("chat") if it.request_recorded and (it.exchange.status or 0) < 400]
    assert items
    rejected = [it.id for it in items if not validation.is_valid("chat/request", it.exchange.request.json)]
    assert rejected == []
