"""A documentation page as text lines, whatever it was published as.

Markdown and plain text (copied from a rendered page) are used as they are. HTML is reduced to
text *without moving any line*: tags become nothing (or as many newlines as they spanned),
headings get a ``#`` prefix and table cells a ``|`` separator, so a finding's line number is the
line of the HTML source a vendor edits, and the extractor sees Markdown-like text either way.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from pathlib import Path

from harness.gateways import ConfigError

_SCRIPT = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HEADING = re.compile(r"<h[1-6]\b[^>]*>", re.I)
_CELL_END = re.compile(r"</t[dh]\s*>", re.I)
_ROW_START = re.compile(r"<tr\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_HTML_HINT = re.compile(r"<(!doctype|html|body|head|div|p|pre|table|h[1-6])\b", re.I)


@dataclass(frozen=True)
class Page:
    """``name`` is what findings are reported against (the path or URL as given)."""

    name: str
    text: str
    kind: str  # "html" | "markdown" | "text"
    decode_problem: str | None = None  # the bytes were not UTF-8 (decoded with replacement)
    html_headings: tuple[tuple[int, int], ...] = ()  # (line, level) of <h1>..<h6> in an HTML page

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def _blank_keeping_lines(match: re.Match[str]) -> str:
    return "\n" * match.group(0).count("\n")


def html_to_text(source: str) -> str:
    """Visible text of an HTML page, line for line with the source."""
    text = _SCRIPT.sub(_blank_keeping_lines, source)
    text = _COMMENT.sub(_blank_keeping_lines, text)
    text = _HEADING.sub(lambda m: "#" * int(m.group(0)[2]) + " ", text)
    text = _ROW_START.sub("| ", text)
    text = _CELL_END.sub(" | ", text)
    text = _TAG.sub(_blank_keeping_lines, text)
    return html.unescape(text)


def from_bytes(name: str, data: bytes, content_type: str = "") -> Page:
    problem = None
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = f"the page is not UTF-8 (byte {exc.start}: {exc.reason}); read with replacement characters"
        raw = data.decode("utf-8", "replace")
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    lower = name.lower().split("?")[0]
    if (
        "html" in content_type.lower()
        or lower.endswith((".html", ".htm"))
        or (not lower.endswith((".md", ".markdown", ".txt")) and _HTML_HINT.search(raw[:2000]))
    ):
        cleaned = _COMMENT.sub(_blank_keeping_lines, _SCRIPT.sub(_blank_keeping_lines, raw))
        newlines = [i for i, c in enumerate(cleaned) if c == "\n"]
        headings = tuple(
            (bisect.bisect_left(newlines, m.start()) + 1, int(m.group(0)[2])) for m in _HEADING.finditer(cleaned)
        )
        return Page(name, html_to_text(raw), "html", problem, headings)
    kind = "markdown" if lower.endswith((".md", ".markdown")) or "markdown" in content_type.lower() else "text"
    return Page(name, raw, kind, problem)


def load(source: str, timeout: float = 30.0) -> Page:
    """A file path, or an http(s) URL fetched with httpx. Unreachable or missing: ConfigError (exit 2)."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            resp = httpx.get(source, timeout=timeout, follow_redirects=True, trust_env=False)
        except httpx.HTTPError as exc:
            raise ConfigError(f"cannot fetch {source}: {type(exc).__name__}: {exc}") from None
        if resp.status_code >= 400:
            raise ConfigError(f"cannot fetch {source}: HTTP {resp.status_code}")
        return from_bytes(source, resp.content, resp.headers.get("content-type", ""))
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"no such page: {source}")
    try:
        return from_bytes(source, path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {exc.strerror or exc}") from None
