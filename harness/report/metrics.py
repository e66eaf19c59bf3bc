"""Per-item numbers for the reports: token usage read from the final object of each dialect,
and output tokens per second."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def usage(endpoint: str, final: Any) -> tuple[int | None, int | None]:
    """(input, output) tokens of a final object (a body or a folded stream); None where absent.

    The dialect reads its own usage vocabulary (``Dialect.usage``), so a new format needs no
    edit here; "input tokens" means the whole prompt in every dialect (Messages' cached prompt
    tokens added back, Gemini's thoughts counted as output as it bills them).
    """
    from harness.dialects import registry

    try:
        dialect = registry.get(endpoint)
    except KeyError:
        return None, None
    u = dialect.usage(final)
    if u is None:
        return None, None
    return _int(u.input_tokens), _int(u.output_tokens)


def generation_ms(latency_ms: float | None, ttft_ms: float | None, stream: bool) -> float | None:
    """Time spent producing output: for a stream the time after the first byte (the decode
    rate a user sees), for a single body the whole request (there is no earlier byte)."""
    if latency_ms is None:
        return None
    return latency_ms - (ttft_ms or 0) if stream else latency_ms


def tokens_per_second(output_tokens: int | None, gen_ms: float | None) -> float | None:
    if not output_tokens or gen_ms is None or gen_ms < 1:
        return None  # a burst in under a millisecond says nothing about speed
    return round(output_tokens / (gen_ms / 1000), 1)


def step_usage(steps: Iterable[tuple[str, Any]]) -> tuple[int | None, int | None]:
    """Summed usage over an item's steps ``(endpoint, final)``; None when no step reported any."""
    total_in: int | None = None
    total_out: int | None = None
    for endpoint, final in steps:
        i, o = usage(endpoint, final)
        if i is not None:
            total_in = (total_in or 0) + i
        if o is not None:
            total_out = (total_out or 0) + o
    return total_in, total_out
