"""Reports end to end and in parts: one clean and one faulted run of a small case set through
`relaycheck run` must write summary.json (with metrics and transcripts), junit.xml (violation
text, no traceback), allure results (labels, attachments, failed steps, status failed) and
matrix.html; `report diff` must name exactly the injected misbehaviour; no report may hold the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.model import Chunk, Exchange, WireRequest
from harness.redact import Redactor
from harness.report import diff as rdiff
from harness.report.html import render, score, verdict
from harness.report.merge import merge
from harness.report.metrics import generation_ms, tokens_per_second, usage
from harness.report.summary import SummaryError, load_summary, passes
from harness.report.transcript import chunks_text, item_transcript, request_text
from tests.conftest import REPO, TEST_KEY

FAULT = "usage-inconsistent"
MINI_CASES = """\
cases:
  - id: hello-chat
    description: plain text on chat
    endpoint: chat
    stream: both
    models: [gpt-4o]
    features: [text]
    request:
      body: {max_tokens: 64, messages: [{role: user, content: "Say hello."}]}
    expect: {status: 200, stop_reason: stop}
  - id: hello-messages
    description: plain text on messages
    endpoint: messages
    stream: both
    models: [claude-sonnet-4-20250514]
    features: [text]
    request:
      body: {max_tokens: 64, messages: [{role: user, content: "Say hello."}]}
    expect: {status: 200, stop_reason: end_turn}
"""


def relaycheck(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "CI"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The mini case set against the built-in gateway: clean, then with one fault."""
    root = tmp_path_factory.mktemp("runs")
    (root / "cases").mkdir()
    (root / "cases" / "mini.yaml").write_text(MINI_CASES, encoding="utf-8")
    out: dict[str, Any] = {"root": root}
    for name, extra in (("clean", []), ("faulted", ["--fault", FAULT])):
        res = relaycheck("run", "--cases", "cases/mini.yaml", "--report-dir", name, *extra, cwd=root)
        out[name] = res
        out[f"{name}_dir"] = root / name
    return out


def _items(run_dir: Path) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in json.loads((run_dir / "summary.json").read_text())["items"]}


def _failing(run_dir: Path) -> set[str]:
    return {i for i, e in _items(run_dir).items() if e["outcome"] == "failed"}


def test_clean_and_faulted_exit_codes(runs: dict[str, Any]) -> None:
    assert runs["clean"].returncode == 0, runs["clean"].stdout[-3000:] + runs["clean"].stderr[-2000:]
    assert runs["faulted"].returncode == 1, runs["faulted"].stdout[-3000:]
    for name in ("clean", "faulted"):
        for f in ("summary.json", "junit.xml", "matrix.html"):
            assert (runs[f"{name}_dir"] / f).is_file(), f
        assert list((runs[f"{name}_dir"] / "allure-results").glob("*-result.json"))


def test_summary_carries_metrics_and_transcripts(runs: dict[str, Any]) -> None:
    items = _items(runs["clean_dir"])
    assert len(items) == 4 and {e["outcome"] for e in items.values()} == {"passed"}
    sync = next(e for i, e in items.items() if "hello-chat" in i and i.endswith("sync]"))
    assert sync["status"] == 200 and sync["ttft_ms"] > 0 and sync["latency_ms"] >= sync["ttft_ms"]
    assert isinstance(sync["input_tokens"], int) and sync["input_tokens"] > 0
    assert isinstance(sync["output_tokens"], int) and sync["output_tokens"] > 0
    assert sync["output_tps"] is None or sync["output_tps"] > 0
    stream = next(e for i, e in items.items() if "hello-messages" in i and i.endswith("stream]"))
    assert stream["output_tokens"] and stream["input_tokens"]  # folded from message_start/message_delta
    assert "event: message_start" in stream["transcript"] and "[+" in stream["transcript"]
    assert "POST http://127.0.0.1:" in stream["transcript"]


def test_junit_has_violation_text_not_traceback(runs: dict[str, Any]) -> None:
    tree = ET.parse(runs["faulted_dir"] / "junit.xml")
    failures = {}
    for case in tree.iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            failures[case.get("name")] = (failure.get("message") or "") + (failure.text or "")
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert "relaycheck.meta" in props
        assert "transcript" not in json.loads(props.get("relaycheck.result", "{}"))  # kept out of JUnit
    assert len(failures) == len(_failing(runs["faulted_dir"])) == 3
    for text in failures.values():
        assert "  [usage] (strict) at " in text  # contradicting counts fail the strict level only
        assert "Traceback" not in text and 'File "' not in text and "raise " not in text


def _allure(run_dir: Path) -> dict[str, dict[str, Any]]:
    results = [json.loads(p.read_text()) for p in (run_dir / "allure-results").glob("*-result.json")]
    return {r["fullName"]: r for r in results}


def test_allure_labels_attachments_and_failed_steps(runs: dict[str, Any]) -> None:
    results = _allure(runs["faulted_dir"])
    assert len(results) == 4
    failed = [r for r in results.values() if r["status"] != "passed"]
    assert len(failed) == 3 and {r["status"] for r in failed} == {"failed"}  # not "broken"
    r = next(r for r in failed if "hello-messages" in r["name"] and "stream" in r["name"])
    labels = {(lb["name"], lb["value"]) for lb in r["labels"]}
    assert {
        ("gateway", "local"),
        ("endpoint", "messages"),
        ("model", "claude-sonnet-4-20250514"),
        ("stream", "stream"),
        ("feature", "text"),
    } <= labels
    params = {p["name"]: p["value"] for p in r["parameters"]}
    assert params["endpoint"] == "'messages'" and params["stream"] == "'stream'"
    names = [a["name"] for a in r["attachments"]]
    assert names == ["request", "response", "SSE transcript (arrival offsets)"]
    transcript = (runs["faulted_dir"] / "allure-results" / r["attachments"][2]["source"]).read_text()
    assert "ms] event: message_start" in transcript
    steps = [s for s in r["steps"] if s["name"].startswith("[usage]")]
    assert steps and {s["status"] for s in steps} == {"failed"}
    notes = [s for s in r["steps"] if "(note)" in s["name"]]
    assert all(s["status"] == "passed" for s in notes)
    passed = next(r for r in results.values() if r["status"] == "passed")
    assert not [s for s in passed.get("steps", []) if s["status"] == "failed"]


def test_matrix_marks_the_failing_cells(runs: dict[str, Any]) -> None:
    page = (runs["faulted_dir"] / "matrix.html").read_text()
    for item_id in _failing(runs["faulted_dir"]):
        assert f'data-id="{item_id}" data-verdict="strict"' in page  # usage fails strict only
    assert page.count('data-verdict="pass"') == 1
    assert "compatible: 4 of 4 items" in page


def test_diff_names_exactly_the_injected_fault(runs: dict[str, Any]) -> None:
    root = runs["root"]
    res = relaycheck("report", "diff", "clean/summary.json", "faulted/summary.json", "--json", "diff.json", cwd=root)
    assert res.returncode == 1, res.stdout + res.stderr
    d = json.loads((root / "diff.json").read_text())
    assert {c["id"] for c in d["newly_failing"]} == _failing(runs["faulted_dir"])
    assert {code for c in d["newly_failing"] for code in c["codes"]} == {"usage"}
    assert not d["fixed"] and not d["new_codes"]
    assert "newly failing (3):" in res.stdout and "verdict: REGRESSED" in res.stdout
    back = relaycheck("report", "diff", "faulted/summary.json", "clean/summary.json", cwd=root)
    assert back.returncode == 0, back.stdout
    assert "fixed (3):" in back.stdout and "newly failing (0):" in back.stdout


def test_report_html_and_merge_commands(runs: dict[str, Any]) -> None:
    root = runs["root"]
    res = relaycheck("report", "html", "faulted/summary.json", "-o", "page/m.html", cwd=root)
    assert res.returncode == 0 and (root / "page" / "m.html").read_text().count('data-verdict="strict"') == 3
    # The same items twice are not one whole run: refused, naming them; --partial overlays them.
    res = relaycheck("report", "merge", "merged.json", "clean/summary.json", "faulted/summary.json", cwd=root)
    assert res.returncode == 1 and "4 item(s) in more than one input" in res.stderr
    assert not (root / "merged.json").exists()
    res = relaycheck(
        "report", "merge", "merged.json", "clean/summary.json", "faulted/summary.json", "--partial", cwd=root
    )
    assert res.returncode == 0 and "more than one input" in res.stderr
    merged = load_summary(root / "merged.json")
    assert merged["totals"] == {"items": 4, "passed": 1, "failed": 3, "skipped": 0, "error": 0}
    bad = relaycheck("report", "diff", "clean/summary.json", "clean/junit.xml", cwd=root)
    assert bad.returncode == 2 and "not JSON" in bad.stderr


def test_progress_lines_in_ci_logs(runs: dict[str, Any]) -> None:
    out = runs["faulted"].stdout
    lines = [line for line in out.splitlines() if line.startswith("relaycheck: ") and " items" in line]
    assert "\r" not in out and "\x1b[K" not in out
    assert lines[-1].startswith("relaycheck: 4/4 items 100%, 3 failed")
    assert len(lines) <= 5  # a tenth of a 4-item run is every item, plus nothing else


def test_no_report_holds_the_key(tmp_path: Path, faulty_gateway: Callable[..., str]) -> None:
    url = faulty_gateway(FAULT)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "mini.yaml").write_text(MINI_CASES, encoding="utf-8")
    (tmp_path / "gateways.yaml").write_text(
        textwrap.dedent(f"""\
        default: relay
        gateways:
          relay:
            base_url: {url}
            auth: both
            api_key_env: RELAYCHECK_TEST_KEY
            models:
              chat: {{gpt-4o: []}}
              messages: {{claude-sonnet-4-20250514: []}}
        """),
        encoding="utf-8",
    )
    res = relaycheck(
        "run", "--cases", "cases/mini.yaml", "--report-dir", "out", cwd=tmp_path, env={"RELAYCHECK_TEST_KEY": TEST_KEY}
    )
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(files) > 10
    for p in files:
        assert TEST_KEY not in p.read_text(encoding="utf-8", errors="replace"), p
    requests = [
        p for p in (tmp_path / "out" / "allure-results").glob("*-attachment.txt") if p.read_text().startswith("POST ")
    ]
    texts = [p.read_text() for p in requests]
    assert len(texts) == 4 and all(": [REDACTED]" in t for t in texts)
    assert any("x-api-key: [REDACTED]" in t for t in texts) and any("Authorization: [REDACTED]" in t for t in texts)


# ---- units -------------------------------------------------------------------------------


def test_request_text_masks_headers_and_body() -> None:
    req = WireRequest(
        "POST",
        "http://127.0.0.1/v1/messages",
        {"x-api-key": TEST_KEY, "authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"},
        json.dumps({"echo": TEST_KEY}).encode(),
    )
    text = request_text(req, Redactor([TEST_KEY]))
    assert TEST_KEY not in text
    assert "x-api-key: [REDACTED]" in text and "authorization: [REDACTED]" in text and '"echo": "[REDACTED]"' in text


def test_chunks_show_arrival_offsets_and_bad_bytes() -> None:
    ex = Exchange(
        WireRequest("POST", "http://h/v1/chat/completions", {}),
        200,
        {"content-type": "text/event-stream"},
        (Chunk(0.0123, b"data: {}\n\n"), Chunk(0.5, b"data: \xff\n\ndata: [DONE]\n\n")),
    )
    text = chunks_text(ex, Redactor())
    assert text.splitlines()[0] == "[+    12.3 ms] data: {}"
    assert "[+   500.0 ms] data: \\xff" in text and "data: [DONE]" in text
    capped = item_transcript([("s", ex)], Redactor(), limit=40)
    assert capped.endswith("more bytes]") and len(capped) < 80


@pytest.mark.parametrize(
    ("endpoint", "final", "expected"),
    [
        ("chat", {"usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}, (5, 7)),
        ("messages", {"usage": {"input_tokens": 3, "cache_read_input_tokens": 10, "output_tokens": 4}}, (13, 4)),
        ("responses", {"usage": {"input_tokens": 8, "output_tokens": 2, "total_tokens": 10}}, (8, 2)),
        ("chat", {"usage": {"prompt_tokens": "5", "completion_tokens": -1}}, (None, None)),
        ("responses", {"error": {}}, (None, None)),
        ("messages", None, (None, None)),
    ],
)
def test_usage_per_dialect(endpoint: str, final: Any, expected: tuple[int | None, int | None]) -> None:
    assert usage(endpoint, final) == expected


def test_tokens_per_second() -> None:
    assert generation_ms(1000.0, 200.0, stream=True) == 800.0
    assert generation_ms(1000.0, 200.0, stream=False) == 1000.0
    assert tokens_per_second(40, 800.0) == 50.0
    assert tokens_per_second(40, 0.2) is None and tokens_per_second(0, 800.0) is None


def _entry(
    i: str,
    outcome: str = "passed",
    codes: tuple[str, ...] = (),
    severity: str = "error",
    latency: float | None = 100.0,
    **kw: Any,
) -> dict[str, Any]:
    viol = [
        {"code": c, "path": "$", "message": "m", **({} if severity == "error" else {"severity": severity})}
        for c in codes
    ]
    return {
        "id": i,
        "case": i,
        "file": "cases/x.yaml",
        "line": 1,
        "endpoint": "chat",
        "model": "m1",
        "stream": False,
        "gateway": "gw",
        "outcome": outcome,
        "violations": viol,
        "notes": [],
        "ttft_ms": latency,
        "latency_ms": latency,
    } | kw


def _summary(*entries: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "gateway": "gw",
        "level": "strict",
        "started": "2025-01-01T00:00:00Z",
        "duration_s": 10,
        "items": list(entries),
        **kw,
    }


def test_diff_rules() -> None:
    old = _summary(
        _entry("a"),
        _entry("b", "failed", ("x",)),
        _entry("c", "failed", ("x",)),
        _entry("d"),
        _entry("gone"),
        _entry("e", latency=100.0),
        _entry("f", latency=1000.0),
    )
    new = _summary(
        _entry("a", "failed", ("y",)),
        _entry("b", "failed", ("x", "z")),
        _entry("c"),
        _entry("d", "error"),
        _entry("new", "failed", ("q",)),
        _entry("e", latency=290.0),
        _entry("f", latency=1600.0),
    )
    d = rdiff.diff(old, new, ratio=1.5, min_ms=200)
    assert [(c.id, c.codes, c.was) for c in d.newly_failing] == [
        ("a", ("y",), "passed"),
        ("d", (rdiff.HARNESS_ERROR,), "passed"),
        ("new", ("q",), None),
    ]
    assert [(c.id, c.codes) for c in d.new_codes] == [("b", ("z",))]
    assert [(c.id, c.codes) for c in d.fixed] == [("c", ("x",))]
    assert d.still_failing == 1 and d.only_old == ("gone",) and d.only_new == ("new",)
    # e: 2.9x but only +190 ms (under the floor); f: +600 ms and 1.6x: a regression (TTFT and total).
    assert {(c.key, c.metric) for c in d.latency} == {("f", "ttft_ms"), ("f", "latency_ms")}
    assert d.regressed
    assert not rdiff.diff(old, old).regressed
    assert not rdiff.diff(old, new, ratio=0).latency


def test_diff_group_scope_uses_medians() -> None:
    old = _summary(*[_entry(f"i{n}", latency=1000.0) for n in range(5)])
    one_slow = _summary(*[_entry(f"i{n}", latency=1000.0 if n else 5000.0) for n in range(5)])
    all_slow = _summary(*[_entry(f"i{n}", latency=2000.0) for n in range(5)])
    assert len(rdiff.diff(old, one_slow, scope="item").latency) == 2
    assert not rdiff.diff(old, one_slow, scope="group").latency
    assert {c.key for c in rdiff.diff(old, all_slow, scope="group").latency} == {"gw m1 chat sync"}


def test_merge_shards() -> None:
    a = _summary(
        _entry("x", gateway="g1"),
        _entry("y", "failed", ("c",), gateway="g1"),
        gateway="g1",
        started="2025-01-01T00:00:00Z",
        duration_s=30,
    )
    b = _summary(_entry("z", "skipped", gateway="g2"), gateway="g2", started="2025-01-01T00:00:10Z", duration_s=50)
    merged, warnings = merge([a, b], ["a.json", "b.json"])
    assert merged["totals"] == {"items": 3, "passed": 1, "failed": 1, "skipped": 1, "error": 0}
    assert merged["gateways"] == ["g1", "g2"] and merged["gateway"] is None
    assert merged["duration_s"] == 60 and merged["started"] == "2025-01-01T00:00:00Z"
    assert merged["violation_codes"] == {"c": 1} and not warnings
    again, warnings = merge([a, a], ["a.json", "a2.json"])
    assert again["totals"]["items"] == 2 and len(warnings) == 2


def test_levels_and_scores() -> None:
    strict_only = _entry("s", "failed", ("sse.done",), severity="strict")
    broken = _entry("b", "failed", ("usage",))
    items = [_entry("p"), strict_only, broken, _entry("k", "skipped"), _entry("e", "error")]
    assert [verdict(e) for e in items] == ["pass", "strict", "fail", "skip", "error"]
    assert passes(strict_only, "compatible") and not passes(strict_only, "strict")
    assert score(items, "strict") == (1, 4) and score(items, "compatible") == (2, 4)


def test_page_is_self_contained_and_escapes_relay_text() -> None:
    evil = "</script><script>alert(1)</script><img src=x>"
    page = render(
        _summary(_entry("cases/x.yaml::a[gw-m1-sync]", "failed", ("usage",), transcript=evil, case="<b>a</b>"))
    )
    assert evil not in page and "<b>a</b>" not in page
    assert page.count("<script") == 2  # the JSON data and the page's own script, nothing injected
    for needle in ("http://", "https://", "<link", "<img", "@import", "url("):
        assert needle not in page.replace('xmlns="http://www.w3.org/2000/svg"', ""), needle


def test_page_of_a_lint_traffic_summary() -> None:
    lint = [
        {
            "id": "corpus.jsonl#3",
            "case": None,
            "endpoint": None,
            "model": None,
            "stream": False,
            "outcome": "skipped",
            "violations": [],
        },
        {
            "id": "corpus.jsonl#4",
            "case": None,
            "endpoint": "chat",
            "model": "gpt-4o",
            "stream": True,
            "outcome": "failed",
            "violations": [{"code": "sse.done", "path": "$", "message": "m"}],
        },
    ]
    page = render(_summary(*lint, gateway=None))
    assert 'data-id="corpus.jsonl#4" data-verdict="fail"' in page and 'data-verdict="skip"' in page


def test_load_summary_rejects_other_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"items": [{"id": "x"}]}')
    (tmp_path / "b.json").write_text(json.dumps(_summary(_entry("x"), schema_version=1)))
    with pytest.raises(SummaryError, match="schema_version"):
        load_summary(tmp_path / "a.json")
    assert load_summary(tmp_path / "b.json")["items"][0]["id"] == "x"
    with pytest.raises(SummaryError, match="cannot read"):
        load_summary(tmp_path / "missing.json")


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("requested", "tty", "env", "mode"),
    [
        ("auto", True, {}, "live"),
        ("auto", True, {"CI": "true"}, "lines"),
        ("auto", True, {"CI": "false"}, "live"),
        ("auto", False, {}, "lines"),
        ("live", False, {"CI": "1"}, "live"),
    ],
)
def test_progress_mode(requested: str, tty: bool, env: dict[str, str], mode: str) -> None:
    from harness.pytest.progress import choose_mode

    assert choose_mode(requested, _Stream(tty), env) == mode  # type: ignore[arg-type]


def test_progress_live_redraws_one_line(relay_project: Callable[..., pytest.Pytester], refgateway: str) -> None:
    p = relay_project(refgateway, {"mini.yaml": MINI_CASES})
    live = p.runpytest_subprocess("cases", "--relaycheck-progress", "live", "-q", "-o", "console_output_style=classic")
    assert live.ret == 0
    out = (p.path / "stdout").read_bytes().decode()  # raw: text mode would turn each \r into \n
    assert "\rrelaycheck: 1/4 items" in out and "\rrelaycheck: 4/4 items 100%, 0 failed" in out
    assert "...." not in out  # pytest's per-item dots give way to the redrawn line
    lines = p.runpytest_subprocess("cases", "--relaycheck-progress", "lines", "--progress-every", "3", "-q")
    found = [line for line in lines.stdout.lines if line.startswith("relaycheck: ") and " items" in line]
    assert "\r" not in (p.path / "stdout").read_bytes().decode()
    assert [f.split(" (")[0] for f in found] == [
        "relaycheck: 3/4 items  75%, 0 failed",
        "relaycheck: 4/4 items 100%, 0 failed",
    ]


def test_fault_is_checked(tmp_path: Path, refgateway: str) -> None:
    res = relaycheck("run", "--fault", "no-such-fault", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 2 and "unknown fault no-such-fault" in res.stdout + res.stderr
    res = relaycheck(
        "run",
        "--fault",
        FAULT,
        "--base-url",
        refgateway,
        "--report-dir",
        str(tmp_path),
        cwd=tmp_path,
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 2 and "built-in reference gateway only" in res.stdout + res.stderr


def test_nightly_example_runs_real_commands_with_the_key_from_a_secret() -> None:
    import re
    import shlex

    import yaml

    from harness.cli import build_parser

    steps = yaml.safe_load((REPO / "examples" / "github-actions" / "nightly.yml").read_text())["jobs"]["conformance"][
        "steps"
    ]
    run = next(s for s in steps if s.get("id") == "run")
    assert run["env"] == {"RELAYCHECK_API_KEY": "${{ secrets.RELAY_API_KEY }}"}
    assert [s for s in steps if "secrets." in json.dumps(s)] == [run]  # the key reaches one step only
    uploads = {s["with"]["name"]: s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")}
    assert uploads["relaycheck-baseline"]["with"]["path"] == "reports/summary.json"
    assert any(u["if"] == "always()" and u["with"]["path"].startswith("reports") for u in uploads.values())
    commands = []
    for step in steps:
        for line in str(step.get("run", "")).replace("\\\n", " ").splitlines():
            if line.strip().startswith("relaycheck "):
                words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "X", line))
                cut = next((i for i, w in enumerate(words) if w in ("--", "|", ">", "||")), len(words))
                commands.append(words[1:cut])
    assert [c[:2] for c in commands] == [["run", "--gateways-file"], ["report", "diff"], ["report", "trend"]]
    history = next(s for s in steps if s.get("name") == "Keep the nights")  # every night, for the trend
    assert history["if"] == "always()" and history["with"]["path"] == "history/"
    for argv in commands:
        build_parser().parse_args(argv)  # exits (SystemExit) on an option relaycheck does not have
