"""The previous run's allure results are removed off the critical path, and completely."""

from __future__ import annotations

from pathlib import Path

from harness.report.discard import discard_in_background


def test_old_results_are_renamed_at_once_and_deleted(tmp_path: Path) -> None:
    old = tmp_path / "allure-results"
    old.mkdir()
    for i in range(50):
        (old / f"{i}-result.json").write_text("{}")
    thread = discard_in_background(old)
    assert thread is not None
    assert not old.exists()  # the run may create a fresh one right away
    thread.join(30)
    assert list(tmp_path.iterdir()) == []  # nothing left aside either


def test_nothing_to_remove(tmp_path: Path) -> None:
    assert discard_in_background(tmp_path / "allure-results") is None
    (tmp_path / "allure-results").write_text("a file, not results")
    assert discard_in_background(tmp_path / "allure-results") is None
    assert (tmp_path / "allure-results").exists()  # left for allure's own handling
