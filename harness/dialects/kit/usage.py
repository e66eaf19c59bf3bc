"""Usage arithmetic the official APIs always keep, in one place for every dialect: a total is
the sum of its parts, a detail count stays within the count it details. Each dialect says which
of its fields are parts and details; the checks and their wording are shared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.dialects.base import Usage
from harness.model import Violation


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def count(value: Any) -> int | None:
    """A token count as reported, or None when absent or not an integer (the schema names that)."""
    return value if _count(value) else None


def openai_usage(final: Any, input_key: str, output_key: str, details_key: str) -> Usage | None:
    """Usage in OpenAI's shape (chat: prompt/completion_tokens, Responses: input/output_tokens),
    cached tokens under ``<details_key>.cached_tokens``."""
    usage = final.get("usage") if isinstance(final, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    details = usage.get(details_key)
    return Usage(
        count(usage.get(input_key)),
        count(usage.get(output_key)),
        count(details.get("cached_tokens")) if isinstance(details, Mapping) else None,
        count(usage.get("total_tokens")),
    )


def total_is_sum(usage: Mapping[str, Any], total_key: str, parts: Sequence[str], path: str) -> list[Violation]:
    """``usage[total_key] == sum(usage[p] for p in parts)`` when all are counts."""
    values = [usage.get(k) for k in parts]
    total = usage.get(total_key)
    if not all(_count(v) for v in (*values, total)):
        return []  # a missing or mistyped count is the schema's finding
    expected = sum(values)
    if total == expected:
        return []
    return [
        Violation(
            "usage",
            f"{path}.{total_key}",
            f"{total_key} is not {' + '.join(parts)}",
            expected=expected,
            actual=total,
        )
    ]


def within(usage: Mapping[str, Any], detail: tuple[str, str], bound_key: str, path: str) -> list[Violation]:
    """``usage[parent][key] <= usage[bound_key]``: a detail count cannot exceed what it details."""
    parent, key = detail
    details = usage.get(parent)
    value = details.get(key) if isinstance(details, Mapping) else None
    bound = usage.get(bound_key)
    if not (_count(value) and _count(bound)) or value <= bound:
        return []
    return [
        Violation(
            "usage",
            f"{path}.{parent}.{key}",
            f"{key} exceeds {bound_key}",
            expected=f"<= {bound}",
            actual=value,
        )
    ]


def non_negative(usage: Mapping[str, Any], keys: Sequence[str], path: str) -> list[Violation]:
    counts = [usage.get(k) for k in keys]
    if any(_count(c) and c < 0 for c in counts):
        return [Violation("usage", path, "negative token count", actual=counts)]
    return []
