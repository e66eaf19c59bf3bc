"""How a failing item reads: one AssertionError subclass with the case's YAML location, every
violation with its JSON path and expected vs actual, and a curl command that reproduces the
request with the key replaced by the environment variable that holds it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from harness.model import Violation, WireRequest
from harness.redact import SECRET_HEADERS, Redactor


class ConformanceFailure(AssertionError):
    """A relay answered in a way the official API would not."""

    def __init__(self, title: str, violations: Sequence[Violation], text: str) -> None:
        super().__init__(text)
        self.title = title
        self.violations = tuple(violations)


def curl_command(request: WireRequest, key_env: str, redactor: Redactor) -> str:
    parts = ["curl", "-sS", "-N", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers.items():
        if name.lower() in ("authorization",):
            value = f"Bearer ${key_env}" if value.lower().startswith("bearer") else f"${key_env}"
            parts += ["-H", f'"{name}: {value}"']
            continue
        if name.lower() in SECRET_HEADERS:
            parts += ["-H", f'"{name}: ${key_env}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body:
        parts += ["--data-raw", shlex.quote(redactor.wire(request.body.decode("utf-8", "replace")))]
    return " ".join(parts)


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def describe(violations: Sequence[Violation], redactor: Redactor) -> list[str]:
    lines = []
    for v in violations:
        tag = "" if v.severity == "error" else f" ({v.severity})"
        lines.append(f"  [{v.code}]{tag} at {v.path}: {redactor.text(v.message)}")
        if v.expected is not None:
            lines.append(f"      expected: {redactor.text(_fmt(v.expected))}")
        if v.actual is not None:
            lines.append(f"      actual:   {redactor.text(_fmt(v.actual))}")
    return lines
