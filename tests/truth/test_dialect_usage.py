"""``Dialect.usage`` (which report/metrics.usage now asks) gives, on every official answer of the
corpus, the counts the reports read before they asked the dialect: the per-format arithmetic kept
here as the reference."""

from __future__ import annotations

from typing import Any

import pytest

from harness.dialects import registry
from harness.engine import evaluate_exchange
from tests.truth.corpus import SKIP_REASON, by_endpoint, corpus_path


def report_usage(endpoint: str, final: Any) -> tuple[int | None, int | None]:
    """The reports' arithmetic before issue 12 (per format), the reference for Dialect.usage."""

    def n(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    u = final.get("usage") if isinstance(final, dict) else None
    if not isinstance(u, dict):
        return None, None
    if endpoint == "chat":
        return n(u.get("prompt_tokens")), n(u.get("completion_tokens"))
    if endpoint == "messages":
        base = n(u.get("input_tokens"))
        cached = [n(u.get(k)) or 0 for k in ("cache_creation_input_tokens", "cache_read_input_tokens")]
        return (base + sum(cached) if base is not None else None), n(u.get("output_tokens"))
    return n(u.get("input_tokens")), n(u.get("output_tokens"))


@pytest.mark.skipif(corpus_path() is None, reason=SKIP_REASON)
@pytest.mark.parametrize("endpoint", ["chat", "messages", "responses"])
def test_dialect_usage_matches_the_reports(endpoint: str) -> None:
    dialect = registry.get(endpoint)
    compared = 0
    for it in by_endpoint(endpoint):
        final = evaluate_exchange(it.exchange, endpoint, recorded=True).final
        if final is None:
            continue
        u = dialect.usage(final)
        got = (u.input_tokens, u.output_tokens) if u is not None else (None, None)
        assert got == report_usage(endpoint, final), it.id
        compared += u is not None
    assert compared > 50
