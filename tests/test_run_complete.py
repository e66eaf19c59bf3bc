"""A run never lies about being complete (issue 11, items 6, 7, 11), and its exit code says who
broke: an interrupted run (Ctrl-C, SIGTERM) still writes every report for what finished and counts the item it cut off
as an error, a case file that does not load is recorded and exits 2, `report diff` fails when
items vanish, and a closed stdout pipe is a quiet exit. Through the real CLI, in subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import exitcodes
from harness.cli import main
from tests.conftest import REPO, TEST_KEY
from tests.test_cli import relaycheck

FINISHED = re.compile(r"^\S+::\S+ (PASSED|FAILED)\b")
ENV = {**os.environ, "RELAYCHECK_API_KEY": TEST_KEY, "PYTHONUNBUFFERED": "1", "CI": "true"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def slow_gateway() -> Iterator[str]:
    """`relaycheck serve --latency 1.5`: every answer takes 1.5 s, so an interrupt lands mid-item."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--port", str(port), "--latency", "1.5"],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "relaycheck serve did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(("sig", "concurrency"), [(signal.SIGTERM, 1), (signal.SIGINT, 4)])
def test_interrupted_run_writes_honest_reports(
    tmp_path: Path, slow_gateway: str, sig: signal.Signals, concurrency: int
) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "--base-url",
            slow_gateway,
            "--endpoints",
            "chat",
            "--models",
            "gpt-4o,gpt-4.1",
            "--concurrency",
            str(concurrency),
            "--report-dir",
            str(tmp_path),
            "--progress",
            "off",
            "--",
            "-v",
            "-m",
            "sync",
            "-p",
            "no:randomly",
        ],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    done: list[str] = []
    try:
        for line in proc.stdout:  # pytest -v prints "nodeid PASSED" as each item finishes
            if FINISHED.search(line):
                done.append(line.split()[0])
                if len(done) == 2:
                    break
        assert len(done) == 2, "the run ended before it could be interrupted"
        time.sleep(0.6)  # the third item is now waiting for its 1.5-second answer
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == exitcodes.INCOMPLETE, (out[-2000:], err[-2000:])
    assert "incomplete run (interrupted)" in err
    assert "Traceback" not in err

    summary = json.loads((tmp_path / "summary.json").read_text())
    run, items = summary["run"], {e["id"]: e for e in summary["items"]}
    assert run["interrupted"] is True and run["complete"] is False
    assert run["selected"] > len(items) >= 2
    assert run["selected"] == run["finished"] + run["unfinished"] + run["not_run"]
    # Only items that were judged count as passed (their answer is in the entry); the items seen
    # finishing before the signal are among them; the one cut off is an error.
    passed = {i for i, e in items.items() if e["outcome"] == "passed"}
    assert set(done) <= passed
    assert all(items[i]["status"] is not None and items[i]["latency_ms"] is not None for i in passed)
    unfinished = [e for e in items.values() if e.get("error", "").startswith("interrupted")]
    assert len(unfinished) == run["unfinished"]
    assert all(e["outcome"] == "error" for e in unfinished)
    if concurrency == 1:  # the third item was waiting for its answer when the signal came
        assert run["unfinished"] == 1 and len(passed) == 2  # (skipped items finish at once, unsent)
    assert summary["totals"]["items"] == len(items)

    # JUnit has what finished (never the cut-off item as a pass); the matrix says it is incomplete.
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    cases = junit.iter("testcase")
    assert {f"{c.get('file') or ''}" for c in cases}  # written and parseable
    assert int(next(junit.iter("testsuite")).get("tests", "0")) == run["finished"]
    assert "Incomplete run" in (tmp_path / "matrix.html").read_text()


def test_bad_case_file_is_recorded_and_exits_2(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "bad.yaml").write_text(
        "cases:\n  - id: x\n    description: y\n    endpoint: chat\n    request: {bodyy: {}}\n", encoding="utf-8"
    )
    res = relaycheck(
        "run",
        "--cases",
        str(cases / "bad.yaml"),
        "--cases",
        str(REPO / "cases" / "chat" / "basic.yaml"),
        "--report-dir",
        str(tmp_path / "reports"),
        cwd=tmp_path,
    )
    assert res.returncode == exitcodes.USAGE, res.stdout[-2000:] + res.stderr[-2000:]
    line = "relaycheck: error: cases/bad.yaml:5:15: cases[0].request: unknown key(s) 'bodyy'"
    assert res.stderr.splitlines() == [line]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["collection_errors"] == [
        {"file": "cases/bad.yaml", "line": 5, "col": 15, "message": "cases[0].request: unknown key(s) 'bodyy'"}
    ]
    assert summary["run"]["complete"] is False and summary["run"]["collection_errors"] == 1
    assert summary["totals"]["passed"] > 0  # the good file still ran


def test_report_that_cannot_be_written_exits_3(tmp_path: Path) -> None:
    (tmp_path / "summary.json").mkdir()  # the report directory is writable, summary.json is not a file
    res = relaycheck(
        "run", "--cases", str(REPO / "cases" / "chat" / "basic.yaml"), "--report-dir", str(tmp_path), cwd=REPO
    )
    assert res.returncode == exitcodes.INCOMPLETE, res.stdout[-2000:] + res.stderr[-2000:]
    assert "relaycheck: could not write summary.json" in res.stdout
    assert "incomplete run (reports not written)" in res.stderr


def test_unwritable_report_dir_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    res = relaycheck("run", "--report-dir", str(tmp_path / "file" / "reports"), cwd=REPO)
    assert res.returncode == exitcodes.USAGE
    assert res.stderr.startswith("relaycheck: error: cannot write reports to")
    assert len(res.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("pytest_code", "expected"),
    [(0, 0), (1, 1), (2, 3), (3, 3), (4, 2), (5, 2)],
)
def test_pytest_exit_codes_map_onto_relaychecks(pytest_code: int, expected: int) -> None:
    assert exitcodes.RunWatch().exit_code(pytest_code) == expected


def test_watch_overrides() -> None:
    watch = exitcodes.RunWatch()
    watch.collection_errors.append(exitcodes.collection_error("cases/a.yaml", "cases/a.yaml:1:2: bad"))
    assert watch.exit_code(1) == 2 and watch.exit_code(0) == 2
    assert watch.exit_code(2) == 2  # -x stopping at the malformed file: still the user's configuration
    watch.interrupted = True
    assert watch.exit_code(2) == 3
    late = exitcodes.RunWatch()
    late.report_errors.append("summary.json: disk full")
    assert late.exit_code(0) == 3
    crash = exitcodes.RunWatch()  # a collection failure without file:line:col is a crash of ours
    crash.pytest_collectreport(_FailedCollect("cases/a.yaml", "Traceback ...\nRecursionError: too deep"))
    assert crash.collection_crashes and not crash.collection_errors
    assert crash.exit_code(1) == 3


class _FailedCollect:
    failed = True

    def __init__(self, nodeid: str, longrepr: str) -> None:
        self.nodeid, self.longrepr = nodeid, longrepr


def _summary(path: Path, ids: list[str]) -> Path:
    entries = [{"id": i, "outcome": "passed", "violations": []} for i in ids]
    data = {"schema_version": 1, "tool": "run", "level": "strict", "items": entries}
    path.write_text(json.dumps(data))
    return path


def test_report_diff_fails_when_items_vanish(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _summary(tmp_path / "old.json", ["a", "b", "c"])
    new = _summary(tmp_path / "new.json", ["a"])
    assert main(["report", "diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "missing from the new run: 2 item(s)" in out and "verdict: INCOMPLETE" in out
    assert main(["report", "diff", str(old), str(new), "--allow-missing"]) == 0
    assert main(["report", "diff", str(new), str(old)]) == 0  # new items are not a failure


def test_help_documents_the_exit_codes() -> None:
    res = relaycheck("--help", cwd=REPO)
    assert "exit codes:" in res.stdout
    for code, _ in exitcodes.TABLE:
        assert f"\n  {code}  " in res.stdout


@pytest.mark.parametrize("args", [["codes"], ["faults"], ["--help"], ["codes", "--markdown"]])
def test_closed_stdout_pipe_is_a_quiet_exit(args: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `relaycheck codes | head -0`: the reader is gone before any output
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


def test_readme_exit_code_table_is_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- exit-codes:start -->\n(.*)\n<!-- exit-codes:end -->", readme, re.S)
    assert table and table.group(1) == exitcodes.markdown_table()


def test_run_with_a_closed_stdout_pipe_still_finishes_and_writes_reports(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "--cases",
            str(REPO / "cases" / "chat" / "basic.yaml"),
            "--report-dir",
            str(tmp_path),
            "--progress",
            "off",
            "--",
            "-v",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # `relaycheck run | head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["run"]["complete"] is True and summary["totals"]["passed"] == summary["run"]["selected"]
    assert (tmp_path / "junit.xml").is_file() and (tmp_path / "matrix.html").is_file()
