"""CPU time per item of a relaycheck run, by phase (not a timed test). Wraps the named functions
with process-time accumulators; a phase's figure excludes the phases called inside it, and
"rest" is pytest's own per-item protocol, the other hooks and start-up after the imports.

Usage (in a project with recorded cassettes, e.g. the scale benchmark's work dir):
    python benchmarks/profile_replay.py replay --cases cases/rep0 --report-dir r -- -q -p no:randomly
Takes relaycheck's own arguments; prints the table to stderr.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from typing import Any

START = time.process_time()
import pytest  # noqa: E402,F401  (its import counted apart)

import harness.pytest.plugin  # noqa: E402,F401

IMPORTS = time.process_time() - START
SPENT: dict[str, float] = {}
CALLS: dict[str, int] = {}
_STACK: list[float] = []

PHASES = (
    ("harness.pytest.collection", "load_case_file", "collection: case files parsed"),
    ("harness.pytest.collection", "_item", "collection: items made"),
    ("harness.recording.cassette", "_Cassette.load", "cassette loaded (YAML, vcrpy)"),
    ("harness.recording.transport", "CassetteTransport.send", "request matched, answer rebuilt"),
    ("harness.runner", "evaluate_exchange", "judging (SSE, schemas, grammar)"),
    ("harness.pytest.collection", "run_variant", "running the steps (rest)"),
    ("harness.pytest.report_hooks", "measure", "item record measured (transcript)"),
    ("harness.pytest.collection", "_run", "item call (rest)"),
    ("harness.pytest.report_hooks", "_allure_result", "allure attachments"),
    ("harness.pytest.report_hooks", "_allure_labels", "allure labels"),
    ("allure", "attach", "allure: attachment files written"),
    ("allure_commons.reporter", "AllureReporter.close_test", "allure result file"),
    ("harness.pytest.plugin", "RunCollector.pytest_runtest_logreport", "run collector, per report"),
    ("harness.pytest.report_hooks", "ReportHooks.pytest_runtest_teardown", "JUnit properties added"),
    ("_pytest.junitxml", "LogXML.pytest_runtest_logreport", "JUnit, per report"),
    ("harness.report.writers", "SummaryJson.write", "summary.json written"),
    ("harness.report.writers", "MatrixHtml.write", "matrix.html written"),
    ("harness.pytest.plugin", "RunCollector.pytest_sessionfinish", "run record built (rest)"),
    ("_pytest.junitxml", "LogXML.pytest_sessionfinish", "junit.xml written"),
)


def _wrap(module: str, attr: str, label: str) -> None:
    owner: Any = importlib.import_module(module)
    *parents, name = attr.split(".")
    for part in parents:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        _STACK.append(0.0)
        try:
            return original(*args, **kwargs)
        finally:
            took = time.process_time() - start
            inner = _STACK.pop()
            SPENT[label] = SPENT.get(label, 0.0) + took - inner
            CALLS[label] = CALLS.get(label, 0) + 1
            if _STACK:
                _STACK[-1] += took

    setattr(owner, name, timed)


def main() -> int:
    for module, attr, label in PHASES:
        try:
            _wrap(module, attr, label)
        except (ImportError, AttributeError) as exc:  # a renamed function: say so, measure the rest
            print(f"profile_replay: not measured: {module}.{attr} ({exc})", file=sys.stderr)
    from harness.cli import main as relaycheck

    code = relaycheck(sys.argv[1:])
    total = time.process_time() - START
    items = CALLS.get("item call (rest)", 0) or 1  # items whose call ran
    out = sys.stderr
    print(f"\nCPU {total:.2f} s for {items} items; imports before the run {IMPORTS:.2f} s", file=out)
    for label, spent in sorted(SPENT.items(), key=lambda kv: -kv[1]):
        print(f"  {label:38} {spent:6.2f} s  {spent / items * 1000:6.2f} ms/item", file=out)
    rest = total - IMPORTS - sum(SPENT.values())
    print(f"  {'rest (pytest protocol, other hooks)':38} {rest:6.2f} s  {rest / items * 1000:6.2f} ms/item", file=out)
    return code


if __name__ == "__main__":
    sys.exit(main())
