"""summary.json: one entry per item, plus totals. The contract other tools read (diff, merge,
the HTML matrix), and the same shape for `relaycheck run` and `relaycheck lint-traffic`."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness.redact import Redactor

SCHEMA_VERSION = 1


def result_entry(result: Any, ctx: Any) -> dict[str, Any]:
    """The measured part of an item's entry (the plugin adds id and outcome)."""
    first = result.first_exchange
    last = next((s.exchange for s in reversed(result.steps) if s.exchange is not None), None)
    level = ctx.level
    return {
        "violations": [ctx_redact(v.as_dict(), ctx.redactor) for v in result.violations if v.fails(level)],
        "notes": [ctx_redact(v.as_dict(), ctx.redactor) for v in result.violations if not v.fails(level)],
        "status": last.status if last else None,
        "ttft_ms": round(first.ttft_ms, 2) if first and first.ttft_ms is not None else None,
        "latency_ms": round(sum(s.exchange.latency_ms or 0 for s in result.steps if s.exchange), 2) if first else None,
        "attempts": result.attempts,
    }


def ctx_redact(entry: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    return json.loads(redactor.text(json.dumps(entry, ensure_ascii=False)))


def build_summary(entries: list[dict[str, Any]], *, gateway: str | None, level: str,
                  started: float, tool: str = "run") -> dict[str, Any]:
    counts = Counter(e["outcome"] for e in entries)
    codes = Counter(v["code"] for e in entries for v in e.get("violations", []))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool,
        "gateway": gateway,
        "level": level,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 3),
        "totals": {"items": len(entries), **{k: counts.get(k, 0) for k in ("passed", "failed", "skipped", "error")}},
        "violation_codes": dict(sorted(codes.items())),
        "items": sorted(entries, key=lambda e: e["id"]),
    }


def write_summary(path: Path, summary: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
