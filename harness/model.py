"""The engine's vocabulary: what was sent, what came back, and what was wrong with it.

Everything past the loaders is a frozen dataclass. Nothing here imports pytest: the same
objects serve live runs, cassettes and offline traffic logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "strict", "note"]
"""How bad a violation is.

- ``error``: breaks the official SDKs (fails both the ``compatible`` and ``strict`` levels).
- ``strict``: the official SDKs cope, but the bytes differ from the official wire format
  (fails only the ``strict`` level).
- ``note``: reported (e.g. fields the official API does not document), never fails.
"""

Level = Literal["strict", "compatible"]


@dataclass(frozen=True)
class Violation:
    """One broken invariant. ``code`` is stable and listed in ``harness.codes``."""

    code: str
    path: str
    message: str
    expected: Any = None
    actual: Any = None
    severity: Severity = "error"

    def fails(self, level: Level) -> bool:
        if self.severity == "note":
            return False
        return self.severity == "error" or level == "strict"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "path": self.path, "message": self.message}
        if self.expected is not None:
            out["expected"] = self.expected
        if self.actual is not None:
            out["actual"] = self.actual
        if self.severity != "error":
            out["severity"] = self.severity
        return out


@dataclass(frozen=True)
class WireRequest:
    """A request exactly as it goes on the wire. ``body`` holds the bytes sent."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def json(self) -> Any:
        """The parsed body, or None when it is empty or not JSON (a deliberately malformed case)."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def path(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.url).path


@dataclass(frozen=True)
class Chunk:
    """Bytes as they arrived, ``offset`` seconds after the request was sent."""

    offset: float
    data: bytes


@dataclass(frozen=True)
class Exchange:
    """One request and everything observed about its answer.

    ``error`` is set when the transport failed (connection refused, timeout, truncated body);
    ``status`` and ``chunks`` then hold whatever arrived before the failure.

    ``chunks`` hold the body as the client sees it: a compressed answer (``content-encoding`` in
    ``headers``) decoded chunk by chunk, each piece at the arrival time of the bytes it came from;
    ``wire_bytes`` is then how many bytes came over the wire (None: as many as the body has).
    """

    request: WireRequest
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    chunks: tuple[Chunk, ...] = ()
    ttft_ms: float | None = None
    latency_ms: float | None = None
    error: str | None = None
    error_code: str | None = None
    wire_bytes: int | None = None

    @property
    def content_encoding(self) -> str | None:
        """The Content-Encoding the answer came with (None: identity)."""
        value = self.headers.get("content-encoding", "").strip().lower()
        return value if value and value != "identity" else None

    @property
    def body(self) -> bytes:
        return b"".join(c.data for c in self.chunks)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def is_sse(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "text/event-stream"


@dataclass(frozen=True)
class ToolCall:
    """A tool call in dialect-neutral form."""

    name: str
    arguments: str  # the JSON text as sent (chat/responses) or re-serialised input (messages)
    id: str | None = None
    index: int | None = None

    def parsed_arguments(self) -> Any:
        return json.loads(self.arguments)
