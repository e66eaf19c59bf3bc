"""Schema checks shared by the dialects."""

from __future__ import annotations

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
