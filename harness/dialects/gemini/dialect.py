"""Google Gemini (generativelanguage.googleapis.com, API version v1beta): the Dialect object.

Where it differs from the other three formats, and so why it is a good test of the interface:
the model is in the path (``/v1beta/models/{model}:generateContent``), a stream is another
method of the same resource (``:streamGenerateContent?alt=sse``) with an untouched body, the key
travels as ``x-goog-api-key`` (or ``?key=``), and the stream has no terminator of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.dialects.base import Profile, RequestShape, StreamVerdict, Usage
from harness.dialects.gemini import body as _body
from harness.dialects.gemini.errors import check_error_body, is_gemini_error
from harness.dialects.gemini.stream import check_stream
from harness.dialects.kit import usage as kit_usage
from harness.model import Level, ToolCall, Violation
from harness.sse import SSEEvent

# /v1beta/models/{model}:generateContent, behind any base prefix (a relay's /gemini/v1beta/...),
# also the stable /v1/ surface. The model id may itself be "models/x" or "tunedModels/x".
PATH_RE = re.compile(r"/v1(?:beta|alpha)?\d*/(?:models|tunedModels)/[^/:]+:(generateContent|streamGenerateContent)$")
GENERATE = "/v1beta/models/{model}:generateContent"
STREAM = "/v1beta/models/{model}:streamGenerateContent"


@dataclass(frozen=True)
class GeminiDialect:
    name: str = "gemini"
    path: str = GENERATE
    models_path: str | None = "/v1beta/models"
    official_host: str | None = "generativelanguage.googleapis.com"

    # -- requests ------------------------------------------------------------------------------

    def build_request(self, payload: dict[str, Any] | None, model: str | None, stream: bool) -> RequestShape:
        """The model goes into the path, a stream is the other method plus ``alt=sse``; the
        body is sent as the case wrote it, less a ``model`` or ``stream`` key (Gemini's body has
        neither: a case names a model of its own, e.g. an unknown one, with ``model:``)."""
        template = STREAM if stream else GENERATE
        body = None if payload is None else {k: v for k, v in payload.items() if k not in ("model", "stream")}
        if payload is not None and isinstance(payload.get("model"), str):
            model = payload["model"]  # a model the case names wins, as in the body-placed formats
        return RequestShape(
            template.replace("{model}", model or "unknown-model"), (("alt", "sse"),) if stream else (), body
        )

    def default_auth_style(self, gateway_auth: str) -> str:
        return "x-goog-api-key"

    def auth_headers(self, api_key: str, style: str, anthropic_version: str | None) -> dict[str, str]:
        if style == "query":
            return {}  # the key travels as ?key= (the caller puts it in the query string)
        if style == "bearer":
            return {"Authorization": f"Bearer {api_key}"}
        return {"x-goog-api-key": api_key}

    def matches_path(self, method: str, path: str) -> bool:
        return method.upper() == "POST" and PATH_RE.search(path.split("?", 1)[0].rstrip("/")) is not None

    def stream_requested(self, path: str, query: str, body: Any) -> bool:
        return path.split("?", 1)[0].rstrip("/").endswith(":streamGenerateContent")

    def model_of(self, path: str) -> str | None:
        m = re.search(r"/(?:models|tunedModels)/([^/:]+):", path)
        return m.group(1) if m else None

    def recognises(self, body: Any) -> str | None:
        if is_gemini_error(body):
            return "a Gemini error"
        if isinstance(body, dict) and ("candidates" in body or "promptFeedback" in body) and "usageMetadata" in body:
            return "a Gemini GenerateContentResponse"
        return None

    # -- answers -------------------------------------------------------------------------------

    def check_body(self, body: Any, request: Any, level: Level) -> list[Violation]:
        return _body.check_response(body, request)

    def check_error(self, body: Any, status: int, level: Level) -> list[Violation]:
        return check_error_body(body, status)

    def check_stream(
        self, events: Sequence[SSEEvent], request: Any, level: Level, profile: Profile = "official"
    ) -> StreamVerdict:
        return check_stream(events, request)

    def tool_calls(self, final: Any) -> list[ToolCall]:
        return _body.tool_calls(final)

    def text(self, final: Any) -> str:
        return _body.text(final)

    def stop_reason(self, final: Any) -> str | None:
        return _body.finish_reason(final)

    def usage(self, final: Any) -> Usage | None:
        """Output counts thoughts, as Gemini bills them; cached tokens are part of the input."""
        usage = final.get("usageMetadata") if isinstance(final, dict) else None
        if not isinstance(usage, dict):
            return None

        def count(key: str) -> int | None:
            return kit_usage.count(usage.get(key))

        out = [count("candidatesTokenCount"), count("thoughtsTokenCount")]
        output = None if all(x is None for x in out) else sum(x or 0 for x in out)
        return Usage(count("promptTokenCount"), output, count("cachedContentTokenCount"), count("totalTokenCount"))


DIALECT = GeminiDialect()
