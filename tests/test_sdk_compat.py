"""The official SDKs against the clean reference gateway: every endpoint, streamed and not,
parses without error, and the SDKs' own stream accumulators give the same message as the
harness's fold of the same stream."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harness.engine import evaluate_exchange
from harness.model import WireRequest
from harness.transport import Transport
from tests.conftest import TEST_KEY

openai = pytest.importorskip("openai", reason="the openai SDK is a test dependency (pip install -e '.[dev]')")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is a test dependency (pip install -e '.[dev]')")

WEATHER_PARAMS = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
TIME_PARAMS = {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}


def _httpx(sdk: Any) -> Any:
    """The httpx flavour an SDK takes for http_client (newer SDKs use the httpx2 package)."""
    import importlib

    return getattr(importlib.import_module(sdk.__name__ + "._base_client"), "httpx2", httpx)


def harness_fold(
    sdk: Any, base_url: str, endpoint: str, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[Any, Any]:
    """What the harness makes of one live stream (no violations, and its folded final object),
    plus an httpx client that serves the SDK those very bytes, so both accumulate one stream."""
    transport = Transport()
    try:
        ex = transport.send(WireRequest("POST", base_url + path, headers, json.dumps(body).encode()))
    finally:
        transport.close()
    ev = evaluate_exchange(ex, endpoint, stream_requested=True)
    assert [v for v in ev.failing("strict")] == []

    hx = _httpx(sdk)

    def replay(request: Any) -> Any:
        return hx.Response(ex.status or 0, headers=dict(ex.headers), content=ex.body)

    return ev.final, hx.Client(transport=hx.MockTransport(replay))


def live_client(sdk: Any) -> Any:
    return _httpx(sdk).Client(trust_env=False)  # no proxy from the environment: loopback only


CHAT_BODY = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Get the weather and the time in Tokyo, use both tools."}],
    "tools": [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "weather", "parameters": WEATHER_PARAMS},
        },
        {"type": "function", "function": {"name": "get_time", "description": "time", "parameters": TIME_PARAMS}},
    ],
}


def test_openai_chat(refgateway: str) -> None:
    client = openai.OpenAI(base_url=refgateway + "/v1", api_key=TEST_KEY, http_client=live_client(openai))
    plain = client.chat.completions.create(**CHAT_BODY)
    with client.chat.completions.stream(**CHAT_BODY) as stream:
        stream.get_final_completion()  # the SDK parses the live stream
    ours, same_bytes = harness_fold(
        openai,
        refgateway,
        "chat",
        "/v1/chat/completions",
        {**CHAT_BODY, "stream": True},
        {"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"},
    )
    replayed = openai.OpenAI(base_url=refgateway + "/v1", api_key=TEST_KEY, http_client=same_bytes)
    with replayed.chat.completions.stream(**CHAT_BODY) as stream:
        sdk = stream.get_final_completion()

    def calls(message: Any) -> list[tuple[str, str, str]]:
        return [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]

    assert len(calls(plain.choices[0].message)) == 2
    ours_calls = [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in ours["choices"][0]["message"]["tool_calls"]
    ]
    assert calls(sdk.choices[0].message) == ours_calls
    assert sdk.choices[0].finish_reason == ours["choices"][0]["finish_reason"] == "tool_calls"
    # Same content as the non-streamed answer (ids differ: they hash the request body).
    assert [c[1:] for c in calls(plain.choices[0].message)] == [c[1:] for c in ours_calls]


MESSAGES_BODY = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 2048,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "tools": [{"name": "get_weather", "description": "weather", "input_schema": WEATHER_PARAMS}],
    "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
}


def test_anthropic_messages(refgateway: str) -> None:
    client = anthropic.Anthropic(base_url=refgateway, api_key=TEST_KEY, http_client=live_client(anthropic))
    plain = client.messages.create(**MESSAGES_BODY)
    with client.messages.stream(**MESSAGES_BODY) as stream:
        stream.get_final_message()
    headers = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
    ours, same_bytes = harness_fold(
        anthropic, refgateway, "messages", "/v1/messages", {**MESSAGES_BODY, "stream": True}, headers
    )
    replayed = anthropic.Anthropic(base_url=refgateway, api_key=TEST_KEY, http_client=same_bytes)
    with replayed.messages.stream(**MESSAGES_BODY) as stream:
        sdk = stream.get_final_message()
    assert [b.type for b in plain.content] == [b.type for b in sdk.content] == [b["type"] for b in ours["content"]]
    assert [b.type for b in sdk.content][:1] == ["thinking"]
    sdk_blocks = [b.model_dump(exclude_none=True) for b in sdk.content]
    for theirs, mine in zip(sdk_blocks, ours["content"], strict=True):
        for key in ("type", "text", "thinking", "signature", "name", "input", "id"):
            assert theirs.get(key) == mine.get(key), key
    assert sdk.stop_reason == ours["stop_reason"] == "tool_use"
    text = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Say hello."}]
    )
    assert text.content[0].type == "text" and text.stop_reason == "end_turn"


RESPONSES_BODY = {
    "model": "gpt-4o",
    "instructions": "Be concise.",
    "input": "What is the weather in Paris? Also say hello.",
    "tools": [{"type": "function", "name": "get_weather", "description": "weather", "parameters": WEATHER_PARAMS}],
}


def test_openai_responses(refgateway: str) -> None:
    client = openai.OpenAI(base_url=refgateway + "/v1", api_key=TEST_KEY, http_client=live_client(openai))
    plain = client.responses.create(**RESPONSES_BODY)
    with client.responses.stream(**RESPONSES_BODY) as stream:
        stream.get_final_response()
    ours, same_bytes = harness_fold(
        openai,
        refgateway,
        "responses",
        "/v1/responses",
        {**RESPONSES_BODY, "stream": True},
        {"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"},
    )
    replayed = openai.OpenAI(base_url=refgateway + "/v1", api_key=TEST_KEY, http_client=same_bytes)
    with replayed.responses.stream(**RESPONSES_BODY) as stream:
        sdk = stream.get_final_response()
    assert [o.type for o in plain.output] == [o.type for o in sdk.output] == [o["type"] for o in ours["output"]]
    sdk_items = [o.model_dump(exclude_none=True) for o in sdk.output]
    for theirs, mine in zip(sdk_items, ours["output"], strict=True):
        for key in ("type", "id", "name", "arguments", "call_id", "status"):
            assert theirs.get(key) == mine.get(key), key
    assert sdk.output_text == "".join(
        c.get("text", "") for o in ours["output"] if o["type"] == "message" for c in o["content"]
    )
    text = client.responses.create(model="gpt-4o", input="Say hello.")
    assert text.output_text and text.status == "completed"
