"""Evidence for the grades in docs/codes.md: a clean answer of the reference gateway, mutated the
way a relay broke it, goes byte for byte to the pinned official SDK (openai, anthropic from the
dev extra) and to relaycheck.

- ``error`` is earned by a break: the SDK raises, or its result lost or altered data.
- ``strict`` where the SDK copes: the bytes are not official, but the client keeps working.

Each test names the codes it is evidence for (``EVIDENCE`` below, read by harness/grades.py's
test so docs/codes.md cannot claim a test that does not exist).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from harness import sse
from harness.engine import evaluate_exchange
from harness.model import Chunk, Exchange, WireRequest
from harness.transport import Transport
from tests.conftest import TEST_KEY

openai = pytest.importorskip("openai", reason="the openai SDK is a test dependency (pip install -e '.[dev]')")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is a test dependency (pip install -e '.[dev]')")

PARAMS = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
TIME = {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}
CHAT = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Get the weather and the time in Tokyo, use both tools."}],
    "tools": [
        {"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}},
        {"type": "function", "function": {"name": "get_time", "parameters": TIME}},
    ],
}
MESSAGES = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": "What is the weather in Paris? Use the tool."}],
    "tools": [{"name": "get_weather", "description": "weather", "input_schema": PARAMS}],
    "tool_choice": {"type": "tool", "name": "get_weather"},
}
RESPONSES = {"model": "gpt-4o", "input": "Say hello."}

# test name -> the codes whose grade it is evidence for (docs/codes.md cites these)
EVIDENCE: dict[str, tuple[str, ...]] = {
    "test_anthropic_sdk_accepts_foreign_id_prefixes": ("id.prefix", "id.shape"),
    "test_openai_accumulator_skips_a_repeated_type": ("grammar.chat.tool_delta",),
    "test_openai_sdk_parses_store_null": ("schema",),
    "test_anthropic_stream_drops_text_delta_in_tool_use": ("grammar.messages.delta_type",),
    "test_anthropic_stream_raises_on_delta_without_start": ("grammar.messages.delta_without_start",),
    "test_openai_accumulator_merges_calls_sharing_an_index": ("grammar.chat.tool_index",),
    "test_openai_sdk_hands_on_object_arguments_that_json_loads_rejects": ("tool.args",),
    "test_anthropic_sdk_loses_the_content_of_a_chat_completion": ("object.kind",),
}


def _fetch(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Exchange:
    transport = Transport()
    try:
        return transport.send(WireRequest("POST", base + path, headers, json.dumps(body).encode()))
    finally:
        transport.close()


def _client(sdk: Any, ex: Exchange, body: bytes) -> Any:
    """An httpx client of the SDK's flavour that answers every request with ``body``."""
    import importlib

    import httpx

    hx = getattr(importlib.import_module(sdk.__name__ + "._base_client"), "httpx2", httpx)

    def answer(request: Any) -> Any:
        return hx.Response(ex.status or 0, headers=dict(ex.headers), content=body)

    return hx.Client(transport=hx.MockTransport(answer))


def _verdict(ex: Exchange, body: bytes, endpoint: str) -> set[tuple[str, str]]:
    mutated = replace(ex, chunks=(Chunk(0.0, body),))
    ev = evaluate_exchange(mutated, endpoint, stream_requested=ex.is_sse)
    return {(v.code, v.severity) for v in ev.violations if v.fails("strict")}


def _events(ex: Exchange) -> list[tuple[str | None, dict[str, Any]]]:
    events, _ = sse.parse(ex.body)
    return [(e.event, json.loads(e.data)) for e in events if e.data != "[DONE]"]


def _write(events: list[tuple[str | None, dict[str, Any]]], done: bool = False) -> bytes:
    out = "".join((f"event: {n}\n" if n else "") + f"data: {json.dumps(d)}\n\n" for n, d in events)
    return (out + ("data: [DONE]\n\n" if done else "")).encode()


def _openai(base: str, ex: Exchange, body: bytes) -> Any:
    return openai.OpenAI(base_url=base + "/v1", api_key=TEST_KEY, http_client=_client(openai, ex, body))


def _anthropic(base: str, ex: Exchange, body: bytes) -> Any:
    return anthropic.Anthropic(base_url=base, api_key=TEST_KEY, http_client=_client(anthropic, ex, body))


ANTHROPIC_HEADERS = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
OPENAI_HEADERS = {"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"}


def _calls(completion: Any) -> list[Any]:
    return list(completion.choices[0].message.tool_calls or [])


# ---- strict: the SDK copes ---------------------------------------------------------------------------


def test_anthropic_sdk_accepts_foreign_id_prefixes(refgateway: str) -> None:
    ex = _fetch(refgateway, "/v1/messages", MESSAGES, ANTHROPIC_HEADERS)
    body = json.loads(ex.body)
    body["id"] = "resp_" + body["id"][4:]
    body["content"][-1]["id"] = "call_" + body["content"][-1]["id"][6:]
    raw = json.dumps(body).encode()
    message = _anthropic(refgateway, ex, raw).messages.create(**MESSAGES)
    assert message.id.startswith("resp_") and message.content[-1].id.startswith("call_")
    assert message.content[-1].input == body["content"][-1]["input"]
    assert _verdict(ex, raw, "messages") == {("id.prefix", "strict")}
    body["id"] = "msg_" + json.loads(ex.body)["id"]  # R31: msg_msg_…
    body["content"][-1]["id"] = "toolu_kZJMlvQmRJ6eAyJE5GIl7Q"  # R31: a Bedrock tooluse_ id renamed
    raw = json.dumps(body).encode()
    message = _anthropic(refgateway, ex, raw).messages.create(**MESSAGES)
    assert message.id.startswith("msg_msg_") and message.content[-1].input == body["content"][-1]["input"]
    assert _verdict(ex, raw, "messages") == {("id.shape", "strict")}


def test_openai_accumulator_skips_a_repeated_type(refgateway: str) -> None:
    ex = _fetch(refgateway, "/v1/chat/completions", {**CHAT, "stream": True}, OPENAI_HEADERS)
    clean = _openai(refgateway, ex, ex.body)
    with clean.chat.completions.stream(**CHAT) as stream:
        want = [
            (c.function.name, c.function.arguments) for c in stream.get_final_completion().choices[0].message.tool_calls
        ]
    events = _events(ex)
    repeated = 0
    for _, d in events:
        for c in d.get("choices") or []:
            for call in (c.get("delta") or {}).get("tool_calls") or []:
                if "id" not in call:
                    call["type"] = "function"
                    repeated += 1
    assert repeated
    raw = _write(events, done=True)
    with _openai(refgateway, ex, raw).chat.completions.stream(**CHAT) as stream:
        got = [
            (c.function.name, c.function.arguments) for c in stream.get_final_completion().choices[0].message.tool_calls
        ]
    assert got == want
    assert _verdict(ex, raw, "chat") == {("grammar.chat.tool_delta", "strict")}


def test_openai_sdk_parses_store_null(refgateway: str) -> None:
    ex = _fetch(refgateway, "/v1/responses", RESPONSES, OPENAI_HEADERS)
    body = json.loads(ex.body)
    body["store"] = None
    raw = json.dumps(body).encode()
    response = _openai(refgateway, ex, raw).responses.create(**RESPONSES)
    assert response.store is None and response.output_text
    assert _verdict(ex, raw, "responses") == {("schema", "strict")}


# ---- error: the SDK raises, or loses / alters data -------------------------------------------------


def _anthropic_stream(refgateway: str, edit: Callable[[list[tuple[str | None, dict[str, Any]]]], None]) -> tuple:
    ex = _fetch(refgateway, "/v1/messages", {**MESSAGES, "stream": True}, ANTHROPIC_HEADERS)
    events = _events(ex)
    edit(events)
    raw = _write(events)
    return ex, raw


LOST = "text the relay sent inside a tool_use block"


def test_anthropic_stream_drops_text_delta_in_tool_use(refgateway: str) -> None:
    def edit(events: list[tuple[str | None, dict[str, Any]]]) -> None:
        for k, (_, d) in enumerate(events):
            if d.get("type") == "content_block_start" and d["content_block"]["type"] == "tool_use":
                delta = {"type": "text_delta", "text": LOST}
                events.insert(
                    k + 1, ("content_block_delta", {"type": "content_block_delta", "index": d["index"], "delta": delta})
                )
                return

    ex, raw = _anthropic_stream(refgateway, edit)
    with _anthropic(refgateway, ex, raw).messages.stream(**MESSAGES) as stream:
        final = stream.get_final_message()
    assert LOST in raw.decode() and LOST not in final.model_dump_json()  # the SDK dropped what was sent
    assert ("grammar.messages.delta_type", "error") in _verdict(ex, raw, "messages")


def test_anthropic_stream_raises_on_delta_without_start(refgateway: str) -> None:
    def edit(events: list[tuple[str | None, dict[str, Any]]]) -> None:
        k = next(k for k, (_, d) in enumerate(events) if d.get("type") == "content_block_start")
        del events[k]

    ex, raw = _anthropic_stream(refgateway, edit)
    with pytest.raises(Exception):  # noqa: B017
        with _anthropic(refgateway, ex, raw).messages.stream(**MESSAGES) as stream:
            stream.get_final_message()
    assert ("grammar.messages.delta_without_start", "error") in _verdict(ex, raw, "messages")


def test_openai_accumulator_merges_calls_sharing_an_index(refgateway: str) -> None:
    ex = _fetch(refgateway, "/v1/chat/completions", {**CHAT, "stream": True}, OPENAI_HEADERS)
    events = _events(ex)
    for _, d in events:
        for c in d.get("choices") or []:
            for call in (c.get("delta") or {}).get("tool_calls") or []:
                call["index"] = 0
    raw = _write(events, done=True)
    with _openai(refgateway, ex, raw).chat.completions.stream(**CHAT) as stream:
        calls = stream.get_final_completion().choices[0].message.tool_calls
    assert len(calls) == 1  # two calls went in, one came out: data lost
    with pytest.raises(ValueError):
        json.loads(calls[0].function.arguments)  # and its arguments are two objects glued together
    assert ("grammar.chat.tool_index", "error") in _verdict(ex, raw, "chat")


def test_openai_sdk_hands_on_object_arguments_that_json_loads_rejects(refgateway: str) -> None:
    ex = _fetch(refgateway, "/v1/chat/completions", CHAT, OPENAI_HEADERS)
    body = json.loads(ex.body)
    call = body["choices"][0]["message"]["tool_calls"][0]
    call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    raw = json.dumps(body).encode()
    completion = _openai(refgateway, ex, raw).chat.completions.create(**CHAT)
    arguments = completion.choices[0].message.tool_calls[0].function.arguments
    with pytest.raises(TypeError):
        json.loads(arguments)  # what every client does with arguments
    assert ("tool.args", "error") in _verdict(ex, raw, "chat")


def test_anthropic_sdk_loses_the_content_of_a_chat_completion(refgateway: str) -> None:
    ex = _fetch(refgateway, "/v1/messages", MESSAGES, ANTHROPIC_HEADERS)
    other = _fetch(refgateway, "/v1/chat/completions", {**CHAT, "tool_choice": "none"}, OPENAI_HEADERS)
    raw = other.body
    message = _anthropic(refgateway, ex, raw).messages.create(**MESSAGES)
    assert not getattr(message, "content", None)  # the answer's text is nowhere a client looks
    assert _verdict(ex, raw, "messages") == {("object.kind", "error")}


def test_evidence_table_names_real_tests() -> None:
    names = {n for n in globals() if n.startswith("test_")}
    assert set(EVIDENCE) <= names
    assert copy.deepcopy(EVIDENCE) == EVIDENCE


# ---- stream faults, one table: does the pinned SDK raise, and what does relaycheck grade? ---------


def _drop(kind: str) -> Callable[[list[tuple[str | None, dict[str, Any]]]], list[tuple[str | None, dict[str, Any]]]]:
    """Drop every event of one type (sequence numbers renumbered, so only that is broken)."""

    def edit(events: list[tuple[str | None, dict[str, Any]]]) -> list[tuple[str | None, dict[str, Any]]]:
        kept = [e for e in events if e[1].get("type") != kind]
        for seq, (_, d) in enumerate(kept):
            if "sequence_number" in d:
                d["sequence_number"] = seq
        return kept

    return edit


def _strip_sequence(events: list[tuple[str | None, dict[str, Any]]]) -> list[tuple[str | None, dict[str, Any]]]:
    return [(n, {k: v for k, v in d.items() if k != "sequence_number"}) for n, d in events]


def _unnamed(events: list[tuple[str | None, dict[str, Any]]]) -> list[tuple[str | None, dict[str, Any]]]:
    return [(None, d) for _, d in events]


def _each(kind: str, edit: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    """Apply ``edit`` to every event of one type (``*``: every event)."""

    def apply(events: list[tuple[str | None, dict[str, Any]]]) -> list[tuple[str | None, dict[str, Any]]]:
        for _, d in events:
            if kind == "*" or d.get("type") == kind:
                edit(d)
        return events

    return apply


def _choices(edit: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    return _each("*", lambda d: [edit(c) for c in d.get("choices") or []])


def _shift(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        if key in d:
            d[key] += 1

    return edit


def _repeat_first_tool_delta(
    events: list[tuple[str | None, dict[str, Any]]],
) -> list[tuple[str | None, dict[str, Any]]]:
    """The first delta of a tool call sent twice: id and function.name repeated."""
    k = next(
        k for k, (_, d) in enumerate(events) if any((c.get("delta") or {}).get("tool_calls") for c in d["choices"])
    )
    again = copy.deepcopy(events[k])
    again[1]["choices"][0]["delta"].pop("role", None)
    return [*events[: k + 1], again, *events[k + 1 :]]


def _chat_event_lines(raw: bytes) -> bytes:
    return b"".join(b"event: chunk\n" + block + b"\n\n" for block in raw.split(b"\n\n") if block)


def _case(
    name: str, endpoint: str, edit: Callable[..., Any], sdk: str, code: str, severity: str
) -> tuple[str, str, Callable[..., Any], str, tuple[str, str]]:
    return name, endpoint, edit, sdk, (code, severity)


R, G = "grammar.responses.", "grammar.messages."
# What the pinned SDK does with each faulty stream: "raises"; "differs" (its result lost or altered
# data against the clean stream's); "same" (nothing lost). Then the (code, severity) relaycheck gives.
STREAM_CASES = [
    _case(
        "chat-no-blank-line",
        "chat",
        lambda raw: raw.replace(b"\n\ndata: ", b"\ndata: ", 3),
        "raises",
        "sse.framing",
        "error",
    ),
    _case(
        "messages-no-blank-line",
        "messages",
        lambda raw: raw.replace(b"\n\nevent: ", b"\nevent: ", 3),
        "raises",
        "sse.framing",
        "error",
    ),
    _case("messages-no-event-lines", "messages", _unnamed, "raises", "sse.event_name", "error"),
    _case("messages-no-message-start", "messages", _drop("message_start"), "raises", G + "start", "error"),
    _case("messages-done-sentinel", "messages", lambda raw: raw + b"data: [DONE]\n\n", "same", "sse.done", "strict"),
    _case("messages-unclosed-block", "messages", _drop("content_block_stop"), "same", G + "unclosed_block", "strict"),
    _case("messages-block-index-gap", "messages", _each("*", _shift("index")), "raises", G + "block_index", "error"),
    _case("messages-no-message-delta", "messages", _drop("message_delta"), "differs", G + "no_message_delta", "error"),
    _case(
        "chat-no-finish-reason",
        "chat",
        _choices(lambda c: c.update(finish_reason=None)),
        "differs",
        "grammar.chat.finish",
        "error",
    ),
    _case(
        "chat-choice-index",
        "chat",
        _choices(lambda c: c.update(index=3)),
        "raises",
        "grammar.chat.choice_index",
        "error",
    ),
    _case("chat-tool-delta-repeated", "chat", _repeat_first_tool_delta, "differs", "grammar.chat.tool_delta", "error"),
    _case("chat-event-lines", "chat", _chat_event_lines, "same", "sse.event_name", "strict"),
    _case("responses-no-terminal", "responses", _drop("response.completed"), "raises", R + "terminal_missing", "error"),
    _case("responses-no-created", "responses", _drop("response.created"), "raises", R + "first_event", "error"),
    _case(
        "responses-no-item-added",
        "responses",
        _drop("response.output_item.added"),
        "raises",
        R + "delta_before_added",
        "error",
    ),
    _case("responses-no-sequence-number", "responses", _strip_sequence, "same", R + "sequence_number", "strict"),
    _case(
        "responses-no-text-done",
        "responses",
        _drop("response.output_text.done"),
        "same",
        R + "text_done_missing",
        "strict",
    ),
    _case(
        "responses-item-done-dropped",
        "responses",
        _drop("response.output_item.done"),
        "same",
        R + "item_not_done",
        "strict",
    ),
    _case("responses-no-event-lines", "responses", _unnamed, "same", "sse.event_name", "strict"),
    _case(
        "responses-output-index-gap",
        "responses",
        _each("*", _shift("output_index")),
        "same",
        R + "output_index",
        "strict",
    ),
    _case(
        "responses-terminal-status",
        "responses",
        _each("response.completed", lambda d: d["response"].update(status="in_progress")),
        "differs",
        R + "terminal_status",
        "error",
    ),
]
EVIDENCE["test_sdk_on_stream_faults"] = tuple(sorted({case[4][0] for case in STREAM_CASES}))


def _sdk_fold(base: str, endpoint: str, ex: Exchange, raw: bytes) -> Any:
    if endpoint == "chat":
        with _openai(base, ex, raw).chat.completions.stream(**CHAT) as stream:
            return stream.get_final_completion()
    if endpoint == "messages":
        with _anthropic(base, ex, raw).messages.stream(**MESSAGES) as stream:
            return stream.get_final_message()
    with _openai(base, ex, raw).responses.stream(**RESPONSES) as stream:
        return stream.get_final_response()


@pytest.mark.parametrize(("name", "endpoint", "edit", "sdk", "graded"), STREAM_CASES, ids=[c[0] for c in STREAM_CASES])
def test_sdk_on_stream_faults(
    refgateway: str, name: str, endpoint: str, edit: Callable[..., Any], sdk: str, graded: tuple[str, str]
) -> None:
    path, body, headers = {
        "chat": ("/v1/chat/completions", CHAT, OPENAI_HEADERS),
        "messages": ("/v1/messages", MESSAGES, ANTHROPIC_HEADERS),
        "responses": ("/v1/responses", RESPONSES, OPENAI_HEADERS),
    }[endpoint]
    ex = _fetch(refgateway, path, {**body, "stream": True}, headers)
    try:  # an edit of the decoded events, or of the raw bytes
        raw = _write(edit(_events(ex)), done=endpoint == "chat")
    except (AttributeError, TypeError):
        raw = edit(ex.body)
    if sdk == "raises":
        with pytest.raises(Exception):  # noqa: B017 - which exception is the SDK's business; that it raises is ours
            _sdk_fold(refgateway, endpoint, ex, raw)
    else:
        clean = _sdk_fold(refgateway, endpoint, ex, ex.body).model_dump()
        got = _sdk_fold(refgateway, endpoint, ex, raw).model_dump()
        assert (got == clean) == (sdk == "same"), "the SDK's result " + ("is the same" if got == clean else "differs")
    verdict = _verdict(ex, raw, endpoint)
    assert graded in verdict
    if graded[1] == "strict":
        assert not any(sev == "error" for _, sev in verdict), verdict


def test_content_type_is_not_read_by_the_sdks(refgateway: str) -> None:
    ex = _fetch(refgateway, "/v1/chat/completions", CHAT, OPENAI_HEADERS)
    plain = replace(ex, headers={**ex.headers, "content-type": "text/plain"})
    completion = _openai(refgateway, plain, ex.body).chat.completions.create(**CHAT)
    assert completion.choices[0].message.tool_calls
    assert _verdict(plain, ex.body, "chat") == {("content_type", "strict")}


EVIDENCE["test_content_type_is_not_read_by_the_sdks"] = ("content_type",)


# ---- issue 13 §2: the codes graded error before any SDK evidence, each proven or regraded ----------

THINK = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 4096,
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "messages": [{"role": "user", "content": "Think, then say hello."}],
}
RTOOLS = {
    "model": "gpt-4o",
    "input": "Weather in Paris? Use the tool.",
    "tools": [{"type": "function", "name": "get_weather", "parameters": PARAMS}],
    "tool_choice": "required",
}
USAGE_CHAT = {**CHAT, "stream_options": {"include_usage": True}}


def _usage_after_done(raw: bytes) -> bytes:
    blocks = [b for b in raw.split(b"\n\n") if b]
    usage = next(b for b in blocks if b'"choices":[]' in b.replace(b" ", b""))
    return b"".join(b + b"\n\n" for b in blocks if b is not usage) + usage + b"\n\n"


def _move(kind: str, before: str | None) -> Callable[..., Any]:
    """Move the event ``kind`` before the first ``before`` event (None: to the end)."""

    def edit(events: list[tuple[str | None, dict[str, Any]]]) -> list[tuple[str | None, dict[str, Any]]]:
        k = next(k for k, (_, d) in enumerate(events) if d.get("type") == kind)
        moved = events.pop(k)
        at = len(events) if before is None else next(i for i, (_, d) in enumerate(events) if d.get("type") == before)
        events.insert(at, moved)
        return events

    return edit


def _item_done_twice(events: list[tuple[str | None, dict[str, Any]]]) -> list[tuple[str | None, dict[str, Any]]]:
    k = next(k for k, (_, d) in enumerate(events) if d.get("type") == "response.output_item.done")
    return [*events[: k + 1], copy.deepcopy(events[k]), *events[k + 1 :]]


def _completed_text(events: list[tuple[str | None, dict[str, Any]]]) -> list[tuple[str | None, dict[str, Any]]]:
    for _, d in events:
        if d.get("type") == "response.completed":
            d["response"]["output"][0]["content"][0]["text"] = "Another text than the deltas."
    return events


# (name, gateway fault or None, endpoint, request, edit of the answer or None, what the pinned SDK does,
# (code, severity)). SDK: raises | differs (its result lost data against the clean answer's) | same |
# keeps (it folds what the relay sent: the mutated answer's text is in its result) | splits (its delta
# snapshots and its final response disagree).
GATEWAY_CASES = [
    ("chat-delta-after-finish", "chat-delta-after-finish", "chat", CHAT, None, "keeps", "grammar.chat.after_finish"),
    (
        "chat-usage-dropped",
        None,
        "chat",
        USAGE_CHAT,
        _each("*", lambda d: d.get("choices") == [] and d.update(usage=None)),
        "differs",
        "grammar.chat.usage",
    ),
    ("chat-usage-after-done", None, "chat", USAGE_CHAT, _usage_after_done, "differs", "sse.after_end"),
    ("messages-after-stop", None, "messages", MESSAGES, _move("message_delta", None), "same", "sse.after_end"),
    ("messages-blocks-overlap", "messages-blocks-overlap", "messages", THINK, None, "same", G + "block_overlap"),
    ("messages-delta-after-stop", "messages-delta-after-stop", "messages", MESSAGES, None, "same", G + "block_closed"),
    (
        "messages-block-after-delta",
        None,
        "messages",
        MESSAGES,
        _move("message_delta", "content_block_start"),
        "same",
        G + "block_after_delta",
    ),
    ("messages-lost-first-text", "lost-first-text-delta", "messages", THINK, None, "differs", G + "lost_text_delta"),
    (
        "messages-empty-text",
        None,
        "messages",
        THINK,
        lambda evs: [e for e in evs if (e[1].get("delta") or {}).get("type") != "text_delta"],
        "differs",
        G + "empty_text_block",
    ),
    ("messages-no-signature", "signature-dropped", "messages", THINK, None, "differs", G + "thinking_signature"),
    ("messages-truncated", "truncated-stream", "messages", MESSAGES, None, "differs", G + "no_message_stop"),
    (
        "responses-item-never-added",
        "item-done-never-added",
        "responses",
        RESPONSES,
        None,
        "raises",
        R + "item_not_added",
    ),
    (
        "responses-completed-fields",
        "completed-missing-fields",
        "responses",
        RESPONSES,
        None,
        "raises",
        R + "terminal_fields",
    ),
    ("responses-item-done-twice", None, "responses", RESPONSES, _item_done_twice, "same", R + "after_item_done"),
    ("responses-no-part-done", "responses-no-part-done", "responses", RESPONSES, None, "same", R + "part_unpaired"),
    (
        "responses-text-done-differs",
        "responses-text-done-differs",
        "responses",
        RESPONSES,
        None,
        "same",
        R + "text_mismatch",
    ),
    ("responses-args-done-differ", "args-done-differ", "responses", RTOOLS, None, "same", R + "args_mismatch"),
    ("responses-no-args-done", "responses-no-args-done", "responses", RTOOLS, None, "same", R + "args_done_missing"),
    ("responses-wrong-item-id", "responses-wrong-item-id", "responses", RTOOLS, None, "same", R + "item_id"),
    ("responses-completed-differs", None, "responses", RESPONSES, _completed_text, "splits", "stream.accumulate"),
]
EVIDENCE["test_sdk_on_gateway_faults"] = tuple(sorted({case[6] for case in GATEWAY_CASES}))


def _fold_with_snapshots(base: str, endpoint: str, ex: Exchange, raw: bytes, body: dict[str, Any]) -> tuple[Any, str]:
    if endpoint == "chat":
        with _openai(base, ex, raw).chat.completions.stream(**body) as stream:
            return stream.get_final_completion(), ""
    if endpoint == "messages":
        with _anthropic(base, ex, raw).messages.stream(**body) as stream:
            return stream.get_final_message(), ""
    last = ""
    with _openai(base, ex, raw).responses.stream(**body) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                last = event.snapshot
        return stream.get_final_response(), last


@pytest.mark.parametrize(
    ("fault", "endpoint", "body", "edit", "sdk", "code"),
    [c[1:] for c in GATEWAY_CASES],
    ids=[c[0] for c in GATEWAY_CASES],
)
def test_sdk_on_gateway_faults(
    refgateway: str,
    faulty_gateway: Callable[..., str],
    fault: str | None,
    endpoint: str,
    body: dict[str, Any],
    edit: Callable[..., Any] | None,
    sdk: str,
    code: str,
) -> None:
    path, headers = {
        "chat": ("/v1/chat/completions", OPENAI_HEADERS),
        "messages": ("/v1/messages", ANTHROPIC_HEADERS),
        "responses": ("/v1/responses", OPENAI_HEADERS),
    }[endpoint]
    ex = _fetch(refgateway, path, {**body, "stream": True}, headers)
    if fault:
        bad = _fetch(faulty_gateway(fault), path, {**body, "stream": True}, headers)
        assert bad.body != ex.body
        raw = bad.body
    else:
        assert edit is not None
        try:
            raw = _write(edit(_events(ex)), done=endpoint == "chat")
        except (AttributeError, TypeError, KeyError):
            raw = edit(ex.body)
    if sdk == "raises":
        with pytest.raises(Exception):  # noqa: B017
            _fold_with_snapshots(refgateway, endpoint, ex, raw, body)
    else:
        clean, _ = _fold_with_snapshots(refgateway, endpoint, ex, ex.body, body)
        got, snapshot = _fold_with_snapshots(refgateway, endpoint, ex, raw, body)
        if sdk == "splits":
            assert snapshot and got.output_text != snapshot  # the streamed text is not the final text
        elif sdk == "keeps":
            assert got.model_dump() != clean.model_dump() and " (continued)" in got.model_dump_json()
        else:
            assert (got.model_dump() == clean.model_dump()) == (sdk == "same"), "the SDK's result differs"
    severities = {sev for c, sev in _verdict(ex, raw, endpoint) if c == code}
    want = "error" if sdk in ("raises", "differs", "splits") else "strict"
    assert severities == {want}, (code, severities)


def test_sdk_copes(refgateway: str, faulty_gateway: Callable[..., str]) -> None:
    """Non-stream answers whose findings the SDKs pass through intact: graded strict."""
    # error.shape: an OpenAI-shaped error on /v1/messages; the Anthropic SDK raises the same class
    # with the same message and type as for the official shape
    req = {**MESSAGES, "model": "no-such-model"}
    got = []
    for base in (refgateway, faulty_gateway("openai-error-on-messages")):
        ex = _fetch(base, "/v1/messages", req, ANTHROPIC_HEADERS)
        with pytest.raises(anthropic.APIStatusError) as info:
            _anthropic(refgateway, ex, ex.body).messages.create(**req)
        got.append((type(info.value), info.value.type, "model: no-such-model" in info.value.message))
        verdict = _verdict(ex, ex.body, "messages")
    assert got[0] == got[1] and got[0][2]
    assert verdict == {("error.shape", "strict")}
    # usage: counts that contradict each other reach the client as sent
    ex = _fetch(refgateway, "/v1/chat/completions", CHAT, OPENAI_HEADERS)
    body = json.loads(ex.body)
    body["usage"]["total_tokens"] += 7
    raw = json.dumps(body).encode()
    completion = _openai(refgateway, ex, raw).chat.completions.create(**CHAT)
    assert completion.usage.total_tokens == body["usage"]["total_tokens"]
    assert ("usage", "strict") in _verdict(ex, raw, "chat")
    # tool.stop_reason: the tool call is kept whatever stop_reason says
    ex = _fetch(refgateway, "/v1/messages", MESSAGES, ANTHROPIC_HEADERS)
    body = json.loads(ex.body)
    body["stop_reason"] = "end_turn"
    raw = json.dumps(body).encode()
    message = _anthropic(refgateway, ex, raw).messages.create(**MESSAGES)
    assert message.content[-1].input == body["content"][-1]["input"] and message.stop_reason == "end_turn"
    assert _verdict(ex, raw, "messages") == {("tool.stop_reason", "strict")}
    # status_details: incomplete_details on a completed response is passed through
    ex = _fetch(refgateway, "/v1/responses", RESPONSES, OPENAI_HEADERS)
    body = json.loads(ex.body)
    body["incomplete_details"] = {"reason": "max_output_tokens"}
    raw = json.dumps(body).encode()
    response = _openai(refgateway, ex, raw).responses.create(**RESPONSES)
    assert response.output_text and response.incomplete_details.reason == "max_output_tokens"
    assert ("grammar.responses.status_details", "strict") in _verdict(ex, raw, "responses")


EVIDENCE["test_sdk_copes"] = (
    "error.shape",
    "usage",
    "tool.stop_reason",
    "grammar.responses.status_details",
)


def test_anthropic_sdk_returns_where_the_official_api_rejects(
    refgateway: str, faulty_gateway: Callable[..., str]
) -> None:
    """budget_tokens < 1024: the official API answers 400 and the SDK raises; a relay that answers
    200 turns the client's error into a message (RELAY_DEFECTS #21)."""
    req = {**THINK, "thinking": {"type": "enabled", "budget_tokens": 512}}
    official = _fetch(refgateway, "/v1/messages", req, ANTHROPIC_HEADERS)
    with pytest.raises(anthropic.BadRequestError):
        _anthropic(refgateway, official, official.body).messages.create(**req)
    relayed = _fetch(faulty_gateway("budget-under-1024-accepted"), "/v1/messages", req, ANTHROPIC_HEADERS)
    message = _anthropic(refgateway, relayed, relayed.body).messages.create(**req)
    assert message.content  # the outcome flipped: a message where the official API refuses
    assert ("grammar.messages.request_accepted", "error") in _verdict(relayed, relayed.body, "messages")


EVIDENCE["test_anthropic_sdk_returns_where_the_official_api_rejects"] = ("grammar.messages.request_accepted",)


# ---- --sdk-check (harness/sdkcheck.py): the same SDKs as a run-time oracle -------------------------

REQUESTS = [
    ("chat", "/v1/chat/completions", CHAT, OPENAI_HEADERS),
    ("messages", "/v1/messages", MESSAGES, ANTHROPIC_HEADERS),
    ("responses", "/v1/responses", RESPONSES, OPENAI_HEADERS),
]


def _sdk_check(base: str, endpoint: str, path: str, body: dict, headers: dict, stream: bool) -> list:
    from harness import sdkcheck

    req = {**body, "stream": True} if stream else body
    ex = _fetch(base, path, req, headers)
    ev = evaluate_exchange(ex, endpoint, stream_requested=stream)
    return sdkcheck.check(ex, endpoint, req, ev.final)


def test_sdk_check_names_the_sdk_that_breaks(faulty_gateway: Callable[..., str]) -> None:
    # the Anthropic SDK raises on a stream without message_start
    found = _sdk_check(faulty_gateway("messages-no-message-start"), *REQUESTS[1], stream=True)
    assert [v.code for v in found] == ["sdk.break"] and found[0].severity == "error"
    assert f"anthropic {anthropic.__version__} raised" in found[0].message
    # the openai accumulator merges two calls sharing an index: another fold than relaycheck's
    found = _sdk_check(faulty_gateway("parallel-index-zero"), *REQUESTS[0], stream=True)
    assert [v.code for v in found] == ["sdk.break"]
    assert f"openai {openai.__version__} reads this answer differently" in found[0].message


EVIDENCE["test_sdk_check_names_the_sdk_that_breaks"] = ("sdk.break",)
