"""Another dialect's object where this dialect's belongs: every registered dialect is asked
whether it ``recognises`` the body, so a new format is named here without an edit (the kit imports
no concrete dialect; the registry loads them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Shapes of no registered dialect that translating relays still hand back.
_LEGACY = {"text_completion": "a legacy text_completion object"}


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
