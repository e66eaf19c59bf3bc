"""Judge what a page documents with the rules that judge live traffic.

A documented answer becomes an :class:`~harness.model.Exchange` (its request is the documented
request it answers) and goes through :func:`harness.engine.evaluate_exchange`, the same call as a
live answer, at the same level. A documented request is checked against the official request
schemas (the ones the dialects use for ``grammar.messages.request_accepted``) plus the rules the
official APIs enforce that a schema cannot say. Field tables are checked against the dialects'
vocabularies; claims (headings, stop reasons) against the examples under them.
"""

from __future__ import annotations

from harness.docscheck.answers import check_answer, check_transcript
from harness.docscheck.extract import Extracted
from harness.docscheck.finding import DIALECT_NAME, Finding, guess_endpoint
from harness.docscheck.pagewide import check_auth, check_stream_claims, check_tables
from harness.docscheck.request_rules import check_request
from harness.model import Level

__all__ = ["DIALECT_NAME", "Finding", "guess_endpoint", "judge"]


def judge(ex: Extracted, level: Level = "compatible") -> list[Finding]:
    page = ex.page.name
    out = [
        Finding(page, p.line, "docs.unparseable", p.message, "note" if p.severity == "note" else "error")
        for p in ex.problems
    ]
    rejected: set[int] = set()  # lines of requests the official API rejects
    for block in ex.requests:
        found = check_request(page, block)
        if any(f.code == "docs.request.rejected" for f in found):
            rejected.add(block.line)
        out += found
    for block in ex.answers:
        out += check_answer(page, block, level, rejected)
    for t in ex.transcripts:
        out += check_transcript(page, t, level)
    out += check_tables(ex)
    out += check_auth(ex)
    out += check_stream_claims(ex)
    if not (ex.requests or ex.answers or ex.transcripts or ex.rows or ex.problems):
        out.append(
            Finding(
                page,
                1,
                "docs.empty",
                "found no request body, answer, SSE transcript or field table on this page",
                severity="note",
            )
        )
    seen: set[tuple[int, str, str]] = set()
    unique = []
    for f in sorted(out, key=lambda f: (f.line, f.code)):
        key = (f.line, f.code, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique
