"""The detection matrix: for every named fault of the reference gateway the bundled suite fails
in at least one item, every item it fails carries a code that names the fault, the clean gateway
passes everything, and docs/detection.md is the current matrix. Plus the CLI seams around it:
``--extras fail`` and ``--fault`` refused on a replay. Only 127.0.0.1 is contacted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from harness.codes import all_codes
from harness.detection import (
    DEFECT_ROWS,
    EXPECTED_CODES,
    Catch,
    Matrix,
    Row,
    builtin_gateway,
    detection_matrix,
    render_markdown,
    suite_items,
)
from harness.refgateway import FAULTS
from tests.conftest import REPO

CASES = REPO / "cases"
DOC = REPO / "docs" / "detection.md"
DEFECTS = REPO.parent / "shared" / "RELAY_DEFECTS.md"


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return detection_matrix(CASES)


def test_every_fault_has_registered_expected_codes() -> None:
    assert sorted(EXPECTED_CODES) == sorted(FAULTS)
    known = set(all_codes())
    for fault, codes in EXPECTED_CODES.items():
        assert codes and codes <= known, (fault, codes - known)


@pytest.mark.skipif(not DEFECTS.is_file(), reason="../shared/RELAY_DEFECTS.md is not in this checkout")
def test_every_relay_defect_row_has_a_fault() -> None:
    rows = {int(m) for m in re.findall(r"^\| (\d+) \|", DEFECTS.read_text(encoding="utf-8"), re.M)}
    assert rows and rows <= set(DEFECT_ROWS.values()), sorted(rows - set(DEFECT_ROWS.values()))
    assert set(DEFECT_ROWS) <= set(FAULTS)


def test_the_clean_gateway_passes_every_item(matrix: Matrix) -> None:
    assert matrix.items >= 100
    assert matrix.clean_failures == ()


def test_every_fault_is_caught(matrix: Matrix) -> None:
    assert [r.fault for r in matrix.rows] == sorted(FAULTS)
    uncaught = [r.fault for r in matrix.rows if not r.caught_by]
    assert not uncaught, f"faults no bundled item catches with their code: {uncaught}"


def test_every_failure_under_a_fault_names_it(matrix: Matrix) -> None:
    misnamed = {r.fault: [(c.item, c.codes) for c in r.misnamed[:3]] for r in matrix.rows if r.misnamed}
    assert not misnamed, misnamed


def test_docs_detection_md_is_current(matrix: Matrix) -> None:
    fresh = render_markdown(matrix)
    assert "NOT CAUGHT" not in fresh
    squash = lambda text: " ".join(text.split())  # noqa: E731 - whitespace is all we ignore
    assert squash(DOC.read_text(encoding="utf-8")) == squash(fresh), (
        "docs/detection.md is out of date: run `relaycheck detection --output docs/detection.md`"
    )


def test_row_tells_caught_from_misnamed() -> None:
    """What the two assertions above rely on: a failure without the fault's code is misnamed."""
    row = Row("x", frozenset({"sse.done"}), (Catch("a", ("sse.done", "schema")), Catch("b", ("schema",))))
    assert [c.item for c in row.caught_by] == ["a"] and [c.item for c in row.misnamed] == ["b"]
    text = render_markdown(Matrix((), (Row("x", frozenset({"sse.done"}), ()),), 1))
    assert "NOT CAUGHT" in text


def test_suite_items_are_the_collectors_first_model_variants() -> None:
    """The matrix runs what `relaycheck run` collects (first runnable model per case), without
    pytest: both select through harness.variants.expand; the ids are pytest's, cases/ cut off."""
    from harness.cases import load_case_file
    from harness.detection import ENDPOINTS
    from harness.variants import expand

    gateway, _ = builtin_gateway("rc-unused-key")
    ours = [(i, (v.case.id, v.model, v.stream)) for i, v in suite_items(CASES, gateway)]
    theirs = []
    for path in sorted(CASES.rglob("*.yaml")):
        for case in load_case_file(path):
            runnable = [v for v, skip in expand(replace(case, retries=0), gateway, ENDPOINTS) if skip is None]
            first = runnable[0].model if runnable else None
            rel = path.relative_to(CASES).as_posix()
            theirs += [
                (f"{rel}::{case.id}[{v.param_id}]", (case.id, v.model, v.stream)) for v in runnable if v.model == first
            ]
    assert ours == theirs
    assert ("chat/basic.yaml::plain-text[local-gpt-4o-sync]", ("plain-text", "gpt-4o", False)) in ours


# ---------------------------------------------------------------- CLI seams


def relaycheck(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RELAYCHECK_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_extra_fields_fail_only_with_extras_fail(tmp_path: Path) -> None:
    base = ["run", "--cases", "cases/chat/basic.yaml", "--fault", "extra-fields", "--progress", "off", "--no-allure"]
    noted = relaycheck(*base, "--report-dir", str(tmp_path / "a"), tmp=tmp_path)
    assert noted.returncode == 0, noted.stdout[-3000:] + noted.stderr[-2000:]
    failed = relaycheck(*base, "--extras", "fail", "--report-dir", str(tmp_path / "b"), tmp=tmp_path)
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-2000:]
    assert "schema.extra" in failed.stdout


def test_a_fault_with_a_replay_is_a_usage_error(tmp_path: Path) -> None:
    res = relaycheck("replay", "--fault", "chat-no-done", "--report-dir", str(tmp_path), tmp=tmp_path)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert "replay" in res.stderr and "--fault" in res.stderr


def test_detection_command_writes_the_matrix(tmp_path: Path) -> None:
    out = tmp_path / "detection.md"
    res = relaycheck("detection", "--fault", "chat-no-done", "--output", str(out), tmp=tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    assert "| `chat-no-done` |" in text and "`sse.done`" in text and "1 of 1 faults caught" in text
    bad = relaycheck("detection", "--fault", "no-such-fault", tmp=tmp_path)
    assert bad.returncode == 2 and "no-such-fault" in bad.stderr
