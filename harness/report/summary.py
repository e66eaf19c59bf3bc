"""summary.json: one entry per item, plus totals. The contract other tools read (diff, merge,
the HTML matrix), and the same shape for `relaycheck run` and `relaycheck lint-traffic`.

An item entry: id, case, file, line, endpoint, model, stream, gateway, features, outcome
(passed | failed | skipped | error), violations and notes ([{code, path, message, severity?}],
severity omitted means "error"), status, ttft_ms, latency_ms, input_tokens, output_tokens,
output_tps, attempts, source (live | replayed | recorded | replayed+recorded: where the answers
came from), transcript (the redacted wire text, capped) and, for failed items, reproduce (a curl).
The top level also holds the run's digest (harness/report/digest.py).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness.redact import Redactor
from harness.report.metrics import generation_ms, step_usage, tokens_per_second
from harness.report.transcript import item_transcript

SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "skipped", "error")
# Per item. A failing item keeps more: its transcript is what someone will read.
TRANSCRIPT_LIMIT = {"passed": 8_000, "failed": 32_000}


def result_entry(result: Any, ctx: Any) -> dict[str, Any]:
    """The measured part of an item's entry (the plugin adds id and outcome)."""
    first = result.first_exchange
    last = next((s.exchange for s in reversed(result.steps) if s.exchange is not None), None)
    level = ctx.level
    stream = result.variant.stream
    sent = [s for s in result.steps if s.exchange is not None]
    tokens_in, tokens_out = step_usage((s.step.endpoint, s.evaluation.final if s.evaluation else None) for s in sent)
    gen = [generation_ms(s.exchange.latency_ms, s.exchange.ttft_ms, stream) for s in sent]
    gen_total = sum(g for g in gen if g is not None) if any(g is not None for g in gen) else None
    failing = bool(result.failing(level))
    limit = TRANSCRIPT_LIMIT["failed" if failing else "passed"]
    extra: dict[str, Any] = {}
    bad = next((s for s in sent if any(v.fails(level) for v in s.violations)), None)
    if bad is not None:  # the digest's "what to do next": a curl that asks the same (key as $VAR)
        from harness.failure import curl_command

        curl = curl_command(bad.exchange.request, ctx.gateway.api_key_env, ctx.redactor)
        extra["reproduce"] = ctx.redactor.text(curl)  # the URL too (a key in a query string)
    return {
        **extra,
        "violations": [ctx_redact(v.as_dict(), ctx.redactor) for v in result.violations if v.fails(level)],
        "notes": [ctx_redact(v.as_dict(), ctx.redactor) for v in result.violations if not v.fails(level)],
        "status": last.status if last else None,
        "content_encoding": last.content_encoding if last else None,  # the answer was decoded from it
        "ttft_ms": round(first.ttft_ms, 2) if first and first.ttft_ms is not None else None,
        "latency_ms": round(sum(s.exchange.latency_ms or 0 for s in sent), 2) if first else None,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "output_tps": tokens_per_second(tokens_out, gen_total),
        "attempts": result.attempts,
        "transcript": item_transcript(((s.step.name, s.exchange) for s in result.steps), ctx.redactor, limit),
    }


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
