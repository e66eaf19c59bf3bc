"""``Dialect.usage`` reads the token counts the reports read (report/metrics.usage), on every
official answer of the corpus, so the reports can ask the dialect instead of naming formats."""

from __future__ import annotations

import pytest

from harness.dialects import registry
from harness.engine import evaluate_exchange
from harness.report.metrics import usage as report_usage
from tests.truth.corpus import SKIP_REASON, by_endpoint, corpus_path


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
