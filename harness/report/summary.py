"""summary.json: one entry per item, plus totals. The contract other tools read (diff, merge,
the HTML matrix), and the same shape for `relaycheck run` and `relaycheck lint-traffic`.

An item entry: id, case, file, line, endpoint, model, stream, gateway, features, outcome
(passed | failed | skipped | error), violations and notes ([{code, path, message, severity?}],
severity omitted means "error"), status, ttft_ms, latency_ms, input_tokens, output_tokens,
output_tps, attempts, source (live | replayed | recorded | replayed+recorded: where the answers
came from), transcript (the redacted wire text, capped) and, for failed items, reproduce (a curl).
The top level also holds the run's digest (harness/report/digest.py). A pytest run's entries
come from typed item records (harness/report/record.py), serialized once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness.redact import Redactor

SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "skipped", "error")
# Per item. A failing item keeps more: its transcript is what someone will read.
TRANSCRIPT_LIMIT = {"passed": 8_000, "failed": 32_000}


def ctx_redact(entry: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    result: dict[str, Any] = redactor.value(entry)  # each string value, never the serialised JSON
    return result


def totals(entries: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(e["outcome"] for e in entries)
    return {"items": len(entries), **{k: counts.get(k, 0) for k in OUTCOMES}}


def violation_codes(entries: list[dict[str, Any]]) -> dict[str, int]:
    codes = Counter(v["code"] for e in entries for v in e.get("violations", []))
    return dict(sorted(codes.items()))


def build_summary(
    entries: list[dict[str, Any]], *, gateway: str | None, level: str, started: float, tool: str = "run"
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool,
        "gateway": gateway,
        "level": level,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 3),
        "totals": totals(entries),
        "violation_codes": violation_codes(entries),
        "items": sorted(entries, key=lambda e: e["id"]),
    }


def write_summary(path: Path, summary: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


class SummaryError(ValueError):
    """A file that is not a relaycheck summary (one line, for the CLI)."""


def load_summary(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SummaryError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SummaryError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise SummaryError(f"{path}: not a relaycheck summary (no 'items' list)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise SummaryError(
            f"{path}: summary schema_version {data.get('schema_version')!r}, this relaycheck reads {SCHEMA_VERSION}"
        )
    for i, item in enumerate(data["items"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or item.get("outcome") not in OUTCOMES:
            raise SummaryError(f"{path}: items[{i}] lacks an id or a known outcome")
    return data


# Verdicts at both levels, from what the summary keeps (violations and notes carry severities,
# so a run at either level can be scored at both).
def _severities(entry: dict[str, Any]) -> set[str]:
    return {v.get("severity", "error") for v in [*entry.get("violations", []), *entry.get("notes", [])]}


def passes(entry: dict[str, Any], level: str) -> bool | None:
    """Whether an item passes at ``level``; None for skipped items (they are not judged)."""
    if entry["outcome"] == "skipped":
        return None
    if entry["outcome"] == "error":
        return False  # the harness could not judge it: no pass at any level
    bad = {"error", "strict"} if level == "strict" else {"error"}
    return not (_severities(entry) & bad)
