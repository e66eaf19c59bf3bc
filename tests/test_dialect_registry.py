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
    assert registry.get("messages").usage(msg) == Usage(3, 2, 1, None)
    resp = {"usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5, "input_tokens_details": {}}}
    assert registry.get("responses").usage(resp) == Usage(3, 2, None, 5)
    assert registry.get("chat").usage({"usage": None}) is None


def test_auth_style_is_the_dialects() -> None:
    assert registry.get("messages").default_auth_style("x-api-key") == "x-api-key"
    assert registry.get("chat").default_auth_style("x-api-key") == "bearer"
    assert registry.get("responses").default_auth_style("both") == "bearer"
