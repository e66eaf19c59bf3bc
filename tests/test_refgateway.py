"""The reference gateway: official shapes per dialect, determinism, and every fault changing the output.

Only ever talks to 127.0.0.1 (a gateway started in a thread on a free port).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from harness.refgateway import DEFAULT_MODELS, FAULTS, RunningGateway, create_app, start_in_thread
from harness.refgateway.messages import signature

KEY = "rc-test-key"
OPENAI = {"authorization": f"Bearer {KEY}"}
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "details": {
            "type": "object",
            "properties": {
                "hourly": {"type": "boolean"},
                "fields": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["hourly", "fields"],
            "additionalProperties": False,
        },
    },
    "required": ["location", "unit", "days", "details"],
    "additionalProperties": False,
}
TIME_SCHEMA = {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}
WEATHER_PROMPT = "What is the weather in Paris for 3 days?"
BOTH_PROMPT = "What is the weather in Tokyo, and what time is it there?"


def chat_tools(*names: str) -> list[dict[str, Any]]:
    table = {
        "get_weather": ("Get the weather forecast for a city.", WEATHER_SCHEMA),
        "get_time": ("Get the current time in a timezone.", TIME_SCHEMA),
    }
    return [
        {"type": "function", "function": {"name": n, "description": table[n][0], "parameters": table[n][1]}}
        for n in names
    ]


def msg_tools(*names: str) -> list[dict[str, Any]]:
    return [
        {
            "name": t["function"]["name"],
            "description": t["function"]["description"],
            "input_schema": t["function"]["parameters"],
        }
        for t in chat_tools(*names)
    ]


def resp_tools(*names: str) -> list[dict[str, Any]]:
    return [{"type": "function", **t["function"]} for t in chat_tools(*names)]


@pytest.fixture(scope="module")
def gw() -> Iterator[RunningGateway]:
    with start_in_thread(KEY) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def client(gw: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gw.base_url, timeout=10) as c:
        yield c


def sse(text: str) -> list[tuple[str | None, str]]:
    """Split a well-framed stream into (event name, data) pairs."""
    assert text.endswith("\n\n"), text[-80:]
    out = []
    for block in text[:-2].split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            else:
                assert field == "data", line
                data = value
        assert data is not None
        out.append((name, data))
    return out


def chat(client: httpx.Client, **body: Any) -> httpx.Response:
    body = {"model": "gpt-4o-mini", **body}
    return client.post("/v1/chat/completions", json=body, headers=OPENAI)


def msgs(client: httpx.Client, headers: dict[str, str] = ANTHROPIC, **body: Any) -> httpx.Response:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 2048, **body}
    return client.post("/v1/messages", json=body, headers=headers)


def resp(client: httpx.Client, **body: Any) -> httpx.Response:
    body = {"model": "gpt-4.1", **body}
    return client.post("/v1/responses", json=body, headers=OPENAI)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


# ---------------------------------------------------------------- chat completions


def test_chat_nonstream_text(client: httpx.Client) -> None:
    r = chat(client, messages=user("Tell me a joke"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.text.startswith('{\n  "id": "chatcmpl-') and r.text.endswith("}\n")
    body = r.json()
    assert len(body["id"]) == len("chatcmpl-") + 29 and body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert "Tell me a joke" in choice["message"]["content"]
    u = body["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]


def test_chat_stream_matches_nonstream(client: httpx.Client) -> None:
    full = chat(client, messages=user("Tell me a joke")).json()["choices"][0]["message"]["content"]
    r = chat(client, messages=user("Tell me a joke"), stream=True, stream_options={"include_usage": True})
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = sse(r.text)
    assert all(name is None for name, _ in events) and events[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert all("usage" in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1]) == full
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-2]["usage"] is None
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_chat_tool_call_args_validate(client: httpx.Client) -> None:
    body = chat(client, messages=user(WEATHER_PROMPT), tools=chat_tools("get_weather", "get_time")).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["function"]["name"] == "get_weather"
    args = json.loads(call["function"]["arguments"])
    jsonschema.validate(args, WEATHER_SCHEMA)
    assert args["location"] == "Paris" and args["days"] == 3


def test_chat_parallel_stream_indexes_and_args(client: httpx.Client) -> None:
    kw = {"messages": user(BOTH_PROMPT), "tools": chat_tools("get_weather", "get_time")}
    calls = chat(client, **kw).json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    events = sse(chat(client, stream=True, **kw).text)
    streamed: dict[int, str] = {}
    for _, data in events[:-1]:
        for tc in json.loads(data)["choices"][0]["delta"].get("tool_calls", []):
            if "id" in tc:
                assert tc["function"]["arguments"] == "" and tc["type"] == "function"
            streamed[tc["index"]] = streamed.get(tc["index"], "") + tc["function"]["arguments"]
    assert streamed == {0: calls[0]["function"]["arguments"], 1: calls[1]["function"]["arguments"]}
    one = chat(client, parallel_tool_calls=False, **kw).json()["choices"][0]["message"]["tool_calls"]
    assert len(one) == 1


def test_chat_tool_choice_modes_and_tool_result(client: httpx.Client) -> None:
    tools = chat_tools("get_weather")
    none = chat(client, messages=user(WEATHER_PROMPT), tools=tools, tool_choice="none").json()
    assert none["choices"][0]["finish_reason"] == "stop"
    auto = chat(client, messages=user("Say hello"), tools=tools).json()
    assert "tool_calls" not in auto["choices"][0]["message"]
    forced = chat(client, messages=user("Say hello"), tools=tools, tool_choice="required").json()
    assert forced["choices"][0]["finish_reason"] == "tool_calls"
    call = forced["choices"][0]["message"]["tool_calls"][0]
    history = [
        *user(WEATHER_PROMPT),
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "Sunny and 24 degrees"},
    ]
    after = chat(client, messages=history, tools=tools).json()["choices"][0]
    assert after["finish_reason"] == "stop" and "Sunny and 24 degrees" in after["message"]["content"]


def test_chat_tool_choice_outside_the_enum_is_refused(client: httpx.Client) -> None:
    # Anthropic's "any", forwarded unmapped by claude-code-router (docs/interop.md): the official
    # API answers 400, so the relay's request, not the upstream, is what fails.
    r = chat(client, messages=user(WEATHER_PROMPT), tools=chat_tools("get_weather"), tool_choice="any")
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "tool_choice" and r.json()["error"]["code"] == "invalid_value"


def test_chat_reasoning_models_refuse_max_tokens(client: httpx.Client) -> None:
    old = chat(client, model="o4-mini", messages=user("Tell me a joke"), max_tokens=50)
    assert old.status_code == 400 and old.json()["error"]["code"] == "unsupported_parameter"
    assert old.json()["error"]["param"] == "max_tokens"
    new = chat(client, model="o4-mini", messages=user("Tell me a joke"), max_completion_tokens=50).json()
    assert new["choices"][0]["finish_reason"] == "stop"
    assert new["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_chat_limits(client: httpx.Client) -> None:
    whole = chat(client, messages=user("Tell me a joke"), max_tokens=3).json()
    cut = whole["choices"][0]
    # "Hello", "!" and "This" are three tokens of the reference tokenizer; whole words are kept.
    assert cut["finish_reason"] == "length" and cut["message"]["content"] == "Hello! This"
    assert whole["usage"]["completion_tokens"] == 3
    stop = chat(client, messages=user("Tell me a joke"), stop=["reference"]).json()["choices"][0]
    assert stop["finish_reason"] == "stop" and stop["message"]["content"].endswith("relaycheck ")


# ---------------------------------------------------------------- messages


def test_messages_nonstream_both_auth_styles(client: httpx.Client) -> None:
    a = msgs(client, messages=user("Hi there"))
    b = msgs(client, headers={"authorization": f"Bearer {KEY}"}, messages=user("Hi there"))
    assert a.status_code == b.status_code == 200 and a.content == b.content
    body = a.json()
    assert a.text.startswith('{"model":"claude-sonnet-4-5","id":"msg_01')
    assert len(body["id"]) == 28 and body["type"] == "message" and body["stop_reason"] == "end_turn"
    assert body["content"][0]["type"] == "text" and body["usage"]["output_tokens"] > 0


def test_messages_stream_grammar(client: httpx.Client) -> None:
    full = msgs(client, messages=user("Hi there")).json()["content"][0]["text"]
    r = msgs(client, messages=user("Hi there"), stream=True)
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = [(n, json.loads(d)) for n, d in sse(r.text)]
    assert all(n == d["type"] for n, d in events)
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"] and "ping" in names
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == full
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"


def test_messages_tools_and_stop_sequences(client: httpx.Client) -> None:
    body = msgs(client, messages=user(WEATHER_PROMPT), tools=msg_tools("get_weather")).json()
    assert body["stop_reason"] == "tool_use"
    [block] = body["content"]
    assert block["type"] == "tool_use" and block["id"].startswith("toolu_01")
    jsonschema.validate(block["input"], WEATHER_SCHEMA)
    stream = [
        json.loads(d)
        for _, d in sse(msgs(client, messages=user(WEATHER_PROMPT), tools=msg_tools("get_weather"), stream=True).text)
    ]
    partial = "".join(e["delta"]["partial_json"] for e in stream if e["type"] == "content_block_delta")
    assert json.loads(partial) == block["input"]
    anyc = msgs(client, messages=user("Say hello"), tools=msg_tools("get_weather"), tool_choice={"type": "any"}).json()
    assert anyc["stop_reason"] == "tool_use"
    stop = msgs(client, messages=user("Hi there"), stop_sequences=["gateway"]).json()
    assert stop["stop_reason"] == "stop_sequence" and stop["stop_sequence"] == "gateway"
    # Claude-family tokens: "Hello" 2, "!" 1, "This" 1 (harness/refgateway/tokenizer.py).
    cut = msgs(client, messages=user("Hi there"), max_tokens=4).json()
    assert cut["stop_reason"] == "max_tokens" and cut["content"][0]["text"] == "Hello! This"


def test_messages_thinking_roundtrip(client: httpx.Client) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    body = msgs(client, messages=user("Hi there"), thinking=thinking).json()
    block = body["content"][0]
    assert block["type"] == "thinking" and len(block["signature"]) > 300
    assert block["signature"] == signature(block["thinking"]) and body["content"][1]["type"] == "text"
    events = [
        json.loads(d) for _, d in sse(msgs(client, messages=user("Hi there"), thinking=thinking, stream=True).text)
    ]
    kinds = [e["delta"]["type"] for e in events if e["type"] == "content_block_delta" and e["index"] == 0]
    assert kinds[-1] == "signature_delta" and kinds.count("signature_delta") == 1 and kinds[0] == "thinking_delta"
    history = [*user("Hi there"), {"role": "assistant", "content": body["content"]}, *user("And again?")]
    assert msgs(client, messages=history, thinking=thinking).status_code == 200
    tampered = json.loads(json.dumps(history))
    tampered[1]["content"][0]["thinking"] += " "
    bad = msgs(client, messages=tampered, thinking=thinking)
    assert bad.status_code == 400 and "Invalid `signature` in `thinking` block" in bad.json()["error"]["message"]
    del tampered[1]["content"][0]["signature"]
    assert msgs(client, messages=tampered, thinking=thinking).status_code == 400


def test_messages_thinking_budget_rules(client: httpx.Client) -> None:
    low = msgs(client, messages=user("Hi"), thinking={"type": "enabled", "budget_tokens": 128})
    assert low.status_code == 400 and low.json()["error"]["type"] == "invalid_request_error"
    high = msgs(client, messages=user("Hi"), max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 2000})
    assert high.status_code == 400 and "max_tokens" in high.json()["error"]["message"]


# ---------------------------------------------------------------- responses


def test_responses_nonstream_and_stream_agree(client: httpx.Client) -> None:
    r = resp(client, input="Tell me a joke")
    assert r.status_code == 200 and r.text.startswith('{\n  "id": "resp_') and not r.text.endswith("\n")
    body = r.json()
    assert body["object"] == "response" and body["status"] == "completed"
    [item] = body["output"]
    assert item["type"] == "message" and item["id"].startswith("msg_")
    u = body["usage"]
    assert u["total_tokens"] == u["input_tokens"] + u["output_tokens"]
    events = sse(resp(client, input="Tell me a joke", stream=True).text)
    data = [json.loads(d) for _, d in events]
    assert [n for n, _ in events] == [d["type"] for d in data]
    assert [d["sequence_number"] for d in data] == list(range(len(data)))
    assert data[0]["type"] == "response.created" and data[-1]["type"] == "response.completed"
    deltas = "".join(d["delta"] for d in data if d["type"] == "response.output_text.delta")
    assert deltas == item["content"][0]["text"]
    streamed = data[-1]["response"]["output"]
    assert [{**o, "id": None} for o in streamed] == [{**o, "id": None} for o in body["output"]]


def test_responses_function_calls_and_result(client: httpx.Client) -> None:
    body = resp(client, input=BOTH_PROMPT, tools=resp_tools("get_weather", "get_time")).json()
    calls = body["output"]
    assert [c["name"] for c in calls] == ["get_weather", "get_time"]
    assert all(c["type"] == "function_call" and c["status"] == "completed" and c["id"].startswith("fc_") for c in calls)
    jsonschema.validate(json.loads(calls[0]["arguments"]), WEATHER_SCHEMA)
    data = [
        json.loads(d)
        for _, d in sse(resp(client, input=BOTH_PROMPT, tools=resp_tools("get_weather", "get_time"), stream=True).text)
    ]
    done = [d["arguments"] for d in data if d["type"] == "response.function_call_arguments.done"]
    assert done == [c["arguments"] for c in calls]
    history = [
        {"role": "user", "content": WEATHER_PROMPT},
        calls[0],
        {"type": "function_call_output", "call_id": calls[0]["call_id"], "output": "Rain, 12 degrees"},
    ]
    after = resp(client, input=history, tools=resp_tools("get_weather")).json()
    assert "Rain, 12 degrees" in after["output"][0]["content"][0]["text"]


def test_responses_reasoning_and_incomplete(client: httpx.Client) -> None:
    body = resp(client, model="o4-mini", input="Hi", reasoning={"effort": "low"}).json()
    assert body["output"][0]["type"] == "reasoning" and body["output"][1]["type"] == "message"
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
    cut = resp(client, input="Tell me a very long story about " + "dragons " * 30, max_output_tokens=16).json()
    assert cut["status"] == "incomplete" and cut["incomplete_details"] == {"reason": "max_output_tokens"}
    last = json.loads(sse(resp(client, input="dragons " * 30, max_output_tokens=16, stream=True).text)[-1][1])
    assert last["type"] == "response.incomplete"


def test_seed_003_four_tools(client: httpx.Client) -> None:
    prompt = (
        "请同时帮我做以下几件事:\n1. 获取当前系统时间\n"
        "2. 查看系统信息(操作系统、内存等)\n"
        "3. 帮我计算 123.5 + 456.7 的结果\n4. 生成3个1-100之间的随机数\n\n"
        "这是一个并行工具调用测试,请同时执行这些任务。"
    )
    tools = [
        {"type": "function", "name": n, "description": "", "parameters": {"type": "object", "properties": {}}}
        for n in ("random_generator", "system_info", "math_calculator", "current_time")
    ]
    body = resp(client, input=[{"role": "user", "content": prompt}], tools=tools, tool_choice="auto").json()
    assert len(body["output"]) == 4


# ---------------------------------------------------------------- errors, models, determinism


def test_auth_errors_in_dialect_shapes(client: httpx.Client) -> None:
    bad = {"authorization": "Bearer wrong-key-123456789"}
    r = client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": user("x")}, headers=bad)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    r = client.post("/v1/responses", json={"model": "gpt-4.1", "input": "x"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
    r = client.post(
        "/v1/messages",
        json={"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": user("x")},
        headers={"x-api-key": "nope", "anthropic-version": "2023-06-01"},
    )
    body = r.json()
    assert r.status_code == 401 and body["type"] == "error" and body["request_id"].startswith("req_")
    assert body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}


def test_request_errors(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", content=b"{nope", headers=OPENAI)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert chat(client).status_code == 400
    assert chat(client, model="no-such-model", messages=user("x")).status_code == 404
    assert msgs(client, messages=user("x"), model="no-such-model").json()["error"]["type"] == "not_found_error"
    r = client.post("/v1/messages", json={"model": "claude-sonnet-4-5", "messages": user("x")}, headers=ANTHROPIC)
    assert r.status_code == 400 and r.json()["error"]["message"] == "max_tokens: Field required"
    assert resp(client, model="no-such-model", input="x").json()["error"]["code"] == "model_not_found"
    assert client.post("/v1/responses", json={"input": "x"}, headers=OPENAI).status_code == 400


def test_models_both_shapes(client: httpx.Client) -> None:
    openai = client.get("/v1/models", headers=OPENAI).json()
    assert openai["object"] == "list" and {m["object"] for m in openai["data"]} == {"model"}
    assert set(DEFAULT_MODELS["chat"]) <= {m["id"] for m in openai["data"]}
    anth = client.get("/v1/models", headers=ANTHROPIC).json()
    assert anth["has_more"] is False and anth["first_id"] == DEFAULT_MODELS["messages"][0]
    assert all(m["type"] == "model" and m["display_name"] for m in anth["data"])
    assert client.get("/v1/models").status_code == 401


def test_deterministic_bytes(client: httpx.Client) -> None:
    for call in (
        lambda: chat(client, messages=user("Hi"), stream=True),
        lambda: msgs(client, messages=user("Hi")),
        lambda: resp(client, input="Hi", stream=True),
    ):
        assert call().content == call().content


def test_count_tokens_agrees_with_messages_usage(client: httpx.Client) -> None:
    body = {
        "model": "claude-sonnet-4-6",
        "system": "Be terse.",
        "messages": user(WEATHER_PROMPT),
        "tools": msg_tools("get_weather"),
    }
    counted = client.post("/v1/messages/count_tokens", json=body, headers=ANTHROPIC)
    assert counted.status_code == 200 and set(counted.json()) == {"input_tokens"}
    billed = msgs(client, **{**body, "max_tokens": 256}).json()["usage"]["input_tokens"]
    assert counted.json()["input_tokens"] == billed
    bare = client.post(
        "/v1/messages/count_tokens", json={"model": "claude-sonnet-4-6", "messages": user("x")}, headers=ANTHROPIC
    ).json()["input_tokens"]
    assert bare < billed  # the system prompt and the tools count too
    no_key = client.post("/v1/messages/count_tokens", json=body, headers={"anthropic-version": "2023-06-01"})
    assert no_key.status_code == 401 and no_key.json()["error"]["type"] == "authentication_error"
    missing = client.post("/v1/messages/count_tokens", json={"model": "claude-sonnet-4-6"}, headers=ANTHROPIC)
    assert missing.status_code == 400 and missing.json()["error"]["message"] == "messages: Field required"
    unknown = client.post("/v1/messages/count_tokens", json={**body, "model": "nope"}, headers=ANTHROPIC)
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"


def test_responses_previous_response_id_continues_a_stored_conversation(client: httpx.Client) -> None:
    tools = resp_tools("get_weather")
    first = resp(client, input=WEATHER_PROMPT, tools=tools, tool_choice="required").json()
    [call] = first["output"]
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "Hail, 3 degrees"}
    after = resp(client, previous_response_id=first["id"], input=[output], tools=tools)
    assert after.status_code == 200, after.text
    body = after.json()
    assert body["previous_response_id"] == first["id"] and "Hail, 3 degrees" in body["output"][0]["content"][0]["text"]
    # The stored conversation counts as input, as the official usage does.
    alone = resp(client, input=[{"role": "user", "content": WEATHER_PROMPT}, call, output], tools=tools).json()
    assert body["usage"]["input_tokens"] == alone["usage"]["input_tokens"]
    # Streamed answers are stored too.
    streamed = sse(resp(client, input=WEATHER_PROMPT + " ", tools=tools, tool_choice="required", stream=True).text)
    rid = json.loads(streamed[-1][1])["response"]["id"]
    call_id = json.loads(streamed[-1][1])["response"]["output"][0]["call_id"]
    again = resp(client, previous_response_id=rid, input=[{**output, "call_id": call_id}], tools=tools)
    assert again.status_code == 200, again.text


def test_responses_unknown_previous_id_unstored_and_unmatched_call_ids(client: httpx.Client) -> None:
    missing = resp(client, previous_response_id="resp_" + "0" * 50, input="Hi")
    err = missing.json()["error"]
    assert missing.status_code == 400 and err["code"] == "previous_response_not_found"
    assert err["param"] == "previous_response_id" and err["type"] == "invalid_request_error"
    unstored = resp(client, input="Remember nothing", store=False).json()
    assert unstored["store"] is False
    assert resp(client, previous_response_id=unstored["id"], input="Hi").status_code == 400
    stray = {"type": "function_call_output", "call_id": "call_notmade", "output": "x"}
    r = resp(client, input=[{"role": "user", "content": "Hi"}, stray])
    assert r.status_code == 400 and "call_notmade" in r.json()["error"]["message"]


def test_chat_tool_messages_must_answer_the_calls_just_made(client: httpx.Client) -> None:
    tools = chat_tools("get_weather")
    call = chat(client, messages=user(WEATHER_PROMPT), tools=tools).json()["choices"][0]["message"]["tool_calls"][0]
    made = {"role": "assistant", "content": None, "tool_calls": [call]}
    answer = {"role": "tool", "tool_call_id": call["id"], "content": "Sunny"}
    assert chat(client, messages=[*user(WEATHER_PROMPT), made, answer], tools=tools).status_code == 200
    stray = chat(client, messages=[*user(WEATHER_PROMPT), {**answer, "tool_call_id": "call_other"}], tools=tools)
    assert stray.status_code == 400 and stray.json()["error"]["param"] == "messages.[1].role"
    renamed = chat(client, messages=[*user(WEATHER_PROMPT), made, {**answer, "tool_call_id": "call_x"}], tools=tools)
    assert renamed.status_code == 400
    unanswered = chat(client, messages=[*user(WEATHER_PROMPT), made, *user("And?")], tools=tools)
    assert unanswered.status_code == 400 and call["id"] in unanswered.json()["error"]["message"]


def test_messages_tool_results_must_answer_the_uses_just_made(client: httpx.Client) -> None:
    tools = msg_tools("get_weather")
    content = msgs(client, messages=user(WEATHER_PROMPT), tools=tools).json()["content"]
    tid = content[0]["id"]

    def result(tool_use_id: str) -> dict[str, Any]:
        return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use_id, "content": "Sunny"}]}

    made = {"role": "assistant", "content": content}
    assert msgs(client, messages=[*user(WEATHER_PROMPT), made, result(tid)], tools=tools).status_code == 200
    wrong = msgs(client, messages=[*user(WEATHER_PROMPT), made, result("toolu_01other")], tools=tools)
    assert wrong.status_code == 400 and tid in wrong.json()["error"]["message"]
    said = {"role": "assistant", "content": [{"type": "text", "text": "Let me check."}]}
    stray = msgs(client, messages=[*user(WEATHER_PROMPT), said, result(tid)], tools=tools)
    assert stray.status_code == 400 and "unexpected `tool_use_id`" in stray.json()["error"]["message"]
    unanswered = msgs(client, messages=[*user(WEATHER_PROMPT), made, *user("And?")], tools=tools)
    assert unanswered.status_code == 400 and tid in unanswered.json()["error"]["message"]


def test_seed_prompts_get_the_arguments_a_model_would_give(client: httpx.Client) -> None:
    weather = {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    }
    seed_001 = chat(
        client, model="gpt-4o", messages=user("北京今天天气怎么样"), tools=[{"type": "function", "function": weather}]
    ).json()["choices"][0]
    assert seed_001["finish_reason"] == "tool_calls"
    assert json.loads(seed_001["message"]["tool_calls"][0]["function"]["arguments"]) == {"location": "北京"}
    time_tool = {"name": "get_time", "description": "Get the current time for a timezone", "input_schema": TIME_SCHEMA}
    seed_004 = msgs(
        client,
        model="claude-sonnet-4-6",
        tools=[time_tool],
        tool_choice={"type": "any"},
        messages=user("Use the get_time tool for Asia/Shanghai. Do not answer directly."),
    ).json()
    assert seed_004["content"][0]["input"] == {"timezone": "Asia/Shanghai"}
    calc = {
        "type": "function",
        "name": "math_calculator",
        "description": "执行基本数学运算",
        "parameters": {
            "type": "object",
            "required": ["operation", "a", "b"],
            "properties": {
                "a": {"type": "number"},
                "b": {"type": "number"},
                "operation": {"type": "string", "description": "运算类型: add, subtract, multiply"},
            },
        },
    }
    seed_003 = resp(client, input="帮我计算 123.5 + 456.7 的结果", tools=[calc], tool_choice="required").json()
    assert json.loads(seed_003["output"][0]["arguments"]) == {"operation": "add", "a": 123.5, "b": 456.7}


def test_default_models_cover_the_local_gateway() -> None:
    from harness.gateways import DEFAULT_FILE, load_gateways

    gateways, _ = load_gateways(DEFAULT_FILE)
    for endpoint, models in gateways["local"].models.items():
        assert {m.name for m in models} <= set(DEFAULT_MODELS[endpoint]), endpoint


def test_loopback_only_and_fault_names() -> None:
    with pytest.raises(ValueError):
        start_in_thread(KEY, host="0.0.0.0")
    with pytest.raises(ValueError):
        create_app(KEY, faults=["no-such-fault"])


# ---------------------------------------------------------------- faults

TOOLS_STREAM = {"messages": user(BOTH_PROMPT), "tools": chat_tools("get_weather", "get_time"), "stream": True}
THINK = {"type": "enabled", "budget_tokens": 1024}
GEM = "/v1beta/models/gemini-2.5-flash"
GOOGLE = {"x-goog-api-key": KEY}
GEM_USER = [{"role": "user", "parts": [{"text": "Hi"}]}]
GEM_WEATHER = [{"role": "user", "parts": [{"text": WEATHER_PROMPT}]}]
GEM_TOOLS = [
    {
        "functionDeclarations": [
            {"name": "get_weather", "parameters": {"type": "OBJECT", "properties": {"location": {"type": "STRING"}}}}
        ]
    }
]
GEM_THINK = {"thinkingConfig": {"thinkingBudget": 512, "includeThoughts": True}}

SCENARIOS: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    "chat_text": ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": user("Hi")}, OPENAI),
    "chat_stream": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": user("Hi"),
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        OPENAI,
    ),
    "chat_tools": (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": user(WEATHER_PROMPT), "tools": chat_tools("get_weather")},
        OPENAI,
    ),
    "chat_tools_stream": ("/v1/chat/completions", {"model": "gpt-4o-mini", **TOOLS_STREAM}, OPENAI),
    "chat_none": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": user(WEATHER_PROMPT),
            "tools": chat_tools("get_weather"),
            "tool_choice": "none",
        },
        OPENAI,
    ),
    "chat_limit": (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": user("Hi"), "max_tokens": 2},
        OPENAI,
    ),
    "chat_stop": (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": user("Hi"), "stop": ["reference"]},
        OPENAI,
    ),
    "chat_bad_key": (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": user("Hi")},
        {"authorization": "Bearer wrong"},
    ),
    "msg_text": (
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": user("Hi")},
        ANTHROPIC,
    ),
    "msg_stream": (
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": user("Hi"), "stream": True},
        ANTHROPIC,
    ),
    "msg_tools": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": user(WEATHER_PROMPT),
            "tools": msg_tools("get_weather"),
        },
        ANTHROPIC,
    ),
    "msg_tools_stream": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "stream": True,
            "messages": user(WEATHER_PROMPT),
            "tools": msg_tools("get_weather"),
        },
        ANTHROPIC,
    ),
    "msg_thinking": (
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 2048, "messages": user("Hi"), "thinking": THINK},
        ANTHROPIC,
    ),
    "msg_thinking_stream": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 2048,
            "stream": True,
            "messages": user("Hi"),
            "thinking": THINK,
        },
        ANTHROPIC,
    ),
    "msg_budget_low": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 2048,
            "messages": user("Hi"),
            "thinking": {"type": "enabled", "budget_tokens": 128},
        },
        ANTHROPIC,
    ),
    "msg_budget_high": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 1500,
            "messages": user("Hi"),
            "thinking": {"type": "enabled", "budget_tokens": 1500},
        },
        ANTHROPIC,
    ),
    "msg_bad_signature": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 2048,
            "thinking": THINK,
            "messages": [
                *user("Hi"),
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "x", "signature": "forged"},
                        {"type": "text", "text": "Hello"},
                    ],
                },
                *user("Again"),
            ],
        },
        ANTHROPIC,
    ),
    "msg_signed_history": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 2048,
            "thinking": THINK,
            "messages": [
                *user("Hi"),
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "Greet back.", "signature": signature("Greet back.")},
                        {"type": "text", "text": "Hello"},
                    ],
                },
                *user("Again"),
            ],
        },
        ANTHROPIC,
    ),
    "msg_bad_key": (
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": user("Hi")},
        {"x-api-key": "wrong"},
    ),
    "msg_cached_prefix": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            # 1,200 anthropic tokens: above the reference gateway's cacheable minimum (1,024)
            "system": [{"type": "text", "text": "word " * 1200, "cache_control": {"type": "ephemeral"}}],
            "messages": user("Hi"),
        },
        ANTHROPIC,
    ),
    "resp_text": ("/v1/responses", {"model": "gpt-4.1", "input": "Hi"}, OPENAI),
    "resp_unknown_previous": (
        "/v1/responses",
        {"model": "gpt-4.1", "input": "Hi", "previous_response_id": "resp_" + "0" * 48},
        OPENAI,
    ),
    "resp_stream": ("/v1/responses", {"model": "gpt-4.1", "input": "Hi", "stream": True}, OPENAI),
    # fidelity: parameters, context and encrypted reasoning (harness/fidelity/)
    "chat_format": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": user("Name a city."),
            "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER_SCHEMA}},
        },
        OPENAI,
    ),
    "chat_n_logprobs": (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": user("Hi"), "n": 2, "logprobs": True, "top_logprobs": 2},
        OPENAI,
    ),
    "chat_long": ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": user("Hi there." * 1500)}, OPENAI),
    "chat_tool_result": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": [
                *user(WEATHER_PROMPT),
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "Paris: 18 degrees and a light wind all day."},
            ],
            "tools": chat_tools("get_weather"),
        },
        OPENAI,
    ),
    "resp_no_parallel": (
        "/v1/responses",
        {
            "model": "gpt-4.1",
            "input": "Call all tools at once: " + BOTH_PROMPT,
            "tools": resp_tools("get_weather", "get_time"),
            "parallel_tool_calls": False,
        },
        OPENAI,
    ),
    "resp_bad_encrypted": (
        "/v1/responses",
        {
            "model": "o4-mini",
            "store": False,
            "input": [
                {"role": "user", "content": "Hi"},
                {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAABforged=="},
                {"role": "user", "content": "Again."},
            ],
        },
        OPENAI,
    ),
    "resp_tools_stream": (
        "/v1/responses",
        {
            "model": "gpt-4.1",
            "input": BOTH_PROMPT,
            "stream": True,
            "tools": resp_tools("get_weather", "get_time"),
        },
        OPENAI,
    ),
    # Gemini: the model in the path, the key as x-goog-api-key
    "gem_text": (f"{GEM}:generateContent", {"contents": GEM_USER}, GOOGLE),
    "gem_stream": (f"{GEM}:streamGenerateContent?alt=sse", {"contents": GEM_USER}, GOOGLE),
    "gem_tools": (f"{GEM}:generateContent", {"contents": GEM_WEATHER, "tools": GEM_TOOLS}, GOOGLE),
    "gem_thinking": (f"{GEM}:generateContent", {"contents": GEM_USER, "generationConfig": GEM_THINK}, GOOGLE),
    "gem_thinking_stream": (
        f"{GEM}:streamGenerateContent?alt=sse",
        {"contents": GEM_USER, "generationConfig": GEM_THINK},
        GOOGLE,
    ),
    "gem_bad_key": (f"{GEM}:generateContent", {"contents": GEM_USER}, {"x-goog-api-key": "wrong"}),
}
FAULT_SCENARIO = {
    "openai-error-on-messages": "msg_bad_key",
    "chat-completion-on-messages": "msg_text",
    "html-error": "chat_text",
    "error-in-200": "chat_text",
    "status-400-for-401": "chat_bad_key",
    "tool-call-as-text": "chat_tools",
    "wrong-finish-reason": "chat_tools",
    "parallel-index-zero": "chat_tools_stream",
    "stream-args-differ": "chat_tools_stream",
    "ignore-tool-choice-none": "chat_none",
    "chat-no-done": "chat_stream",
    "responses-done": "resp_stream",
    "messages-done": "msg_stream",
    "no-event-lines": "msg_stream",
    "event-name-mismatch": "resp_stream",
    "no-blank-line": "chat_stream",
    "truncated-stream": "chat_stream",
    "invalid-utf8": "chat_stream",
    "wrong-content-type": "chat_text",
    "extra-fields": "resp_text",
    "bad-id-prefix": "msg_tools",
    "usage-inconsistent": "chat_text",
    "no-sequence-number": "resp_stream",
    "item-done-never-added": "resp_tools_stream",
    "missing-item-done": "resp_tools_stream",
    "missing-text-done": "resp_stream",
    "args-done-differ": "resp_tools_stream",
    "completed-missing-fields": "resp_stream",
    "delta-before-start": "msg_stream",
    "text-delta-on-tool-use": "msg_tools_stream",
    "lost-first-text-delta": "msg_thinking_stream",
    "signature-dropped": "msg_thinking",
    "budget-under-1024-accepted": "msg_budget_low",
    "budget-not-below-max-accepted": "msg_budget_high",
    "thinking-signature-not-checked": "msg_bad_signature",
    "ignore-max-tokens": "chat_limit",
    "reserialize-thinking": "msg_signed_history",
    "multiline-data": "resp_stream",
    "delta-before-added": "resp_stream",
    "responses-nulls-omitted": "resp_text",
    "chat-role-repeated": "chat_stream",
    "chat-id-changes": "chat_stream",
    "chat-no-finish-reason": "chat_stream",
    "chat-delta-after-finish": "chat_stream",
    "chat-usage-unasked": "chat_tools_stream",
    "messages-unclosed-block": "msg_stream",
    "messages-no-message-delta": "msg_stream",
    "messages-block-index-gap": "msg_stream",
    "messages-blocks-overlap": "msg_thinking_stream",
    "messages-delta-after-stop": "msg_stream",
    "messages-no-message-start": "msg_stream",
    "responses-no-created": "resp_stream",
    "responses-no-part-done": "resp_stream",
    "responses-no-args-done": "resp_tools_stream",
    "responses-text-done-differs": "resp_stream",
    "responses-terminal-status": "resp_stream",
    "responses-output-index-gap": "resp_stream",
    "responses-wrong-item-id": "resp_stream",
    "substituted-family": "chat_text",
    "injected-system-prompt": "msg_text",
    "stop-ignored": "chat_stop",
    "usage-inflated": "resp_text",
    "previous-response-ignored": "resp_unknown_previous",
    "cache-control-stripped": "msg_cached_prefix",
    "max-tokens-capped": "chat_text",
    "response-format-dropped": "chat_format",
    "include-usage-dropped": "chat_stream",
    "n-ignored": "chat_n_logprobs",
    "logprobs-dropped": "chat_n_logprobs",
    "parallel-tool-calls-ignored": "resp_no_parallel",
    "tool-choice-ignored": "chat_none",
    "context-truncated": "chat_long",
    "tool-result-altered": "chat_tool_result",
    "output-usage-inflated": "chat_text",
    "stream-usage-estimated": "chat_stream",
    "encrypted-content-not-verified": "resp_bad_encrypted",
    "gemini-openai-error": "gem_bad_key",
    "gemini-usage-total": "gem_thinking",
    "gemini-args-string": "gem_tools",
    "gemini-done": "gem_stream",
    "gemini-thoughts-dropped": "gem_thinking_stream",
}
TIMING_ONLY = {"buffered-stream"}  # same bytes, different pacing: tested with a paced gateway below
HEADER_ONLY = {"no-request-id"}  # same body, other headers: tested below


def test_every_fault_has_a_scenario() -> None:
    assert set(FAULT_SCENARIO) | TIMING_ONLY | HEADER_ONLY == set(FAULTS)
    assert all(FAULTS[name].strip() for name in FAULTS)


def _send(client: httpx.Client, scenario: str, fault: str | None) -> httpx.Response:
    path, body, headers = SCENARIOS[scenario]
    if fault:
        headers = {**headers, "x-relaycheck-fault": fault}
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize("fault", sorted(FAULT_SCENARIO))
def test_fault_changes_output(client: httpx.Client, fault: str) -> None:
    clean = _send(client, FAULT_SCENARIO[fault], None)
    broken = _send(client, FAULT_SCENARIO[fault], fault)
    assert (clean.status_code, clean.headers["content-type"], clean.content) != (
        broken.status_code,
        broken.headers["content-type"],
        broken.content,
    )


@pytest.mark.parametrize(("scenario", "header"), [("chat_text", "x-request-id"), ("msg_text", "request-id")])
def test_request_id_header_and_its_fault(client: httpx.Client, scenario: str, header: str) -> None:
    clean = _send(client, scenario, None)
    assert clean.headers[header].startswith("req_")
    assert header not in _send(client, scenario, "no-request-id").headers


def test_fault_specifics(client: httpx.Client) -> None:
    r = _send(client, "chat_tools_stream", "parallel-index-zero")
    indexes = {
        tc["index"] for _, d in sse(r.text)[:-1] for tc in json.loads(d)["choices"][0]["delta"].get("tool_calls", [])
    }
    assert indexes == {0}
    r = _send(client, "chat_text", "html-error")
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    r = _send(client, "chat_text", "error-in-200")
    assert r.status_code == 200 and "error" in r.json()
    assert _send(client, "chat_bad_key", "status-400-for-401").status_code == 400
    assert "error" in _send(client, "msg_bad_key", "openai-error-on-messages").json()
    assert _send(client, "msg_text", "chat-completion-on-messages").json()["object"] == "chat.completion"
    assert "[DONE]" not in _send(client, "chat_stream", "truncated-stream").text
    assert _send(client, "resp_stream", "responses-done").text.endswith("data: [DONE]\n\n")
    assert "sequence_number" not in _send(client, "resp_stream", "no-sequence-number").text
    assert _send(client, "msg_bad_signature", "thinking-signature-not-checked").status_code == 200
    assert _send(client, "msg_budget_low", "budget-under-1024-accepted").status_code == 200
    with pytest.raises(UnicodeDecodeError):
        _send(client, "chat_stream", "invalid-utf8").content.decode("utf-8")
    first_text = [json.loads(d) for _, d in sse(_send(client, "msg_thinking_stream", None).text)]
    lost = [json.loads(d) for _, d in sse(_send(client, "msg_thinking_stream", "lost-first-text-delta").text)]
    count = sum(1 for e in first_text if e.get("delta", {}).get("type") == "text_delta")
    assert sum(1 for e in lost if e.get("delta", {}).get("type") == "text_delta") == count - 1


def _arrivals(base_url: str, fault: str | None) -> list[float]:
    _, body, headers = SCENARIOS["chat_stream"]
    if fault:
        headers = {**headers, "x-relaycheck-fault": fault}
    start, times = time.monotonic(), []
    with httpx.stream("POST", base_url + "/v1/chat/completions", json=body, headers=headers, timeout=10) as r:
        for _ in r.iter_raw():
            times.append(time.monotonic() - start)
    return times


def test_streams_really_stream_and_buffered_fault() -> None:
    with start_in_thread(KEY, chunk_delay=0.02, latency=0.05) as paced:
        times = _arrivals(paced.base_url, None)
        assert times[0] >= 0.05 and times[-1] - times[0] > 0.1 and len(times) > 5
        buffered = _arrivals(paced.base_url, "buffered-stream")
        assert len(buffered) == 1 and buffered[0] >= 1.2
