"""One module per wire format. ``get(name)`` returns the dialect object."""

from __future__ import annotations

from harness.dialects.base import Dialect, StreamVerdict

ENDPOINTS = ("chat", "messages", "responses")


def get(name: str) -> Dialect:
    if name == "chat":
        from harness.dialects.chat import DIALECT
    elif name == "messages":
        from harness.dialects.messages import DIALECT
    elif name == "responses":
        from harness.dialects.responses import DIALECT
    else:
        raise KeyError(f"unknown endpoint {name!r} (expected one of {', '.join(ENDPOINTS)})")
    return DIALECT


__all__ = ["ENDPOINTS", "Dialect", "StreamVerdict", "get"]
