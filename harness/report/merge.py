"""Summaries of sharded runs (by gateway, by test id, across CI runners) folded into one, so
one matrix and one diff cover the whole night."""

from __future__ import annotations

import calendar
import time
from collections.abc import Sequence
from typing import Any

from harness.report.summary import SCHEMA_VERSION, totals, violation_codes

_FMT = "%Y-%m-%dT%H:%M:%SZ"


def _epoch(stamp: Any) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(str(stamp), _FMT)))
    except ValueError:
        return None


def merge(summaries: Sequence[dict[str, Any]], sources: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """The merged summary and warnings. An item id present in two shards keeps the later
    shard's entry (a re-run shard replaces the first attempt) and is named in a warning."""
    items: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    warnings = []
    for summary, source in zip(summaries, sources, strict=True):
        for entry in summary["items"]:
            if entry["id"] in items:
                warnings.append(f"{entry['id']}: in {origin[entry['id']]} and {source}; keeping {source}")
            gateway = entry.get("gateway") or summary.get("gateway")
            items[entry["id"]] = {**entry, "gateway": gateway}
            origin[entry["id"]] = source
    entries = sorted(items.values(), key=lambda e: e["id"])
    gateways = sorted({str(e["gateway"]) for e in entries if e.get("gateway")})
    levels = sorted({str(s.get("level")) for s in summaries})
    if len(levels) > 1:
        warnings.append(f"shards ran at different levels ({', '.join(levels)}); the matrix scores both anyway")
    starts = [(_epoch(s.get("started")), float(s.get("duration_s") or 0)) for s in summaries]
    known = [(t, d) for t, d in starts if t is not None]
    first = min((t for t, _ in known), default=None)
    last_end = max((t + d for t, d in known), default=None)
    merged = {
        "schema_version": SCHEMA_VERSION,
        "tool": "merge",
        "gateway": gateways[0] if len(gateways) == 1 else None,
        "gateways": gateways,
        "level": levels[0] if len(levels) == 1 else "mixed",
        "started": time.strftime(_FMT, time.gmtime(first)) if first is not None else None,
        # Wall time from the first shard's start to the last shard's end (shards run side by side).
        "duration_s": round(last_end - first, 3) if first is not None and last_end is not None else None,
        "shards": [
            {"source": src, "gateway": s.get("gateway"), "started": s.get("started"), "items": len(s["items"])}
            for s, src in zip(summaries, sources, strict=True)
        ],
        "totals": totals(entries),
        "violation_codes": violation_codes(entries),
        "items": entries,
        **_runs(summaries),
    }
    return merged, warnings


def _runs(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The shards' run records added up: the merge is complete only when every shard was."""
    runs = [s.get("run") for s in summaries]
    errors = [e for s in summaries for e in s.get("collection_errors", [])]
    if not any(runs):
        return {"collection_errors": errors} if errors else {}

    def add(key: str) -> int | None:
        values = [r.get(key) if r else None for r in runs]
        return None if any(v is None for v in values) else sum(values)  # type: ignore[misc]

    run = {
        "complete": all(r and r.get("complete") for r in runs),
        "interrupted": any(r and r.get("interrupted") for r in runs),
        **{k: add(k) for k in ("selected", "finished", "unfinished", "not_run")},
        "collection_errors": len(errors),
    }
    return {"run": run, "collection_errors": errors}
