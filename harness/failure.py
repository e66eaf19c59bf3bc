"""How a failing item reads: one AssertionError subclass with the case's YAML location, every
violation with its JSON path and expected vs actual, and a curl command that reproduces the
request with the key replaced by the environment variable that holds it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from harness.model import Violation, WireRequest
from harness.redact import PUBLIC_KEY_PREFIX, SECRET_HEADERS, Redactor


class ConformanceFailure(AssertionError):
    """A relay answered in a way the official API would not."""

    def __init__(self, title: str, violations: Sequence[Violation], text: str) -> None:
        super().__init__(text)
        self.title = title
        self.violations = tuple(violations)


def curl_command(request: WireRequest, key_env: str, redactor: Redactor) -> str:
    """The request as it was sent. Only the gateway's real key (a secret the redactor knows, or a
    value shaped like a key) becomes ``$KEY_ENV``; a case's deliberately wrong key is shown as
    sent, and a case that sent no auth header shows none, so the command fails the same way."""
    parts = ["curl", "-sS", "-N", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers.items():
        if name.lower() in SECRET_HEADERS:
            shown = _key_as_env(value, key_env, redactor)
            if shown is not None:
                parts += ["-H", f'"{name}: {shown}"']
                continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body:
        parts += ["--data-raw", shlex.quote(redactor.wire(request.body.decode("utf-8", "replace")))]
    return " ".join(parts)


def _key_as_env(value: str, key_env: str, redactor: Redactor) -> str | None:
    """``value`` with the secret in it replaced by ``$key_env``, or None when it holds none."""
    for secret in redactor.secrets:
        if secret in value:
            return value.replace(secret, f"${key_env}").replace('"', '\\"')
    if PUBLIC_KEY_PREFIX in value:
        return None  # a case's wrong key, shown as sent
    if redactor.text(value) != value:  # key-shaped, although nobody named it: never print it
        scheme = value.split(" ", 1)[0] + " " if value.lower().startswith("bearer ") else ""
        return f"{scheme}${key_env}"
    return None


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def describe(violations: Sequence[Violation], redactor: Redactor) -> list[str]:
    """One entry per rule and path shape (harness.grouping): a fault repeated on every event is
    one line with its count and event range; expected/actual are the first occurrence's."""
    from harness.grouping import group

    lines = []
    for g in group(violations):
        v = g.first
        tag = "" if v.severity == "error" else f" ({v.severity})"
        lines.append(f"  [{v.code}]{tag} at {g.where}: {redactor.text(v.message)}{g.suffix()}")
        if v.expected is not None:
            lines.append(f"      expected: {redactor.text(_fmt(v.expected))}")
        if v.actual is not None:
            lines.append(f"      actual:   {redactor.text(_fmt(v.actual))}")
    return lines
