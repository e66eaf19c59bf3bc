"""The offline guarantee: while a cassette is replayed, no socket leaves the replaying thread.

Replay never needs the network, so anything that tries (a live fallback nobody meant, a
library phoning home, a DNS lookup) is a bug in the run, not a result: it raises
:class:`OfflineError` at once instead of quietly reaching a server.

The guard is per thread, not per process: live items of the same run go on in the pool's
threads (harness/pool.py) while an item replays in pytest's thread, and they must keep their
network. The socket functions are wrapped once while any thread is offline; the wrapper refuses
only in a thread that is inside an ``offline`` block and calls the original everywhere else.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


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
_local = threading.local()  # .reasons: the offline blocks this thread is in, innermost last
_lock = threading.Lock()
_holders = 0  # offline blocks open in any thread; the wrappers are installed while > 0
_saved: list[tuple[Any, str, Any]] = []


def _reasons() -> list[Any]:
    reasons: list[Any] | None = getattr(_local, "reasons", None)
    if reasons is None:
        reasons = _local.reasons = []
    return reasons


def _guarded(original: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        reasons = getattr(_local, "reasons", None)
        if reasons:
            target = next((a for a in args if isinstance(a, tuple | str)), None)
            reason = reasons[-1]() if callable(reasons[-1]) else reasons[-1]
            raise OfflineError(f"relaycheck: network access during offline replay ({reason}): target {target!r}")
        return original(*args, **kwargs)

    return call


def _install() -> None:
    # socket.socket inherits connect from _socket.socket: what is not its own is deleted again
    # afterwards rather than copied onto it.
    _saved[:] = [(owner, name, vars(owner).get(name, _INHERITED)) for owner, name in _PATCHED]
    for owner, name, _ in _saved:
        setattr(owner, name, _guarded(getattr(owner, name)))


def _uninstall() -> None:
    for owner, name, original in reversed(_saved):
        if original is _INHERITED:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _saved.clear()


def is_offline() -> bool:
    """Whether the calling thread is inside an ``offline`` block."""
    return bool(getattr(_local, "reasons", None))


@contextmanager
def offline(reason: str | Callable[[], str]) -> Iterator[None]:
    """Refuse every outgoing connection and name lookup made by this thread inside the block.
    ``reason`` (or what it returns, asked only when something tries) names the block in the error.

    Nested blocks and blocks in several threads at once are fine: the wrappers are installed by
    the first block to open and removed by the last to close."""
    global _holders
    with _lock:
        if _holders == 0:
            _install()
        _holders += 1
    _reasons().append(reason)
    try:
        yield
    finally:
        _reasons().pop()
        with _lock:
            _holders -= 1
            if _holders == 0:
                _uninstall()
