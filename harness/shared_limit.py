"""One rate limit for every machine that tests the same relay with the same key: the
per-gateway limiter of harness/resilience.py kept in Redis instead of a local file, so the
shards of a CI matrix (each on its own runner) share one budget.

The counting is the ``limits`` library's (its moving-window strategy and Redis storage, the
optional extra ``relaycheck[redis]``), not a script of ours. A moving window needs whole
seconds, so R requests per minute become ``amount`` per ``seconds`` with the same rate (600/min
-> 10 per 1 s, 90/min -> 3 per 2 s): never more than R in any minute, and never more than
``amount`` in any ``seconds``-long stretch (a burst up to ``amount`` is allowed, where the file
limiter spaces every request). The window runs on the clients' clocks (limits stamps entries
with time.time()), so the machines sharing it should be NTP-synchronised, as CI runners are.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from harness.gateways import ConfigError

SCHEMES = ("redis", "rediss", "redis+unix")
_ENV = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")


class BackendError(RuntimeError):
    """The shared limiter's store failed while the run was going (the item errors, saying so)."""


def resolve_url(spec: str) -> str:
    """The backend URL from ``redis://...`` or ``env:NAME`` (a variable holding it, for URLs with
    a password that belong in a CI secret, not in gateways.yaml). Raises ConfigError."""
    m = _ENV.fullmatch(spec.strip())
    url = os.environ.get(m.group(1), "").strip() if m else spec.strip()
    if m and not url:
        raise ConfigError(f"rate-limit backend {spec}: ${m.group(1)} is not set")
    if urlsplit(url).scheme not in SCHEMES:
        raise ConfigError(
            f"rate-limit backend {describe(url) if not m else spec + ' (its value)'}: expected a redis://, "
            "rediss:// or redis+unix:// URL (or env:NAME naming a variable that holds one)"
        )
    return url


def describe(url: str) -> str:
    """The URL without its password (user:password@), for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}{port}").geturl()


def window(per_minute: float) -> tuple[int, int]:
    """``(amount, seconds)``: the same rate as ``per_minute`` in the shortest whole-second window.
    A fraction of a request per minute is dropped (rounding down never exceeds the limit)."""
    if per_minute >= 1:
        n = int(per_minute)
        g = math.gcd(n, 60)
        return n // g, 60 // g
    return 1, math.ceil(60 / per_minute)


def limit_key(base_url: str, api_key: str | None) -> str:
    """What the relay limits: its address and the key. Only a digest of the key is stored."""
    return hashlib.sha256(f"{base_url}\n{api_key or ''}".encode()).hexdigest()[:32]


def _limits() -> Any:
    try:
        import limits
        import limits.storage
        import limits.strategies
    except ImportError:
        raise ConfigError(
            "a redis rate-limit backend needs the optional dependencies: pip install 'relaycheck[redis]'"
        ) from None
    return limits


def check(spec: str) -> None:
    """At start: the backend answers (one ping), so a typo fails the run at once, not every item."""
    url = resolve_url(spec)
    storage = _limits().storage.storage_from_string(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        ok = storage.check()
    except Exception:  # limits wraps some errors, the redis client raises others
        ok = False
    if not ok:
        raise ConfigError(f"rate-limit backend {describe(url)} does not answer")


@dataclass
class RedisRateLimiter:
    """At most ``per_minute`` requests per minute for ``key``, counted in Redis and shared by
    every process and machine using the same backend, key and rate. Same interface as
    resilience.RateLimiter: ``acquire`` waits for a slot and returns the seconds waited."""

    per_minute: float
    key: str
    url: str = field(repr=False)  # may hold a password
    clock: Callable[[], float] = time.time
    _strategy: Any = field(init=False, repr=False)
    _item: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lib = _limits()
        amount, seconds = window(self.per_minute)
        self._item = lib.RateLimitItemPerSecond(amount, seconds, namespace="relaycheck")
        storage = lib.storage.storage_from_string(resolve_url(self.url), socket_connect_timeout=5, socket_timeout=5)
        self._strategy = lib.strategies.MovingWindowRateLimiter(storage)

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> float:
        waited = 0.0
        seconds = self._item.get_expiry()
        while True:
            try:
                if self._strategy.hit(self._item, self.key):
                    return waited
                reset, _ = self._strategy.get_window_stats(self._item, self.key)
            except Exception as exc:  # the store went away mid-run: this item errors, saying why
                raise BackendError(
                    f"rate-limit backend {describe(resolve_url(self.url))}: {type(exc).__name__}: {exc}"
                ) from None
            # Until the oldest request leaves the window; another process may take that slot
            # first, in which case the loop asks again.
            wait = min(max(reset - self.clock(), 0.005), float(seconds))
            sleep(wait)
            waited += wait
