"""Serving the reference gateway with uvicorn: in a daemon thread (tests) or blocking (CLI).

Only loopback addresses are accepted: the gateway has no real secrets, but it must never become
a reachable service by accident.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from harness.refgateway.app import create_app

STARTUP_TIMEOUT = 10.0


def _check_loopback(host: str) -> None:
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"the reference gateway binds to loopback only, not {host!r}")


class RunningGateway:
    """A gateway serving in a daemon thread; ``close()`` (or leaving the ``with``) stops it."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int) -> None:
        self._server, self._thread = server, thread
        self.host, self.port = host, port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningGateway:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def start_in_thread(
    api_key: str, *, host: str = "127.0.0.1", port: int = 0, **create_app_kwargs: Any
) -> RunningGateway:
    """Serve in a daemon thread; port 0 picks a free port. Returns once connections are accepted."""
    _check_loopback(host)
    app = create_app(api_key, **create_app_kwargs)
    # Port 0 lets uvicorn bind a free port; the real one is read back once it is listening.
    # (Handing uvicorn a pre-bound socket instead made every response wait ~40 ms for a delayed ACK.)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="relaycheck-refgateway")
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("reference gateway did not start")
        time.sleep(0.01)
    actual_port = server.servers[0].sockets[0].getsockname()[1]
    return RunningGateway(server, thread, host, actual_port)


def serve(api_key: str, host: str = "127.0.0.1", port: int = 8765, **kw: Any) -> None:
    """Serve in the foreground until interrupted (``relaycheck serve``)."""
    _check_loopback(host)
    uvicorn.run(create_app(api_key, **kw), host=host, port=port, log_level="info", lifespan="off")
