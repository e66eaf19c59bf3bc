"""docs/codes.md lists every code with its severity and evidence, and stays current; every SDK
test it cites exists and names the code among what it is evidence for."""

from __future__ import annotations

from pathlib import Path

from harness.codes import all_codes
from harness.grades import GRADES, markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "codes.md"


def test_every_code_has_a_grade() -> None:
    codes = set(all_codes())
    assert codes - set(GRADES) == set(), "codes without a grade in harness/grades.py"
    assert set(GRADES) - codes == set(), "grades of codes that no longer exist"


def test_grades_are_well_formed() -> None:
    for code, g in GRADES.items():
        assert g.kind in ("sdk", "unusable", "case", "corpus", "note", "unproven", "docs", "fidelity"), code
        assert g.severity in ("error", "strict", "note", "error / strict", "error / note"), code
        assert g.why, code
        assert bool(g.tests) == (g.kind == "sdk"), code
        if g.kind == "corpus":
            assert g.severity == "strict", f"{code}: corpus evidence shows a deviation, not a break"
        if g.kind == "note":
            assert g.severity == "note", code


def test_cited_sdk_tests_exist_and_cover_the_code() -> None:
    import importlib

    try:
        evidence = importlib.import_module("tests.test_sdk_grades").EVIDENCE
    except Exception as exc:  # the SDKs are dev dependencies; without them the table cannot be checked
        raise AssertionError(f"tests/test_sdk_grades.py does not import: {exc}") from exc
    for code, g in GRADES.items():
        for test in g.tests:
            assert test in evidence, f"{code} cites {test}, which tests/test_sdk_grades.py does not have"
            assert code in evidence[test], f"{test} is not listed as evidence for {code}"


def test_docs_codes_md_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), "run `relaycheck codes --grades > docs/codes.md`"
