"""Fidelity verdicts in a run's reports: summary.json ``fidelity`` (one record per gateway x
model x endpoint x probe, with the verdict, its sentence and its numbers), ``compare`` (what
`relaycheck compare` found item by item), the digest's fidelity section and matrix.html's.

Three ways in: `relaycheck fidelity` writes its own summary (tool ``fidelity``); `relaycheck run
--fidelity` and `relaycheck compare` add theirs to the summary.json the run just wrote; `relaycheck
compare --replay` without a run writes a summary of tool ``compare``. No pytest here.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.fidelity.probe import Verdict
from harness.report.summary import SummaryError, build_summary, load_summary, write_summary

OUTCOME = {"consistent": "passed", "inconsistent": "failed", "inconclusive": "skipped"}


def record(v: Verdict, gateway: str) -> dict[str, Any]:
    """One verdict as summary.json's ``fidelity`` keeps it."""
    return {
        "gateway": gateway,
        "model": v.model,
        "endpoint": v.endpoint,
        "probe": v.probe,
        "verdict": v.outcome,
        "reason": v.reason,
        "numbers": v.numbers,
        "codes": sorted({x.code for x in v.violations}),
        "requests": v.requests,
        "tokens": v.tokens,
    }


def compare_entries(results: Sequence[Any], gateway: str) -> list[dict[str, Any]]:
    """harness.fidelity.compare.ItemResult as summary items (id ``compare/<key>``): passed
    (agrees), failed (its differences as violations), skipped (recorded on one side only, or
    nothing to compare)."""
    out = []
    for r in results:
        entry: dict[str, Any] = {
            "id": f"compare/{r.key}",
            "case": r.key.split("::", 1)[-1].split("[", 1)[0],
            "file": r.key.split("::", 1)[0],
            "line": None,
            "endpoint": r.endpoint,
            "model": r.model,
            "stream": r.stream,
            "gateway": gateway,
            "features": ["fidelity", "compare"],
            "outcome": r.outcome,
            "violations": [v.as_dict() for v in r.violations],
            "notes": [],
        }
        if r.outcome == "skipped":
            entry["skip_reason"] = r.note or "nothing to compare (no answer on either side)"
        out.append(entry)
    return out


def attach(
    report_dir: Path,
    fidelity: Sequence[dict[str, Any]],
    *,
    compare: dict[str, Any] | None = None,
    matrix: bool = True,
    since: float,
) -> Path | None:
    """Add fidelity records (and compare's items) to the summary.json a run started at ``since``
    wrote in ``report_dir``, refresh its digest's fidelity section and matrix.html. None when that
    run left no summary there (an older one is never written into)."""
    from harness.report.digest import fidelity_digest

    path = Path(report_dir) / "summary.json"
    try:
        summary = load_summary(path)
    except SummaryError:
        return None
    try:
        written = calendar.timegm(time.strptime(str(summary.get("started")), "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None
    if written < int(since):  # "started" keeps whole seconds
        return None
    summary["fidelity"] = [*_kept(summary.get("fidelity"), fidelity), *fidelity]
    if compare is not None:
        summary["compare"] = compare
    if isinstance(summary.get("digest"), dict):
        summary["digest"]["fidelity"] = fidelity_digest(summary)
    write_summary(path, summary)
    if matrix:
        from harness.report.html import write_matrix

        write_matrix(summary, path.parent / "matrix.html")
    return path


def _kept(old: Any, new: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier records of other probes stay; a probe run again replaces its own."""
    replaced = {(r["gateway"], r["model"], r["endpoint"], r["probe"]) for r in new}
    if not isinstance(old, list):
        return []
    return [
        r
        for r in old
        if isinstance(r, dict) and (r.get("gateway"), r.get("model"), r.get("endpoint"), r.get("probe")) not in replaced
    ]


def standalone(
    report_dir: Path,
    entries: list[dict[str, Any]],
    fidelity: Sequence[dict[str, Any]],
    *,
    gateway: str,
    tool: str,
    started: float,
    compare: dict[str, Any] | None = None,
    matrix: bool = True,
) -> Path:
    """A summary of its own (tool ``fidelity`` or ``compare``), with digest and matrix.html."""
    from harness.report.digest import build_digest

    summary = build_summary(entries, gateway=gateway, level="strict", started=started, tool=tool)
    summary["fidelity"] = list(fidelity)
    if compare is not None:
        summary["compare"] = compare
    where = Path(report_dir) / "matrix.html"
    summary["digest"] = build_digest(summary, matrix=str(where) if matrix else None)
    path = write_summary(Path(report_dir) / "summary.json", summary)
    if matrix:
        from harness.report.html import write_matrix

        write_matrix(summary, where)
    return path
