"""Zero false alarms: every official interaction passes every applicable check in strict mode."""

from __future__ import annotations

import pytest

from harness.engine import evaluate_exchange
from tests.truth import corpus

pytestmark = pytest.mark.skipif(corpus.corpus_path() is None, reason=corpus.SKIP_REASON)


@pytest.mark.parametrize("endpoint", ["chat", "messages", "responses"])
@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
def test_official_traffic_passes_strict(endpoint: str, stream: bool) -> None:
    items = corpus.by_endpoint(endpoint, stream=stream)
    assert items, f"no {endpoint} interactions in the corpus"
    alarms = []
    for it in items:
        ev = evaluate_exchange(
            it.exchange, endpoint, level="strict", stream_requested=stream, recorded=True, recorded_on=it.recorded_on
        )
        for v in ev.failing("strict"):
            alarms.append(f"{it.id}: {v.code} at {v.path}: {v.message}")
    assert not alarms, f"{len(alarms)} false alarms, first 20:\n" + "\n".join(alarms[:20])
