"""The Gemini dialect on small hand-written answers (each rule fires on the input that breaks it,
with its code, and stays quiet on a clean one), its request placement and path recognition, and
the reference gateway's Gemini routes. The official recordings are tests/truth/test_gemini_truth.py."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from harness import sse
from harness.dialects import registry
from harness.dialects.base import Usage
from harness.dialects.gemini import CODES, DIALECT
from harness.engine import evaluate_exchange
from harness.model import Chunk, Exchange, WireRequest
from harness.refgateway import create_app

KEY = "rc-test-gemini-key"
GEN = "https://g.example/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "https://g.example/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
REQUEST: dict[str, Any] = {
    "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
                }
            ]
        }
    ],
}
THINKING = {**REQUEST, "generationConfig": {"thinkingConfig": {"thinkingBudget": 512, "includeThoughts": True}}}
USAGE = {"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 17}
BODY: dict[str, Any] = {
    "candidates": [
        {"content": {"parts": [{"text": "It is sunny."}], "role": "model"}, "finishReason": "STOP", "index": 0}
    ],
    "usageMetadata": USAGE,
    "modelVersion": "gemini-2.5-flash",
    "responseId": "abcDEF123",
}
CALL = copy.deepcopy(BODY)
CALL["candidates"][0]["content"]["parts"] = [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]


def exchange(url: str, request: Any, status: int, body: bytes, ctype: str = "application/json") -> Exchange:
    req = WireRequest("POST", url, {}, json.dumps(request).encode())
    return Exchange(req, status, {"content-type": ctype}, (Chunk(0.0, body),))


def failing(url: str, request: Any, body: Any, status: int = 200, ctype: str = "application/json") -> set[str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ev = evaluate_exchange(exchange(url, request, status, raw, ctype), "gemini", level="strict")
    return {v.code for v in ev.violations if v.fails("strict")}


def stream(chunks: list[Any], *, named: bool = False) -> bytes:
    head = "event: message\n" if named else ""
    return "".join(f"{head}data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks).encode()


def chunk(parts: list[Any], finish: str | None = None, usage: dict[str, int] = USAGE, rid: str = "r1") -> dict:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    return {"candidates": [cand], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash", "responseId": rid}


SSE = "text/event-stream"

# ---------------------------------------------------------------------------------------------
# registration, requests, paths


def test_registered_and_found_by_path() -> None:
    assert "gemini" in registry.names()
    assert registry.for_path("POST", "/v1beta/models/gemini-2.5-flash:generateContent") is DIALECT
    assert registry.for_path("POST", "/relay/gemini/v1beta/models/x:streamGenerateContent?alt=sse") is DIALECT
    assert registry.for_path("POST", "/v1/models/gemini-2.0-flash:generateContent") is DIALECT
    assert registry.for_path("POST", "/v1beta/models/gemini-2.5-flash:countTokens") is None
    assert registry.for_path("GET", "/v1beta/models/gemini-2.5-flash:generateContent") is None
    assert registry.for_path("POST", "/v1/chat/completions").name == "chat"  # type: ignore[union-attr]


def test_build_request_puts_model_and_stream_in_the_path() -> None:
    plain = DIALECT.build_request({"contents": []}, "gemini-2.5-flash", False)
    assert (plain.path, plain.query, plain.body) == (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        (),
        {"contents": []},
    )
    streamed = DIALECT.build_request({"contents": [], "model": "m1", "stream": True}, None, True)
    assert streamed.path == "/v1beta/models/m1:streamGenerateContent"
    assert streamed.query == (("alt", "sse"),)
    assert streamed.body == {"contents": []}  # no model or stream field in a Gemini body
    assert DIALECT.stream_requested("/v1beta/models/m:streamGenerateContent", "alt=sse", {}) is True
    assert DIALECT.stream_requested("/v1beta/models/m:generateContent", "", {"stream": True}) is False
    assert DIALECT.auth_headers("k", "x-goog-api-key", None) == {"x-goog-api-key": "k"}  # type: ignore[arg-type]
    assert DIALECT.auth_headers("k", "query", None) == {}  # the runner puts key= in the query


def test_usage_and_readers() -> None:
    body = copy.deepcopy(BODY)
    body["usageMetadata"] = {**USAGE, "thoughtsTokenCount": 4, "totalTokenCount": 21, "cachedContentTokenCount": 3}
    assert DIALECT.usage(body) == Usage(12, 9, 3, 21)
    assert DIALECT.text(body) == "It is sunny." and DIALECT.stop_reason(body) == "STOP"
    assert [(c.name, c.parsed_arguments()) for c in DIALECT.tool_calls(CALL)] == [("get_weather", {"city": "Paris"})]
    assert DIALECT.recognises(BODY) and DIALECT.recognises(
        {"error": {"code": 404, "message": "m", "status": "NOT_FOUND"}}
    )
    assert DIALECT.recognises({"error": {"message": "m", "type": "invalid_request_error", "code": None}}) is None


def test_every_code_has_a_meaning() -> None:
    assert all(code.startswith(("gemini.", "grammar.gemini.")) and text for code, text in CODES.items())


# ---------------------------------------------------------------------------------------------
# bodies and errors


def test_clean_body_call_and_error_pass() -> None:
    assert failing(GEN, REQUEST, BODY) == set()
    assert failing(GEN, REQUEST, CALL) == set()
    err = {"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}
    assert failing(GEN, REQUEST, err, 404) == set()


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b: b["usageMetadata"].update(totalTokenCount=99), "usage"),
        (lambda b: b.pop("usageMetadata"), "gemini.usage_fields"),
        (lambda b: b["candidates"][0].update(finishReason="tool_calls"), "gemini.finish_reason"),
        (
            lambda b: b["candidates"][0]["content"]["parts"][0]["functionCall"].update(args='{"city":"Paris"}'),
            "gemini.function_args",
        ),
        (lambda b: b["candidates"][0]["content"]["parts"][0]["functionCall"].update(args={"city": 7}), "tool.args"),
        (lambda b: b["candidates"][0]["content"]["parts"][0]["functionCall"].update(name="nope"), "tool.name"),
        (lambda b: b["candidates"][0]["content"].update(role="assistant"), "schema"),
    ],
)
def test_body_rules(mutate: Any, code: str) -> None:
    body = copy.deepcopy(CALL)
    mutate(body)
    assert code in failing(GEN, REQUEST, body)


def test_undeclared_extra_args_are_tolerated() -> None:
    """The official API does not enforce additionalProperties false on a call's args (truth set)."""
    request = copy.deepcopy(REQUEST)
    decl = request["tools"][0]["functionDeclarations"][0]
    decl["parametersJsonSchema"] = {"type": "object", "properties": {}, "additionalProperties": False}
    del decl["parameters"]
    assert failing(GEN, request, CALL) == set()


def test_thought_rules() -> None:
    thought = copy.deepcopy(BODY)
    thought["candidates"][0]["content"]["parts"].insert(0, {"text": "thinking...", "thought": True})
    thought["usageMetadata"] = {**USAGE, "thoughtsTokenCount": 8, "totalTokenCount": 25}
    assert failing(GEN, THINKING, thought) == set()
    assert "gemini.thoughts_unrequested" in failing(GEN, REQUEST, thought)
    dropped = copy.deepcopy(thought)
    dropped["candidates"][0]["content"]["parts"].pop(0)
    assert "gemini.thoughts_dropped" in failing(GEN, THINKING, dropped)


def test_foreign_objects_and_errors_in_200() -> None:
    chat = {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": []}
    assert "object.kind" in failing(GEN, REQUEST, chat)
    assert "error.in_200" in failing(GEN, REQUEST, {"error": {"code": 500, "message": "x", "status": "INTERNAL"}})


def test_error_rules() -> None:
    openai = {
        "error": {"message": "bad key", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}
    }
    assert "error.shape" in failing(GEN, REQUEST, openai, 400)
    assert "gemini.error_status" in failing(
        GEN, REQUEST, {"error": {"code": 404, "message": "m", "status": "INTERNAL"}}, 404
    )
    assert "gemini.error_code" in failing(
        GEN, REQUEST, {"error": {"code": 400, "message": "m", "status": "NOT_FOUND"}}, 404
    )


def test_error_json_as_event_stream_is_judged_as_the_error() -> None:
    """The official API answers a failed stream request with its JSON error as text/event-stream."""
    err = {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}
    assert failing(STREAM, REQUEST, err, 400, SSE) == set()
    assert "error.shape" in failing(STREAM, REQUEST, {"error": {"message": "m", "type": "t"}}, 400, SSE)


# ---------------------------------------------------------------------------------------------
# streams


def test_clean_stream_passes_and_folds() -> None:
    chunks = [chunk([{"text": "It is"}]), chunk([{"text": " sunny."}], "STOP")]
    ev = evaluate_exchange(exchange(STREAM, REQUEST, 200, stream(chunks), SSE), "gemini", level="strict")
    assert [v.code for v in ev.violations if v.fails("strict")] == []
    assert DIALECT.text(ev.final) == "It is sunny." and DIALECT.stop_reason(ev.final) == "STOP"


@pytest.mark.parametrize(
    ("chunks", "named", "code"),
    [
        ([chunk([{"text": "a"}]), chunk([{"text": "b"}])], False, "grammar.gemini.no_finish"),
        ([chunk([{"text": "a"}], "STOP"), chunk([{"text": "b"}])], False, "grammar.gemini.after_finish"),
        ([chunk([{"text": "a"}]), chunk([{"text": "b"}], "STOP", rid="r2")], False, "grammar.gemini.response_id"),
        ([chunk([{"text": "a"}], "STOP")], True, "grammar.gemini.event_name"),
        ([chunk([{"text": "a"}], "STOP"), "[DONE]"], False, "sse.done"),
        (['{"candidates": [', chunk([{"text": "a"}], "STOP")], False, "sse.json"),
        ([chunk([{"text": "a"}], "STOP", {**USAGE, "totalTokenCount": 3})], False, "usage"),
        ([{"error": {"code": 500, "message": "x", "status": "INTERNAL"}}], False, "error.in_200"),
        ([{"object": "chat.completion.chunk", "id": "c", "choices": []}], False, "object.kind"),
    ],
)
def test_stream_rules(chunks: list[Any], named: bool, code: str) -> None:
    assert code in failing(STREAM, REQUEST, stream(chunks, named=named), 200, SSE)


def test_empty_stream_and_one_object_over_two_lines() -> None:
    assert "grammar.gemini.empty" in failing(STREAM, REQUEST, b": keep-alive\n\n", 200, SSE)
    text = json.dumps(chunk([{"text": "a"}], "STOP"))
    cut = text.index(",") + 1
    two_lines = f"data: {text[:cut]}\ndata: {text[cut:]}\n\n".encode()
    assert "sse.framing" in failing(STREAM, REQUEST, two_lines, 200, SSE)
    events, _ = sse.parse(two_lines)
    assert events[0].data_lines == 2


# ---------------------------------------------------------------------------------------------
# the reference gateway


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(KEY))


def _judge(res: Any, url: str, request: Any) -> set[str]:
    ctype = res.headers.get("content-type", "")
    ex = exchange(url, request, res.status_code, res.content, ctype)
    return {v.code for v in evaluate_exchange(ex, "gemini", level="strict").violations if v.fails("strict")}


def test_gateway_answers_pass_their_own_dialect(client: TestClient) -> None:
    for path, request in (
        ("/v1beta/models/gemini-2.5-flash:generateContent", REQUEST),
        ("/v1beta/models/gemini-2.5-flash:generateContent", THINKING),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", REQUEST),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", THINKING),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", {"contents": REQUEST["contents"]}),
    ):
        res = client.post(path, json=request, headers={"x-goog-api-key": KEY})
        assert res.status_code == 200, res.text
        assert _judge(res, "https://g.example" + path, request) == set(), (path, res.text[:500])


def test_gateway_auth_and_errors(client: TestClient) -> None:
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    body = {"contents": REQUEST["contents"]}
    assert client.post(f"{path}?key={KEY}", json=body).status_code == 200
    none = client.post(path, json=body)
    assert none.status_code == 403 and none.json()["error"]["status"] == "PERMISSION_DENIED"
    wrong = client.post(path, json=body, headers={"x-goog-api-key": "wrong"})
    assert wrong.status_code == 400 and wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    unknown = client.post("/v1beta/models/nope:generateContent", json=body, headers={"x-goog-api-key": KEY})
    assert unknown.status_code == 404 and unknown.json()["error"]["status"] == "NOT_FOUND"
    for res in (none, wrong, unknown):
        assert _judge(res, "https://g.example" + path, body) == set()
    models = client.get("/v1beta/models", headers={"x-goog-api-key": KEY}).json()
    assert "models/gemini-2.5-flash" in [m["name"] for m in models["models"]]


def test_gateway_faults_are_caught(client: TestClient) -> None:
    path = "/v1beta/models/gemini-2.5-flash:"
    for fault, method, request, code in (
        ("gemini-usage-total", "generateContent", THINKING, "usage"),
        ("gemini-args-string", "generateContent", REQUEST, "gemini.function_args"),
        ("gemini-thoughts-dropped", "streamGenerateContent?alt=sse", THINKING, "gemini.thoughts_dropped"),
        ("gemini-done", "streamGenerateContent?alt=sse", REQUEST, "sse.done"),
    ):
        res = client.post(path + method, json=request, headers={"x-goog-api-key": KEY, "x-relaycheck-fault": fault})
        assert code in _judge(res, "https://g.example" + path + method, request), fault
    res = client.post(path + "generateContent", json=REQUEST, headers={"x-relaycheck-fault": "gemini-openai-error"})
    assert "error.shape" in _judge(res, "https://g.example" + path + "generateContent", REQUEST)
