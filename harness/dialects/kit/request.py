"""Request placement and path matching for the formats that keep model and stream flag in the
JSON body (OpenAI Chat Completions and Responses, Anthropic Messages)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from harness.dialects.base import RequestShape


def in_body(path: str, payload: dict[str, Any] | None, model: str | None, stream: bool) -> RequestShape:
    """``model`` first in the body unless the case names one; ``"stream": true`` when streamed."""
    if payload is None:
        return RequestShape(path)
    if model is not None and "model" not in payload:
        payload = {"model": model, **payload}
    else:
        payload = dict(payload)
    if stream:
        payload["stream"] = True
    return RequestShape(path, (), payload)


def bare_path(path: str) -> str:
    """The path of a request path or URL, without query and trailing slash."""
    if "://" in path:
        path = urlsplit(path).path
    return path.split("?", 1)[0].rstrip("/")


def ends_with(path: str, endpoint: str) -> bool:
    """A recorded path names ``endpoint`` (maybe behind a base prefix such as /openai)."""
    return bare_path(path).endswith(endpoint)


def body_stream_flag(body: Any) -> bool:
    return isinstance(body, dict) and body.get("stream") is True
