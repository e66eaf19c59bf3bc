"""The rate limit shared through Redis (gateways.yaml ``rate_limit_backend``, relaycheck[redis]):
several processes using one limit never exceed it together, against a real redis-server the
test starts on loopback. In CI (CI=true) a missing redis-server or missing extra is a failure,
not a skip: .ci/run installs both."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.gateways import ConfigError, load_gateways
from harness.shared_limit import describe, limit_key, resolve_url, window
from tests.conftest import TEST_KEY

RPM = 600  # = 10 per 1 s moving window
PROCESSES = 3
SECONDS = 2.0  # each process asks for slots as fast as it can for this long
SLACK = 0.05  # the most a process may take between being granted a slot and noting the time


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}; CI must provide it (.ci/run installs redis-server and relaycheck[redis])")
    pytest.skip(f"{why} (Debian: apt-get install redis-server; pip install -e '.[dev]'); CI runs this test")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        _unavailable("redis-server is not installed")
    try:
        import limits  # noqa: F401
        import redis
    except ImportError:
        _unavailable("the redis extra (limits[redis]) is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _warm(_: int) -> None:
    import limits.strategies  # noqa: F401

    import harness.shared_limit  # noqa: F401


def _hammer(url: str, key: str, start_at: float, seconds: float) -> list[float]:
    """One process: take slots from the limiter as fast as it gives them, from start_at on."""
    from harness.shared_limit import RedisRateLimiter

    limiter = RedisRateLimiter(RPM, key=key, url=url)
    time.sleep(max(0.0, start_at - time.time()))
    granted = []
    while time.time() < start_at + seconds:
        limiter.acquire()
        granted.append(time.time())
    return granted


def _busiest(times: list[float], span: float) -> int:
    """The most grants in any window [t, t + span) starting at a grant."""
    times = sorted(times)
    j = 0
    best = 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + span:
            j += 1
        best = max(best, j - i)
    return best


def _run(pool: Any, url: str, keys: list[str]) -> list[float]:
    start_at = time.time() + 0.5
    results = pool.starmap(_hammer, [(url, k, start_at, SECONDS) for k in keys])
    return [t for r in results for t in r]


def test_processes_sharing_one_limit_never_exceed_it(redis_url: str) -> None:
    amount, seconds = window(RPM)
    assert (amount, seconds) == (10, 1)
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        pool.map(_warm, range(PROCESSES * 4), chunksize=1)  # imports done before the clock starts
        shared = _run(pool, redis_url, ["relay-a"] * PROCESSES)
        # Control: the same processes each with its own limit (another key) do exceed one limit,
        # so the check below is able to fail.
        separate = _run(pool, redis_url, [f"relay-{n}" for n in range(PROCESSES)])
    # A grant noted up to SLACK late can only make a window look fuller, never emptier, so a
    # window shortened by SLACK holding more than `amount` would be a real excess.
    assert _busiest(shared, seconds - SLACK) <= amount
    # ... and the limit is used, not merely respected: about 10/s over 2 s (first window full at once).
    assert len(shared) >= amount * SECONDS * 0.7, len(shared)
    assert _busiest(separate, seconds - SLACK) > amount


def test_a_run_counts_its_requests_in_redis(redis_url: str, refgateway: str, tmp_path: Path) -> None:
    """gateways.yaml rate_limit_backend: env:NAME reaches the run's limiter: after a live run,
    Redis holds the relay's window (under a digest of the address and key, never the key)."""
    import redis

    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "one.yaml").write_text(
        textwrap.dedent("""\
        cases:
          - id: hello
            description: one plain request
            endpoint: chat
            stream: both
            models: [gpt-4o]
            request:
              body: {max_tokens: 16, messages: [{role: user, content: "Say hello."}]}
            expect: {status: 200}
        """),
        encoding="utf-8",
    )
    (tmp_path / "gateways.yaml").write_text(
        textwrap.dedent(f"""\
        default: relay
        gateways:
          relay:
            base_url: {refgateway}
            auth: both
            api_key_env: RC_SHARED_TEST_KEY
            rate_limit_rpm: 7
            rate_limit_backend: env:RC_SHARED_TEST_REDIS
            models: {{chat: [gpt-4o]}}
        """),
        encoding="utf-8",
    )
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env |= {"RC_SHARED_TEST_KEY": TEST_KEY, "RC_SHARED_TEST_REDIS": redis_url}
    res = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--cases", "cases/one.yaml", "--report-dir", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    keys = [k.decode() for k in client.keys("*")]
    # 7 a minute: a 60 s window (the key outlives the run; both requests fit in it at once).
    assert keys == [f"LIMITS:relaycheck/{limit_key(refgateway, TEST_KEY)}/7/60/second"]
    assert client.llen(keys[0]) == 2  # the two items' requests (sync and stream)
    assert TEST_KEY not in keys[0]
    # A backend that does not answer is one usage error at start, not a failure per item.
    env["RC_SHARED_TEST_REDIS"] = "redis://127.0.0.1:1/0"
    res = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--cases", "cases/one.yaml", "--report-dir", "out2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode != 0 and "rate-limit backend redis://127.0.0.1:1/0 does not answer" in res.stderr
    assert not (tmp_path / "out2" / "summary.json").exists()


def test_backend_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert window(90) == (3, 2) and window(7.9) == (7, 60) and window(0.5) == (1, 120)
    monkeypatch.setenv("RC_REDIS_URL", "redis://:s3cret@10.0.0.1:6379/2")
    assert resolve_url("env:RC_REDIS_URL") == "redis://:s3cret@10.0.0.1:6379/2"
    assert describe("redis://:s3cret@10.0.0.1:6379/2") == "redis://:***@10.0.0.1:6379/2"
    for bad, says in (("env:RC_NOT_SET_X", "is not set"), ("http://10.0.0.1/", "expected a redis://")):
        with pytest.raises(ConfigError, match=says):
            resolve_url(bad)
    path = tmp_path / "gateways.yaml"
    path.write_text("gateways:\n  g:\n    base_url: https://relay.example\n    rate_limit_backend: env:RC_REDIS_URL\n")
    assert load_gateways(path)[0]["g"].rate_limit_backend == "env:RC_REDIS_URL"
    path.write_text("gateways:\n  g:\n    base_url: https://relay.example\n    rate_limit_backend: memcached://x\n")
    with pytest.raises(ConfigError, match=r"gateways\.yaml:4:"):
        load_gateways(path)


def test_a_backend_lost_mid_run_errors_the_item_without_the_password() -> None:
    try:
        import limits  # noqa: F401
    except ImportError:
        _unavailable("the redis extra (limits[redis]) is not installed")
    from harness.shared_limit import BackendError, RedisRateLimiter

    limiter = RedisRateLimiter(RPM, key="k", url="redis://:s3cret@127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(BackendError, match=r"rate-limit backend redis://:\*\*\*@127\.0\.0\.1:1/0: ") as caught:
        limiter.acquire(sleep=lambda s: None)
    assert "s3cret" not in str(caught.value)
