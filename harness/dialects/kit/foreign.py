"""Another dialect's object where this dialect's belongs: every registered dialect is asked
whether it ``recognises`` the body, so a new format is named here without an edit (the kit imports
no concrete dialect; the registry loads them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Shapes of no registered dialect that translating relays still hand back.
_LEGACY = {"text_completion": "a legacy text_completion object"}


def openai_error(body: Mapping[str, Any]) -> bool:
    """OpenAI's error shape (chat and responses share it): ``{"error": {"message": ..., ...}}``
    and no object or type of its own (Anthropic's error has a top-level ``"type": "error"``)."""
    err = body.get("error")
    own = "object" in body or "type" in body
    return not own and isinstance(err, Mapping) and isinstance(err.get("message"), str)


def error_kind(body: Any) -> str | None:
    """Which dialect's error a body is (e.g. "Anthropic error"), None when no dialect calls it an
    error: an error in a 2xx answer is named the same way on every dialect."""
    if not isinstance(body, Mapping):
        return None
    from harness.dialects import registry

    for dialect in registry.all_dialects():
        kind = dialect.recognises(body)
        if kind is not None and kind.endswith("error"):
            return kind
    return None


def foreign_kind(body: Any, own: str) -> str | None:
    """What another dialect calls ``body`` (e.g. "a messages 'message' object"), or None."""
    if not isinstance(body, Mapping):
        return None
    from harness.dialects import registry

    for dialect in registry.all_dialects():
        if dialect.name == own:
            continue
        kind = dialect.recognises(body)
        if kind is not None:
            return f"a {dialect.name} {kind!r} object"
    legacy = body.get("object")
    return _LEGACY.get(legacy) if isinstance(legacy, str) else None
