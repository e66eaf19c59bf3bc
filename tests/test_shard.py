"""--shard K/N and `relaycheck report merge`'s completeness check: the parts of a sharded run
are disjoint, add up to the unsharded selection, keep every case (cross-endpoint ones too)
whole, come out the same however the files are collected, and a merge refuses, naming them,
a missing shard, a shard given twice, an item without a result and duplicated items."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from harness.report.merge import completeness
from harness.shard import Shard, case_key, parse_shard, selection_digest, shard_of
from tests.conftest import REPO

N = 3
CASE_DIRS = ["cases/chat", "cases/cross", "cases/gemini", "cases/messages", "cases/models", "cases/responses"]


def _env(seed: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTHONHASHSEED": seed}


def _collect(*args: str, seed: str = "0") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *args],
        cwd=REPO,
        env=_env(seed),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ids(proc: subprocess.Popen[str]) -> list[str]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    return [line for line in out.splitlines() if "::" in line and line.startswith("cases/")]


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bundled suite replayed offline as 3 shards (side by side), plus two collections:
    the unsharded selection, and shard 2 collected again with the case directories in reverse
    order and another hash seed."""
    root = tmp_path_factory.mktemp("shards")
    cli = [sys.executable, "-m", "harness.cli", "replay"]
    quiet = ["--no-allure", "--no-junit", "--no-matrix", "--progress", "off", "--", "-q", "-p", "no:randomly"]
    runs = [
        subprocess.Popen(
            [*cli, f"--shard={k}/{N}", f"--report-dir={root / f's{k}'}", *quiet],
            cwd=REPO,
            env=_env(str(k)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for k in range(1, N + 1)
    ]
    whole = _collect(*CASE_DIRS)
    again = _collect(*reversed(CASE_DIRS), "--shard", f"2/{N}", seed="12345")
    for proc in runs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out[-3000:]
    summaries = [json.loads((root / f"s{k}" / "summary.json").read_text()) for k in range(1, N + 1)]
    return {"root": root, "summaries": summaries, "whole": _ids(whole), "again": _ids(again)}


def test_shards_split_the_selection_exactly(shards: dict[str, Any]) -> None:
    whole = shards["whole"]
    parts = [s["shard"]["selected"] for s in shards["summaries"]]
    assert len(whole) == len(set(whole)) > 400
    union = [i for p in parts for i in p]
    assert len(union) == len(set(union))  # no item in two shards
    assert set(union) == set(whole)  # none lost
    assert all(parts)  # every shard has work with the bundled suite (not a degenerate split)
    for k, summary in enumerate(shards["summaries"], 1):
        shard = summary["shard"]
        assert (shard["index"], shard["total"]) == (k, N)
        assert shard["selection_items"] == len(whole)
        assert shard["selection_sha256"] == selection_digest(whole)
        assert sorted(e["id"] for e in summary["items"]) == shard["selected"]  # every selected item ran


def test_shards_are_stable_across_collections(shards: dict[str, Any]) -> None:
    # Other collection order, other hash seed, other process: the same part.
    assert sorted(shards["again"]) == shards["summaries"][1]["shard"]["selected"]


def test_cases_stay_whole_and_cross_endpoint_cases_run_somewhere(shards: dict[str, Any]) -> None:
    home: dict[str, set[int]] = defaultdict(set)
    for k, summary in enumerate(shards["summaries"], 1):
        for item in summary["shard"]["selected"]:
            home[item.split("[")[0]].add(k)
    assert all(len(where) == 1 for where in home.values())  # every variant of a case in one shard
    cross = [i for i in shards["whole"] if i.startswith("cases/cross/")]
    assert cross and all(i.split("[")[0] in home for i in cross)
    # The split is the documented hash of the case key, which a later run (or machine) recomputes.
    summary = shards["summaries"][0]
    for entry in summary["items"]:
        assert shard_of(case_key(entry["file"], entry["case"]), N) == 1


def test_merge_accepts_the_whole_and_names_what_is_missing(shards: dict[str, Any]) -> None:
    root: Path = shards["root"]

    def merge(*names: str, partial: bool = False) -> subprocess.CompletedProcess[str]:
        args = ["report", "merge", "merged.json", *(f"{n}/summary.json" for n in names)]
        return subprocess.run(
            [sys.executable, "-m", "harness.cli", *args, *(["--partial"] if partial else [])],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = merge("s3", "s1", "s2")
    assert ok.returncode == 0, ok.stderr
    merged = json.loads((root / "merged.json").read_text())
    assert merged["totals"]["items"] == len(shards["whole"]) and "incomplete" not in merged
    assert sorted(s["shard"] for s in merged["shards"]) == [f"{k}/{N}" for k in range(1, N + 1)]
    (root / "merged.json").unlink()
    missing = merge("s1", "s3")
    assert missing.returncode == 1 and f"shard(s) 2/{N} missing" in missing.stderr
    assert not (root / "merged.json").exists()  # a partial night is not written as a whole one
    twice = merge("s1", "s2", "s2", "s3")
    assert twice.returncode == 1 and f"shard 2/{N} given 2 times" in twice.stderr
    assert "item(s) in more than one input" in twice.stderr
    partial = merge("s1", "s3", partial=True)
    assert partial.returncode == 0 and f"warning: shard(s) 2/{N} missing" in partial.stderr
    assert json.loads((root / "merged.json").read_text())["incomplete"] == [f"shard(s) 2/{N} missing"]


def _shard_summary(index: int, total: int, selected: list[str], have: list[str], whole: list[str]) -> dict[str, Any]:
    return {
        "gateway": "gw",
        "items": [{"id": i, "outcome": "passed"} for i in have],
        "shard": {
            "index": index,
            "total": total,
            "selected": selected,
            "selection_items": len(whole),
            "selection_sha256": selection_digest(whole),
        },
    }


def test_completeness_rules() -> None:
    whole = ["a", "b", "c", "d"]
    one = _shard_summary(1, 2, ["a", "b"], ["a", "b"], whole)
    two = _shard_summary(2, 2, ["c", "d"], ["c", "d"], whole)
    assert completeness([one, two], ["1", "2"]) == []
    crashed = _shard_summary(2, 2, ["c", "d"], ["c"], whole)  # a runner died before item d
    assert completeness([one, crashed], ["1", "2"]) == ["2 (shard 2/2): 1 selected item(s) without a result: d"]
    stray = _shard_summary(2, 2, ["c", "d"], ["c", "d", "e"], whole)
    assert completeness([one, stray], ["1", "2"]) == ["2 (shard 2/2): 1 item(s) it did not select: e"]
    # Shard 2 ran with other options: its selection differs, so neither run is whole.
    other = _shard_summary(2, 2, ["c"], ["c"], ["a", "b", "c"])
    problems = completeness([one, other], ["1", "2"])
    assert len(problems) == 2 and all("missing" in p for p in problems)
    # Parts that do not add up to the whole they recorded (e.g. a different split).
    short = _shard_summary(2, 2, ["c"], ["c"], whole)
    assert "selected 3 item(s) together, but the whole selection had 4" in completeness([one, short], ["1", "2"])[0]
    no_record = {"gateway": "gw", "items": [], "shard": {"index": 2, "total": 2}}
    assert "does not say which items it selected" in completeness([one, no_record], ["1", "2"])[0]
    # Whole runs (no shard object), e.g. one per gateway: only overlaps are problems.
    plain = {"gateway": "g2", "items": [{"id": "x", "outcome": "passed"}]}
    assert completeness([one, two, plain], ["1", "2", "3"]) == []
    many = [{"items": [{"id": f"i{n}", "outcome": "passed"} for n in range(25)]}] * 2
    assert completeness(many, ["p", "q"]) == [
        "25 item(s) in more than one input (p, q): i0, i1, i10, i11, i12, i13, i14, i15, i16, i17 and 15 more"
    ]


def test_shard_option_values() -> None:
    assert parse_shard("2/4") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"
    for bad in ("0/4", "5/4", "4", "a/b", "1/0", "-1/2"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_shard(bad)
    # The key ignores where the checkout is, so machines with different paths agree.
    assert case_key("/home/runner/work/x/cases/cross/forced-tool.yaml", "c1") == "cross/forced-tool.yaml::c1"
    assert case_key("cases/cross/forced-tool.yaml", "c1") == "cross/forced-tool.yaml::c1"
    assert case_key("elsewhere/mine.yaml", "c1") == "mine.yaml::c1"
    from harness.cli import build_parser

    args = build_parser().parse_args(["run", "--shard", "3/8"])
    assert args.shard == Shard(3, 8)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--shard", "9/8"])


def _commands(steps: list[dict[str, Any]], values: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(step name, argv after `relaycheck`) for every relaycheck command line in the steps, with
    ${{ ... }} expressions replaced by the given values (others by X)."""
    import re
    import shlex

    out = []
    for step in steps:
        for line in str(step.get("run", "")).replace("\\\n", " ").splitlines():
            if line.strip().startswith("relaycheck "):
                line = re.sub(r"\$\{\{\s*([^}]*?)\s*\}\}", lambda m: values.get(m.group(1), "X"), line)
                words = shlex.split(line)
                cut = next((i for i, w in enumerate(words) if w in ("--", "|", ">", "||")), len(words))
                out.append((str(step.get("name") or step.get("id")), words[1:cut]))
    return out


def test_sharded_nightly_example_runs_real_commands() -> None:
    import yaml

    from harness.cli import build_parser

    flow = yaml.safe_load((REPO / "examples" / "github-actions" / "sharded-nightly.yml").read_text())
    jobs = flow["jobs"]
    shards = jobs["shard"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and len(shards) > 1
    assert jobs["shard"]["strategy"]["fail-fast"] is False
    assert jobs["merge"]["needs"] == "shard" and jobs["merge"]["if"] == "always()"  # a dead shard is named
    steps, merge_steps = jobs["shard"]["steps"], jobs["merge"]["steps"]
    # The key (and the Redis URL) reach one step only: the shard's run.
    secret_steps = [s for s in steps + merge_steps if "secrets." in json.dumps(s)]
    assert len(secret_steps) == 1 and set(secret_steps[0]["env"]) == {
        "RELAYCHECK_API_KEY",
        "RELAYCHECK_RATE_LIMIT_REDIS",
    }
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["name"] == "relaycheck-shard-${{ matrix.shard }}"
    download = next(s for s in merge_steps if str(s.get("uses", "")).startswith("actions/download-artifact"))
    assert download["with"]["pattern"] == "relaycheck-shard-*"
    for k in shards:  # every matrix entry's command parses, and names its own part of the whole
        values = {"matrix.shard": str(k), "strategy.job-total": str(len(shards)), "vars.RELAY_RPM": "600"}
        ((name, argv),) = _commands(steps, values)
        args = build_parser().parse_args(argv)
        assert args.command == "run" and args.shard == Shard(k, len(shards)), name
        assert args.rate_limit_backend == "env:RELAYCHECK_RATE_LIMIT_REDIS"
    merged = _commands(merge_steps, {})
    assert [argv[:2] for _, argv in merged] == [["report", "merge"]] * 2 + [["report", "html"], ["report", "diff"]]
    strict, partial = (build_parser().parse_args(argv) for _, argv in merged[:2])
    assert not strict.partial and partial.partial  # the strict merge decides; --partial only publishes
    for _, argv in merged:
        build_parser().parse_args(argv)  # exits (SystemExit) on an option relaycheck does not have
    baseline = next(s for s in merge_steps if s.get("name") == "Keep this summary as the next baseline")
    assert baseline["if"] == "success()" and baseline["with"]["path"] == "reports/summary.json"
    failing = next(s for s in merge_steps if s.get("name") == "An incomplete night fails")
    assert failing["if"] == "steps.merge.outcome == 'failure'" and "exit 1" in failing["run"]
    assert any(str(s.get("uses", "")).startswith("actions/upload-pages-artifact") for s in merge_steps)
    assert jobs["publish"]["steps"][0]["uses"].startswith("actions/deploy-pages")
