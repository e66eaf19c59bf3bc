"""The offline guarantee: while a cassette is replayed, no socket leaves the process.

Replay never needs the network, so anything that tries (a live fallback nobody meant, a
library phoning home, a DNS lookup) is a bug in the run, not a result: it raises
:class:`OfflineError` at once instead of quietly reaching a server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn


class OfflineError(RuntimeError):
    """Something tried to use the network during an offline replay.

    A RuntimeError, not an OSError: httpx and httpcore turn OSErrors into their own
    connection errors, which the transport would report as an unreachable relay."""


_INHERITED = object()
_PATCHED = (
    (socket.socket, "connect"),
    (socket.socket, "connect_ex"),
    (socket, "create_connection"),
    (socket, "getaddrinfo"),  # a DNS lookup leaves the process too
)


@contextmanager
def offline(reason: str) -> Iterator[None]:
    """Refuse every outgoing connection and name lookup inside the block.

    Nested blocks are fine: each restores exactly what it replaced."""

    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        target = next((a for a in args if isinstance(a, tuple | str)), None)
        raise OfflineError(f"relaycheck: network access during offline replay ({reason}): target {target!r}")

    # socket.socket inherits connect from _socket.socket: what is not its own is deleted again
    # afterwards rather than copied onto it.
    saved = [(owner, name, vars(owner).get(name, _INHERITED)) for owner, name in _PATCHED]
    for owner, name, _ in saved:
        setattr(owner, name, refuse)
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
