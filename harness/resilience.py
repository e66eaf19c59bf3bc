"""Gentle at scale: a request-per-minute limit shared by every process of a run (xdist
workers included), and retries on 429 / 5xx / overloaded that honour Retry-After within a
budget. Every retry is reported; a success after retries passes with a note, never silently."""

from __future__ import annotations

import email.utils
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.breaker import Breaker
from harness.model import Exchange, Violation, WireRequest

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})  # 529: Anthropic overloaded_error


class Sender(Protocol):
    def send(self, request: WireRequest) -> Exchange: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    budget_s: float = 60.0  # the most a single request may spend waiting between attempts
    backoff_s: float = 1.0  # first wait when the answer names none (doubles each time)
    max_wait_s: float = 30.0  # a Retry-After longer than this is not waited for


def retry_after(exchange: Exchange, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or the
    retry-after-ms header some gateways send; None when absent or unreadable."""
    ms = exchange.headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = exchange.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _retryable(exchange: Exchange) -> bool:
    if exchange.error_code == "transport.connect" and exchange.status is None:
        return False  # a gateway that is down stays down; report it at once
    if exchange.status in RETRY_STATUSES:
        return True
    # Anthropic's overloaded error may arrive with other statuses through relays.
    return exchange.status is not None and exchange.status >= 400 and b"overloaded_error" in exchange.body[:2000]


def send_with_retries(
    sender: Sender,
    request: WireRequest,
    policy: RetryPolicy,
    *,
    expected_statuses: tuple[int, ...] = (),
    limiter: Limiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    breaker: Breaker | None = None,
) -> tuple[Exchange, list[Violation]]:
    """Send, retrying what the official clients retry. Returns the last exchange and one note
    per retry (code ``transport.retry``). A status the case expects is never retried. A 429 that
    is still there at the end is a ``transport.rate_limited`` violation. With a ``breaker``,
    nothing is sent to a gateway that stopped answering (see harness.breaker)."""
    notes: list[Violation] = []
    waited = 0.0
    attempt = 0
    while True:
        refused = breaker.refusal(request) if breaker is not None else None
        if refused is not None:
            return refused, notes
        if limiter is not None:
            waited += limiter.acquire(sleep)
        exchange = sender.send(request)
        if breaker is not None:
            breaker.observe(exchange)
        done = exchange.status in expected_statuses or not _retryable(exchange) or attempt >= policy.max_retries
        if done:
            return exchange, notes + _rate_limited(exchange, attempt, expected_statuses)
        hinted = retry_after(exchange)
        wait = hinted if hinted is not None else policy.backoff_s * (2**attempt)
        if wait > policy.max_wait_s or waited + wait > policy.budget_s:
            notes.append(_note(exchange, attempt, f"not retried: waiting {wait:g} s would exceed the retry budget"))
            return exchange, notes + _rate_limited(exchange, attempt, expected_statuses)
        attempt += 1
        why = f"Retry-After {hinted:g} s" if hinted is not None else f"backoff {wait:g} s"
        notes.append(_note(exchange, attempt, f"retry {attempt} after {why}"))
        sleep(wait)
        waited += wait


def _rate_limited(exchange: Exchange, attempt: int, expected: tuple[int, ...]) -> list[Violation]:
    """A 429 the case did not ask for, named as what it is: the relay (or its upstream) limits
    this run's rate; it was reached and answered."""
    if exchange.status != 429 or 429 in expected:
        return []
    after = f" after {attempt} retr{'y' if attempt == 1 else 'ies'}" if attempt else " (no retries configured)"
    hint = retry_after(exchange)
    wait = f"; it asked to wait {hint:g} s" if hint is not None else ""
    return [
        Violation(
            "transport.rate_limited",
            "$",
            f"rate limited: the gateway answered HTTP 429{after}{wait} (lower --rate-limit or --concurrency)",
            actual=429,
        )
    ]


def _note(exchange: Exchange, attempt: int, text: str) -> Violation:
    what = f"HTTP {exchange.status}" if exchange.status is not None else (exchange.error or "no answer")
    return Violation("transport.retry", "$", f"{what}: {text}", severity="note")


@dataclass
class RateLimiter:
    """At most ``per_minute`` requests per minute to one gateway, shared by every process that
    uses the same state file: requests are spaced 60/per_minute seconds apart. The spacing is
    kept in a small file under a lock (fcntl), so xdist workers share one budget."""

    per_minute: float
    key: str
    directory: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    clock: Callable[[], float] = time.time

    @property
    def path(self) -> Path:
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:16]
        return self.directory / f"relaycheck-rate-{digest}.json"

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Wait for this process's turn; returns the seconds waited."""
        interval = 60.0 / self.per_minute
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 256)
            try:
                next_free = float(json.loads(raw)["next"]) if raw else 0.0
            except (ValueError, KeyError, TypeError):
                next_free = 0.0
            now = self.clock()
            slot = max(now, next_free)
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"next": slot + interval}).encode())
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        wait = slot - now
        if wait > 0:
            sleep(wait)
        return max(0.0, wait)


class Limiter(Protocol):
    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> float: ...


def for_gateway(
    name: str,
    base_url: str,
    retries: int,
    budget_s: float,
    rate_limit_rpm: float | None,
    *,
    backend: str | None = None,
    api_key: str | None = None,
) -> tuple[RetryPolicy, Limiter | None]:
    """The retry policy and the shared limiter of one gateway. The file limiter's key is the
    gateway's name and address, so every process of a run on this machine (and only those
    aiming at the same relay) share one budget. With a ``backend`` (redis://... or env:NAME,
    see harness/shared_limit.py) the budget is kept in Redis under the relay's address and
    key, shared by every machine that tests that relay with that key (a CI matrix's shards)."""
    policy = RetryPolicy(max_retries=max(0, retries), budget_s=budget_s)
    if not rate_limit_rpm:
        return policy, None
    if backend:
        from harness.shared_limit import RedisRateLimiter, limit_key

        return policy, RedisRateLimiter(rate_limit_rpm, key=limit_key(base_url, api_key), url=backend)
    return policy, RateLimiter(rate_limit_rpm, key=f"{name}@{base_url}")
