"""Record and replay that keep the stream: one vcrpy cassette per item, with each chunk's
arrival offset, redacted before it reaches disk, replayed offline. See docs/recording.md.

The names below load on first use (PEP 562), so ``harness.recording.stored`` (the cassette
format lint-traffic reads too) can be imported without vcrpy, httpx and the runner.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Eager and light (stdlib only): ``offline`` is also the name of its submodule, and a lazy name
# would lose to the submodule once anything imported ``harness.recording.offline``.
from harness.recording.offline import OfflineError, offline

if TYPE_CHECKING:
    from harness.recording.options import (
        PACINGS,
        RECORD_MODES,
        RecordOptions,
        add_options,
        describe,
        from_values,
    )
    from harness.recording.transport import (
        CassetteTransport,
        ItemReplay,
        display,
        item_scope,
        session_transport,
    )

_WHERE = {
    "PACINGS": "options",
    "RECORD_MODES": "options",
    "RecordOptions": "options",
    "add_options": "options",
    "describe": "options",
    "from_values": "options",
    "CassetteTransport": "transport",
    "ItemReplay": "transport",
    "display": "transport",
    "item_scope": "transport",
    "session_transport": "transport",
}

__all__ = [
    "PACINGS",
    "RECORD_MODES",
    "CassetteTransport",
    "ItemReplay",
    "OfflineError",
    "RecordOptions",
    "add_options",
    "describe",
    "display",
    "from_values",
    "item_scope",
    "offline",
    "session_transport",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
