"""Schema checks shared by the dialects."""

from __future__ import annotations

import re
from typing import Any

from harness import validation
from harness.model import Severity, Violation


def schema_violations(
    schema_id: str, instance: Any, path: str = "$", severity: Severity = "error", code: str = "schema"
) -> list[Violation]:
    """Violations of ``instance`` against ``schemas/<schema_id>.json``; ``path`` prefixes the
    JSON path inside the instance (e.g. ``events[3].data``)."""
    errors = validation.validate(schema_id, instance)
    out = []
    for err in errors:
        sub = err.path[1:] if err.path.startswith("$") else err.path
        out.append(Violation(code, f"{path}{sub}", f"{err.message} (schema {schema_id})", severity=severity))
    return out


_EXTRA = re.compile(r"^Additional properties are not allowed \((.*) (?:was|were) unexpected\)$")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def leveled(
    prefix: str, kind: str, instance: Any, path: str = "$", code: str = "schema", notes_beside_errors: bool = True
) -> list[Violation]:
    """``instance`` against ``<prefix>/strict/<kind>`` and, only when that fails,
    ``<prefix>/compatible/<kind>``: one ``is_valid`` settles the common (valid) case, because
    every dialect's strict schema is a tightening of its compatible one.

    Compatible failures are ``code`` errors; strict-only failures are ``code`` with severity
    ``strict``; strict's closed objects (``additionalProperties: false``) turn unknown fields into
    one ``schema.extra`` note per field. ``notes_beside_errors`` False: an instance that already
    breaks the compatible schema gets only those errors (the strict ones would repeat them).
    """
    strict_id = f"{prefix}/strict/{kind}"
    if validation.is_valid(strict_id, instance):
        return []
    compatible_id = f"{prefix}/compatible/{kind}"
    out: list[Violation] = []
    broken: set[str] = set()
    for err in validation.validate(compatible_id, instance):
        where = _join(path, err.path)
        broken.add(where)
        out.append(Violation(code, where, f"{err.message} (schema {compatible_id})"))
    if out and not notes_beside_errors:
        return out
    for err in validation.validate(strict_id, instance):
        where = _join(path, err.path)
        extra = _EXTRA.match(err.message)
        if extra is not None:
            for name in _QUOTED.findall(extra.group(1)):
                out.append(
                    Violation(
                        "schema.extra",
                        f"{where}.{name}",
                        f"field {name!r} is not sent by the official API",
                        severity="note",
                    )
                )
        elif where not in broken:
            out.append(Violation(code, where, f"{err.message} (schema {strict_id})", severity="strict"))
    return out


def _join(path: str, sub: str) -> str:
    return path + (sub[1:] if sub.startswith("$") else sub)
