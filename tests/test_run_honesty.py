"""A run never lies (issue 11), end to end through the plugin: a dead relay is reported once and
costs seconds, a base URL's query survives and is masked, 429s and missing keys say what they
are, gateways.yaml mistakes are one file:line:col line, answers are held to the size cap."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.gateways import ConfigError, Gateway, Overrides, load_gateways, parse_size, resolve
from harness.model import Chunk, Exchange, WireRequest
from harness.redact import Redactor
from harness.report.transcript import chunks_text, response_body
from tests.relays import head, raw_relay
from tests.test_cli import relaycheck
from tests.test_plugin import MESSAGES_TEXT

FOUR_MODELS = "messages: {m1: [], m2: [], m3: [], m4: []}\n"  # 8 items: 4 models x sync/stream


def _summary(p: pytest.Pytester) -> dict:
    return json.loads((p.path / "reports" / "summary.json").read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _codes(p: pytest.Pytester) -> list[set[str]]:
    return [{v["code"] for v in i["violations"]} for i in _summary(p)["items"]]


def test_a_refused_port_fails_fast_and_says_it_once(relay_project: Callable) -> None:
    p = relay_project(f"http://127.0.0.1:{_free_port()}", {"messages/text.yaml": MESSAGES_TEXT}, FOUR_MODELS)
    started = time.monotonic()
    result = p.runpytest_subprocess("cases")
    assert time.monotonic() - started < 60
    result.assert_outcomes(failed=8)
    out = result.stdout.str()
    assert out.count("gateway unreachable since") == 1, out[-3000:]
    codes = _codes(p)
    assert sum(c == {"transport.unreachable"} for c in codes) >= 1
    assert sum("transport.connect" in c for c in codes) + sum(c == {"transport.unreachable"} for c in codes) == 8


def test_a_relay_that_accepts_and_never_answers_is_given_up_on(relay_project: Callable) -> None:
    def hang(conn: socket.socket, _: bytes) -> None:
        time.sleep(20)

    with raw_relay(hang) as base:
        p = relay_project(base, {"messages/text.yaml": MESSAGES_TEXT}, FOUR_MODELS)
        yaml = p.path / "gateways.yaml"
        yaml.write_text(yaml.read_text().replace("first_byte: 5", "first_byte: 0.5"))
        started = time.monotonic()
        result = p.runpytest_subprocess("cases", "-p", "no:randomly")
        elapsed = time.monotonic() - started
    result.assert_outcomes(failed=8)
    assert elapsed < 30  # 8 timeouts one after the other would be 4 s at least, 27 minutes for the suite
    codes = _codes(p)
    # 4 in flight at once: a worker freed by the first timeout may send once more before the third
    # timeout trips the breaker; every item after that is not sent.
    assert sum(c == {"transport.unreachable"} for c in codes) >= 1
    assert sum("transport.timeout" in c for c in codes) + sum(c == {"transport.unreachable"} for c in codes) == 8
    assert "waiting for the first byte" in result.stdout.str()


def test_a_base_url_query_is_kept_and_masked(relay_project: Callable, refgateway: str) -> None:
    secret = "q-s3cr3t-value-77"
    failing = MESSAGES_TEXT.replace("expect: {status: 200", "expect: {status: 201")
    p = relay_project(f"{refgateway}/v1?code={secret}", {"messages/text.yaml": failing})
    result = p.runpytest_subprocess("cases", "-k", "sync")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "[status]" in out and "transport." not in out  # the relay was reached at the right path
    assert "curl" in out and "/v1/messages?code=[REDACTED]" in out
    assert secret not in out
    for path in (p.path / "reports").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path


def test_url_join_keeps_the_query() -> None:
    gw = Gateway("g", "http://h:1/v1?key=abcd1234&x=1")
    assert gw.url("/v1/messages") == "http://h:1/v1/messages?key=abcd1234&x=1"
    assert gw.url("/v1/models?limit=2") == "http://h:1/v1/models?limit=2&key=abcd1234&x=1"
    assert Gateway("g", "http://h/").url("/v1/chat/completions") == "http://h/v1/chat/completions"
    assert Gateway("g", "https://h/api/v1/").url("/v1/responses") == "https://h/api/v1/responses"
    assert "abcd1234" in gw.secrets()


def test_a_429_after_retries_is_named_rate_limited(relay_project: Callable) -> None:
    body = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'

    def limited(conn: socket.socket, _: bytes) -> None:
        conn.sendall(
            head(
                "429 Too Many Requests", content_type="application/json", retry_after="0", content_length=str(len(body))
            )
            + body
        )

    with raw_relay(limited) as base:
        p = relay_project(base, {"messages/text.yaml": MESSAGES_TEXT})
        result = p.runpytest_subprocess("cases", "-k", "sync")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "[transport.rate_limited]" in out and "after 2 retries" in out
    assert "could not reach" not in out


def test_no_key_for_a_live_relay_is_warned_once(
    relay_project: Callable, refgateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": MESSAGES_TEXT})
    monkeypatch.delenv("RELAYCHECK_TEST_KEY")
    result = p.runpytest_subprocess("cases", "-k", "sync")
    assert result.stderr.str().count("warning: no API key for gateway 'relay'") == 1
    assert "$RELAYCHECK_TEST_KEY is not set" in result.stderr.str()


def test_the_size_cap_flag_fails_big_answers(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": MESSAGES_TEXT})
    result = p.runpytest_subprocess("cases", "--max-answer-bytes", "100")
    result.assert_outcomes(failed=2)
    assert all(c == {"transport.too_large"} for c in _codes(p))
    yaml = p.path / "gateways.yaml"
    yaml.write_text(yaml.read_text().replace("auth: x-api-key", "auth: x-api-key\n    max_answer_bytes: 1KiB"))
    p.runpytest_subprocess("cases", "-k", "stream").assert_outcomes(failed=1)  # a stream is > 1 KiB
    p.runpytest_subprocess("cases", "-k", "sync").assert_outcomes(passed=1)


def test_transcripts_and_attachments_are_capped() -> None:
    req = WireRequest("POST", "http://h/v1/chat/completions", {}, b"{}")
    ex = Exchange(
        req, 200, {"content-type": "text/event-stream"}, tuple(Chunk(i / 1000, b"x" * 1000) for i in range(2000))
    )
    text = chunks_text(ex, Redactor(), limit=10_000)
    assert len(text) < 11_000 and text.endswith("more bytes]")
    body = response_body(ex, Redactor(), limit=10_000)
    assert len(body) < 11_000 and "more bytes]" in body


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateways.yaml"
    path.write_text(text)
    return path


GOOD = "default: r\ngateways:\n  r:\n    base_url: http://127.0.0.1:9\n"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (GOOD + "    modles: {chat: [m]}\n", "5:5", "unknown key(s) 'modles'"),
        (GOOD + "    timeouts: {connect: 0}\n", "5:25", "timeouts.connect must be a positive number, not 0"),
        (GOOD + "    timeouts: {total: -5}\n", "5:23", "timeouts.total must be a positive number, not -5"),
        (GOOD + "    concurrency: many\n", "5:18", "'many' is not of type 'integer'"),
        (GOOD + "    max_answer_bytes: lots\n", "5:23", "max_answer_bytes"),
        (GOOD.replace("127.0.0.1:9", "127.0.0.1:99999"), "4:15", "port"),
        (GOOD.replace("http://127.0.0.1:9", "http://"), "4:15", "names no host"),
        ("defualt: r\n" + GOOD[len("default: r\n") :], "1:1", "unknown key(s) 'defualt'"),
    ],
)
def test_gateway_file_mistakes_are_one_located_line(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_gateways(path)
    assert str(exc.value).startswith(f"{path}:{where}: "), str(exc.value)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_bad_flags_are_usage_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    for url, message in (("http://", "names no host"), ("http://127.0.0.1:99999", "port"), ("http://h:0", "port 0")):
        with pytest.raises(ConfigError, match=message):
            resolve(Overrides(base_url=url, gateways_file=path))
    with pytest.raises(ConfigError, match="--max-answer-bytes"):
        resolve(Overrides(max_answer_bytes="0", gateways_file=path))
    assert parse_size("8MiB") == 8 * 1024 * 1024 and parse_size("1.5 KB") == 1500 and parse_size(42) == 42


def test_cli_config_mistakes_exit_2_with_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + "    modles: {chat: [m]}\n")
    for args in (["--gateways-file", str(path)], ["--base-url", "http://"], ["--base-url", "http://127.0.0.1:99999"]):
        res = relaycheck("run", *args, "--report-dir", str(tmp_path), cwd=tmp_path)
        assert res.returncode == 2, (args, res.stderr[-2000:])
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("relaycheck: error: "), res.stderr
        assert "Traceback" not in res.stderr


def test_breaker_trips_after_consecutive_failures_only() -> None:
    from harness.breaker import Breaker

    req = WireRequest("POST", "http://h/v1/messages", {}, b"{}")
    down = Exchange(req, None, error="refused", error_code="transport.connect")
    answered = Exchange(req, 500, {}, (Chunk(0.0, b"{}"),))
    b = Breaker(3, clock=lambda: 0.0)
    for ex in (down, down, answered, down, down):  # an answer in between resets the count
        b.observe(ex)
    assert b.refusal(req) is None
    b.observe(down)
    refused = b.refusal(req)
    assert refused is not None and refused.error_code == "transport.unreachable"
    assert "gateway unreachable since" in refused.error and "refused (3 requests in a row)" in refused.error
