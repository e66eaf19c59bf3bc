"""What belongs to the page rather than one example: field tables (names of another dialect),
auth descriptions (a note where they differ from the official API) and headings that claim
streaming over requests that do not stream."""

from __future__ import annotations

import re

from harness import dialects
from harness.docscheck import vocab
from harness.docscheck.extract import Extracted, endpoint_near
from harness.docscheck.finding import DIALECT_NAME, Finding

_STREAM_CLAIM = re.compile(r"stream|流式|\bSSE\b|server-sent", re.I)
_NOT_STREAM = re.compile(r"non-?stream|非流式|无流式|不流式", re.I)
_TITLE_MAX = 60


def check_tables(ex: Extracted) -> list[Finding]:
    out = []
    for row in ex.rows:
        if row.role == "header":
            continue
        endpoint = endpoint_near(ex.endpoints, row.line, row.line)[0]
        if endpoint is None:
            continue
        for seg in (s for s in re.split(r"[.\[\]]+", row.name) if s):
            if seg in vocab.field_names(endpoint):
                continue
            owners = [DIALECT_NAME[e] for e in vocab.DOC_DIALECTS if e != endpoint and seg in vocab.field_names(e)]
            what = "an answer" if row.role == "answer" else "a request"
            if owners:
                out.append(
                    Finding(
                        ex.page.name,
                        row.line,
                        "docs.table.field",
                        f"the table lists {seg!r}, a field of {' / '.join(owners)}: {what} of the "
                        f"{DIALECT_NAME[endpoint]} API has no such field",
                        piece="fields",
                    )
                )
            else:
                out.append(
                    Finding(
                        ex.page.name,
                        row.line,
                        "docs.table.field",
                        f"the table lists {seg!r}, a name relaycheck knows in no dialect",
                        severity="note",
                        piece="fields",
                    )
                )
            break
    return out


def check_auth(ex: Extracted) -> list[Finding]:
    def by_endpoint(lines: tuple[int, ...]) -> dict[str | None, list[int]]:
        out: dict[str | None, list[int]] = {}
        for n in lines:
            out.setdefault(endpoint_near(ex.endpoints, n, n)[0], []).append(n)
        return out

    bearer = by_endpoint(ex.auth_lines["bearer"])
    xkey = by_endpoint(ex.auth_lines["x-api-key"])
    version = ex.auth_lines["anthropic-version"]
    out = []
    page = ex.page.name
    if bearer.get("messages"):
        lines = bearer["messages"]
        shown = ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines[:6]))
        shown += " ..." if len(lines) > 6 else ""
        if xkey.get("messages"):
            text = (
                f"the page offers Authorization: Bearer for /v1/messages besides x-api-key ({shown}); the "
                "official Anthropic API authenticates API keys with x-api-key"
            )
        else:
            text = (
                f"the page authenticates /v1/messages with Authorization: Bearer ({shown}); the official "
                "Anthropic API takes x-api-key plus anthropic-version, which is what an Anthropic SDK sends"
            )
        if not version:
            text += "; the page never mentions the anthropic-version header the official API requires"
        out.append(Finding(page, lines[0], "docs.auth", text, "note", "page"))
    for endpoint in ("chat", "responses"):
        if xkey.get(endpoint) and not bearer.get(endpoint):
            out.append(
                Finding(
                    page,
                    xkey[endpoint][0],
                    "docs.auth",
                    f"the page authenticates {dialects.get(endpoint).path} with x-api-key; the official OpenAI API "
                    "takes Authorization: Bearer, which is what an OpenAI SDK sends",
                    "note",
                    "page",
                )
            )
    return out


def _titles(ex: Extracted) -> list[tuple[int, int, int]]:
    """(line, first line, last line) of each heading's scope. Without Markdown/HTML headings, the short
    lines above the first documented thing are the page's title, and the whole page its scope."""
    total = len(ex.page.lines)
    if ex.headings:
        out = []
        for i, h in enumerate(ex.headings):
            end = next((g.line - 1 for g in ex.headings[i + 1 :] if g.level <= h.level), total)
            out.append((h.line, h.line, end))
        return [t for t in out if _claims_stream(ex.page.lines[t[0] - 1])]
    first = min([b.line for b in ex.blocks] + [e[0] for e in ex.endpoints] + [r.line for r in ex.rows] + [total])
    return [
        (n + 1, 1, total)
        for n, line in enumerate(ex.page.lines[: first - 1])
        if line.strip() and len(line.strip()) <= _TITLE_MAX and _claims_stream(line)
    ][:1]


def _claims_stream(text: str) -> bool:
    return bool(_STREAM_CLAIM.search(text)) and not _NOT_STREAM.search(text)


def check_stream_claims(ex: Extracted) -> list[Finding]:
    out = []
    for line, first, last in _titles(ex):
        requests = [b for b in ex.requests if first <= b.line <= last and isinstance(b.value, dict)]
        if not requests or any(b.value.get("stream") is True for b in requests):
            continue
        shown = ("line " if len(requests) == 1 else "lines ") + ", ".join(str(b.line) for b in requests[:6])
        shown += " ..." if len(requests) > 6 else ""
        out.append(
            Finding(
                ex.page.name,
                line,
                "docs.claim.stream",
                f"the heading says streaming, but none of the {len(requests)} request(s) under it ({shown}) "
                'sends "stream": true: copied as shown, they get one JSON answer, not a stream',
                piece="page",
            )
        )
    return out
