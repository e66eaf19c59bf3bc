"""Case-format features the bundled suite relies on: saved values in expectations, whole-argument
tool-call matchers, ``body_schema`` for answers that are not a dialect's main object. Each is shown
to pass on a right answer and to fail, with its code, on a wrong one. Offline: canned exchanges."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from harness.cases import CaseFileError, load_case_file
from harness.engine import evaluate_exchange
from harness.gateways import Gateway
from harness.model import Chunk, Exchange, WireRequest
from harness.redact import Redactor
from harness.runner import Context, Variant, run_variant

KEY = "rc-format-test-key-0123456789abcdef"
OPENAI_LIST = {"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system"}]}
ANTHROPIC_LIST = {
    "data": [
        {
            "type": "model",
            "id": "claude-sonnet-4-6",
            "display_name": "Claude Sonnet 4.6",
            "created_at": "2026-02-17T00:00:00Z",
        }
    ],
    "has_more": False,
    "first_id": "claude-sonnet-4-6",
    "last_id": "claude-sonnet-4-6",
}


class CannedTransport:
    """Answers each request with the next canned (status, body) and remembers the requests."""

    def __init__(self, answers: Iterable[tuple[int, Any]]) -> None:
        self.answers = list(answers)
        self.sent: list[WireRequest] = []

    def send(self, request: WireRequest) -> Exchange:
        self.sent.append(request)
        status, body = self.answers.pop(0)
        data = json.dumps(body).encode()
        return Exchange(
            request, status, {"content-type": "application/json"}, (Chunk(0.001, data),), ttft_ms=1.0, latency_ms=1.0
        )


def run(tmp_path: Path, text: str, answers: Iterable[tuple[int, Any]], model: str | None = "m") -> list[Any]:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    (case,) = load_case_file(path)
    transport = CannedTransport(answers)
    ctx = Context(
        Gateway("g", "http://127.0.0.1:9", api_key_value=KEY), "http://127.0.0.1:9", transport, Redactor([KEY])
    )  # type: ignore[arg-type]
    result = run_variant(Variant(case, "g", model, False), ctx)
    return [v for v in result.violations if v.fails("strict")]


def codes(violations: list[Any]) -> set[str]:
    return {v.code for v in violations}


def chat_tool_answer(name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abcAbCdEfGhIjKlMnOpQrStUvWxYz",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "logprobs": None,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "annotations": [],
                    "tool_calls": [
                        {
                            "id": "call_1AbCdEfGhIjKlMnOpQrStUvW",
                            "type": "function",
                            "function": {"name": name, "arguments": arguments},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        "service_tier": "default",  # on every official answer since 2025-01 (harness/history.py)
    }


TWO_STEPS = """\
cases:
  - id: same-tool
    description: step 2 must call the tool step 1 called, with the same arguments
    endpoint: chat
    steps:
      - request: {body: {messages: [{role: user, content: q}]}}
        save:
          tool: "$.choices[0].message.tool_calls[0].function.name"
          id: "$.id"
      - request: {body: {messages: [{role: user, content: q}]}}
        expect:
          json: [{path: "$.id", equals: "${id}"}, {path: "$.model", equals: "${model}"}]
          tool_calls: {names: ["${tool}"], arguments: {equals: {location: Paris}}}
"""


def test_saved_values_and_model_in_expectations(tmp_path: Path) -> None:
    same = chat_tool_answer("get_weather", '{"location":"Paris"}')
    assert run(tmp_path, TWO_STEPS, [(200, same), (200, same)]) == []


def test_saved_value_mismatch_fails(tmp_path: Path) -> None:
    first = chat_tool_answer("get_weather", '{"location":"Paris"}')
    other = {**chat_tool_answer("get_time", '{"location":"Rome"}'), "id": "chatcmpl-otherAbCdEfGhIjKlMnOpQrStUvWx"}
    bad = run(tmp_path, TWO_STEPS, [(200, first), (200, other)])
    assert codes(bad) == {"expect.equals", "tool.name"}
    paths = {v.path for v in bad}
    assert "$.id" in paths and any(p.startswith("tool_calls[0].arguments") for p in paths)
    assert next(v for v in bad if v.code == "tool.name").expected == "get_weather"


def test_expectation_naming_an_unsaved_value_is_a_case_error(tmp_path: Path) -> None:
    text = TWO_STEPS.replace('equals: "${id}"', 'equals: "${never_saved}"')
    answer = chat_tool_answer("get_weather", '{"location":"Paris"}')
    bad = run(tmp_path, text, [(200, answer), (200, answer)])
    assert codes(bad) == {"case.request"} and "never_saved" in bad[0].message


def test_whole_arguments_compare_as_json_values(tmp_path: Path) -> None:
    # Key order and spacing do not matter: the parsed objects are compared.
    text = TWO_STEPS
    first = chat_tool_answer("get_weather", '{"location":"Paris"}')
    spaced = chat_tool_answer("get_weather", '{ "location" : "Paris" }')
    assert run(tmp_path, text, [(200, first), (200, spaced)]) == []
    extra = chat_tool_answer("get_weather", '{"location":"Paris","unit":"celsius"}')
    assert codes(run(tmp_path, text, [(200, first), (200, extra)])) == {"expect.equals"}


MODELS_CASE = """\
cases:
  - id: list
    description: the OpenAI model list
    endpoint: chat
    request: {method: GET, path: /v1/models}
    expect:
      body_schema: models/openai-list
      json: [{path: "$.data[*].id", contains: "${model}"}]
"""


def test_body_schema_replaces_the_dialect_body_checks(tmp_path: Path) -> None:
    assert run(tmp_path, MODELS_CASE, [(200, OPENAI_LIST)], model="gpt-4o") == []
    # The same body judged as the endpoint's main object (a chat.completion) would fail.
    without = MODELS_CASE.replace("      body_schema: models/openai-list\n", "")
    assert run(tmp_path, without, [(200, OPENAI_LIST)], model="gpt-4o") != []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"data": [{"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system"}]}, "schema"),
        ({"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]}, "schema"),
        (ANTHROPIC_LIST, "schema"),  # the other vendor's list is not this one
        (
            {"error": {"message": "upstream failed", "type": "upstream_error", "param": None, "code": None}},
            "error.in_200",
        ),
    ],
)
def test_body_schema_catches_wrong_bodies(tmp_path: Path, body: Any, code: str) -> None:
    assert code in codes(run(tmp_path, MODELS_CASE, [(200, body)], model="gpt-4o"))


def test_body_schema_model_not_listed(tmp_path: Path) -> None:
    bad = run(tmp_path, MODELS_CASE, [(200, OPENAI_LIST)], model="gpt-4.1")
    assert codes(bad) == {"expect.contains"}


def test_body_schema_errors_still_judged_by_the_dialect(tmp_path: Path) -> None:
    text = MODELS_CASE.replace("body_schema:", "status: 401\n      body_schema:").replace(
        '      json: [{path: "$.data[*].id", contains: "${model}"}]\n', ""
    )
    openai_err = {
        "error": {"message": "bad key", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}
    }
    assert run(tmp_path, text, [(401, openai_err)], model="gpt-4o") == []
    anthropic_err = {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
    assert "error.shape" in codes(run(tmp_path, text, [(401, anthropic_err)], model="gpt-4o"))


@pytest.mark.parametrize(
    ("schema_id", "good", "bad"),
    [
        ("models/anthropic-list", ANTHROPIC_LIST, {**ANTHROPIC_LIST, "data": [{"id": "x", "object": "model"}]}),
        ("models/anthropic-count-tokens", {"input_tokens": 14}, {"input_tokens": "14"}),
        ("models/openai-list", OPENAI_LIST, {"object": "page", "data": []}),
    ],
)
def test_auxiliary_schemas(schema_id: str, good: Any, bad: Any) -> None:
    def evaluate(body: Any) -> list[str]:
        request = WireRequest("GET", "http://127.0.0.1:9/v1/models", {})
        ex = Exchange(request, 200, {"content-type": "application/json"}, (Chunk(0.0, json.dumps(body).encode()),))
        return [v.code for v in evaluate_exchange(ex, "messages", body_schema=schema_id).violations]

    assert evaluate(good) == []
    assert evaluate(bad) == ["schema"] * len(evaluate(bad)) and evaluate(bad)


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("body_schema: Models/List", "does not match"),
        ("body_schema: models/no-such-list", "no schema 'models/no-such-list' under schemas/"),
        ("tool_calls: {arguments: {equal: 1}}", "unknown key(s) 'equal'"),
    ],
)
def test_new_keys_are_validated(tmp_path: Path, snippet: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"cases:\n  - id: a\n    description: d\n    endpoint: chat\n    request: {{}}\n    expect:\n      {snippet}\n",
        encoding="utf-8",
    )
    with pytest.raises(CaseFileError, match=r"c\.yaml:7:") as exc:
        load_case_file(path)
    assert message in str(exc.value)


CROSS = """\
cases:
  - id: cross
    description: one question on two endpoints
    endpoint: messages
    steps:
      - request: {body: {max_tokens: 16, messages: [{role: user, content: q}]}}
      - endpoint: chat
        request: {body: {messages: [{role: user, content: q}]}}
"""


def test_cross_endpoint_case_needs_the_model_on_every_endpoint(tmp_path: Path) -> None:
    from harness.gateways import Model
    from harness.variants import expand

    path = tmp_path / "c.yaml"
    path.write_text(CROSS, encoding="utf-8")
    (case,) = load_case_file(path)
    both, only = Model("claude-both", frozenset()), Model("claude-only", frozenset())
    gw = Gateway("g", "http://127.0.0.1:9", models={"messages": (both, only), "chat": (both,)})
    skips = {v.model: skip for v, skip in expand(case, gw, ("chat", "messages", "responses"))}
    assert skips["claude-both"] is None
    assert "not listed for chat" in (skips["claude-only"] or "")
    # Not collected at all when one of its endpoints is deselected (--endpoints messages).
    assert list(expand(case, gw, ("messages",))) == []
