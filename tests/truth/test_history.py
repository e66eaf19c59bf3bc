"""The evidence of harness/history.py, recounted from the corpus: for each field measured there,
every answer from its date on carries it, none before, in the stated numbers."""

from __future__ import annotations

import json

import pytest

from harness import history
from tests.truth import corpus

pytestmark = pytest.mark.skipif(corpus.corpus_path() is None, reason=corpus.SKIP_REASON)


def _bodies(endpoint: str) -> list[dict]:
    out = []
    for it in corpus.by_endpoint(endpoint, stream=False):
        if it.exchange.status != 200:
            continue
        try:
            body = json.loads(it.exchange.body)
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("object") in ("chat.completion", "response"):
            out.append(body)
    return out


@pytest.mark.parametrize("entry", [e for e in history.HISTORY if e.corpus], ids=lambda e: f"{e.dialect}:{e.path}")
def test_corpus_counts_match_the_table(entry: history.FieldSince) -> None:
    after = before = with_after = with_before = 0
    for body in _bodies(entry.dialect):
        day = history.answer_date(body)
        assert day is not None
        holders = history._holders(body, entry.parent)
        if not holders:
            continue
        has = all(isinstance(h, dict) and entry.field in h for _, h in holders)
        if day >= entry.since:
            after += 1
            with_after += has
        else:
            before += 1
            with_before += has
    assert (with_after, after, with_before, before) == (entry.corpus[0], entry.corpus[0], 0, entry.corpus[1])


def test_refusal_is_on_every_chat_completion_of_the_corpus() -> None:
    bodies = _bodies("chat")
    assert len(bodies) == 293
    assert all("refusal" in c["message"] for b in bodies for c in b["choices"])
    days = sorted(history.answer_date(b) for b in bodies)
    assert (str(days[0]), str(days[-1])) == ("2024-12-27", "2026-08-05")
