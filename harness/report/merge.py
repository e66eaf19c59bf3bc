"""Summaries of sharded runs (by gateway, by test id, across CI runners) folded into one, so
one matrix and one diff cover the whole night; ``completeness`` says what is missing or
duplicated before anyone mistakes a partial night for a whole one."""

from __future__ import annotations

import calendar
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from harness.report.summary import SCHEMA_VERSION, totals, violation_codes
from harness.shard import selection_digest

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
            {
                "source": src,
                "gateway": s.get("gateway"),
                "started": s.get("started"),
                "items": len(s["items"]),
                **({"shard": _label(s["shard"])} if isinstance(s.get("shard"), dict) else {}),
            }
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


SHOWN = 10  # ids named per problem; the count says how many more


def _label(shard: dict[str, Any]) -> str:
    return f"{shard.get('index')}/{shard.get('total')}"


def _names(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def completeness(summaries: Sequence[dict[str, Any]], sources: Sequence[str]) -> list[str]:
    """What keeps these summaries from being one whole run, one line each (empty: complete).

    - an item id in more than one input (a shard given twice, or runs that overlap);
    - per sharded run (shards with the same N and the same selection fingerprint, see
      harness.shard): a shard 1..N absent or given twice, an item a shard selected but has no
      result for (a crashed runner), an item it has but did not select;
    - the shards' selections not adding up to the whole selection they recorded (shards run
      with different options or case files).
    Summaries without a ``shard`` object (whole runs, e.g. one per gateway) are checked for
    duplicates only."""
    problems: list[str] = []
    seen: dict[str, list[str]] = defaultdict(list)
    for summary, source in zip(summaries, sources, strict=True):
        for entry in summary["items"]:
            seen[entry["id"]].append(source)
    twice = sorted(i for i, where in seen.items() if len(where) > 1)
    if twice:
        where = sorted({s for i in twice for s in seen[i]})
        problems.append(f"{len(twice)} item(s) in more than one input ({', '.join(where)}): {_names(twice)}")
    runs: dict[tuple[Any, Any], list[tuple[dict[str, Any], str, Any]]] = defaultdict(list)
    for summary, source in zip(summaries, sources, strict=True):
        shard = summary.get("shard")
        if isinstance(shard, dict):
            runs[(shard.get("total"), shard.get("selection_sha256"))].append((shard, source, summary.get("gateway")))
            problems += _shard_problems(summary, shard, source)
    for (total, digest), shards in runs.items():
        problems += _run_problems(total, digest, shards, len(runs) > 1)
    return problems


def _shard_problems(summary: dict[str, Any], shard: dict[str, Any], source: str) -> list[str]:
    name = f"{source} (shard {_label(shard)})"
    selected = shard.get("selected")
    if not isinstance(selected, list):
        return [f"{name} does not say which items it selected (its runner stopped before collecting?)"]
    have = {e["id"] for e in summary["items"]}
    missing = sorted(set(selected) - have)
    extra = sorted(have - set(selected))
    out = []
    if missing:
        out.append(f"{name}: {len(missing)} selected item(s) without a result: {_names(missing)}")
    if extra:
        out.append(f"{name}: {len(extra)} item(s) it did not select: {_names(extra)}")
    return out


def _run_problems(total: Any, digest: Any, shards: list[tuple[dict[str, Any], str, Any]], several: bool) -> list[str]:
    # Several sharded runs in one merge (one per gateway, say) are told apart by gateway and
    # selection fingerprint; a shard run with other options shows up as a run of its own.
    gateways = sorted({str(g) for _, _, g in shards})
    which = f" of gateway {', '.join(gateways)}, selection {str(digest)[:12]}" if several else ""
    if not isinstance(total, int) or total < 1:
        return [f"{', '.join(s for _, s, _ in shards)}: shard total {total!r} is not a number of shards"]
    by_index: dict[Any, list[str]] = defaultdict(list)
    for shard, source, _ in shards:
        by_index[shard.get("index")].append(source)
    out = []
    absent = [k for k in range(1, total + 1) if k not in by_index]
    if absent:
        out.append(f"shard(s) {', '.join(f'{k}/{total}' for k in absent)}{which} missing")
    for index, where in sorted(by_index.items(), key=lambda kv: str(kv[0])):
        if len(where) > 1:
            out.append(f"shard {index}/{total}{which} given {len(where)} times: {', '.join(where)}")
        if not (isinstance(index, int) and 1 <= index <= total):
            out.append(f"{', '.join(where)}: shard {index}/{total} is outside 1..{total}")
    if out:
        return out
    # Every part once: their selections must make up exactly the whole they each recorded.
    parts = [s.get("selected") for s, _, _ in shards]
    if not all(isinstance(p, list) for p in parts):
        return []  # already named per shard
    union = [i for p in parts for i in p]
    expected = shards[0][0].get("selection_items")
    if len(union) != expected or selection_digest(union) != digest:
        out.append(
            f"shards 1..{total}{which} selected {len(union)} item(s) together, but the whole selection had "
            f"{expected}: the shards did not split the same selection (different options or case files?)"
        )
    return out
