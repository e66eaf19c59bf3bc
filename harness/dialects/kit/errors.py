"""Error bodies: which dialect's error shape a body has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def error_shape(body: Any) -> str:
    """What an error body looks like, for a message: another dialect's error shape only when it
    is one, otherwise its keys, so a vendor sees what was sent instead of a wrong guess."""
    if not isinstance(body, Mapping):
        return f"not an error object but a JSON {type(body).__name__.replace('dict', 'object')}"
    err = body.get("error")
    if body.get("type") == "error" and isinstance(err, Mapping) and "type" in err and "message" in err:
        return "an Anthropic-shaped error"
    if "type" not in body and isinstance(err, Mapping) and isinstance(err.get("message"), str) and "type" in err:
        return "an OpenAI-shaped error"
    inner = f", error keys {sorted(err)}" if isinstance(err, Mapping) else ""
    return f"an error body of unknown shape (keys {sorted(body)}{inner})"
