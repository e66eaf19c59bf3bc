"""Live progress of a run: items done of total and failures so far.

On a terminal one line is redrawn in place (carriage return). In CI logs (CI set, or output not a
TTY) nothing is redrawn: a plain line every N items at most, and one at the end, so a log of a
thousand items stays a few dozen lines. pytest's own per-item letters are silenced for case
items while the display is on; failures are still reported in full at the end.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.pytest.stash import REPORT_ATTR

# The mode is chosen without pytest (``relaycheck run`` builds pytest's arguments with it).
from harness.report.commands import Mode, choose_mode

__all__ = ["Mode", "Progress", "choose_mode"]


class Progress:
    def __init__(self, config: pytest.Config, mode: Mode, every: int = 0) -> None:
        self.config = config
        self.mode = mode
        self.every = every
        self.total = 0
        self.done = 0
        self.failed = 0
        self.errors = 0
        self.bad: set[str] = set()
        self.started = time.monotonic()
        self.last_line_at = 0

    # ---- totals: from collection (one process) or from the first xdist worker's collection ----
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.total = max(self.total, len(ids))

    def step(self) -> int:
        """Lines mode: print every ``step`` items (a tenth of the run unless told, at least 1)."""
        return self.every if self.every > 0 else max(1, self.total // 10)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        if getattr(report, REPORT_ATTR, None) is None:  # a case item's reports carry its record
            return None
        # The word stays for -v and the final counts; the per-item letter goes (we draw instead).
        if report.passed and report.when == "call":
            return "passed", "", "PASSED"
        if report.failed:
            return ("failed" if report.when == "call" else "error"), "", "FAILED"
        if report.skipped:
            return "skipped", "", "SKIPPED"
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.nodeid not in self.bad:
            self.bad.add(report.nodeid)
            if report.when == "call":
                self.failed += 1
            else:
                self.errors += 1
        if report.when != "teardown":
            return
        self.done += 1
        if self.mode == "live":
            self._write("\r" + self.text() + "\x1b[K")
        elif self.done % self.step() == 0 and self.done != self.total:
            self._line(self.text())
            self.last_line_at = self.done

    def text(self) -> str:
        total = self.total or "?"
        pct = f" {100 * self.done // self.total:3d}%" if self.total else ""
        bad = f", {self.failed} failed" + (f", {self.errors} errors" if self.errors else "")
        return f"relaycheck: {self.done}/{total} items{pct}{bad} ({time.monotonic() - self.started:.0f} s)"

    def pytest_sessionfinish(self) -> None:
        if self.done and self.mode == "live":
            self._write("\r" + self.text() + "\x1b[K\n")
        elif self.done and self.last_line_at != self.done:
            self._line(self.text())

    def _terminal(self) -> Any:
        return self.config.pluginmanager.get_plugin("terminalreporter")

    def _write(self, text: str) -> None:
        tr = self._terminal()
        if tr is not None:
            tr.write(text, flush=True)

    def _line(self, text: str) -> None:
        tr = self._terminal()
        if tr is None:
            return
        if self.config.get_terminal_writer().width_of_current_line:
            tr.write("\n")  # pytest's own progress marker may have left the line open
        tr.write_line(text)
