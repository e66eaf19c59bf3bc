"""A run never passes on old recordings unless asked to (issue 11, item 4): `relaycheck run` is
live, a cassette replays only for the relay it was recorded from, a replay says so in the
terminal, and the offline guard of a replayed item never touches live items of the same run."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from harness.recording import OfflineError, offline
from tests.conftest import TEST_KEY
from tests.test_cli import relaycheck
from tests.test_concurrency import chat_cases, configure

CASE = """\
cases:
  - id: hello
    description: plain text
    endpoint: chat
    stream: both
    request:
      body: {max_tokens: 64, messages: [{role: user, content: "Say hello."}]}
    expect: {status: 200}
"""


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_run_is_live_and_a_cassette_replays_only_for_its_relay(tmp_path: Path, refgateway: str) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "hello.yaml").write_text(CASE)
    env = {"RELAYCHECK_API_KEY": TEST_KEY}
    common = ("--cases", "cases", "--models", "gpt-4.1", "--no-allure", "--no-junit")

    def run(command: str, url: str) -> tuple[int, str, dict]:
        res = relaycheck(command, "--base-url", url, *common, "--report-dir", command, cwd=tmp_path, env=env)
        summary = json.loads((tmp_path / command / "summary.json").read_text())
        return res.returncode, res.stdout + res.stderr, summary

    code, out, _ = run("record", refgateway)
    assert code == 0, out
    assert len([f for f in (tmp_path / "cassettes" / "relay").rglob("*.yaml") if f.is_file()]) == 2

    # Another relay (here: nothing listening) under the same bare --base-url gateway name "relay".
    dead = _dead_url()
    code, out, summary = run("run", dead)
    assert code == 1, out  # it used to replay the cassettes and exit 0
    assert {e["source"] for e in summary["items"]} == {"live"} and summary["totals"]["failed"] == 2
    assert "replayed from" not in out

    code, out, summary = run("replay", dead)
    assert code == 1, out
    assert {v["code"] for e in summary["items"] for v in e["violations"]} == {"replay.unmatched"}
    assert "another relay: a cassette replays only for the base URL it was recorded from" in out

    code, out, summary = run("replay", refgateway)  # the relay it was recorded from: replayed, offline
    assert code == 0, out
    assert {e["source"] for e in summary["items"]} == {"replayed"}
    assert "relaycheck: 2 of 2 items replayed from cassettes/relay (not live)" in out


def test_the_offline_guard_holds_only_in_the_replaying_thread(refgateway: str) -> None:
    entered, done = threading.Event(), threading.Event()
    seen: list[BaseException | None] = []

    def replaying() -> None:
        with offline("a replayed item"):
            entered.set()
            try:
                socket.create_connection(("127.0.0.1", 9))
            except BaseException as exc:  # recorded for the assertion below
                seen.append(exc)
            done.wait(10)

    thread = threading.Thread(target=replaying)
    thread.start()
    try:
        assert entered.wait(10)
        # A live item in another thread keeps the network while the replayed item holds the guard.
        assert httpx.get(refgateway + "/v1/models").status_code == 401
        with socket.create_connection(("127.0.0.1", int(refgateway.rsplit(":", 1)[1]))):
            pass
    finally:
        done.set()
        thread.join(10)
    assert len(seen) == 1 and isinstance(seen[0], OfflineError)
    assert "connect" not in vars(socket.socket)  # restored once the last guard closed


class _SlowProxy(BaseHTTPRequestHandler):
    """HTTP/1.0 (a new connection per request, as behind many proxies) and a fixed delay: live
    requests keep connecting all through the run."""

    upstream = ""
    delay = 0.15

    def _forward(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        sent = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        time.sleep(self.delay)
        answer = httpx.request(self.command, self.upstream + self.path, content=body, headers=sent, timeout=10)
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "application/json"))
        for name in ("x-request-id", "request-id"):  # forwarded, as relays do (header.request_id otherwise)
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.end_headers()
        self.wfile.write(answer.content)

    do_POST = do_GET = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_relay(refgateway: str) -> Iterator[str]:
    handler = type("Slow", (_SlowProxy,), {"upstream": refgateway})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_replayed_and_live_items_of_one_run_do_not_disturb_each_other(relay_project: Callable, slow_relay: str) -> None:
    # "a" sorts first: pytest's thread replays its items (holding the guard for each recorded
    # answer's duration) while the pool's threads run the live items of "b" against the relay.
    p = relay_project(slow_relay, {"chat/a.yaml": chat_cases(4), "chat/b.yaml": chat_cases(6)})
    configure(p, concurrency=4)
    p.runpytest_subprocess("cases/chat/a.yaml", "--record-mode", "all").assert_outcomes(passed=8)
    result = p.runpytest_subprocess("cases", "--record-mode", "auto", "--replay-pacing", "real")
    result.assert_outcomes(passed=20)
    result.stdout.fnmatch_lines(["relaycheck: 8 of 20 items replayed from cassettes/relay (not live)"])
    items = json.loads((p.path / "reports" / "summary.json").read_text())["items"]
    sources = {e["id"].split("::")[0].rsplit("/", 1)[1]: set() for e in items}
    for e in items:
        sources[e["id"].split("::")[0].rsplit("/", 1)[1]].add(e["source"])
    assert sources == {"a.yaml": {"replayed"}, "b.yaml": {"live"}}
