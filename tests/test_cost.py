"""Cost awareness: --dry-run estimates and sends nothing, --token-budget stops sending, and the
digest says how many tokens the relay reported using."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.cases import load_case_file
from harness.cost import estimate
from harness.runner import Variant
from tests.conftest import REPO, TEST_KEY

BASIC = str(REPO / "cases" / "messages" / "basic.yaml")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "RELAYCHECK_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=REPO,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_estimate_counts_the_body_and_the_output_ceiling() -> None:
    case = next(c for c in load_case_file(REPO / "cases" / "messages" / "basic.yaml") if c.id == "plain-text")
    tokens_in, tokens_out = estimate(Variant(case, "g", "claude-sonnet-4-6", False))
    body = case.steps[0].request.body_template()
    assert tokens_out == body["max_tokens"]
    assert 0 < tokens_in <= len(json.dumps(body)) // 2


def test_dry_run_lists_items_with_estimates_and_sends_nothing(tmp_path: Path) -> None:
    # Port 1 refuses every connection: a dry run that tried to send would fail its items.
    res = cli(
        "run",
        "--dry-run",
        "--base-url",
        "http://127.0.0.1:1",
        "--models",
        "m1,m2",
        "--cases",
        BASIC,
        "--report-dir",
        str(tmp_path),
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-1000:]
    lines = res.stdout.splitlines()
    items = [line for line in lines if line.startswith("cases/messages/basic.yaml::")]
    assert items and all(" in, <= " in line for line in items)
    assert any(line.startswith("  m1 ") and " items  ~" in line for line in lines)
    assert "Nothing was sent." in res.stdout
    assert not (tmp_path / "summary.json").exists()


def test_token_budget_stops_sending_and_marks_the_rest_not_run(tmp_path: Path) -> None:
    res = cli("run", "--token-budget", "1", "--cases", BASIC, "--report-dir", str(tmp_path), "--", "-p", "no:randomly")
    assert res.returncode == 0, res.stdout[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    sent = [i for i in summary["items"] if i["outcome"] == "passed" and (i["input_tokens"] or 0) > 0]
    not_run = [i for i in summary["items"] if i.get("skip_reason", "").startswith("not run: the token budget (1)")]
    assert len(sent) == 1, [i["id"] for i in sent]
    assert not_run and len(not_run) + len(sent) <= len(summary["items"])
    digest = summary["digest"]
    assert digest["skipped"]["not run (token budget spent)"] == len(not_run)
    used = sent[0]["input_tokens"] + sent[0]["output_tokens"]
    assert sum(t["input"] + t["output"] for t in digest["tokens"].values()) == used
    assert "tokens used (from usage, live answers)" in res.stdout


def test_token_budget_holds_for_items_run_ahead_in_the_pool(tmp_path: Path, refgateway: str) -> None:
    res = cli(
        "run",
        "--base-url",
        refgateway,
        "--models",
        "claude-sonnet-4-6",
        "--cases",
        str(REPO / "cases" / "messages"),
        "--concurrency",
        "2",
        "--token-budget",
        "1",
        "--report-dir",
        str(tmp_path),
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 0, res.stdout[-3000:]
    items = json.loads((tmp_path / "summary.json").read_text())["items"]
    ran = [i for i in items if i["outcome"] != "skipped"]
    not_run = [i for i in items if i.get("skip_reason", "").startswith("not run: ")]
    assert 1 <= len(ran) <= 3, [i["id"] for i in ran]  # at most the items already in flight
    assert len(not_run) >= 10
