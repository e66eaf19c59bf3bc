"""Fields the official APIs started to send at some date, and what that means for a verdict.

A recording made before a field existed cannot be blamed for lacking it: a chat.completion
recorded in mid-2024 has no ``message.refusal``; every later one has. Each answer is dated (its
own ``created`` / ``created_at``; else the recording time the file keeps) and a field is
required at strict only for answers made on or after its first date. Live answers are judged
against today's API (their own clock is not trusted: a relay could claim 1970).

Two kinds of entries:
- ``in_schema=True``: the strict schema already requires the field; a "required property"
  failure on an older answer is turned into a ``schema.predates`` note.
- ``in_schema=False``: the strict schema leaves the field optional (it cannot know dates); for a
  non-streamed 2xx body made on or after the date, a missing field is ``schema.since`` (strict).
  Only fields with enough evidence are required (``required=True``); the rest are listed so
  the evidence is kept, and never fail.

Evidence: corpus counts are from ``tests/truth/test_history.py``, which recounts them from the
shared corpus (official recordings of six public projects, see README) and fails when they drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from harness.model import Violation


@dataclass(frozen=True)
class FieldSince:
    dialect: str  # chat | messages | responses
    parent: str  # JSON path of the object holding the field, [] for every index
    field: str
    since: date  # the first day the official API is known to send it
    evidence: str
    in_schema: bool = False  # the strict schema requires it already
    required: bool = True  # for in_schema=False: required at strict after ``since``
    corpus: tuple[int, int] | None = None  # (answers from ``since`` on, all with it; earlier ones, none)

    @property
    def path(self) -> str:
        return f"{self.parent}.{self.field}" if self.parent != "$" else f"$.{self.field}"


def _seen(
    dialect: str, parent: str, field: str, since: date, after: int, before: int, required: bool = True
) -> FieldSince:
    """An entry measured on the corpus: ``after`` answers from ``since`` on, every one with the
    field; ``before`` earlier answers, none with it."""
    evidence = f"corpus, non-streamed 2xx bodies: {after} of {after} from {since} on carry it, 0 of {before} before"
    return FieldSince(dialect, parent, field, since, evidence, required=required, corpus=(after, before))


HISTORY: tuple[FieldSince, ...] = (
    FieldSince(
        "chat",
        "$.choices[].message",
        "refusal",
        date(2024, 8, 6),
        "OpenAI changelog 2024-08-06 (Structured Outputs added message.refusal; openai-python 1.40.0); "
        "corpus: 293 of 293 chat.completion bodies (2024-12-27..2026-08-05) carry it",
        in_schema=True,
    ),
    _seen("chat", "$", "service_tier", date(2025, 1, 22), 290, 3),
    _seen("chat", "$.choices[].message", "annotations", date(2025, 3, 10), 287, 6),
    _seen("responses", "$", "background", date(2025, 6, 10), 284, 17),
    _seen("responses", "$", "service_tier", date(2025, 6, 10), 284, 17),
    _seen("responses", "$", "max_tool_calls", date(2025, 9, 10), 272, 29),
    _seen("responses", "$", "prompt_cache_key", date(2025, 9, 10), 272, 29),
    _seen("responses", "$", "safety_identifier", date(2025, 9, 10), 272, 29),
    _seen("responses", "$", "top_logprobs", date(2025, 9, 10), 272, 29),
    _seen("responses", "$.text", "verbosity", date(2025, 9, 10), 272, 29),
    _seen("responses", "$", "billing", date(2025, 9, 18), 263, 38),
    _seen("responses", "$", "prompt_cache_retention", date(2025, 11, 12), 229, 72),
    _seen("responses", "$", "completed_at", date(2026, 1, 15), 215, 86),
    _seen("responses", "$", "frequency_penalty", date(2026, 1, 15), 215, 86),
    _seen("responses", "$", "presence_penalty", date(2026, 1, 15), 215, 86),
    # On every answer since the date, but on too few answers (or models) to require yet.
    _seen("responses", "$", "moderation", date(2026, 4, 29), 98, 203, required=False),
    _seen("responses", "$.reasoning", "context", date(2026, 6, 9), 32, 269, required=False),
    _seen("responses", "$", "tool_usage", date(2026, 7, 10), 27, 274, required=False),
    # Not in this table but dated the same way, in the dialect: Responses stream events carry
    # sequence_number from May 2025 on (harness/dialects/responses/stream.py SEQUENCE_NUMBER_SINCE).
)

_MAIN_OBJECT = frozenset({"chat.completion", "response"})  # the bodies the table was measured on
_REQUIRED = re.compile(r"""^["']([^"']+)["'] is a required property""")
_INDEX = re.compile(r"\[\d+\]")


def answer_date(final: Any, recorded_on: date | None = None) -> date | None:
    """When an answer was made: its own ``created`` (chat) / ``created_at`` (responses, also
    inside a stream's ``response``), else the recording time the file keeps, else unknown."""
    if isinstance(final, dict):
        for key in ("created", "created_at"):
            value = final.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e11:
                return datetime.fromtimestamp(value, tz=UTC).date()
        inner = final.get("response")
        if isinstance(inner, dict):
            return answer_date(inner, recorded_on)
    return recorded_on


def adjust(
    violations: Iterable[Violation],
    endpoint: str,
    final: Any,
    *,
    live: bool,
    answered_on: date | None,
    body: bool,
) -> list[Violation]:
    """The violations with the history applied. A live answer is judged against today's API
    (every required field of the table); a recorded one against the API of its date, and an
    undated recording is never blamed for a field of the table it lacks. ``body`` says whether
    ``final`` is a non-streamed 2xx body (the ``in_schema=False`` entries are measured on those)."""
    if live:
        answered_on = None
    entries = [e for e in HISTORY if e.dialect == endpoint]
    if not entries:
        return list(violations)
    out: list[Violation] = []
    for v in violations:
        entry = _predated(v, entries, answered_on) if answered_on is not None else None
        if entry is None:
            out.append(v)
            continue
        out.append(
            Violation(
                "schema.predates",
                v.path,
                f"{entry.field!r} missing: the official API sends it since {entry.since.isoformat()} and this "
                f"answer is from {answered_on.isoformat()} (not required)",
                severity="note",
            )
        )
    kind = final.get("object") if isinstance(final, dict) else None
    main_object = isinstance(kind, str) and kind in _MAIN_OBJECT
    if body and main_object and (live or answered_on is not None):
        out.extend(_missing_since(entries, final, answered_on))
    return out


def _predated(v: Violation, entries: list[FieldSince], answered_on: date) -> FieldSince | None:
    if v.code != "schema" or v.severity != "strict":
        return None
    m = _REQUIRED.match(v.message)
    if m is None:
        return None
    parent = _INDEX.sub("[]", v.path)
    for e in entries:
        if e.in_schema and e.field == m.group(1) and e.parent == parent and answered_on < e.since:
            return e
    return None


def _missing_since(entries: list[FieldSince], final: dict[str, Any], answered_on: date | None) -> list[Violation]:
    out: list[Violation] = []
    for e in entries:
        if e.in_schema or not e.required:
            continue
        if answered_on is not None and answered_on < e.since:
            continue
        for path, holder in _holders(final, e.parent):
            if isinstance(holder, dict) and e.field not in holder:
                when = f"answer from {answered_on.isoformat()}" if answered_on else "live answer (today's API)"
                out.append(
                    Violation(
                        "schema.since",
                        path,
                        f"{e.field!r} missing: the official API sends it on every answer since "
                        f"{e.since.isoformat()} ({when})",
                        expected=e.field,
                        severity="strict",
                    )
                )
    return out


def _holders(obj: Any, parent: str) -> list[tuple[str, Any]]:
    """The objects at ``parent`` ("$.choices[].message"), with their concrete paths."""
    found: list[tuple[str, Any]] = [("$", obj)]
    for part in parent.split(".")[1:]:
        name, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        nxt: list[tuple[str, Any]] = []
        for path, value in found:
            if not isinstance(value, dict) or name not in value:
                continue
            child = value[name]
            if each:
                if isinstance(child, list):
                    nxt += [(f"{path}.{name}[{i}]", c) for i, c in enumerate(child)]
            else:
                nxt.append((f"{path}.{name}", child))
        found = nxt
    return found
