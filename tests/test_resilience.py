"""Retries (429, 5xx, overloaded; Retry-After honoured within a budget; each one reported)
and the per-gateway rate limit shared across processes."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path

from harness.model import Chunk, Exchange, WireRequest
from harness.resilience import RateLimiter, RetryPolicy, retry_after, send_with_retries

REQ = WireRequest("POST", "http://127.0.0.1:1/v1/chat/completions", {}, b"{}")


def answer(status: int | None, headers: dict[str, str] | None = None, body: bytes = b"{}", **kw: object) -> Exchange:
    return Exchange(REQ, status, headers or {}, (Chunk(0.0, body),), **kw)  # type: ignore[arg-type]


class Scripted:
    def __init__(self, *answers: Exchange) -> None:
        self.answers = list(answers)
        self.sent = 0

    def send(self, request: WireRequest) -> Exchange:
        self.sent += 1
        return self.answers.pop(0)


def test_429_then_success_is_retried_with_retry_after_and_noted() -> None:
    waits: list[float] = []
    sender = Scripted(answer(429, {"retry-after": "2"}), answer(200))
    ex, notes = send_with_retries(sender, REQ, RetryPolicy(), sleep=waits.append)
    assert ex.status == 200 and sender.sent == 2 and waits == [2.0]
    assert [(n.code, n.severity) for n in notes] == [("transport.retry", "note")]
    assert "HTTP 429: retry 1 after Retry-After 2 s" in notes[0].message


def test_backoff_without_hint_and_the_retry_limit() -> None:
    waits: list[float] = []
    sender = Scripted(answer(503), answer(502), answer(500))
    ex, notes = send_with_retries(sender, REQ, RetryPolicy(max_retries=2, backoff_s=0.5), sleep=waits.append)
    assert ex.status == 500 and sender.sent == 3 and waits == [0.5, 1.0] and len(notes) == 2


def test_overloaded_error_body_is_retried() -> None:
    body = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    sender = Scripted(answer(400, body=body), answer(200))
    ex, _ = send_with_retries(sender, REQ, RetryPolicy(), sleep=lambda s: None)
    assert ex.status == 200


def test_budget_and_expected_status_stop_retries() -> None:
    sender = Scripted(answer(429, {"retry-after": "120"}))
    ex, notes = send_with_retries(sender, REQ, RetryPolicy(budget_s=10), sleep=lambda s: None)
    assert ex.status == 429 and sender.sent == 1 and "exceed the retry budget" in notes[0].message
    sender = Scripted(answer(429, {"retry-after": "1"}))
    ex, notes = send_with_retries(sender, REQ, RetryPolicy(), expected_statuses=(429,), sleep=lambda s: None)
    assert sender.sent == 1 and notes == []


def test_down_gateway_and_client_errors_are_not_retried() -> None:
    down = answer(None, error="refused", error_code="transport.connect")
    for ex in (down, answer(400), answer(401)):
        sender = Scripted(ex)
        send_with_retries(sender, REQ, RetryPolicy(), sleep=lambda s: None)
        assert sender.sent == 1


def test_retry_after_forms() -> None:
    assert retry_after(answer(429, {"retry-after": "3"})) == 3.0
    assert retry_after(answer(429, {"retry-after-ms": "250"})) == 0.25
    assert retry_after(answer(429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}), now=1445412470) == 10.0
    assert retry_after(answer(429, {"retry-after": "soon"})) is None


def test_rate_limiter_spaces_requests(tmp_path: Path) -> None:
    now = [1000.0]
    waits: list[float] = []
    limiter = RateLimiter(per_minute=120, key="gw", directory=tmp_path, clock=lambda: now[0])
    for _ in range(3):
        limiter.acquire(sleep=waits.append)
    assert waits == [0.5, 1.0]  # the first goes at once; then 0.5 s apart (time stood still)


def _acquire_many(directory: str, n: int) -> list[float]:
    """The slots this process was given (the moment it may send), without sleeping: slots
    are assigned under the lock, so their spacing is exact whatever the scheduler does."""
    clock = FrozenClock()
    limiter = RateLimiter(per_minute=600, key="shared", directory=Path(directory), clock=clock)
    return [clock.now + limiter.acquire(sleep=lambda s: None) for _ in range(n)]


class FrozenClock:
    now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_is_shared_across_processes(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(_acquire_many, [(str(tmp_path), 5), (str(tmp_path), 5)])
    slots = sorted(t for r in results for t in r)
    # 600/min = one slot every 0.1 s across both processes, none shared.
    assert [round(b - a, 6) for a, b in itertools.pairwise(slots)] == [0.1] * 9
