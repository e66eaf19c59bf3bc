"""Fast and gentle at scale: live items in flight at once (the in-process pool), the shared rate
limit and retries wired into real runs, the reference gateway's slow mode, and the timeouts that
cut a relay that stalls. Timing assertions are bounds that a broken feature cannot meet
(a serial run cannot beat N x latency; an unlimited one cannot take N x spacing)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
import pytest

from harness.cli import build_parser
from harness.gateways import ConfigError, Timeouts, load_gateways
from harness.model import WireRequest
from harness.refgateway import start_in_thread
from harness.transport import Transport
from tests.conftest import TEST_KEY

CHAT = {"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"}


def chat_cases(n: int) -> str:
    """n chat cases, each streamed and not: 2n items."""
    one = """\
  - id: c{i}
    description: plain text {i}
    endpoint: chat
    stream: both
    request:
      body: {{max_tokens: 64, messages: [{{role: user, content: "Say hello {i}."}}]}}
    expect: {{status: 200}}
"""
    return "cases:\n" + "".join(one.format(i=i) for i in range(n))


def configure(p: pytest.Pytester, **fields: object) -> None:
    """Add gateway fields (concurrency, retries, rate_limit_rpm, ...) to the project's gateways.yaml."""
    path = p.path / "gateways.yaml"
    extra = "".join(f"    {k}: {v}\n" for k, v in fields.items())
    path.write_text(path.read_text().replace("    timeouts:", extra + "    timeouts:", 1))


def session_seconds(result: pytest.RunResult) -> float:
    match = re.search(r" in ([\d.]+)s", result.stdout.str())
    assert match, result.stdout.str()
    return float(match.group(1))


def summary(p: pytest.Pytester) -> dict:
    return json.loads((p.path / "reports" / "summary.json").read_text())


def test_live_items_run_concurrently_up_to_the_gateway_limit(relay_project: Callable, faulty_gateway: Callable) -> None:
    # chunk_delay: streamed answers arrive spread out, as real ones (else stream.buffered, rightly).
    p = relay_project(faulty_gateway(latency=0.5, chunk_delay=0.01), {"chat/many.yaml": chat_cases(6)})
    configure(p, concurrency=12)
    result = p.runpytest_subprocess("cases", "-p", "no:randomly")
    result.assert_outcomes(passed=12)
    # One at a time, 12 items cannot take less than 12 x 0.5 s = 6 s.
    assert session_seconds(result) < 3.0
    # Reported in collection order, each with its own result.
    ids = [i["id"] for i in summary(p)["items"]]
    assert len(ids) == 12 and all(i["outcome"] == "passed" for i in summary(p)["items"])


def test_concurrency_flag_overrides_the_gateway(relay_project: Callable, faulty_gateway: Callable) -> None:
    p = relay_project(faulty_gateway(latency=0.4, chunk_delay=0.01), {"chat/many.yaml": chat_cases(2)})
    configure(p, concurrency=16)
    result = p.runpytest_subprocess("cases", "--concurrency", "1")
    result.assert_outcomes(passed=4)
    assert session_seconds(result) >= 1.6  # 4 x 0.4 s, one after the other


def test_recording_is_never_pooled(relay_project: Callable, faulty_gateway: Callable) -> None:
    # A pooled item would bypass its cassette: every item must still have written one.
    p = relay_project(faulty_gateway(latency=0.1, chunk_delay=0.01), {"chat/many.yaml": chat_cases(3)})
    configure(p, concurrency=8)
    p.runpytest_subprocess("cases", "--record-mode", "all").assert_outcomes(passed=6)
    assert len([f for f in (p.path / "cassettes").rglob("*.yaml") if f.is_file()]) == 6
    p.runpytest_subprocess("cases", "--record-mode", "none").assert_outcomes(passed=6)


def test_429_is_retried_with_a_note(relay_project: Callable, faulty_gateway: Callable) -> None:
    p = relay_project(faulty_gateway(fail_every=2, retry_after=0.1), {"chat/many.yaml": chat_cases(2)})
    configure(p, retries=2, concurrency=1)
    p.runpytest_subprocess("cases").assert_outcomes(passed=4)
    notes = [v for i in summary(p)["items"] for v in i["notes"] if v["code"] == "transport.retry"]
    # 7 requests (4 items + 3 retries): the 2nd, 4th and 6th were refused, each retry reported.
    assert len(notes) == 3
    assert all("HTTP 429: retry 1 after Retry-After 0.1 s" in n["message"] for n in notes)


def test_without_retries_the_429_fails_the_item(relay_project: Callable, faulty_gateway: Callable) -> None:
    p = relay_project(faulty_gateway(fail_every=2, retry_after=0.1), {"chat/many.yaml": chat_cases(2)})
    configure(p, retries=0, concurrency=1)
    p.runpytest_subprocess("cases").assert_outcomes(passed=2, failed=2)


def test_rate_limit_holds_across_the_pool(relay_project: Callable, faulty_gateway: Callable, tmp_path) -> None:
    p = relay_project(faulty_gateway(), {"chat/many.yaml": chat_cases(3)})
    configure(p, concurrency=8, rate_limit_rpm=120)  # one request every 0.5 s
    result = p.runpytest_subprocess("cases")
    result.assert_outcomes(passed=6)
    assert session_seconds(result) >= 2.5  # 6 requests, 5 gaps of 0.5 s, however many threads
    # --rate-limit overrides the file: 6000/min is 10 ms apart, far under the 2.5 s above.
    result = p.runpytest_subprocess("cases", "--rate-limit", "6000")
    result.assert_outcomes(passed=6)
    assert session_seconds(result) < 2.5


def test_gateway_config_fields(tmp_path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(
        "gateways:\n  r:\n    base_url: http://127.0.0.1:1\n    concurrency: 16\n"
        "    rate_limit_rpm: 300\n    retries: 3\n    retry_budget_s: 20\n"
    )
    gw = load_gateways(path)[0]["r"]
    assert (gw.concurrency, gw.rate_limit_rpm, gw.retries, gw.retry_budget_s) == (16, 300.0, 3, 20.0)
    path.write_text("gateways:\n  r:\n    base_url: http://127.0.0.1:1\n    concurrency: 0\n")
    with pytest.raises(ConfigError, match="concurrency must be a positive number"):
        load_gateways(path)


def test_fail_every_answers_official_429s() -> None:
    with start_in_thread(TEST_KEY, fail_every=3, retry_after=2) as gw:
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        statuses = [httpx.post(gw.base_url + "/v1/chat/completions", json=body, headers=CHAT) for _ in range(6)]
        assert [r.status_code for r in statuses] == [200, 200, 429, 200, 200, 429]
        refused = statuses[2]
        assert refused.headers["retry-after"] == "2"
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert refused.json()["error"]["type"] == "requests"
        msg = {"model": "claude-sonnet-4-20250514", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
        answers = [
            httpx.post(gw.base_url + "/v1/messages", json=msg, headers={"x-api-key": TEST_KEY}) for _ in range(3)
        ]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[2].json()["error"]["type"] == "rate_limit_error"


def test_serve_exposes_slow_mode() -> None:
    args = build_parser().parse_args(
        ["serve", "--latency", "0.5", "--chunk-delay", "0.02", "--fail-every", "10", "--retry-after", "3"]
    )
    assert (args.latency, args.chunk_delay, args.fail_every, args.retry_after) == (0.5, 0.02, 10, 3.0)
    run = build_parser().parse_args(["run", "--concurrency", "16", "--rate-limit", "600"])
    assert (run.concurrency, run.rate_limit) == (16, 600.0)


def _stream_request(base_url: str) -> WireRequest:
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Say hello."}]}
    return WireRequest("POST", base_url + "/v1/chat/completions", CHAT, json.dumps(body).encode())


def test_a_stall_mid_stream_is_cut_by_the_first_byte_timeout(faulty_gateway: Callable) -> None:
    url = faulty_gateway(chunk_delay=1.0)
    t = Transport(Timeouts(connect=2, first_byte=0.3, total=30))
    try:
        ex = t.send(_stream_request(url))
    finally:
        t.close()
    assert ex.error_code == "transport.timeout" and "waiting for the next chunk" in (ex.error or "")
    assert ex.chunks and ex.latency_ms is not None and ex.latency_ms < 900


def test_total_timeout_is_checked_between_chunks(faulty_gateway: Callable) -> None:
    url = faulty_gateway(chunk_delay=0.1)
    t = Transport(Timeouts(connect=2, first_byte=5, total=0.35))
    try:
        ex = t.send(_stream_request(url))
    finally:
        t.close()
    assert ex.error_code == "transport.timeout" and "total time exceeded" in (ex.error or "")
    assert ex.latency_ms is not None and 350 <= ex.latency_ms < 700
