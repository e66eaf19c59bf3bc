"""The wire formats: one package per format, registered in ``harness.dialects.registry``.
``get(name)`` returns the dialect object; ``ENDPOINTS`` (the registered names) is computed
from the registry when first read, so importing a dialect never loads the others."""

from __future__ import annotations

from typing import Any

from harness.dialects.base import Dialect, RequestShape, StreamVerdict, Usage


def get(name: str) -> Dialect:
    from harness.dialects import registry

    return registry.get(name)


def __getattr__(name: str) -> Any:
    if name == "ENDPOINTS":
        from harness.dialects import registry

        return registry.names()
    raise AttributeError(f"module 'harness.dialects' has no attribute {name!r}")


__all__ = ["ENDPOINTS", "Dialect", "RequestShape", "StreamVerdict", "Usage", "get"]
