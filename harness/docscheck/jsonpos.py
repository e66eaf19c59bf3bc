"""JSON objects inside page text, with the line of every value in them.

A page shows JSON bare, in a curl ``-d``, inside an SDK call, or escaped inside a string literal
(``\\"model\\"`` in Java, C, Swift snippets). A candidate is a ``{`` whose first key is a quoted
string, so code blocks (``func main() {``, ``{ return }``, JS objects with bare keys) are not
mistaken for JSON; a candidate that never closes or does not parse is reported, not guessed.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any

_START = re.compile(r"\{(?=\s*(?:\"|\\\"|\}))")
_FENCE = re.compile(r"^\s*(```|~~~)", re.M)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_WS = re.compile(r"\s*")


@dataclass(frozen=True)
class Found:
    """One JSON candidate: ``value`` when it parsed, else ``problem``. Offsets are into the page text;
    ``lines`` maps JSON paths (``$.a[0].b``) to 0-based line offsets from the first line."""

    start: int
    end: int
    value: Any = None
    problem: str | None = None
    abbreviated: bool = False  # not JSON only for "..." elisions, // comments, trailing commas
    escaped: bool = False
    lines: dict[str, int] = field(default_factory=dict)


def _closing(text: str, start: int) -> int | None:
    """Index after the ``}`` that closes the ``{`` at ``start``; None when the block never closes
    (the page ends, a code fence ends, or a string runs past the end of its line)."""
    depth = 0
    i, n = start, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_string = False
            elif c == "\n":
                return None  # JSON strings never span lines: the block is broken here
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == "`" and text.startswith("```", i):
            return None
        i += 1
    return None


def _unescape(text: str) -> tuple[str, list[int]]:
    """``\\"`` -> ``"`` (and ``\\\\`` -> ``\\``), with the source index of every kept character;
    newlines are kept, so line numbers do not move."""
    out: list[str] = []
    where: list[int] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            out.append(text[i + 1])
            where.append(i + 1)
            i += 2
            continue
        out.append(text[i])
        where.append(i)
        i += 1
    return "".join(out), where


def find_objects(text: str) -> list[Found]:
    out: list[Found] = []
    pos = 0
    while True:
        m = _START.search(text, pos)
        if m is None:
            return out
        start = m.start()
        escaped = text[m.end() :].lstrip().startswith('\\"')
        if escaped:
            # Unescape up to the end of the enclosing code (the next fence or blank line pair).
            limit = _region_end(text, start)
            plain, where = _unescape(text[start:limit])
            end_plain = _closing(plain, 0)
            end = start + where[end_plain - 1] + 1 if end_plain else None
            body = plain[:end_plain] if end_plain else None
        else:
            end = _closing(text, start)
            body = text[start:end] if end else None
        if end is None or body is None:
            stop = _region_end(text, start)
            snippet = text[start:stop].strip().splitlines()
            out.append(
                Found(
                    start,
                    stop,
                    problem=f"a JSON block that never closes ({len(snippet)} line(s) shown, then the block ends)",
                    escaped=escaped,
                )
            )
            pos = stop if stop > start else start + 1
            continue
        out.append(_parse(body, start, end, escaped))
        pos = end


def _region_end(text: str, start: int) -> int:
    """Where the code around ``start`` ends: the next fence line or blank line."""
    fence = _FENCE.search(text, start + 1)
    blank = text.find("\n\n", start)
    ends = [e for e in (fence.start() if fence else -1, blank) if e > start]
    return min(ends) if ends else len(text)


def _parse(body: str, start: int, end: int, escaped: bool) -> Found:
    try:
        value = json.loads(body)
    except ValueError as exc:
        # A Python dict literal (True/False/None, single quotes) in an SDK snippet is still literal.
        try:
            value = ast.literal_eval(body)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            if _abbreviated(body):
                return Found(
                    start,
                    end,
                    problem='an abbreviated example ("..." elisions, // comments or trailing commas): not JSON as '
                    "shown, so not checked",
                    abbreviated=True,
                )
            return Found(start, end, problem=f"not JSON: {exc.msg} (line {exc.lineno} column {exc.colno})")
        if not isinstance(value, dict):
            return Found(start, end, problem=f"not JSON: {exc.msg}")
        return Found(start, end, value, escaped=escaped)
    try:
        lines = value_lines(body)
    except (ValueError, IndexError):
        lines = {}
    return Found(start, end, value, escaped=escaped, lines=lines)


_LINE_COMMENT = re.compile(r"(?m)^\s*//.*$|(?<=[,{\[\s])//[^\n\"]*$")
_ELISION = re.compile(r"(?<![\"\w])(\.\.\.|…)(?![\"\w])")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _abbreviated(body: str) -> bool:
    """Whether the block is JSON once its documentation shorthand is taken out: the page means an
    abbreviated example (a note), not broken JSON (a finding)."""
    cleaned = _TRAILING_COMMA.sub(r"\1", _ELISION.sub("", _LINE_COMMENT.sub("", body)))
    cleaned = re.sub(r",\s*,", ",", cleaned)
    cleaned = _TRAILING_COMMA.sub(r"\1", re.sub(r"([\[{])\s*,", r"\1", cleaned))
    if cleaned == body:
        return False
    try:
        json.loads(cleaned)
    except ValueError:
        return False
    return True


def value_lines(body: str) -> dict[str, int]:
    """Path -> line offset of each value (and of each key: a path's line is where its key is)."""
    out: dict[str, int] = {}
    newlines = [i for i, c in enumerate(body) if c == "\n"]

    def line(i: int) -> int:
        return bisect.bisect_left(newlines, i)

    def ws(i: int) -> int:
        return _WS.match(body, i).end()  # type: ignore[union-attr]

    def value(i: int, path: str) -> int:
        i = ws(i)
        out.setdefault(path, line(i))
        c = body[i]
        if c == "{":
            i = ws(i + 1)
            if body[i] == "}":
                return i + 1
            while True:
                i = ws(i)
                key, i = scanstring(body, i + 1)
                out[f"{path}.{key}"] = line(i)
                i = ws(i)
                i = value(i + 1, f"{path}.{key}")  # past the ':'
                i = ws(i)
                if body[i] == "}":
                    return i + 1
                i += 1  # ','
        if c == "[":
            i = ws(i + 1)
            if body[i] == "]":
                return i + 1
            k = 0
            while True:
                i = value(i, f"{path}[{k}]")
                i = ws(i)
                if body[i] == "]":
                    return i + 1
                i += 1
                k += 1
        if c == '"':
            return scanstring(body, i + 1)[1]
        m = _NUMBER.match(body, i)
        if m is None:
            raise ValueError(f"unexpected {c!r}")
        return m.end()

    value(0, "$")
    return out


def line_of(found_lines: dict[str, int], path: str) -> int:
    """The line offset of ``path`` or of its nearest ancestor that has one."""
    p = path
    while p:
        if p in found_lines:
            return found_lines[p]
        cut = max(p.rfind("."), p.rfind("["))
        if cut <= 0:
            break
        p = p[:cut]
    return 0
