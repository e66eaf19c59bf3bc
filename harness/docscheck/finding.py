"""A finding of ``relaycheck docs``: a line of a page, a code, a message; and what every check
needs to know about dialects (their names, which one a body belongs to)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.docscheck.extract import Block, Transcript
from harness.model import Level, Severity, Violation

DIALECT_NAME = {"chat": "Chat Completions", "messages": "Anthropic Messages", "responses": "Responses"}


@dataclass(frozen=True)
class Finding:
    page: str
    line: int
    code: str
    message: str
    severity: Severity = "error"
    piece: str = "page"  # which summary item it belongs to
    path: str = "$"

    def fails(self, level: Level) -> bool:
        return Violation(self.code, self.path, self.message, severity=self.severity).fails(level)

    def render(self) -> str:
        mark = "" if self.severity == "error" else f"({self.severity}) "
        return f"{self.page}:{self.line}: {self.code}: {mark}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "path": self.path, "message": self.message, "line": self.line}
        if self.severity != "error":
            out["severity"] = self.severity
        return out


def guess_endpoint(value: Any, role: str) -> str | None:
    """The dialect a body belongs to by its fields alone (when the page names no endpoint)."""
    if not isinstance(value, dict):
        return None
    if role == "request":
        tools = value.get("tools") if isinstance(value.get("tools"), list) else []
        if "input" in value:
            return "responses"
        if "thinking" in value or "system" in value or any(isinstance(t, dict) and "input_schema" in t for t in tools):
            return "messages"
        return "chat" if "messages" in value else None
    if "choices" in value or str(value.get("object", "")).startswith("chat.completion"):
        return "chat"
    if "output" in value or value.get("object") == "response":
        return "responses"
    if value.get("type") in ("message", "error") or "stop_reason" in value or "content" in value:
        return "messages"
    return None


def endpoint_of(page: str, block: Block | Transcript, value: Any, role: str) -> tuple[str | None, list[Finding]]:
    if block.endpoint:
        return block.endpoint, []
    guess = guess_endpoint(value, role)
    if guess is None:
        return None, [
            Finding(
                page,
                block.line,
                "docs.endpoint",
                f"the page names no endpoint for this {role} and its fields do not say; not judged",
                severity="note",
                piece=f"{role}@{block.line}",
            )
        ]
    return guess, [
        Finding(
            page,
            block.line,
            "docs.endpoint",
            f"the page names no endpoint for this {role}; judged as {DIALECT_NAME[guess]} by its fields",
            severity="note",
            piece=f"{role}@{block.line}",
        )
    ]
