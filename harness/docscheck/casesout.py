"""``relaycheck docs --cases-out``: the page's requests as a case file, and (``--base-url``) running
them at once.

Each distinct documented request becomes a case, its body verbatim, expecting what the *official*
API does with it (a 2xx, or the 400 it rejects it with) rather than what the page shows. Run live,
the answer is also compared in shape with the documented answer: "the docs promise X, the relay
does Y".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.docscheck.extract import Block, Extracted
from harness.docscheck.judge import Finding, guess_endpoint

_FORCED_STOP = {"messages": "tool_use"}  # what a forced tool_choice ends with officially


@dataclass(frozen=True)
class Written:
    case_id: str
    page: str
    block: Block
    endpoint: str
    answer: Block | None  # the documented answer to compare a live one with


def _case_id(page: str, line: int) -> str:
    stem = Path(page.split("?")[0].rstrip("/")).stem or "page"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "page"
    return f"{stem}-l{line}"


def _answer_for(ex: Extracted, block: Block) -> Block | None:
    same = json.dumps(block.value, sort_keys=True)
    for a in ex.answers:
        if a.request is not None and json.dumps(a.request.value, sort_keys=True) == same and a.role == "answer":
            return a
    return None


def _distinct_requests(
    pages: list[tuple[Extracted, set[int]]],
) -> Iterator[tuple[Extracted, Block, str, bool, list[int]]]:
    """(page, first block, endpoint, rejected, lines of the copies) per distinct request body."""
    seen: dict[tuple[str, str], list[int]] = {}
    order: list[tuple[Extracted, Block, str, bool, tuple[str, str]]] = []
    for ex, rejected in pages:
        for b in ex.requests:
            endpoint = b.endpoint or guess_endpoint(b.value, "request")
            if endpoint is None or not isinstance(b.value, dict):
                continue
            key = (ex.page.name + "|" + endpoint, json.dumps(b.value, sort_keys=True))
            if key in seen:
                seen[key].append(b.line)
                continue
            seen[key] = []
            order.append((ex, b, endpoint, b.line in rejected, key))
    for ex, b, endpoint, rejected, key in order:
        yield ex, b, endpoint, rejected, seen[key]


def _rejects(f: Finding) -> bool:
    """A request finding that means a 400 from the official API (a missing field, a bad budget, a
    tool in another dialect's shape, another dialect's parameter)."""
    return f.code.startswith("docs.request.") and f.severity == "error"


def build_case_file(pages: list[tuple[Extracted, list[Finding]]]) -> tuple[str, list[Written]]:
    """The YAML text and what each case came from."""
    cases: list[dict[str, Any]] = []
    written: list[Written] = []
    judged = [
        (
            ex,
            {b.line for b in ex.requests if any(_rejects(f) and f.piece == f"request@{b.line}" for f in fs)},
        )
        for ex, fs in pages
    ]
    for ex, block, endpoint, rejected, copies in _distinct_requests(judged):
        body = block.value
        cid = _case_id(ex.page.name, block.line)
        also = f" (lines {', '.join(map(str, copies))} document the same body)" if copies else ""
        outcome = "rejects it with 400 invalid_request_error" if rejected else "accepts it"
        case: dict[str, Any] = {
            "id": cid,
            "description": f"{ex.page.name} line {block.line}: the documented request verbatim{also}; "
            f"the official API {outcome}.",
            "endpoint": endpoint,
            "stream": body.get("stream") is True,
        }
        case["models"] = "none"  # verbatim: the page's own model (or none, as the page shows it)
        expect: dict[str, Any]
        if rejected:
            expect = {"status": 400, "error_type": "invalid_request_error"}
        else:
            expect = {"status": 200}
            choice = body.get("tool_choice")
            if endpoint in _FORCED_STOP and isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
                expect["stop_reason"] = _FORCED_STOP[endpoint]
        case["request"] = {"body": body}
        case["expect"] = expect
        cases.append(case)
        written.append(Written(cid, ex.page.name, block, endpoint, _answer_for(ex, block)))
    head = (
        "# Written by `relaycheck docs --cases-out`: every distinct request the pages document, verbatim,\n"
        "# expecting what the official API does with it (not what the page shows).\n"
        "# Run: relaycheck run --cases THIS_FILE --base-url https://your.relay/ (key in $RELAYCHECK_API_KEY)\n"
    )
    if not cases:
        return head + "# (the pages document no request)\n", written
    return head + yaml.safe_dump({"cases": cases}, allow_unicode=True, sort_keys=False, width=120), written


# ---- shape comparison --------------------------------------------------------------------------------

_DISCRIMINATORS = ("object", "type", "stop_reason", "finish_reason", "status", "role")
# Values whose inside is the user's (tool schemas and arguments, metadata): not part of the shape.
_OPAQUE = frozenset({"parameters", "input_schema", "input", "metadata", "properties"})


def _shape(value: Any, path: str = "$", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """path (arrays as []) -> JSON type name, and the value itself for discriminating fields."""
    out = {} if out is None else out
    if isinstance(value, dict):
        out[path] = "object"
        for k, v in value.items():
            sub = f"{path}.{k}"
            if k in _DISCRIMINATORS and isinstance(v, str):
                out.setdefault(sub + "=", set()).add(v)
            if k in _OPAQUE:
                out.setdefault(sub, _type(v))
            else:
                _shape(v, sub, out)
    elif isinstance(value, list):
        out[path] = "array"
        for v in value:
            _shape(v, f"{path}[]", out)
    else:
        out.setdefault(path, _type(value))
    return out


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    return "string"


def shape_differences(documented: Any, live: Any, limit: int = 8) -> list[str]:
    """Where the live answer differs in shape from the documented one (fields the docs show that the
    relay does not send, other types, other object/type/stop values). Fields the relay adds are not
    differences: documentation may leave optional fields out."""
    doc, got = _shape(documented), _shape(live)
    out = []
    for path, kind in doc.items():
        if path.endswith("="):
            if path in got and not (kind & got[path]):
                out.append(
                    f"the docs promise {path[:-1]} = {sorted(kind)[0]!r}, the relay sends {sorted(got[path])[0]!r}"
                )
            continue
        if path not in got:
            parent = path[:-2] if path.endswith("[]") else path.rsplit(".", 1)[0].removesuffix("[]")
            if parent in doc and parent not in got and parent != "$":
                continue  # reported at the parent
            out.append(f"the docs promise {path} ({kind}), the relay sends no such field")
        elif got[path] != kind and "null" not in (kind, got[path]):
            out.append(f"the docs promise {path} as {kind}, the relay sends {got[path]}")
        if len(out) >= limit:
            out.append("...")
            break
    return out
