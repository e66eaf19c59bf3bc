"""A dead relay costs seconds, not half an hour: after a few consecutive transport failures on
one gateway (refused, reset or timed out before a single byte came back) nothing more is sent to
it; every later request fails at once with one ``transport.unreachable`` violation naming since
when and why. One Breaker per gateway and process, shared by the live pool's threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.model import Exchange, WireRequest

# Failures that mean "nobody answers there", as opposed to a relay answering badly.
_DOWN = frozenset({"transport.connect", "transport.timeout", "transport.reset"})


@dataclass(frozen=True)
class Outage:
    since: float  # wall-clock time of the first failure of the run that tripped the breaker
    cause: str

    def headline(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"gateway unreachable since {stamp}: {self.cause}"

    def message(self) -> str:
        return f"{self.headline()}; not sent (nothing more goes to this gateway in this run)"


def _down(exchange: Exchange) -> bool:
    return exchange.error_code in _DOWN and exchange.status is None and not exchange.chunks


class Breaker:
    def __init__(self, threshold: int, clock: Callable[[], float] = time.time) -> None:
        self.threshold = max(1, threshold)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._first: tuple[float, str] | None = None
        self.outage: Outage | None = None
        self.refused = 0  # requests not sent because of the outage

    def observe(self, exchange: Exchange) -> None:
        """Count a sent request's outcome: any answer at all resets the count."""
        with self._lock:
            if self.outage is not None:
                return
            if not _down(exchange):
                self._failures, self._first = 0, None
                return
            self._failures += 1
            if self._first is None:
                self._first = (self._clock(), exchange.error or exchange.error_code or "no answer")
            if self._failures >= self.threshold:
                since, cause = self._first
                self.outage = Outage(since, f"{cause} ({self._failures} requests in a row)")

    def refusal(self, request: WireRequest) -> Exchange | None:
        """The failed Exchange to report instead of sending, once the gateway counts as down."""
        with self._lock:
            if self.outage is None:
                return None
            self.refused += 1
            return Exchange(request, None, error=self.outage.message(), error_code="transport.unreachable")
