"""Exit codes of ``relaycheck``, so a nightly can tell "the relay broke" from "the tool broke",
and the pytest plugin that watches a ``relaycheck run`` for what pytest's own code hides
(a malformed case file, a report that could not be written, an interrupt).

pytest's codes mean: 0 ok, 1 tests failed, 2 interrupted, 3 internal error, 4 usage error,
5 no tests collected. ``relaycheck run`` folds them with what the watch saw into ours.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

PASSED = 0
FAILED = 1
USAGE = 2
INCOMPLETE = 3

TABLE: tuple[tuple[int, str], ...] = (
    (PASSED, "every selected item passed (skipped items do not count)"),
    (FAILED, "the relay failed at least one item: a conformance failure, or an item that could not be judged"),
    (
        USAGE,
        "usage or configuration error (one line on stderr): a bad option, gateway config or case file, "
        "or nothing matched the selection, or nothing was checked (every item skipped, or a model served nowhere)",
    ),
    (
        INCOMPLETE,
        "relaycheck itself could not finish: interrupted (Ctrl-C, SIGTERM), an internal error, or a "
        "report could not be written; the reports say what finished",
    ),
)

# A malformed case file is reported as "file:line:col: message" (harness.cases.CaseFileError).
_LOCATED = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$", re.S)


def epilog() -> str:
    """The table for ``relaycheck --help``."""
    return "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in TABLE)


def markdown_table() -> str:
    rows = "\n".join(f"| {code} | {text} |" for code, text in TABLE)
    return f"| exit code | meaning |\n|---|---|\n{rows}"


def collection_error(nodeid: str, text: str) -> dict[str, Any]:
    """A collection error as summary.json keeps it: file, line, col, message (line and col None
    when the error has no location, e.g. an unreadable file)."""
    text = text.strip()
    m = _LOCATED.match(text)
    if m:
        return {"file": m["file"], "line": int(m["line"]), "col": int(m["col"]), "message": m["message"]}
    last = text.splitlines()[-1] if text else "collection failed"
    return {"file": nodeid or "?", "line": None, "col": None, "message": last}


def is_case_file_error(nodeid: str, text: str) -> bool:
    """A failed collection of a case file (by name, or by its file:line:col message: a file
    outside the rootdir has an empty node id)."""
    return nodeid.endswith((".yaml", ".yml")) or bool(_LOCATED.match(text.strip()))


class RunWatch:
    """Registered by ``relaycheck run`` through ``pytest.main(plugins=[...])``."""

    def __init__(self) -> None:
        self.collection_errors: list[dict[str, Any]] = []  # malformed case files: the user's to fix
        self.collection_crashes: list[dict[str, Any]] = []  # anything else failing collection: ours
        self.interrupted = False
        self.internal_error = False
        self.report_errors: list[str] = []
        self.judged = 0  # items that passed or failed: something was actually checked
        self.skipped = 0
        self.served_nowhere: list[str] = []  # models the relay answered "not found" for everywhere

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.skipped:
                self.skipped += 1
            else:
                self.judged += 1

    @property
    def nothing_judged(self) -> bool:
        """Every selected item was skipped (capability not declared, not served, token budget), or a
        model asked for was served on no endpoint: a nightly that checks nothing must not look green."""
        return (self.judged == 0 and self.skipped > 0) or bool(self.served_nowhere)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            err = collection_error(report.nodeid, str(report.longrepr))
            (self.collection_errors if err["line"] is not None else self.collection_crashes).append(err)

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        self.internal_error = True

    def pytest_unconfigure(self, config: Any) -> None:
        from harness.pytest.stash import REPORT_ERRORS, SUMMARY_PATH

        self.report_errors = list(config.stash.get(REPORT_ERRORS, []))

        path = config.stash.get(SUMMARY_PATH, None)
        if path is not None:
            try:
                digest = json.loads(path.read_text(encoding="utf-8")).get("digest") or {}
                self.served_nowhere = list(digest.get("served_nowhere") or [])
            except (OSError, ValueError):
                pass  # an unwritten summary is already a report error

    def exit_code(self, pytest_code: int) -> int:
        if self.collection_crashes:
            return INCOMPLETE
        if self.interrupted or self.internal_error or self.report_errors or pytest_code in (2, 3):
            # pytest says "interrupted" also when -x stops at a malformed case file: that one is ours.
            only_collection = pytest_code == 2 and self.collection_errors and not self.interrupted
            if not only_collection or self.internal_error or self.report_errors:
                return INCOMPLETE
        if pytest_code in (4, 5) or self.collection_errors or (pytest_code == 0 and self.nothing_judged):
            return USAGE
        return FAILED if pytest_code == 1 else PASSED


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While a run is under way, SIGTERM (a CI timeout, a cancelled job, ``kill``) interrupts it as
    Ctrl-C does, so pytest finishes the session and every report is written for what finished,
    instead of the process dying with none."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Writing the reports at the end: a second Ctrl-C or SIGTERM waits until they are written
    (it would otherwise cut summary.json or matrix.html in half). Takes well under a second."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            print("relaycheck: interrupted again while writing the reports; they were finished first", file=sys.stderr)


class _PipeSafe(io.TextIOBase):
    """stdout that survives its reader going away (``relaycheck run | head``): the rest of the
    terminal output goes to /dev/null and the run still finishes and writes its reports."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.gone = False

    def _drop(self) -> None:
        self.gone = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._inner.fileno())
        finally:
            os.close(devnull)

    def write(self, text: str) -> int:
        try:
            return int(self._inner.write(text))
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        try:
            self._inner.flush()
        except BrokenPipeError:
            self._drop()

    def fileno(self) -> int:
        return int(self._inner.fileno())

    def isatty(self) -> bool:
        return bool(self._inner.isatty())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(self._inner.encoding)

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._inner.errors


@contextmanager
def pipe_safe_stdout() -> Iterator[None]:
    previous = sys.stdout
    sys.stdout = _PipeSafe(previous)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout = previous
