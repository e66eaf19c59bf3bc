"""Redaction that never corrupts what it cleans and never misses a transformed key (issue 11,
item 2). A loopback relay in front of the reference gateway echoes the key it was sent in every
form a relay or a library turns it into, next to an ordinary signed URL, and every file the run
writes is scanned for every form."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from harness.recording.cassette import redact_response
from harness.redact import MASK, Redactor
from harness.report.summary import ctx_redact

# A key with characters that URL-encoding changes, long enough for every form to be distinctive.
LEAK_KEY = "rcLeak+Key/7f3a9c2e1b4d6f80a1c3e5d7=="
USER = "relay-user"
PLACEHOLDER = b"ECHOKEY"
SIGNED_URL = 'https://files.example/a.png?X-Amz-Expires=60&token=abc"q'


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def u_escaped(text: str, upper: bool = False) -> str:
    return "".join((f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}") for c in text)


def wire_forms(key: str) -> list[str]:
    """What the relay writes inside a JSON string on the wire (so \\u escapes are JSON escapes there)."""
    return [
        key.lower(),
        key.upper(),
        b64(key),
        b64(f"{USER}:{key}"),
        u_escaped(key),
        quote(key, safe=""),
        json.dumps(SIGNED_URL)[1:-1],  # ...token=abc\\"q: the escape a URL regex used to eat
    ]


# What must appear in no written file and no terminal line, in any of them.
SCANNED_FORMS = [
    LEAK_KEY,
    LEAK_KEY.lower(),
    LEAK_KEY.upper(),
    b64(LEAK_KEY),
    b64(LEAK_KEY).rstrip("="),
    b64(f"{USER}:{LEAK_KEY}"),
    u_escaped(LEAK_KEY),
    u_escaped(LEAK_KEY, upper=True),
    quote(LEAK_KEY, safe=""),
    LEAK_KEY[:12],  # a key cut short by a repr or a truncated message
    LEAK_KEY[-12:],
]


class _Echo(BaseHTTPRequestHandler):
    upstream = ""

    def _forward(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        key = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
        forms = " ".join(wire_forms(key))
        sent = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = httpx.request(self.command, self.upstream + self.path, content=body, headers=sent, timeout=10)
        data = answer.content.replace(PLACEHOLDER, forms.encode())
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "application/json"))
        for name in ("x-request-id", "request-id"):  # forwarded, as relays do (header.request_id otherwise)
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("x-debug-auth", f"Basic {b64(f'{USER}:{key}')}")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        pieces = data.split(b"\n\n")
        for i, piece in enumerate(pieces):  # SSE events one write each, as a relay streams them
            self.wfile.write(piece + (b"\n\n" if i < len(pieces) - 1 else b""))
            self.wfile.flush()

    do_POST = do_GET = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def leaky_relay() -> Iterator[str]:
    from harness.refgateway import start_in_thread

    with start_in_thread(LEAK_KEY) as gw:
        handler = type("Echo", (_Echo,), {"upstream": gw.base_url})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


CASES = {
    "chat/echo.yaml": """\
        cases:
          - id: echo-passes
            description: an answer that echoes the key in many forms next to a signed URL, otherwise official
            endpoint: chat
            stream: both
            request:
              body: {max_tokens: 200, messages: [{role: user, content: "Say ECHOKEY"}]}
            expect: {status: 200}
        """,
    "messages/echo.yaml": """\
        cases:
          - id: echo-fails
            description: a failing item, so the echo reaches failure messages, terminal and junit
            endpoint: messages
            stream: both
            request:
              body: {max_tokens: 200, messages: [{role: user, content: "Say ECHOKEY"}]}
            expect: {status: 200, text: {equals: "something else"}}
        """,
}


def _scan(paths: list[Path], texts: list[str]) -> list[str]:
    found = []
    for f in paths:
        data = f.read_text(encoding="utf-8", errors="replace")
        found += [f"{f}: {form!r}" for form in SCANNED_FORMS if form in data]
    for i, text in enumerate(texts):
        found += [f"output {i}: {form!r}" for form in SCANNED_FORMS if form in text]
    return found


def test_echoed_key_forms_and_signed_urls_reach_no_file(
    relay_project: Callable, leaky_relay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = relay_project(leaky_relay, CASES)
    monkeypatch.setenv("RELAYCHECK_TEST_KEY", LEAK_KEY)
    args = ("cases", "--junitxml", "reports/junit.xml", "--alluredir", "reports/allure", "-l", "-rA")
    recording = p.runpytest_subprocess(*args, "--record-mode", "all")
    recording.assert_outcomes(passed=2, failed=2)
    summary = json.loads((p.path / "reports" / "summary.json").read_text())  # written, and it parses
    outcomes = {e["id"].split("::")[1]: e["outcome"] for e in summary["items"]}
    assert sorted(outcomes.values()) == ["failed", "failed", "passed", "passed"], outcomes
    assert (p.path / "reports" / "matrix.html").is_file()
    replaying = p.runpytest_subprocess(*args, "--record-mode", "none")
    replaying.assert_outcomes(passed=2, failed=2)

    inputs = {p.path / "cases" / name for name in CASES}
    written = [f for f in p.path.rglob("*") if f.is_file() and f not in inputs]
    cassettes = [f for f in written if "cassettes" in f.parts]
    assert len(cassettes) == 4
    assert any("allure" in f.parts for f in written) and (p.path / "reports" / "junit.xml").is_file()
    outputs = [r.stdout.str() + r.stderr.str() for r in (recording, replaying)]
    assert _scan(written, outputs) == []
    # The echo was there to be masked: the answer reached the reports, masked, with its URL kept.
    transcript = json.dumps(summary)
    assert MASK in transcript and "files.example/a.png?X-Amz-Expires=60&token=" in transcript


def test_a_signed_url_in_json_keeps_the_json_whole() -> None:
    r = Redactor([LEAK_KEY])
    entry = {"transcript": 'data: {"t":"see https://x.example/f?token=abc\\"q and ' + LEAK_KEY + '"}'}
    cleaned = ctx_redact(entry, r)
    assert LEAK_KEY not in cleaned["transcript"] and "token=[REDACTED]" in cleaned["transcript"]
    # Redacting serialised JSON text (what the summary writer did) ate the escape before `"`.
    wire = json.dumps({"content": f'see {SIGNED_URL} and {u_escaped(LEAK_KEY)}"'})
    assert json.loads(r.wire(wire))["content"].startswith("see https://files.example/a.png?X-Amz-Expires=60&token=")
    sse = "event: x\ndata: " + wire + "\n\ndata: [DONE]\n\n"
    out = r.wire(sse)
    assert json.loads(out.split("\n")[1].removeprefix("data: ")) and out.endswith("data: [DONE]\n\n")


def test_transformed_forms_are_masked_in_text() -> None:
    r = Redactor([LEAK_KEY])
    for form in [f for f in SCANNED_FORMS if len(f) > 12]:
        assert form not in r.text(f"x {form} y"), form
    assert LEAK_KEY[:12] not in r.text(f"actual: 'Hello {LEAK_KEY[:20]}…'")
    assert LEAK_KEY[-12:] not in r.text(f"'{LEAK_KEY[:5]}...{LEAK_KEY[-14:]}'")
    assert r.text("a sentence... that goes on") == "a sentence... that goes on"
    assert LEAK_KEY not in repr(r)


def test_cassette_content_length_follows_the_redacted_body() -> None:
    body = json.dumps({"echo": LEAK_KEY}).encode()
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Length": [str(len(body))], "content-type": ["application/json"]},
        "body": {"string": body},
    }
    out = redact_response(Redactor([LEAK_KEY]))(response)
    stored = out["body"]["string"]
    assert LEAK_KEY.encode() not in stored and json.loads(stored) == {"echo": MASK}
    assert out["headers"]["Content-Length"] == [str(len(stored))]


BOOM = """\
import harness.transport


def boom(self, request):  # an internal error while the request (and its key) is a local
    raise RuntimeError("internal error in the transport")


harness.transport.Transport.send = boom
"""


def test_a_showlocals_traceback_keeps_the_key_out(relay_project: Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    p = relay_project("http://127.0.0.1:9", {"chat/echo.yaml": CASES["chat/echo.yaml"]})
    monkeypatch.setenv("RELAYCHECK_TEST_KEY", LEAK_KEY)
    (p.path / "conftest.py").write_text(BOOM)
    args = ("cases", "--junitxml", "reports/junit.xml", "--alluredir", "reports/allure", "-l", "--tb=long")
    result = p.runpytest_subprocess(*args)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*RuntimeError: internal error in the transport*", "*request *= *"])
    junit = (p.path / "reports" / "junit.xml").read_text()
    assert "internal error in the transport" in junit and MASK in junit
    written = [f for f in p.path.rglob("*") if f.is_file() and f.suffix != ".py" and "cases" not in f.parts]
    assert _scan(written, [result.stdout.str() + result.stderr.str()]) == []


def test_a_report_that_cannot_be_written_is_one_line_and_spares_the_others(
    relay_project: Callable, refgateway: str
) -> None:
    p = relay_project(refgateway, {"chat/echo.yaml": CASES["chat/echo.yaml"].replace("ECHOKEY", "hello")})
    (p.path / "reports" / "matrix.html").mkdir(parents=True)  # matrix.html cannot be written
    result = p.runpytest_subprocess("cases", "--junitxml", "reports/junit.xml")
    result.assert_outcomes(passed=2)
    assert result.ret == 0 and "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["relaycheck: could not write matrix.html: IsADirectoryError*"])
    assert json.loads((p.path / "reports" / "summary.json").read_text())["totals"]["passed"] == 2
    assert (p.path / "reports" / "junit.xml").is_file()

    (p.path / "reports" / "summary.json.tmp").mkdir()  # now summary.json cannot be written either
    result = p.runpytest_subprocess("cases", "--junitxml", "reports/junit2.xml")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["relaycheck: could not write summary.json: IsADirectoryError*"])
    assert (p.path / "reports" / "junit2.xml").is_file()
