"""``relaycheck lint-traffic``: verdicts on recorded traffic, offline. The same summary.json
shape as ``run``; the id is the source plus the interaction index.

Files are read whatever their format (``harness.cassettes`` detects it by content) and
directories are walked. A record that cannot be read is one ``error`` entry (file and line or
index) and the others are still judged; interactions with other APIs are skipped and counted.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import dialects, history
from harness.cassettes import TrafficError, read_file, walk
from harness.dialects.base import Profile
from harness.engine import evaluate_exchange
from harness.gateways import ConfigError
from harness.model import Level, Violation
from harness.redact import Redactor
from harness.report.summary import build_summary, write_summary
from harness.traffic import RecordedInteraction


def add_arguments(sub: Any) -> None:
    """The ``lint-traffic`` subcommand (called by harness.cli)."""
    lint = sub.add_parser(
        "lint-traffic",
        help="check recorded traffic offline (cassettes, HAR, corpus JSONL; files or folders)",
        description="Check recorded traffic and print a verdict per interaction. Files and folders "
        "(walked) of vcrpy, Ruby VCR and go-vcr cassettes, HAR (browsers, Playwright, Polly.js) and "
        "corpus JSONL, recognised by their content. Unreadable records are reported one by one; "
        "interactions with other APIs are skipped and counted. Exit 0 all passed, 1 failures or "
        "unreadable records, 2 nothing to check.",
    )
    lint.add_argument("paths", nargs="+", type=Path)
    lint.add_argument("--level", choices=("strict", "compatible"), default="strict")
    lint.add_argument("--profile", choices=("official", "open-responses"), default="official")
    lint.add_argument("--report-dir", default="reports", help="where summary.json is written")
    lint.add_argument("--quiet", "-q", action="store_true", help="print failing interactions only")
    lint.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="HOST",
        help="judge only interactions with this host (repeatable); others are skipped and counted",
    )
    lint.add_argument(
        "--official",
        action="store_true",
        help="judge only traffic of the official APIs (chat and responses on api.openai.com, messages on "
        "api.anthropic.com): the way to re-check relaycheck's false-alarm claims on a project's cassettes",
    )


def main(args: Any) -> int:
    return lint_paths(
        args.paths,
        level=args.level,
        profile=args.profile,
        report_dir=Path(args.report_dir),
        quiet=args.quiet,
        hosts=frozenset(h.lower() for h in args.host) or None,
        official=args.official,
    )


def lint_one(
    it: RecordedInteraction,
    level: Level,
    profile: Profile,
    hosts: frozenset[str] | None = None,
    official: bool = False,
) -> dict[str, Any]:
    exchange, inferred = infer_content_type(it)
    request = exchange.request.json
    entry: dict[str, Any] = {
        "id": it.id,
        "case": None,
        "endpoint": it.endpoint,
        "model": request.get("model") if isinstance(request, dict) else None,
        "stream": exchange.is_sse,
        "ttft_ms": None,
        "latency_ms": None,
        "violations": [],
        "checked": "full" if it.request_recorded else "response-only",
    }
    if it.endpoint is None:
        entry.update(outcome="skipped", skip_reason=f"not a checked endpoint: {exchange.request.path}")
        return entry
    host = (urlsplit(exchange.request.url).hostname or "").lower()
    if hosts is not None and host not in hosts:
        entry.update(outcome="skipped", skip_reason=f"another host: {host or '(none)'}")
        return entry
    # Where each dialect is the official API (Anthropic's OpenAI-compatible /v1/chat/completions is not).
    if official and host != dialects.get(it.endpoint).official_host:
        entry.update(outcome="skipped", skip_reason=f"not the official {it.endpoint} API: {host or '(none)'}")
        return entry
    ev = evaluate_exchange(
        exchange,
        it.endpoint,
        level=level,
        profile=profile,
        stream_requested=exchange.is_sse,
        recorded=True,
        recorded_on=it.recorded_on,
    )
    answered = history.answer_date(ev.final, it.recorded_on)
    entry["answered_on"] = answered.isoformat() if answered else None  # the API it is judged against
    violations = [*inferred, *ev.violations]
    failing = [v for v in violations if v.fails(level)]
    entry["violations"] = [v.as_dict() for v in failing]
    entry["notes"] = [v.as_dict() for v in violations if not v.fails(level)]
    entry["outcome"] = "failed" if failing else "passed"
    return entry


def infer_content_type(it: RecordedInteraction) -> tuple[Any, list[Violation]]:
    """Recorders drop headers (filters, scrubbers, old formats keep only the body): with no
    Content-Type recorded, SSE or JSON is inferred from the body, and said so in a note, never
    a failure. A recorded Content-Type is judged as it is."""
    exchange = it.exchange
    if exchange.headers.get("content-type"):
        return exchange, []
    body = exchange.body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith((b"event:", b"data:", b":")):
        guess = "text/event-stream"
    elif body.startswith((b"{", b"[")):
        guess = "application/json"
    else:
        return exchange, []  # neither: the body checks say what it is
    headers = dict(exchange.headers, **{"content-type": guess})
    note = Violation(
        "content_type.not_recorded",
        "$",
        f"no Content-Type in the recording: judged as {guess} from the body",
        actual="(not recorded)",
        severity="note",
    )
    return dataclasses.replace(exchange, headers=headers), [note]


def error_entry(err: TrafficError, redactor: Redactor) -> dict[str, Any]:
    return {
        "id": err.id,
        "case": None,
        "file": err.source,
        "where": err.where or None,
        "endpoint": None,
        "model": None,
        "stream": None,
        "ttft_ms": None,
        "latency_ms": None,
        "violations": [],
        "outcome": "error",
        "error": redactor.text(err.message),  # may quote a piece of the record
    }


def lint_paths(
    paths: list[Path],
    *,
    level: Level,
    profile: Profile,
    report_dir: Path,
    quiet: bool,
    hosts: frozenset[str] | None = None,
    official: bool = False,
) -> int:
    started = time.time()
    entries: list[dict[str, Any]] = []
    redactor = Redactor()
    files, missing = walk(paths)
    if missing and not files:
        raise ConfigError("; ".join(f"{e.source}: {e.message}" for e in missing))
    for err in missing:
        entries.append(error_entry(err, redactor))
        _print_entry(entries[-1], redactor, quiet)
    given = {p.resolve() for p in paths if p.is_file()}
    ignored = []
    for path in files:
        for record in read_file(path):
            if isinstance(record, TrafficError):
                if not record.recognized and path.resolve() not in given:
                    ignored.append(str(path))  # a README or script in a cassette folder
                    continue
                entry = error_entry(record, redactor)
            else:
                entry = lint_one(record, level, profile, hosts, official)
            entries.append(entry)
            _print_entry(entry, redactor, quiet)
    judged = [e for e in entries if e["outcome"] in ("passed", "failed")]
    summary = build_summary(entries, gateway=None, level=level, started=started, tool="lint-traffic")
    summary["totals"]["response_only"] = sum(1 for e in judged if e.get("checked") == "response-only")
    summary["totals"]["files"] = len(files) - len(ignored)
    summary["ignored_files"] = ignored
    summary["totals"]["other_apis"] = sum(1 for e in entries if e["outcome"] == "skipped")
    out = write_summary(report_dir / "summary.json", summary)
    t = summary["totals"]
    print(
        f"{t['items']} interactions in {t['files']} file(s): {t['passed']} passed, {t['failed']} failed, "
        f"{t['skipped']} skipped (other APIs or hosts), {t['error']} unreadable "
        f"({t['response_only']} checked on the response only)"
        + (f"; {len(ignored)} file(s) in the folders are no recording format" if ignored else "")
        + f"; summary: {out}",
        file=sys.stderr,
    )
    if not judged:
        what = f"no interaction with a checked API ({', '.join(dialects.ENDPOINTS)})"
        if not any(e["outcome"] == "skipped" for e in entries):
            what = "no recorded interaction"
        print(f"relaycheck: {what} found in {', '.join(map(str, paths))}", file=sys.stderr)
        return 2
    return 1 if t["failed"] or t["error"] else 0


def _print_entry(entry: dict[str, Any], redactor: Redactor, quiet: bool) -> None:
    outcome = entry["outcome"]
    if outcome == "error":
        print(redactor.text(f"ERROR    {entry['id']}: {entry['error']}"))
        return
    if outcome != "failed" and quiet:
        return
    codes = ",".join(sorted({v["code"] for v in entry["violations"]}))
    extra = f" {codes}" if codes else ""
    note = " (response only: request not recorded)" if entry.get("checked") == "response-only" else ""
    print(redactor.text(f"{outcome.upper():8} {entry['id']}{extra}{note}"))
    if outcome == "failed" and not quiet:
        for line in _grouped_lines(entry["violations"])[:5]:
            print(redactor.text(line))


def _grouped_lines(violations: list[dict[str, Any]]) -> list[str]:
    """One line per rule per item, with a count and the event range (harness.grouping)."""
    from harness.grouping import group

    vs = [Violation(v["code"], v["path"], v["message"], severity=v.get("severity", "error")) for v in violations]
    return [f"    [{g.first.code}] {g.where}: {g.first.message}{g.suffix()}" for g in group(vs)]
