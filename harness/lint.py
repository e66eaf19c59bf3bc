"""``relaycheck lint-traffic``: verdicts on recorded traffic, offline. The same summary.json
shape as ``run``; the id is the source plus the interaction index."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.dialects.base import Profile
from harness.engine import evaluate_exchange
from harness.gateways import ConfigError
from harness.model import Level
from harness.redact import Redactor
from harness.report.summary import build_summary, write_summary
from harness.traffic import RecordedInteraction, load_har, load_jsonl


def load_any(path: Path) -> Iterator[RecordedInteraction]:
    if not path.is_file():
        raise ConfigError(f"no such file: {path}")
    if path.suffix == ".jsonl":
        return load_jsonl(path)
    if path.suffix == ".har":
        return load_har(path)
    if path.suffix in (".yaml", ".yml"):
        from harness.traffic import load_cassette

        return load_cassette(path)
    raise ConfigError(f"{path}: unknown traffic format (expected .jsonl, .har or a cassette .yaml)")


def lint_one(it: RecordedInteraction, level: Level, profile: Profile) -> dict[str, Any]:
    request = it.exchange.request.json
    entry: dict[str, Any] = {
        "id": it.id,
        "case": None,
        "endpoint": it.endpoint,
        "model": request.get("model") if isinstance(request, dict) else None,
        "stream": it.exchange.is_sse,
        "ttft_ms": None,
        "latency_ms": None,
        "violations": [],
        "checked": "full" if it.request_recorded else "response-only",
    }
    if it.endpoint is None:
        entry.update(outcome="skipped", skip_reason=f"not a checked endpoint: {it.exchange.request.path}")
        return entry
    ev = evaluate_exchange(it.exchange, it.endpoint, level=level, profile=profile, stream_requested=it.exchange.is_sse)
    failing = ev.failing(level)
    entry["violations"] = [v.as_dict() for v in failing]
    entry["notes"] = [v.as_dict() for v in ev.violations if not v.fails(level)]
    entry["outcome"] = "failed" if failing else "passed"
    return entry


def lint_paths(paths: list[Path], *, level: Level, profile: Profile, report_dir: Path, quiet: bool) -> int:
    started = time.time()
    entries = []
    redactor = Redactor()
    for path in paths:
        for it in load_any(path):
            entry = lint_one(it, level, profile)
            entries.append(entry)
            if entry["outcome"] == "failed" or not quiet:
                codes = ",".join(sorted({v["code"] for v in entry["violations"]}))
                extra = f" {codes}" if codes else ""
                note = " (response only: request not recorded)" if entry["checked"] == "response-only" else ""
                print(redactor.text(f"{entry['outcome'].upper():8} {entry['id']}{extra}{note}"))
                if entry["outcome"] == "failed" and not quiet:
                    for line in _grouped_lines(entry["violations"])[:5]:
                        print(redactor.text(line))
    summary = build_summary(entries, gateway=None, level=level, started=started, tool="lint-traffic")
    summary["totals"]["response_only"] = sum(
        1 for e in entries if e.get("checked") == "response-only" and e["outcome"] != "skipped"
    )
    out = write_summary(report_dir / "summary.json", summary)
    t = summary["totals"]
    print(
        f"{t['items']} interactions: {t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped "
        f"({t['response_only']} checked on the response only); summary: {out}",
        file=sys.stderr,
    )
    return 1 if t["failed"] else 0


def _grouped_lines(violations: list[dict[str, Any]]) -> list[str]:
    """One line per rule per item, with a count and the event range (harness.grouping)."""
    from harness.grouping import group
    from harness.model import Violation

    vs = [Violation(v["code"], v["path"], v["message"], severity=v.get("severity", "error")) for v in violations]
    return [f"    [{g.first.code}] {g.where}: {g.first.message}{g.suffix()}" for g in group(vs)]
