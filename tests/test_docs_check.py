"""`relaycheck docs`: documentation pages judged with the dialect rules.

The five vendor pages are read from ../shared/seeds (never copied here); the other pages were
written for these tests (tests/data/docs/): Markdown and HTML, English and Chinese, curl and SDK
snippets, an SSE transcript, a correct page, broken JSON and a page that is not UTF-8.
"""

from __future__ import annotations

import http.server
import json
import re
import shlex
import threading
from pathlib import Path

import pytest
import yaml

from harness.cli import build_parser, main
from harness.docscheck import page as pages
from harness.docscheck.casesout import shape_differences
from harness.docscheck.extract import extract
from harness.docscheck.judge import Finding, judge

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "docs"
SEEDS = REPO.parent / "shared" / "seeds"


def check(path: Path | str, level: str = "compatible") -> list[Finding]:
    return judge(extract(pages.load(str(path))), level)  # type: ignore[arg-type]


def failing(found: list[Finding], level: str = "compatible") -> set[tuple[int, str]]:
    return {(f.line, f.code) for f in found if f.fails(level)}  # type: ignore[arg-type]


def notes(found: list[Finding]) -> set[tuple[int, str]]:
    return {(f.line, f.code) for f in found if not f.fails("strict")}


# ---------------------------------------------------------------- the five vendor pages

# Every contradiction seeds/README.md lists, at its line: (page prefix, line, code).
README_CONTRADICTIONS = {
    # 000 and 002: the "200 OK" example under /v1/messages is a chat.completion
    ("000", 197, "object.kind"),
    ("002", 79, "object.kind"),
    # 000 is titled "streaming" (流式) but its request sends no "stream": true
    ("000", 3, "docs.claim.stream"),
    # 003: the response-field table lists choices[], prompt_tokens, completion_tokens
    ("003", 414, "docs.table.field"),
    ("003", 424, "docs.table.field"),
    ("003", 426, "docs.table.field"),
    # 004: budget_tokens 128, under the official minimum of 1024
    ("004", 113, "docs.request.rejected"),
}
# Also failing, and the same contradictions: the rest of 000's "200 OK" section (its field table
# lists object and choices for the Messages answer), the rest of 003's chat-completions table
# (created, index, finish_reason), and 002's title "创建函数调用 (流式)" over the same request
# without "stream": true as 000 (seeds/README.md names only 000 for it).
SAME_CONTRADICTIONS = {
    ("000", 190, "docs.table.field"),
    ("000", 192, "docs.table.field"),
    ("003", 412, "docs.table.field"),
    ("003", 416, "docs.table.field"),
    ("003", 420, "docs.table.field"),
    ("002", 3, "docs.claim.stream"),
}
# Authorization: Bearer on /v1/messages: a note where the page first says so (001 and 003 are
# OpenAI endpoints, where Bearer is the official header: no note).
AUTH_NOTES = {("000", 10), ("002", 9), ("004", 14)}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the vendor pages (../shared/seeds) are not in this checkout")
def test_seed_contradictions_are_reported_at_their_lines_and_nothing_else_fails() -> None:
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    for phrase in ("chat.completion", 'titled "streaming"', "prompt_tokens", "budget_tokens: 128", "x-api-key"):
        assert phrase in readme, f"seeds/README.md changed ({phrase!r} is gone): update README_CONTRADICTIONS"
    got_failing: set[tuple[str, int, str]] = set()
    got_auth: set[tuple[str, int]] = set()
    for path in sorted(SEEDS.glob("0*.txt")):
        found = check(path)
        got_failing |= {(path.name[:3], line, code) for line, code in failing(found)}
        got_auth |= {(path.name[:3], f.line) for f in found if f.code == "docs.auth"}
        assert all(f.severity == "note" for f in found if f.code == "docs.auth")
    assert README_CONTRADICTIONS <= got_failing, README_CONTRADICTIONS - got_failing
    assert got_failing <= README_CONTRADICTIONS | SAME_CONTRADICTIONS, got_failing - README_CONTRADICTIONS
    assert got_auth == AUTH_NOTES


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the vendor pages (../shared/seeds) are not in this checkout")
def test_seed_cli_exit_codes_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = next(SEEDS.glob("004_*.txt"))
    assert main(["docs", str(seed), "--report-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{seed}:113: docs.request.rejected: thinking.budget_tokens 128 is under 1024" in out
    # Every line is page:line: code: message (a note's message starts with "(note)").
    assert all(re.fullmatch(rf"{re.escape(str(seed))}:\d+: [a-z_.]+: .+", line) for line in out.splitlines())
    assert f"{seed}:14: docs.auth: (note) the page offers Authorization: Bearer" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["tool"] == "docs" and summary["violation_codes"] == {"docs.request.rejected": 1}
    bad = [i for i in summary["items"] if i["outcome"] == "failed"]
    assert [(i["case"], i["line"], i["endpoint"]) for i in bad] == [("request", 108, "messages")]
    assert bad[0]["violations"][0]["line"] == 113
    # The good requests of the page pass as items of their own.
    assert {i["line"] for i in summary["items"] if i["case"] == "request" and i["outcome"] == "passed"} == {25, 56}


# ---------------------------------------------------------------- pages written for the tests


def test_correct_markdown_page_has_no_finding_and_was_really_read() -> None:
    path = DATA / "messages-correct.md"
    ex = extract(pages.load(str(path)))
    assert [(b.line, b.role, b.source, b.endpoint) for b in ex.blocks] == [
        (13, "request", "json", "messages"),  # curl -d
        (26, "request", "sdk", "messages"),  # client.messages.create(model=..., ...)
        (44, "answer", "json", "messages"),
    ]
    assert [r.name for r in ex.rows] == ["id", "type", "content", "stop_reason", "usage.input_tokens"]
    assert ex.blocks[2].request is ex.blocks[1]
    assert judge(ex, "strict") == []


def test_chinese_markdown_stream_page() -> None:
    found = check(DATA / "chat-stream-zh.md")
    assert failing(found) == {
        (12, "docs.table.field"),  # max_output_tokens in the chat request table
        (23, "docs.request.field"),  # ... and in the curl body
        (37, "grammar.chat.after_finish"),  # the SSE transcript: content after finish_reason
        (48, "docs.table.field"),  # stop_reason in the chat answer table
    }
    # The heading says 流式 and the request streams: no claim finding.
    assert not any(f.code == "docs.claim.stream" for f in found)


def test_english_html_page_lines_are_the_html_source_lines() -> None:
    found = check(DATA / "responses-en.html")
    assert failing(found) == {(23, "docs.request.tool_shape"), (42, "docs.table.field")}
    # Fields the official API always sends, left out of the example: strict, one finding.
    strict = [f for f in found if f.severity == "strict" and f.code == "schema" and f.line == 44]
    assert len(strict) == 1 and "parallel_tool_calls" in strict[0].message
    assert (44, "schema") in failing(found, "strict")
    # The JSON in <script> is not documentation; the JS SDK call with a JSON literal is a request.
    ex = extract(pages.load(str(DATA / "responses-en.html")))
    assert [(b.line, b.role) for b in ex.blocks] == [(19, "request"), (33, "request"), (44, "answer")]


def test_chinese_html_page_request_rules_and_claims() -> None:
    found = check(DATA / "messages-zh.html")
    assert failing(found) == {
        (16, "docs.request.rejected"),  # budget_tokens 2048 not below max_tokens 1024
        (34, "docs.claim.stop_reason"),  # stop_reason tool_use for tool_choice none
        (40, "docs.request.rejected"),  # a system role in messages (Python SDK keyword arguments)
        (47, "error.shape"),  # the 400 example is an OpenAI-shaped error
    }
    assert not any(f.code == "docs.auth" for f in found)  # x-api-key and anthropic-version documented


def test_sse_transcript_judged_with_the_stream_grammar(tmp_path: Path) -> None:
    path = DATA / "messages-sse.md"
    assert failing(check(path)) == {
        (15, "grammar.messages.delta_without_start"),
        (18, "grammar.messages.delta_without_start"),
    }
    start = (
        "event: content_block_start\n"
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
    )
    text = path.read_text(encoding="utf-8").replace(
        "event: content_block_delta\n", start + "event: content_block_delta\n"
    )
    fixed = tmp_path / "fixed.md"
    fixed.write_text(text, encoding="utf-8")
    assert check(fixed, "strict") == []
    # Indented (a list item) is the same stream; with events left out ("...") findings are notes.
    indented = tmp_path / "indented.md"
    indented.write_text(text.replace("\nevent:", "\n   event:").replace("\ndata:", "\n   data:"), encoding="utf-8")
    assert check(indented, "strict") == []
    cut = text.replace("event: content_block_stop\n", "...\n\nevent: content_block_stop\n").replace(
        'data: {"type":"message_stop"}', "data: {...}"
    )
    abbreviated = tmp_path / "abbreviated.md"
    abbreviated.write_text(cut, encoding="utf-8")
    found = check(abbreviated, "strict")
    assert found and all(f.severity == "note" and "abbreviates" in f.message for f in found)


def test_half_json_and_garbage_are_clear_findings_not_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    found = check(DATA / "broken.md")
    assert failing(found) == {(8, "docs.unparseable"), (16, "docs.unparseable"), (19, "docs.unparseable")}
    assert "never closes" in next(f.message for f in found if f.line == 8)
    assert "not JSON" in next(f.message for f in found if f.line == 16)
    bad = check(DATA / "not-utf8.txt")
    assert failing(bad) == {(1, "docs.unparseable"), (3, "docs.unparseable")}
    assert "not UTF-8" in bad[0].message
    assert main(["docs", str(DATA / "broken.md"), "--report-dir", "/tmp/rc-docs-unused", "-q"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_documentation_shorthand_is_a_note_not_a_failure(tmp_path: Path) -> None:
    page = tmp_path / "shorthand.md"
    page.write_text(
        "# Chat\n\n"  # 1-2
        "```json\n"  # 3
        '{\n  "model": "gpt-4o",\n  "messages": [...],  // your conversation\n  "temperature": 0.7,\n}\n'  # 4-8
        "```\n\n"  # 9-10
        "```python\n"  # 11
        "stream = client.chat.completions.create(model=MODEL, messages=history, stream=True)\n"  # 12
        "```\n\n"  # 13-14
        "```js\n"  # 15
        'const r = await client.messages.create({"model": "claude-sonnet-4-6", "messages": []});\n'  # 16
        "```\n",
        encoding="utf-8",
    )
    found = check(page)
    assert {(f.line, f.code, f.severity) for f in found if f.code == "docs.unparseable"} == {
        (4, "docs.unparseable", "note"),  # "..." and // comments: an abbreviated example
        (12, "docs.unparseable", "note"),  # SDK call with variables
    }
    # The JavaScript SDK call says its endpoint (the page names none): Messages, so max_tokens is missing.
    assert failing(found) == {(16, "docs.request.rejected")}
    assert "max_tokens" in next(f.message for f in found if f.line == 16)


def test_parts_of_an_answer_are_not_judged_as_whole_answers(tmp_path: Path) -> None:
    block = {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"q": "x"}}
    event = {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ""}}
    turn = {"role": "assistant", "content": "It is sunny."}
    page = tmp_path / "parts.md"
    parts = "\n\n".join(json.dumps(p) for p in (block, event, turn))
    page.write_text(f"`POST /v1/messages`\n\n## Response\n\n{parts}\n")
    assert [f.code for f in check(page)] == ["docs.empty"]
    item = {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}
    page.write_text(f"`POST /v1/responses`\n\n## Response\n\n{json.dumps(item)}\n")
    assert [f.code for f in check(page)] == ["docs.empty"]


def test_an_answer_under_another_endpoint_is_not_paired_with_the_request_before(tmp_path: Path) -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    answer = {
        "id": "msg_01AbCdEfGhIjKlMnOpQrStUv",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 1,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    page = tmp_path / "two.md"
    page.write_text(
        f"## POST /v1/chat/completions\n\n{json.dumps(request)}\n\n## POST /v1/messages\n\nResponse:\n\n"
        f"{json.dumps(answer)}\n"
    )
    ex = extract(pages.load(str(page)))
    assert [(b.role, b.endpoint, b.request) for b in ex.blocks] == [
        ("request", "chat", None),
        ("answer", "messages", None),
    ]
    assert judge(ex, "strict") == []


def test_page_with_nothing_to_check_is_a_note(tmp_path: Path) -> None:
    page = tmp_path / "prose.md"
    page.write_text("# About us\n\nWe resell models.\n", encoding="utf-8")
    assert [(f.line, f.code, f.severity) for f in check(page)] == [(1, "docs.empty", "note")]


def test_request_rules_each_fail_with_their_code(tmp_path: Path) -> None:
    def one(endpoint: str, body: dict[str, object], at: str, below: int = 0) -> set[tuple[int | str, str]]:
        """The failing findings; "AT" for the line ``below`` lines under the first line with ``at``."""
        text = f"POST /v1/{endpoint}\n\n```json\n{json.dumps(body, indent=2)}\n```\n"
        page = tmp_path / "p.md"
        page.write_text(text, encoding="utf-8")
        line = next(n for n, s in enumerate(text.splitlines(), 1) if at in s) + below
        return {("AT" if n == line else n, code) for n, code in failing(check(page))}

    msg = [{"role": "user", "content": "hi"}]
    tools = [{"name": "t", "input_schema": {}}]
    assert one("messages", {"model": "m", "messages": msg}, "{") == {("AT", "docs.request.rejected")}  # max_tokens
    openai_tool = {"model": "m", "max_tokens": 9, "messages": msg, "tools": [{"type": "function", "function": {}}]}
    assert one("messages", openai_tool, '"tools"', 1) == {("AT", "docs.request.tool_shape")}  # tools[0]
    assert one("chat/completions", {"model": "m", "messages": msg, "tools": tools}, '"tools"', 1) == {
        ("AT", "docs.request.tool_shape")
    }
    assert one("responses", {"model": "m", "input": "hi", "max_tokens": 5}, "max_tokens") == {
        ("AT", "docs.request.field")
    }
    assert one("chat/completions", {"model": "m", "messages": msg}, "model") == set()
    broken_schema = [{"name": "t", "input_schema": {"type": "obj ect"}}]
    assert one("messages", {"model": "m", "max_tokens": 9, "messages": msg, "tools": broken_schema}, '"tools"', 1) == {
        ("AT", "docs.request.rejected")
    }


def test_mangled_pages_never_raise() -> None:
    """Pages cut and spliced at random (with JSON, SSE, SDK and HTML fragments inserted) are judged
    without an exception (what cannot be read is a docs.unparseable finding, see above)."""
    import random

    rng = random.Random(18)
    sources = [p.read_bytes() for p in sorted(DATA.iterdir())]
    bits = [b'{"', b"}", b"[", b'\\"', b"data: ", b"\n\n", b"POST /v1/messages\n", b"client.messages.create(", b"\xff"]
    bits += [b"<h1>", b"</td>", b"```json\n", b'{"type":"message"', b'"type": "obj', b"stream"]
    for _ in range(150):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 12)):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.3:
                del data[at : at + rng.randint(1, 80)]
            else:
                data[at:at] = rng.choice(bits)
        judge(extract(pages.from_bytes(rng.choice(["p.md", "p.html", "p.txt"]), bytes(data))), "strict")


def test_stream_claim_and_forced_tool_claim(tmp_path: Path) -> None:
    req = {
        "model": "m",
        "max_tokens": 99,
        "tool_choice": {"type": "any"},
        "messages": [{"role": "user", "content": "x"}],
    }
    req["tools"] = [{"name": "t", "input_schema": {"type": "object"}}]
    answer = {
        "id": "msg_01AbCdEfGhIjKlMnOpQrStUv",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "no tool"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    page = tmp_path / "claims.md"
    page.write_text(
        "# Streaming tool calls\n\nPOST /v1/messages\n\n## Request\n\n```json\n"
        + json.dumps(req)
        + "\n```\n\n## Response\n\n```json\n"
        + json.dumps(answer)
        + "\n```\n",
        encoding="utf-8",
    )
    assert failing(check(page)) == {(1, "docs.claim.stream"), (14, "docs.claim.stop_reason")}
    # A "# stream ..." comment inside a code block is not a heading, in Markdown or in HTML <pre>.
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    md = tmp_path / "comment.md"
    md.write_text(
        f"# Chat\n\n```bash\n# streaming comes later\ncurl https://r.example/v1/chat/completions -d '{body}'\n```\n"
    )
    html = tmp_path / "comment.html"
    html.write_text(
        f"<h1>Chat</h1>\n<pre>\n# stream it\ncurl https://r.example/v1/chat/completions -d '{body}'\n</pre>\n"
    )
    assert failing(check(md)) == failing(check(html)) == set()
    html.write_text(f"<h2>Streaming</h2>\n<pre>\ncurl https://r.example/v1/chat/completions -d '{body}'\n</pre>\n")
    assert failing(check(html)) == {(1, "docs.claim.stream")}


def test_cli_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", str(tmp_path / "missing.md"), "--report-dir", str(tmp_path)]) == 2
    assert "no such page" in capsys.readouterr().err
    assert main(["docs", "http://127.0.0.1:9/none.md", "--report-dir", str(tmp_path)]) == 2
    assert "cannot fetch" in capsys.readouterr().err


def test_base_url_without_a_key_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RELAYCHECK_API_KEY", raising=False)
    args = [
        "docs",
        str(DATA / "messages-correct.md"),
        "--report-dir",
        str(tmp_path),
        "--base-url",
        "http://127.0.0.1:9",
    ]
    assert main(args) == 2
    assert "RELAYCHECK_API_KEY" in capsys.readouterr().err


def test_url_is_fetched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(DATA), **kw)

        def log_message(self, *a) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/messages-zh.html"
        assert main(["docs", url, "--report-dir", str(tmp_path), "-q"]) == 1
        assert f"{url}:16: docs.request.rejected" in capsys.readouterr().out
        assert json.loads((tmp_path / "summary.json").read_text())["totals"]["failed"] == 4
    finally:
        server.shutdown()
        server.server_close()


def test_cases_out_is_a_valid_case_file_with_official_expectations(tmp_path: Path) -> None:
    from harness.cases import load_case_file

    out = tmp_path / "docs-cases.yaml"
    assert main(["docs", str(DATA / "messages-zh.html"), "--report-dir", str(tmp_path), "--cases-out", str(out)]) == 1
    cases = {c.id: c for c in load_case_file(out)}
    assert set(cases) == {"messages-zh-l13", "messages-zh-l20", "messages-zh-l40"}
    raw = {c["id"]: c for c in yaml.safe_load(out.read_text(encoding="utf-8"))["cases"]}
    assert raw["messages-zh-l13"]["request"]["body"]["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert raw["messages-zh-l13"]["expect"] == {"status": 400, "error_type": "invalid_request_error"}
    assert raw["messages-zh-l20"]["expect"] == {"status": 200}  # official behaviour, not the page's tool_use
    assert raw["messages-zh-l40"]["expect"]["status"] == 400
    assert all(c["models"] == "none" for c in raw.values())  # verbatim: the page's own model
    # Another dialect's parameter (max_output_tokens on chat) also means a 400 from the official API.
    chat = tmp_path / "chat.yaml"
    main(["docs", str(DATA / "chat-stream-zh.md"), "--report-dir", str(tmp_path), "--cases-out", str(chat), "-q"])
    (only,) = yaml.safe_load(chat.read_text(encoding="utf-8"))["cases"]
    assert only["stream"] is True and only["request"]["body"]["max_output_tokens"] == 256
    assert only["expect"] == {"status": 400, "error_type": "invalid_request_error"}


def test_base_url_runs_the_cases_and_compares_shapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.refgateway.server import start_in_thread

    key = "rc-docs-test-key-123456"
    monkeypatch.setenv("RELAYCHECK_API_KEY", key)
    page = tmp_path / "relay.md"
    body = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    documented = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0}]}
    page.write_text(
        f"POST /v1/messages\n\n请求:\n{json.dumps(body)}\n\n返回:\n{json.dumps(documented)}\n", encoding="utf-8"
    )
    with start_in_thread(key) as gw:
        code = main(["docs", str(page), "--report-dir", str(tmp_path), "--base-url", gw.base_url])
    out = capsys.readouterr().out
    assert code == 1  # the page documents a chat.completion for /v1/messages
    assert f"{page}:4: live: passed" in out
    assert f"{page}:7: docs.live_shape: (note) the docs promise $.object (string), the relay sends no such field" in out
    assert key not in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    live = [i for i in summary["items"] if i["id"].endswith(" live")]
    assert [i["outcome"] for i in live] == ["passed"] and live[0]["notes"]


def test_shape_differences() -> None:
    doc = {"type": "message", "content": [{"type": "text"}], "usage": {"input_tokens": 1}}
    assert (
        shape_differences(doc, {"type": "message", "content": [{"type": "text"}], "usage": {"input_tokens": 3}}) == []
    )
    diffs = shape_differences(doc, {"type": "error", "content": "x"})
    assert "the docs promise $.type = 'message', the relay sends 'error'" in diffs
    assert "the docs promise $.content as array, the relay sends string" in diffs
    assert "the docs promise $.usage (object), the relay sends no such field" in diffs


def test_ci_example_commands_parse_with_the_real_cli() -> None:
    text = (REPO / "docs" / "docs-check.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    workflow = yaml.safe_load(block.group(1))
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in str(step.get("run", "")).replace("\\\n", " ").splitlines():
                if line.strip().startswith("relaycheck "):
                    words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "X", line))
                    cut = next((i for i, w in enumerate(words) if w in ("|", ">", "||", "&&")), len(words))
                    commands.append(words[1:cut])
    assert commands and all(c[0] == "docs" for c in commands)
    for argv in commands:
        build_parser().parse_args(argv)  # SystemExit on an option relaycheck does not have
