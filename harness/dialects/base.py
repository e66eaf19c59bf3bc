"""What every wire format provides. A new format (Gemini, say) is one package under
``harness/dialects/<name>/`` exporting ``DIALECT`` (an object implementing ``Dialect``) and one
line in ``harness/dialects/registry.py``. Nothing outside the dialect may assume where a format
keeps its model or its stream flag, which paths it serves or how its usage is counted: it asks
the dialect (``build_request``, ``matches_path``, ``stream_requested``, ``usage``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from harness.model import Level, ToolCall, Violation
from harness.sse import SSEEvent

AuthStyle = Literal["bearer", "x-api-key", "both", "query"]  # "query": the key as ?key= (Gemini)
Profile = Literal["official", "open-responses"]


@dataclass(frozen=True)
class RequestShape:
    """Where a request goes and what it carries, as the dialect builds it: the path (the model may
    be in it), query parameters (Gemini's ``alt=sse``), and the JSON body (None: keep the case's)."""

    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class HeaderProfile:
    """The response headers of a vendor's official API: the request-id header it names every
    answer with, and the header names (and name prefixes) it sends; the rest is the relay's own."""

    request_id: str
    names: frozenset[str]
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Usage:
    """Token counts of a final object, in one vocabulary for every dialect (None: not reported)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    total_tokens: int | None = None


@dataclass(frozen=True)
class StreamVerdict:
    """What a dialect concluded from a stream: the violations and the folded final object
    (a chat.completion, a message, a response), or None when nothing could be folded."""

    violations: tuple[Violation, ...]
    final: Any


class Dialect(Protocol):
    name: str  # "chat" | "messages" | "responses" | ...: the endpoint name of cases and reports
    path: str  # canonical path template, e.g. "/v1/chat/completions"; may contain "{model}"
    models_path: str | None  # the list-models path (discover, first contact), None when there is none
    official_host: str | None  # the official API's host (lint-traffic --official), None: not known
    response_headers: HeaderProfile | None  # its vendor's response headers, None: headers not judged

    def build_request(self, payload: dict[str, Any] | None, model: str | None, stream: bool) -> RequestShape:
        """Where ``model`` and the stream flag go: into the body (OpenAI, Anthropic) or the path
        and query (Gemini). ``payload`` None (a raw or empty body) is passed through untouched."""
        ...

    def default_auth_style(self, gateway_auth: str) -> str:
        """The auth style a case's ``auth: gateway`` means on this dialect (the gateway's
        ``auth`` setting is how /v1/messages authenticates; OpenAI formats always use Bearer)."""
        ...

    def matches_path(self, method: str, path: str) -> bool:
        """Whether a recorded request path (maybe behind a base prefix, maybe with a query) is
        one of this dialect's own endpoints."""
        ...

    def stream_requested(self, path: str, query: str, body: Any) -> bool:
        """Whether this request asked for a stream."""
        ...

    def recognises(self, body: Any) -> str | None:
        """A short kind name when a JSON body is this dialect's main object or error (so another
        dialect can say "answered an Anthropic message"), else None."""
        ...

    def usage(self, final: Any) -> Usage | None:
        """The token counts of a final object, None when it carries none."""
        ...

    def auth_headers(self, api_key: str, style: AuthStyle, anthropic_version: str | None) -> dict[str, str]:
        """Headers that carry the key (and version) the way this dialect's clients send them."""
        ...

    def check_body(self, body: Any, request: Any, level: Level) -> list[Violation]:
        """A non-streamed 2xx JSON body: schema, ids, usage arithmetic, errors hidden in a 200,
        tool-call arguments against the tools the request declared."""
        ...

    def check_error(self, body: Any, status: int, level: Level) -> list[Violation]:
        """A 4xx/5xx JSON body: must be this dialect's own error shape."""
        ...

    def check_stream(
        self, events: Sequence[SSEEvent], request: Any, level: Level, profile: Profile = "official"
    ) -> StreamVerdict:
        """A parsed SSE stream: framing as this dialect writes it, per-event schemas, the stream
        grammar, and the folded final object checked like a non-streamed body."""
        ...

    def tool_calls(self, final: Any) -> list[ToolCall]:
        """Tool calls in a final object (body or folded stream)."""
        ...

    def text(self, final: Any) -> str:
        """The assistant's visible text in a final object."""
        ...

    def stop_reason(self, final: Any) -> str | None:
        """finish_reason / stop_reason / status of a final object."""
        ...
