"""``relaycheck docs PAGE...``: the command. One line per finding (``page:line: code: message``),
summary.json in the shape of ``run`` and ``lint-traffic`` (one item per documented request, answer
and SSE transcript, one per page for what belongs to the page), exit 1 when the docs contradict the
official format, 2 on usage errors."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.model import Level

if TYPE_CHECKING:  # the checks are imported when the command runs, not when the CLI builds its parser
    from harness.docscheck.extract import Extracted
    from harness.docscheck.judge import Finding


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "docs",
        help="check documentation pages against the official wire formats",
        description="Read documentation pages (Markdown, HTML, or text copied from a rendered page; a file or "
        "an http(s) URL), extract the requests, answers, SSE transcripts, field tables and claims they "
        "document, and judge them with the rules that judge live traffic. Exit 1 when a page contradicts "
        "the official format.",
    )
    p.add_argument("pages", nargs="+", metavar="PAGE", help="a file or an http(s) URL")
    # Documentation leaves out fields the official API always sends (refusal: null, ...) without
    # contradicting it: compatible is the default; --level strict fails on those too.
    p.add_argument(
        "--level",
        choices=("strict", "compatible"),
        default="compatible",
        help="compatible (default): fail on what breaks clients; strict: also on fields the official API always sends",
    )
    p.add_argument("--report-dir", default="reports", help="where summary.json is written")
    p.add_argument("--quiet", "-q", action="store_true", help="print failing findings only (no notes)")
    p.add_argument("--cases-out", type=Path, metavar="FILE", help="write the pages' requests as a case file")
    p.add_argument(
        "--base-url",
        help="run those cases against this relay at once (key from $RELAYCHECK_API_KEY) and compare the live "
        "answers with the documented ones",
    )
    p.add_argument("--auth", choices=("bearer", "x-api-key", "both"), help="how /v1/messages authenticates")
    return p


def _entries(ex: Extracted, findings: list[Finding], level: Level) -> list[dict[str, Any]]:
    pieces: dict[str, dict[str, Any]] = {}

    def entry(piece: str, line: int, endpoint: str | None, body: Any) -> dict[str, Any]:
        return pieces.setdefault(
            piece,
            {
                "id": f"{ex.page.name}:{line} {piece.split('@')[0]}",
                "case": piece.split("@")[0],
                "file": ex.page.name,
                "line": line,
                "endpoint": endpoint,
                "model": body.get("model") if isinstance(body, dict) else None,
                "stream": isinstance(body, dict) and body.get("stream") is True,
                "violations": [],
                "notes": [],
            },
        )

    entry("page", 1, None, None)
    for b in ex.blocks:
        if b.role in ("request", "answer", "error"):
            role = "request" if b.role == "request" else "answer"
            entry(f"{role}@{b.line}", b.line, b.endpoint, b.value)
    for t in ex.transcripts:
        entry(f"stream@{t.line}", t.line, t.endpoint, None)
    for f in findings:
        piece = f.piece if f.piece in pieces else "page"
        pieces[piece]["violations" if f.fails(level) else "notes"].append(f.as_dict())
    for e in pieces.values():
        e["outcome"] = "failed" if e["violations"] else "passed"
    return list(pieces.values())


def run(args: argparse.Namespace) -> int:
    from harness.docscheck import page as pages
    from harness.docscheck.extract import extract
    from harness.docscheck.judge import judge
    from harness.redact import Redactor
    from harness.report.summary import build_summary, write_summary

    started = time.time()
    level: Level = args.level
    redactor = Redactor()
    judged: list[tuple[Extracted, list[Finding]]] = []
    for source in args.pages:
        ex = extract(pages.load(source))
        judged.append((ex, judge(ex, level)))
    entries: list[dict[str, Any]] = []
    failing = 0
    for ex, findings in judged:
        for f in findings:
            bad = f.fails(level)
            failing += bad
            if bad or not args.quiet:
                print(redactor.text(f.render()))
        entries += _entries(ex, findings, level)
    live_failed = False
    if args.cases_out or args.base_url:
        from harness.docscheck.casesout import build_case_file

        target = args.cases_out or Path(args.report_dir) / "docs-cases.yaml"
        text, written = build_case_file(judged)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"relaycheck: {len(written)} case(s) from the pages' requests written to {target}", file=sys.stderr)
        if args.base_url:
            from harness.docscheck.live import run_live

            live_entries, live_failed = run_live(target, written, args.base_url, args.auth, level)
            entries += live_entries
    summary = build_summary(entries, gateway=None, level=level, started=started, tool="docs")
    out = write_summary(Path(args.report_dir) / "summary.json", summary)
    notes = sum(len(e.get("notes", [])) for e in entries)
    print(
        f"{len(judged)} page(s): {failing} finding(s) contradict the official format, {notes} note(s); summary: {out}",
        file=sys.stderr,
    )
    return 1 if failing or live_failed else 0
