"""A small JSON path subset for case files: ``$``, ``.key``, ``["key"]``, ``[n]``, ``[-1]``,
``[*]`` and the filter ``[?key==value]`` (value compared as text). A path with ``*`` or a
filter yields the list of all matches; a plain path yields one value or nothing."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_TOKEN = re.compile(
    r"""\.([A-Za-z_][\w-]*)|\[(-?\d+)\]|\[\*\]|\["([^"]*)"\]|\[\?\s*([\w.-]+)\s*==\s*['"]?([^'"\]]*)['"]?\s*\]"""
)
MISSING = object()


class PathError(ValueError):
    pass


@cache
def compile_path(path: str) -> tuple[tuple[str, Any], ...]:
    if not path.startswith("$"):
        raise PathError(f"a path starts with '$': {path!r}")
    steps: list[tuple[str, Any]] = []
    pos = 1
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise PathError(f"cannot read path {path!r} at {path[pos:]!r}")
        if m.group(1) is not None:
            steps.append(("key", m.group(1)))
        elif m.group(2) is not None:
            steps.append(("index", int(m.group(2))))
        elif m.group(3) is not None:
            steps.append(("key", m.group(3)))
        elif m.group(4) is not None:
            steps.append(("filter", (m.group(4), m.group(5))))
        else:
            steps.append(("all", None))
        pos = m.end()
    return tuple(steps)


def is_multi(path: str) -> bool:
    return any(kind in ("all", "filter") for kind, _ in compile_path(path))


def _field(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def find(doc: Any, path: str) -> list[Any]:
    """All values at ``path``."""
    current = [doc]
    for kind, arg in compile_path(path):
        nxt: list[Any] = []
        for value in current:
            if kind == "key" and isinstance(value, dict) and arg in value:
                nxt.append(value[arg])
            elif kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value):
                nxt.append(value[arg])
            elif kind == "all":
                nxt.extend(value if isinstance(value, list) else value.values() if isinstance(value, dict) else [])
            elif kind == "filter" and isinstance(value, list):
                key, want = arg
                nxt.extend(v for v in value if _text(_field(v, key)) == want)
        current = nxt
    return current


def resolve(doc: Any, path: str) -> Any:
    """One value (MISSING when absent), or the list of matches for a multi path."""
    found = find(doc, path)
    if is_multi(path):
        return found
    return found[0] if found else MISSING


def _text(value: Any) -> str:
    if value is MISSING:
        return "\0missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
