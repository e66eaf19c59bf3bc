"""Record and replay: cassettes keep chunks and timing, matching is exact, secrets never reach
disk, replay is offline, verdicts are the same recorded and replayed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml
from vcr.request import Request

from harness.model import Chunk, Exchange, WireRequest
from harness.recording import CassetteTransport, OfflineError, RecordOptions, offline
from harness.recording.cassette import cassette_path, json_body, redact_chunks, sent_headers
from harness.redact import MASK, Redactor
from harness.transport import Transport
from tests.conftest import REPO

# --- in-process: the transport against a scripted live side ---------------------------------------

URL = "http://relay.test/v1/messages"
SSE = "text/event-stream"


def _request(content: str = "Say hello.", **headers: str) -> WireRequest:
    body = json.dumps({"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": content}]})
    return WireRequest(
        "POST", URL, {"x-api-key": "k-" + "1" * 20, "content-type": "application/json", **headers}, body.encode()
    )


def _answer(*chunks: tuple[float, bytes], status: int = 200, error: tuple[str, str] | None = None) -> Exchange:
    return Exchange(
        _request(),
        status,
        {"content-type": SSE},
        tuple(Chunk(o, d) for o, d in chunks),
        ttft_ms=chunks[0][0] * 1000 if chunks else None,
        latency_ms=(chunks[-1][0] + 0.01) * 1000,
        error=error[1] if error else None,
        error_code=error[0] if error else None,
    )


class ScriptedLive(Transport):
    """The live side: answers from a script, remembers what was sent."""

    def __init__(self, *answers: Exchange) -> None:
        super().__init__()
        self.answers, self.sent = list(answers), []

    def send(self, request: WireRequest) -> Exchange:
        self.sent.append(request)
        return replace(self.answers.pop(0), request=request)


def _transport(tmp_path: Path, live: Transport, mode: str, **kw: object) -> CassetteTransport:
    options = RecordOptions(mode=mode, cassette_dir=tmp_path, **kw)  # type: ignore[arg-type]
    return CassetteTransport(live, options, "gw", Redactor(["k-" + "1" * 20]))


ITEM = "cases/messages/x.yaml::hello[gw-m-stream]"
# CRLF framing, a chunk boundary inside a UTF-8 character, and invalid UTF-8: all must survive.
CHUNKS = ((0.051, b'event: a\r\ndata: {"t": "h\xc3'), (0.102, b'\xa9"}\r\n\r\n'), (0.2, b"data: \xff\n\n"))


def _record(tmp_path: Path, *answers: Exchange, requests: tuple[WireRequest, ...] | None = None) -> ScriptedLive:
    live = ScriptedLive(*answers)
    t = _transport(tmp_path, live, "once")
    with t.item(ITEM):
        for req in requests or (_request(),) * len(answers):
            t.send(req)
    return live


def test_stream_round_trips_with_chunks_offsets_and_errors(tmp_path: Path) -> None:
    truncated = _answer((0.01, b"data: {}\n\n"), error=("transport.truncated", "connection closed"))
    _record(tmp_path, _answer(*CHUNKS), truncated, requests=(_request(), _request("again")))
    path = tmp_path / "gw" / "messages" / "x.yaml" / "hello[gw-m-stream].yaml"
    stored = yaml.safe_load(path.read_text())
    assert stored["version"] == 1 and set(stored["interactions"][0]) == {"request", "response"}  # vcrpy's format
    assert stored["interactions"][0]["response"]["relaycheck"]["chunks"] == ["0.051000 25", "0.102000 7", "0.200000 9"]
    t = _transport(tmp_path, ScriptedLive(), "none")
    with t.item(ITEM):
        first, second = t.send(_request()), t.send(_request("again"))
    assert [(c.offset, c.data) for c in first.chunks] == [(o, d) for o, d in CHUNKS]
    assert first.status == 200 and first.headers["content-type"] == SSE and first.ttft_ms == pytest.approx(51)
    assert second.error_code == "transport.truncated" and second.error == "connection closed"
    assert second.body == b"data: {}\n\n"


def test_replay_none_never_calls_the_live_side_and_blocks_sockets(tmp_path: Path) -> None:
    _record(tmp_path, _answer(*CHUNKS))
    live = ScriptedLive()
    t = _transport(tmp_path, live, "none")
    with t.item(ITEM):
        t.send(_request())
        with pytest.raises(OfflineError):
            socket.create_connection(("127.0.0.1", 9))
    assert live.sent == []


def test_unmatched_request_names_the_closest_and_the_difference(tmp_path: Path) -> None:
    _record(tmp_path, _answer(*CHUNKS))
    t = _transport(tmp_path, ScriptedLive(), "none")
    with t.item(ITEM):
        ex = t.send(_request("Say hi."))
    assert ex.error_code == "replay.unmatched" and ex.status is None
    assert "closest recorded request: interaction #0, POST /v1/messages; differs in json_body" in ex.error
    assert '$.messages[0].content: recorded "Say hello.", now "Say hi."' in ex.error
    with t.item(ITEM):
        t.send(_request())
        again = t.send(_request())
    assert again.error_code == "replay.unmatched" and "already played" in again.error
    with t.item("cases/other.yaml::never[x]"):
        missing = t.send(_request())
    assert "no cassette at" in missing.error
    with t.item(ITEM):
        other = t.send(WireRequest("GET", "http://relay.test/v1/models?limit=1", {}))  # shares no matcher
    assert "differs in method, path, query, json_body, sent_headers" in other.error and "GET != POST" in other.error


def test_record_modes_follow_vcrpy(tmp_path: Path) -> None:
    _record(tmp_path, _answer((0.01, b"one")))
    live = ScriptedLive(_answer((0.01, b"two")), _answer((0.01, b"three")))
    once = _transport(tmp_path, live, "once")  # the cassette exists: write-protected
    with once.item(ITEM):
        assert once.send(_request("new")).error_code == "replay.unmatched"
    new = _transport(tmp_path, live, "new_episodes")  # plays what it has, records what it lacks
    with new.item(ITEM):
        assert new.send(_request()).body == b"one" and new.send(_request("new")).body == b"two"
    assert [r.json["messages"][0]["content"] for r in live.sent] == ["new"]
    everything = _transport(tmp_path, live, "all")  # re-records; interactions not repeated are dropped
    with everything.item(ITEM):
        assert everything.send(_request()).body == b"three"
    t = _transport(tmp_path, ScriptedLive(), "none")
    with t.item(ITEM):
        assert t.send(_request()).body == b"three" and t.send(_request("new")).error_code == "replay.unmatched"


def test_unused_and_stale_interactions_are_notes(tmp_path: Path) -> None:
    _record(tmp_path, _answer((0.01, b"a")), _answer((0.01, b"b")), requests=(_request(), _request("two")))
    fresh = _transport(tmp_path, ScriptedLive(), "none")
    with fresh.item(ITEM) as replay:
        fresh.send(_request())
    notes = replay.notes
    assert [(v.code, v.severity) for v in notes] == [("replay.unused", "note")]
    assert "#1 (POST /v1/messages)" in notes[0].message
    old = _transport(tmp_path, ScriptedLive(), "none", max_age_days=-1)  # everything is "too old"
    with old.item(ITEM) as replay:
        old.send(_request())
        old.send(_request("two"))
    notes = replay.notes
    assert [v.code for v in notes] == ["replay.stale"]


def test_fast_replay_does_not_judge_streaming_and_says_why(tmp_path: Path) -> None:
    _record(tmp_path, _answer(*CHUNKS))
    for pacing, judged in (("fast", False), ("real", True)):
        t = _transport(tmp_path, ScriptedLive(), "none", pacing=pacing)
        with t.item(ITEM) as replay:
            assert (replay.unjudged_streaming is None) is judged
            if not judged:
                assert "--replay-pacing real" in (replay.unjudged_streaming or "")


def test_real_pacing_measures_the_replayed_arrival_times(tmp_path: Path) -> None:
    # Offsets chosen far above scheduler noise; the measured values come from the Transport's own
    # reading code, so a replay that ignored the offsets would arrive at ~0 ms and fail.
    _record(tmp_path, _answer((0.08, b"data: 1\n\n"), (0.12, b"data: 2\n\n"), (0.16, b"data: 3\n\n")))
    t = _transport(tmp_path, ScriptedLive(), "none", pacing="real")
    with t.item(ITEM):
        ex = t.send(_request())
    assert [c.data for c in ex.chunks] == [b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n"]
    # A replay never delivers a chunk before its recorded offset; how late it may be depends on the
    # machine's load, so the upper bound is loose (accuracy is measured in benchmarks/bench_scale.py).
    for chunk, want in zip(ex.chunks, (0.08, 0.12, 0.16), strict=True):
        assert want - 0.002 <= chunk.offset <= want + 0.25
    assert [c.offset for c in ex.chunks] == sorted(c.offset for c in ex.chunks)
    assert 158 <= ex.latency_ms <= 170 + 250


# --- pieces ----------------------------------------------------------------------------------------


def test_cassette_paths_are_stable_safe_and_distinct() -> None:
    root = Path("/c")
    p = cassette_path(root, "local", "cases/messages/basic.yaml::plain-text[local-claude-sonnet-4-6-stream]")
    assert p == Path("/c/local/messages/basic.yaml/plain-text[local-claude-sonnet-4-6-stream].yaml")
    a = cassette_path(root, "local", "cases/x.yaml::t[local-openai/gpt-4o:free-sync]")
    b = cassette_path(root, "local", "cases/x.yaml::t[local-openai_gpt-4o_free-sync]")
    assert a.parent == Path("/c/local/x.yaml") and "/" not in a.name and ":" not in a.name and a != b
    assert cassette_path(root, "../up", "../../etc/passwd::x").resolve().is_relative_to(root)


def _vreq(body: object, **headers: str) -> Request:
    return Request("POST", URL, json.dumps(body).encode(), headers)


def test_body_matcher_ignores_key_order_not_types() -> None:
    json_body(_vreq({"a": 1, "b": [1, 2]}), _vreq({"b": [1, 2], "a": 1}))
    with pytest.raises(AssertionError, match=r"\$\.stream: recorded true, now 1"):
        json_body(_vreq({"stream": 1}), _vreq({"stream": True}))
    with pytest.raises(AssertionError, match=r"\$\.tools: recorded \(absent\), now \[\]"):
        json_body(_vreq({"tools": []}), _vreq({}))


def test_header_matcher_compares_names_and_non_secret_values() -> None:
    sent_headers(
        _vreq({}, **{"x-api-key": "new", "anthropic-version": "1"}),
        _vreq({}, **{"x-api-key": MASK, "anthropic-version": "1"}),
    )
    with pytest.raises(AssertionError, match="anthropic-version"):
        sent_headers(_vreq({}, **{"anthropic-version": "2"}), _vreq({}, **{"anthropic-version": "1"}))
    with pytest.raises(AssertionError, match=r"x-api-key: recorded \(present\), now \(absent\)"):
        sent_headers(_vreq({}), _vreq({}, **{"x-api-key": MASK}))


def test_a_key_split_across_chunks_is_still_masked() -> None:
    key = "rc-split-key-0123456789abcdef"
    r = Redactor([key])
    chunks = [(0.1, b"data: rc-split"), (0.2, b"-key-0123"), (0.3, b"456789abcdef tail"), (0.4, b"!")]
    out = redact_chunks(chunks, r)
    assert key.encode() not in b"".join(d for _, d in out)
    assert out[0][0] == 0.1 and out[-1] == (0.4, b"!") and b"".join(d for _, d in out).count(MASK.encode()) == 1


def test_redactor_masks_url_keys_account_ids_and_extra_patterns() -> None:
    r = Redactor(patterns=[r"acct-\d{6}"])
    text = r.text(
        "GET /v1/x?key=AIzaSECRET&api-key=abc&model=m org-AbCdEfGhIjKlMnOpQr proj_AbCdEfGhIjKlMnOpQr acct-123456"
    )
    assert "AIzaSECRET" not in text and "abc&" not in text and "model=m" in text
    assert "org-AbC" not in text and "proj_AbC" not in text and "acct-123456" not in text
    assert r.headers({"anthropic-organization-id": "uuid", "x-goog-api-key": "g"}) == {
        "anthropic-organization-id": MASK,
        "x-goog-api-key": MASK,
    }


def test_offline_guard_refuses_connections_and_lookups_then_restores(refgateway: str) -> None:
    with offline("test"):
        with pytest.raises(OfflineError):
            socket.create_connection(("127.0.0.1", 9))
        with pytest.raises(OfflineError):
            socket.getaddrinfo("example.com", 443)
        with pytest.raises(OfflineError), socket.socket() as s:
            s.connect(("127.0.0.1", 9))
        with pytest.raises(OfflineError):  # not an httpx.ConnectError: loud, not "relay down"
            httpx.get(refgateway + "/v1/models")
    assert "connect" not in vars(socket.socket)  # inherited again, not a copy left behind
    assert httpx.get(refgateway + "/v1/models").status_code == 401  # the network is back


# --- end to end (pytester subprocess) ---------------------------------------------------------------

FAKE_KEY = "sk-relaycheck-FAKE-7f3a9c2e1b4d6f80a1c3e5d7"

CASES = {
    "messages/text.yaml": """\
        cases:
          - id: hello
            description: plain text
            endpoint: messages
            stream: both
            request:
              body: {max_tokens: 64, messages: [{role: user, content: "Say hello."}]}
            expect: {status: 200, stop_reason: end_turn}
        """,
    "chat/broken.yaml": """\
        cases:
          - id: bad-ids
            description: a relay that rewrites ids (a failing verdict must replay as failing)
            endpoint: chat
            stream: both
            request:
              headers: {x-relaycheck-fault: bad-id-prefix}
              body: {max_tokens: 64, messages: [{role: user, content: "Say hello."}]}
            expect: {status: 200}
        """,
}

# Loaded by the replaying pytest before any test runs: the network is gone for the whole process.
NO_NETWORK = """\
import socket

def _down(*args, **kwargs):
    raise OSError("network disabled by the test")

socket.socket.connect = _down
socket.socket.connect_ex = _down
socket.create_connection = _down
socket.getaddrinfo = _down
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _go_offline(p: pytest.Pytester) -> None:
    """Cut the network in the replaying process. The base URL stays: a cassette replays only for
    the relay (scheme, host, port) it was recorded from."""
    (p.path / "conftest.py").write_text(NO_NETWORK)


def _move_relay(p: pytest.Pytester) -> None:
    """Point the gateway at another (closed) port: another relay."""
    gw = p.path / "gateways.yaml"
    text = gw.read_text()
    start = text.index("base_url: ") + len("base_url: ")
    end = text.index("\n", start)
    gw.write_text(text[:start] + f"http://127.0.0.1:{_free_port()}" + text[end:])


def _verdicts(p: pytest.Pytester) -> dict[str, tuple[str, list[str]]]:
    summary = json.loads((p.path / "reports" / "summary.json").read_text())
    return {e["id"]: (e["outcome"], sorted(v["code"] for v in e["violations"])) for e in summary["items"]}


def _items(p: pytest.Pytester) -> dict[str, dict]:
    return {e["id"]: e for e in json.loads((p.path / "reports" / "summary.json").read_text())["items"]}


def test_record_then_replay_offline_gives_identical_verdicts(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, CASES)
    p.runpytest_subprocess("cases", "--record-mode", "all", "-n", "2").assert_outcomes(passed=2, failed=2)
    recorded = _verdicts(p)
    assert {o for o, _ in recorded.values()} == {"passed", "failed"}
    assert {e["source"] for e in _items(p).values()} == {"recorded"}
    assert len([f for f in (p.path / "cassettes" / "relay").rglob("*.yaml") if f.is_file()]) == 4
    _go_offline(p)
    result = p.runpytest_subprocess("cases", "--record-mode", "none")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*record mode none: replay only from*"])
    assert _verdicts(p) == recorded
    assert {e["source"] for e in _items(p).values()} == {"replayed"}
    stream = _items(p)["cases/messages/text.yaml::hello[relay-claude-sonnet-4-20250514-stream]"]
    assert any("not judged: replayed from a cassette" in n["message"] for n in stream["notes"])
    # auto replays what has a cassette: still offline, still the same verdicts, and it says so.
    auto = p.runpytest_subprocess("cases", "--record-mode", "auto")
    auto.assert_outcomes(passed=2, failed=2)
    auto.stdout.fnmatch_lines(["relaycheck: 4 of 4 items replayed from cassettes/relay (not live)"])
    assert _verdicts(p) == recorded
    # The default is live: with the relay gone, nothing passes on the recordings.
    live = p.runpytest_subprocess("cases")
    live.assert_outcomes(failed=4)
    assert {e["source"] for e in _items(p).values()} == {"live"}
    assert "replayed from" not in live.stdout.str()


def test_a_cassette_replays_only_for_the_relay_it_was_recorded_from(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": CASES["messages/text.yaml"]})
    p.runpytest_subprocess("cases", "--record-mode", "all").assert_outcomes(passed=2)
    _go_offline(p)
    _move_relay(p)
    for mode in ("none", "auto"):
        result = p.runpytest_subprocess("cases", "--record-mode", mode, "-k", "sync")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*[[]replay.unmatched[]]*", "*differs in*port*", "*another relay*"])


def test_changed_request_fails_with_the_closest_match(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": CASES["messages/text.yaml"]})
    p.runpytest_subprocess("cases", "--record-mode", "once").assert_outcomes(passed=2)
    case = p.path / "cases" / "messages" / "text.yaml"
    case.write_text(case.read_text().replace("Say hello.", "Say hi."))
    _go_offline(p)
    result = p.runpytest_subprocess("cases", "--record-mode", "none", "-k", "sync")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*[[]replay.unmatched[]]*no recorded interaction for POST /v1/messages*",
            "*closest recorded request: interaction #0, POST /v1/messages; differs in json_body*",
            '*$.messages[[]0[]].content: recorded "Say hello.", now "Say hi."*',
        ]
    )
    assert _verdicts(p)["cases/messages/text.yaml::hello[relay-claude-sonnet-4-20250514-sync]"] == (
        "failed",
        ["replay.unmatched"],
    )


def test_the_key_reaches_no_file(relay_project: Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.refgateway import start_in_thread

    # The key is sent as a header, in a URL and in a body, and the gateway echoes the body back.
    leaky = f"""\
        cases:
          - id: leaky
            description: the key everywhere a careless user could put it
            endpoint: messages
            stream: both
            request:
              path: /v1/messages?key={FAKE_KEY}
              body: {{max_tokens: 64, messages: [{{role: user, content: "my key {FAKE_KEY} acct-123456"}}]}}
            expect: {{status: 200, stop_reason: nope}}
        """
    with start_in_thread(FAKE_KEY) as gw:
        p = relay_project(gw.base_url, {"messages/leaky.yaml": leaky})
        monkeypatch.setenv("RELAYCHECK_TEST_KEY", FAKE_KEY)
        args = ("cases", "--redact-pattern", r"acct-\d{6}", "--junitxml", "reports/junit.xml")
        recording = p.runpytest_subprocess(*args, "--record-mode", "all")
    recording.assert_outcomes(failed=2)  # failure messages (with the curl line) are printed too
    _go_offline(p)
    replaying = p.runpytest_subprocess(*args, "--record-mode", "none")
    replaying.assert_outcomes(failed=2)
    inputs = {p.path / "cases" / "messages" / "leaky.yaml"}
    written = [f for f in p.path.rglob("*") if f.is_file() and f not in inputs]
    cassettes = [f for f in written if "cassettes" in f.parts]
    assert len(cassettes) == 2 and any(f.name == "summary.json" for f in written)
    for f in written:
        data = f.read_bytes()
        assert FAKE_KEY.encode() not in data and b"acct-123456" not in data, f
    assert MASK in cassettes[0].read_text()
    for out in (recording, replaying):
        text = out.stdout.str() + out.stderr.str()
        assert FAKE_KEY not in text and "acct-123456" not in text


def test_real_pacing_reproduces_ttft(relay_project: Callable, faulty_gateway: Callable) -> None:
    # 120 ms before the first byte, 60 ms between chunks: long enough (over a second) to judge streaming too.
    p = relay_project(
        faulty_gateway(latency=0.12, chunk_delay=0.06), {"messages/text.yaml": CASES["messages/text.yaml"]}
    )
    p.runpytest_subprocess("cases", "--record-mode", "all", "-k", "stream").assert_outcomes(passed=1)
    recorded = next(iter(_items(p).values()))
    assert recorded["ttft_ms"] > 120
    _go_offline(p)
    p.runpytest_subprocess("cases", "--record-mode", "none", "--replay-pacing", "real", "-k", "stream").assert_outcomes(
        passed=1
    )
    replayed = next(iter(_items(p).values()))
    # Never earlier than recorded; later only by scheduling delay (loose bound: accuracy is a benchmark).
    assert recorded["ttft_ms"] - 3 <= replayed["ttft_ms"] <= recorded["ttft_ms"] + 250
    assert recorded["latency_ms"] - 3 <= replayed["latency_ms"] <= recorded["latency_ms"] + 250
    assert not any("not judged" in n["message"] for n in replayed["notes"])  # streaming was judged


def test_buffered_stream_replays_as_buffered_with_real_pacing(
    relay_project: Callable, faulty_gateway: Callable
) -> None:
    p = relay_project(
        faulty_gateway("buffered-stream", chunk_delay=0.02), {"messages/text.yaml": CASES["messages/text.yaml"]}
    )
    p.runpytest_subprocess("cases", "--record-mode", "all", "-k", "stream").assert_outcomes(failed=1)
    recorded = _verdicts(p)
    assert next(iter(recorded.values())) == ("failed", ["stream.buffered"])
    _go_offline(p)
    p.runpytest_subprocess("cases", "--record-mode", "none", "--replay-pacing", "real", "-k", "stream")
    assert _verdicts(p) == recorded


@pytest.fixture
def no_network_plugin(tmp_path: Path) -> Iterator[dict[str, str]]:
    (tmp_path / "rc_no_network.py").write_text(NO_NETWORK)
    yield {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def test_shipped_cassettes_replay_the_whole_suite_offline(tmp_path: Path, no_network_plugin: dict[str, str]) -> None:
    """`relaycheck replay` on the repository's own cases and cassettes, with the network cut.
    Fails when a case changed or was added without re-recording: run `relaycheck record`."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "replay",
            "--report-dir",
            str(tmp_path / "r"),
            "--",
            "-p",
            "rc_no_network",
            "-q",
        ],
        cwd=REPO,
        env={**os.environ, **no_network_plugin},
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    unmatched = [e["id"] for e in summary["items"] if "replay.unmatched" in {v["code"] for v in e["violations"]}]
    assert not unmatched, f"cassettes out of date for {unmatched[:5]}: re-record with `relaycheck record`"
    assert res.returncode == 0, res.stdout[-3000:]
    assert summary["totals"]["passed"] > 0


def test_bad_redact_pattern_is_a_usage_error(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": CASES["messages/text.yaml"]})
    result = p.runpytest_subprocess("cases", "--redact-pattern", "(unclosed")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*redact pattern '(unclosed' is not a regular expression*"])


def test_stale_cassettes_are_named_in_the_terminal(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": CASES["messages/text.yaml"]})
    p.runpytest_subprocess("cases", "--record-mode", "all", "-k", "sync").assert_outcomes(passed=1)
    _go_offline(p)
    result = p.runpytest_subprocess("cases", "--record-mode", "none", "--max-cassette-age", "0", "-k", "sync")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["relaycheck: 1 item(s) replayed a stale cassette (re-record them: *), e.g. *"])
