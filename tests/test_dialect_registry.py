"""The dialect registry and the interface every format implements (DIALECT_CONTRACT): the
endpoint list, path recognition, where model and stream go, objects and usage."""

from __future__ import annotations

import pytest

from harness import dialects
from harness.dialects import registry
from harness.dialects.base import RequestShape, Usage


def test_the_endpoint_list_is_the_registry() -> None:
    assert registry.names()[:3] == ("chat", "messages", "responses")
    assert dialects.ENDPOINTS == registry.names()
    for name in registry.names():
        assert registry.get(name).name == name
    with pytest.raises(KeyError, match="unknown endpoint"):
        registry.get("nope")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/chat/completions", "chat"),
        ("/openai/v1/chat/completions/?x=1", "chat"),
        ("/v1/messages", "messages"),
        ("/v1/messages/count_tokens", None),
        ("/v1/responses", "responses"),
        ("/v1/models", None),
    ],
)
def test_for_path_asks_each_dialect(path: str, expected: str | None) -> None:
    found = registry.for_path("POST", path)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize("name", ["chat", "messages", "responses"])
def test_body_formats_put_model_and_stream_in_the_body(name: str) -> None:
    d = registry.get(name)
    shape = d.build_request({"max_tokens": 5}, "m1", True)
    assert shape == RequestShape(d.path, (), {"model": "m1", "max_tokens": 5, "stream": True})
    assert d.build_request({"model": "own"}, "m1", False).body == {"model": "own"}
    assert d.build_request(None, "m1", True) == RequestShape(d.path)
    assert d.stream_requested(d.path, "", shape.body) is True
    assert d.stream_requested(d.path, "", {"stream": "yes"}) is False


def test_each_dialect_recognises_only_its_own_objects() -> None:
    bodies = {
        "chat": {"object": "chat.completion", "choices": []},
        "messages": {"type": "message", "content": []},
        "responses": {"object": "response", "output": []},
    }
    for name, body in bodies.items():
        for other in ("chat", "messages", "responses"):
            kind = registry.get(other).recognises(body)
            assert (kind is not None) == (other == name), (name, other, kind)


def test_usage_in_one_vocabulary() -> None:
    chat = {"usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
    assert registry.get("chat").usage(chat) == Usage(3, 2, None, 5)
    msg = {"usage": {"input_tokens": 3, "output_tokens": 2, "cache_read_input_tokens": 1}}
    assert registry.get("messages").usage(msg) == Usage(4, 2, 1, None)  # input = the whole prompt
    resp = {"usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5, "input_tokens_details": {}}}
    assert registry.get("responses").usage(resp) == Usage(3, 2, None, 5)
    assert registry.get("chat").usage({"usage": None}) is None


def test_auth_style_is_the_dialects() -> None:
    assert registry.get("messages").default_auth_style("x-api-key") == "x-api-key"
    assert registry.get("chat").default_auth_style("x-api-key") == "bearer"
    assert registry.get("responses").default_auth_style("both") == "bearer"


def test_errors_are_recognised_by_the_dialects_that_send_them() -> None:
    from harness.dialects.kit.foreign import error_kind, foreign_kind

    openai = {"error": {"message": "bad", "type": "invalid_request_error", "param": None, "code": None}}
    anthropic = {"type": "error", "error": {"type": "api_error", "message": "x"}}
    assert [registry.get(n).recognises(openai) for n in ("chat", "messages", "responses")] == [
        "OpenAI error",
        None,
        "OpenAI error",
    ]
    assert registry.get("messages").recognises(anthropic) == "Anthropic error"
    assert error_kind(openai) == "OpenAI error" and error_kind(anthropic) == "Anthropic error"
    assert error_kind({"object": "response", "error": {"message": "failed"}}) is None  # a failed Response
    assert foreign_kind({"type": "message", "content": []}, "chat") == "a messages 'message' object"
    assert foreign_kind({"type": "message", "content": []}, "messages") is None
    assert foreign_kind({"object": "text_completion"}, "messages") == "a legacy text_completion object"


class _PathPlaced:
    """A format that keeps the model in the path and the stream flag in the query (Gemini's way),
    to show the runner and the engine place and read them only through the dialect."""

    name = "pathfmt"
    path = "/v1beta/models/{model}:generate"
    models_path = None
    official_host = None

    def build_request(self, payload, model, stream):  # type: ignore[no-untyped-def]
        verb = "streamGenerate" if stream else "generate"
        return RequestShape(f"/v1beta/models/{model}:{verb}", (("alt", "sse"),) if stream else (), payload)

    def default_auth_style(self, gateway_auth: str) -> str:
        return "query"

    def auth_headers(self, api_key, style, version):  # type: ignore[no-untyped-def]
        return {"x-goog-api-key": api_key}

    def matches_path(self, method: str, path: str) -> bool:
        return ":generate" in path or ":streamGenerate" in path

    def stream_requested(self, path: str, query: str, body: object) -> bool:
        return path.endswith(":streamGenerate")


def test_the_runner_asks_the_dialect_where_model_stream_and_key_go(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    from types import SimpleNamespace

    from harness.cases import RequestSpec
    from harness.runner import build_request

    monkeypatch.setitem(registry._loaded(), "pathfmt", _PathPlaced())
    gw = SimpleNamespace(
        auth="bearer",
        api_key=lambda: "sk-test",
        anthropic_version="2023-06-01",
        extra_headers=dict,
        url=lambda path, base: base.rstrip("/") + path,
    )
    ctx = SimpleNamespace(gateway=gw, base_url="http://127.0.0.1:9")
    spec = RequestSpec(body_json=json.dumps({"contents": []}))
    req = build_request(spec, "pathfmt", SimpleNamespace(model="g-1", stream=True), ctx, {})  # type: ignore[arg-type]
    assert req.url == "http://127.0.0.1:9/v1beta/models/g-1:streamGenerate?key=sk-test&alt=sse"
    assert json.loads(req.body) == {"contents": []}  # no model, no "stream" in the body
    assert "authorization" not in {k.lower() for k in req.headers}
    assert registry.for_path("POST", "/v1beta/models/g-1:streamGenerate").name == "pathfmt"
    assert registry.get("pathfmt").stream_requested("/v1beta/models/g-1:streamGenerate", "alt=sse", {})


def test_every_dialect_folder_is_registered_and_loads() -> None:
    """A format is one folder plus one line in registry.BUILTIN: a folder left out of the list,
    or one that fails to import, fails here (only a package not yet merged may be absent)."""
    from tests.conftest import REPO

    folders = {
        p.name for p in (REPO / "harness" / "dialects").iterdir() if (p / "__init__.py").exists() and p.name != "kit"
    }
    assert folders == set(registry.names())
    assert {f"harness.dialects.{n}" for n in folders} <= set(registry.BUILTIN)
