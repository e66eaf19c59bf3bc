"""First contact with a relay: unknown capabilities are skipped (not failed), and every run ends
with a digest (terminal, summary.json, top of matrix.html)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.report.digest import build_digest, render_digest
from tests.conftest import REPO, TEST_KEY

UNDECLARED = "capability not declared for gpt-4.1: run relaycheck discover or tag it in gateways.yaml"


def cli(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "RELAYCHECK_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def chat_only_relay() -> Iterator[str]:
    """A relay serving two models on /v1/chat/completions only (the reference gateway restricted:
    other endpoints answer "model not found"); neither model thinks or reasons."""
    from harness.refgateway import start_in_thread

    with start_in_thread(TEST_KEY, models={"chat": ["gpt-4.1", "gpt-4o"]}) as gw:
        yield gw.base_url


def test_readme_quick_start_against_a_chat_only_relay_fails_nothing(tmp_path: Path, chat_only_relay: str) -> None:
    readme = (REPO / "README.md").read_text()
    assert "relaycheck run --base-url https://relay.example --models claude-sonnet-4-6,gpt-4.1" in readme
    res = cli(
        "run",
        "--base-url",
        chat_only_relay,
        "--models",
        "gpt-4.1,gpt-4o",
        "--report-dir",
        str(tmp_path),
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    totals = summary["totals"]
    assert totals["failed"] == 0 and totals["error"] == 0 and totals["passed"] > 0, totals
    reasons = {i["skip_reason"] for i in summary["items"] if i["outcome"] == "skipped"}
    assert UNDECLARED in reasons
    assert any(r.startswith("not served: messages answered 404 for gpt-4.1") for r in reasons), reasons
    # The chat items that need no capability ran; the tool cases were skipped as undeclared.
    chat = [i for i in summary["items"] if i["endpoint"] == "chat" and i["model"] == "gpt-4.1"]
    assert any(i["outcome"] == "passed" for i in chat)
    digest = summary["digest"]
    kinds = digest["skipped"]
    undeclared = sum(1 for i in summary["items"] if i.get("skip_reason", "").startswith("capability not declared"))
    assert kinds["capability not declared (run relaycheck discover or tag it in gateways.yaml)"] == undeclared > 0
    out = res.stdout[res.stdout.index("relaycheck digest:") :]
    assert "capability not declared (run relaycheck discover or tag it in gateways.yaml)" in out
    assert f"  {undeclared} capability not declared" in out
    assert '<pre class="digest"' in (tmp_path / "matrix.html").read_text()


def test_a_declared_capability_that_fails_is_a_failure(tmp_path: Path, chat_only_relay: str) -> None:
    # Declared on messages with tools, but the relay does not serve the model there: a failure.
    gateways = tmp_path / "gateways.yaml"
    gateways.write_text(
        f"gateways:\n  r:\n    base_url: {chat_only_relay}\n    models:\n      messages: {{gpt-4.1: [tools]}}\n"
    )
    res = cli(
        "run",
        "--gateways-file",
        str(gateways),
        "--cases",
        str(REPO / "cases" / "messages" / "tools.yaml"),
        "--report-dir",
        str(tmp_path),
        "--",
        "-k",
        "tool-choice-auto",
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 1, res.stdout[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"]["failed"] > 0 and summary["totals"]["skipped"] == 0
    assert summary["digest"]["defects"][0]["code"] == "status"


def _entry(item_id: str, outcome: str, **kw: object) -> dict[str, object]:
    base = {"id": item_id, "gateway": "g", "model": "m", "endpoint": "chat", "outcome": outcome, "violations": []}
    return {**base, **kw}


def test_digest_groups_scores_defects_skips_tokens_and_next_steps() -> None:
    items = [
        _entry("a", "passed", input_tokens=10, output_tokens=5),
        _entry(
            "b",
            "failed",
            violations=[{"code": "status", "path": "$", "message": "m"}],
            input_tokens=3,
            reproduce="curl -sS -X POST http://127.0.0.1:41234/v1/chat/completions --data-raw '{}'",
        ),
        _entry(
            "c",
            "failed",
            violations=[
                {"code": "status", "path": "$", "message": "m"},
                {"code": "schema", "path": "$.id", "message": "m", "severity": "strict"},
            ],
        ),
        _entry("d", "skipped", skip_reason=UNDECLARED),
        _entry("e", "passed", model="n", endpoint="messages", source="replayed", input_tokens=99),
        _entry("f", "passed", notes=[{"code": "schema", "path": "$", "message": "m", "severity": "strict"}]),
    ]
    summary = {"items": items, "totals": {"items": 6, "passed": 3, "failed": 2, "skipped": 1, "error": 0}}
    d = build_digest(summary, matrix="reports/matrix.html", builtin=True, faults=("html-error",))
    row = next(r for r in d["rows"] if r["model"] == "m")
    assert (row["passed"], row["failed"], row["skipped"]) == (2, 2, 1)
    assert row["strict"] == [1, 4] and row["compatible"] == [2, 4]  # f passes compatible only
    assert row["input_tokens"] == 13 and row["output_tokens"] == 5
    assert d["defects"][0] == {
        "code": "status",
        "items": 2,
        "meaning": "the HTTP status differs from the expected one",
        "example": "b",
    }
    assert d["tokens"] == {"m": {"input": 13, "output": 5}}  # the replayed item cost nothing
    assert list(d["skipped"].values()) == [1]
    lines = render_digest(d)
    assert lines[0] == "relaycheck digest: 6 items: 3 passed, 2 failed, 0 errors, 1 skipped"
    text = "\n".join(lines)
    assert "relaycheck serve --port 8765 --fault html-error" in text
    assert "curl -sS -X POST http://127.0.0.1:8765/v1/chat/completions" in text  # the live port, not the dead one
    assert "next: open reports/matrix.html" in text


def test_digest_of_a_clean_run_says_what_is_next_without_a_failure() -> None:
    d = build_digest({"items": [_entry("a", "passed")], "totals": {"items": 1, "passed": 1}}, matrix="m.html")
    assert d["defects"] == [] and d["next"] == ["open m.html (every item, its violations and its wire transcript)"]


# ---------------------------------------------------------------- small things a user trips on


def test_serve_without_a_key_makes_one_up_and_says_it() -> None:
    import re
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "RELAYCHECK_API_KEY"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        key = re.search(r"accepts this key: (rc-serve-[0-9a-f]+)", first)
        assert key, first
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"authorization": f"Bearer {key[1]}"})
                assert r.status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("relaycheck serve did not come up")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    help_text = cli("serve", "--help").stdout
    assert "made up and printed" in " ".join(help_text.split())


def test_endpoints_selection_says_which_cross_endpoint_cases_it_leaves_out(tmp_path: Path) -> None:
    res = cli(
        "run",
        "--endpoints",
        "messages",
        "--cases",
        str(REPO / "cases" / "cross"),
        "--cases",
        str(REPO / "cases" / "messages" / "basic.yaml"),
        "--report-dir",
        str(tmp_path),
    )
    assert res.returncode == 0, res.stdout[-2000:]
    assert (
        "relaycheck: --endpoints leaves out 1 cross-endpoint case(s) whose steps also use chat, responses: "
        "cases/cross/forced-tool.yaml::same-forced-tool-on-every-endpoint"
    ) in res.stdout


def test_detection_shows_progress(tmp_path: Path) -> None:
    res = cli("detection", "--fault", "html-error", "--output", str(tmp_path / "d.md"))
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line for line in res.stderr.splitlines() if line.startswith("detection: ")]
    assert lines[0].startswith("detection: clean run, ") and lines[1].startswith("detection: 1/1 html-error: caught by")
