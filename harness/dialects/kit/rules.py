"""Rules: each violation code a dialect emits is declared once, with its severity and title.

``@rule(code, severity, title)`` on the function that emits the code registers it; the code table
(``relaycheck codes``, the README table, docs/codes.md) is generated from core codes plus these,
and tests/test_rule_codes.py fails on a literal code in a dialect's ``Violation(...)`` that no
rule declares, so a mistyped code cannot ship.

The severity is the most a finding of this code fails: ``error`` (a check may still lower a
finding to ``strict`` or ``note``), ``strict`` (the SDKs cope: an ``error`` finding is lowered to
``strict`` by ``apply``), ``note`` (never fails). A dialect may also lower a cross-format code on
its own answers (``declare_grade``), e.g. trailing bytes after a Messages stream's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from harness.model import Severity, Violation

F = TypeVar("F", bound=Callable[..., Any])
_RANK = {"note": 0, "strict": 1, "error": 2}


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    owner: str  # the module that declared it, e.g. "harness.dialects.chat.stream"


_RULES: dict[str, Rule] = {}
# dialect name -> code -> the severity that code is capped at on that dialect's answers
_GRADES: dict[str, dict[str, Severity]] = {}


def declare(code: str, severity: Severity, title: str, owner: str) -> Rule:
    """Register ``code``; declaring it again with another severity or title is an error (two
    rules must not share a code)."""
    new = Rule(code, severity, title, owner)
    old = _RULES.get(code)
    if old is not None and (old.severity, old.title) != (severity, title):
        raise ValueError(f"rule {code!r} declared twice with different meaning ({old.owner}, {owner})")
    _RULES.setdefault(code, new)
    return _RULES[code]


def rule(code: str, severity: Severity, title: str) -> Callable[[F], F]:
    """Declare that the decorated function emits ``code``."""

    def decorate(fn: F) -> F:
        declare(code, severity, title, fn.__module__)
        fn.__dict__.setdefault("rule_codes", ())
        fn.__dict__["rule_codes"] += (code,)
        return fn

    return decorate


def owned_by(package: str) -> dict[str, str]:
    """code -> title of the rules a package (e.g. "harness.dialects.chat") declares."""
    return {c: r.title for c, r in sorted(_RULES.items()) if r.owner == package or r.owner.startswith(package + ".")}


def declare_grade(dialect: str, code: str, severity: Severity) -> None:
    """Cap a (cross-format) code at ``severity`` on this dialect's answers."""
    _GRADES.setdefault(dialect, {})[code] = severity


def registered() -> dict[str, Rule]:
    return dict(_RULES)


def grades(dialect: str) -> dict[str, Severity]:
    return dict(_GRADES.get(dialect, {}))


def apply(violations: Iterable[Violation], dialect: str) -> list[Violation]:
    """Findings at most as severe as their rule (and the dialect's grade for a shared code)."""
    caps = _GRADES.get(dialect, {})
    out = []
    for v in violations:
        r = _RULES.get(v.code)
        cap = caps.get(v.code) or (r.severity if r is not None else None)
        if cap is not None and _RANK.get(v.severity, 2) > _RANK[cap]:
            v = replace(v, severity=cap)
        out.append(v)
    return out
