"""Slow mode: a gateway that makes a client wait and pushes back, for tests and benchmarks of
relaycheck's own concurrency, rate limit and retries. Latency per request and per chunk live in
create_app; this module adds ``fail_every``: every N-th request answers the official 429 (in
the dialect's own error shape) with a Retry-After header, as a rate-limited API does."""

from __future__ import annotations

import itertools
import threading

from starlette.responses import Response

from harness.refgateway.common import Ctx, RequestError
from harness.refgateway.errors import render_error

OPENAI_429 = (
    "Rate limit reached for requests per min (RPM): Limit {limit}, Used {limit}, Requested 1. "
    "Please try again in {wait}s. Visit https://platform.openai.com/account/rate-limits to learn more."
)
ANTHROPIC_429 = (
    "This request would exceed the rate limit for your organization of {limit} requests per minute. "
    "For details, refer to: https://docs.claude.com/en/api/rate-limits."
)


class FailEvery:
    """Counts requests (all endpoints together); the N-th, 2N-th, ... are refused with 429."""

    def __init__(self, every: int, retry_after: float = 1.0) -> None:
        if every < 0:
            raise ValueError("fail_every must be 0 (off) or a positive count")
        self.every, self.retry_after = every, retry_after
        self._count = itertools.count(1)
        self._lock = threading.Lock()  # the app may be served from several threads in tests

    def due(self) -> bool:
        if not self.every:
            return False
        with self._lock:
            return next(self._count) % self.every == 0

    def answer(self, dialect: str, ctx: Ctx) -> Response:
        wait = f"{self.retry_after:g}"
        if dialect == "messages":
            err = RequestError(429, ANTHROPIC_429.format(limit=self.every), kind="rate_limit_error")
        else:
            err = RequestError(
                429, OPENAI_429.format(limit=self.every, wait=wait), kind="requests", code="rate_limit_exceeded"
            )
        response = render_error(dialect, err, ctx, ctx.seed)
        # Official APIs send whole seconds; a fraction is allowed here so tests stay fast.
        response.headers["retry-after"] = wait
        return response
