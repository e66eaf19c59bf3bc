"""Gemini's error shape: ``{"error": {"code": <HTTP status>, "message", "status": <google.rpc
canonical code name>, "details": [...]}}`` (API reference "Troubleshooting"; the truth set's
six official errors: 400 INVALID_ARGUMENT for a bad key, 404 NOT_FOUND for an unknown model,
served as application/json, or as text/event-stream when a stream was asked for)."""

from __future__ import annotations

import json
from typing import Any

from harness.dialects.gemini.body import schema_check, v
from harness.dialects.gemini.rules import gemini_rule
from harness.dialects.kit.errors import error_shape
from harness.dialects.kit.text import clip
from harness.model import Violation

# HTTP status -> the canonical status names google.rpc maps to it (google/rpc/code.proto).
STATUS_BY_HTTP: dict[int, frozenset[str]] = {
    400: frozenset({"INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"}),
    401: frozenset({"UNAUTHENTICATED"}),
    403: frozenset({"PERMISSION_DENIED"}),
    404: frozenset({"NOT_FOUND"}),
    409: frozenset({"ABORTED", "ALREADY_EXISTS"}),
    429: frozenset({"RESOURCE_EXHAUSTED"}),
    499: frozenset({"CANCELLED"}),
    500: frozenset({"INTERNAL", "UNKNOWN", "DATA_LOSS"}),
    501: frozenset({"UNIMPLEMENTED"}),
    503: frozenset({"UNAVAILABLE"}),
    504: frozenset({"DEADLINE_EXCEEDED"}),
}


def is_gemini_error(body: Any) -> bool:
    err = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(err, dict)
        and isinstance(err.get("code"), int)
        and isinstance(err.get("status"), str)
        and "type" not in body
        and "type" not in err
    )


@gemini_rule("gemini.error_code", "gemini.error_status")
def check_error_body(body: Any, status: int | None, path: str = "$") -> list[Violation]:
    if not is_gemini_error(body):
        return [
            Violation(
                "error.shape",
                path,
                f"{error_shape(body)}, not this dialect's (Gemini) error shape",
                expected='{"error":{"code","message","status"}}',
                actual=clip(json.dumps(body)),
            )
        ]
    out = schema_check("error", body, path, code="error.shape")
    err = body["error"]
    if status and err.get("code") != status:
        out.append(
            v(
                "gemini.error_code",
                f"{path}.error.code",
                f"error.code differs from HTTP {status}",
                expected=status,
                actual=err.get("code"),
            )
        )
    want = STATUS_BY_HTTP.get(status or 0)
    if want and err.get("status") not in want:
        out.append(
            v(
                "gemini.error_status",
                f"{path}.error.status",
                f"error.status does not belong to HTTP {status}",
                expected=sorted(want),
                actual=err.get("status"),
            )
        )
    return out
