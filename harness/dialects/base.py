"""What every wire format provides. A new format (Gemini, say) is one module implementing this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from harness.model import Level, ToolCall, Violation
from harness.sse import SSEEvent

AuthStyle = Literal["bearer", "x-api-key", "both"]
Profile = Literal["official", "open-responses"]


@dataclass(frozen=True)
class StreamVerdict:
    """What a dialect concluded from a stream: the violations and the folded final object
    (a chat.completion, a message, a response), or None when nothing could be folded."""

    violations: tuple[Violation, ...]
    final: Any


class Dialect(Protocol):
    name: str  # "chat" | "messages" | "responses"
    path: str  # e.g. "/v1/chat/completions"

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
