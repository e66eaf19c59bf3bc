"""One writer per report format, behind one small interface, called from one place at the end
of a run (``harness/pytest/plugin.py``, ``RunCollector``). A new format is a class here (or in
its own module) and one line in ``WRITERS``. No pytest here.

Every writer reads ``RunRecord.summary``: the run serialized once and redacted by value, so no
writer can leak what summary.json does not. JUnit XML and allure are written by their pytest
plugins from each item's report; ``harness/pytest/report_hooks.py`` adds relaycheck's part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from harness.report.record import RunRecord
from harness.report.summary import write_summary


class ReportWriter(Protocol):
    name: str  # the file it writes into the report directory
    title: str  # how the run's last lines name it ("summary written to ...")
    optional: bool  # may be turned off (--no-<title>)

    def write(self, run: RunRecord, out_dir: Path) -> Path: ...


class SummaryJson:
    """summary.json: the contract other tools read (diff, merge, trend, matrix)."""

    name = "summary.json"
    title = "summary"
    optional = False

    def write(self, run: RunRecord, out_dir: Path) -> Path:
        return write_summary(out_dir / self.name, run.summary)


class MatrixHtml:
    """matrix.html: the self-contained page (``relaycheck report html`` renders it offline)."""

    name = "matrix.html"
    title = "matrix"
    optional = True  # --no-matrix

    def write(self, run: RunRecord, out_dir: Path) -> Path:
        from harness.report.html import write_matrix

        return write_matrix(run.summary, out_dir / self.name)


WRITERS: tuple[ReportWriter, ...] = (SummaryJson(), MatrixHtml())


def chosen(off: frozenset[str] = frozenset()) -> tuple[ReportWriter, ...]:
    """The writers of a run; ``off`` names the optional ones turned off (by title)."""
    return tuple(w for w in WRITERS if not (w.optional and w.title in off))
