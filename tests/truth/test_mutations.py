"""Every mutation operator, applied to official traffic, is caught with the code that names it."""

from __future__ import annotations

import importlib

import pytest

from harness.engine import evaluate_exchange
from tests.truth import corpus
from tests.truth.mutation import Mutation

pytestmark = pytest.mark.skipif(corpus.corpus_path() is None, reason=corpus.SKIP_REASON)

# Each dialect module lists its operators in MUTATIONS; a missing module is a failure, not a skip.
MODULES = [
    "tests.truth.mutations_chat",
    "tests.truth.mutations_messages",
    "tests.truth.mutations_responses",
    "tests.truth.mutations_shapes",
]
MAX_TARGETS = 40  # interactions each operator is applied to (enough to cover shapes, keeps CI fast)


def all_mutations() -> list[Mutation]:
    out: list[Mutation] = []
    for name in MODULES:
        out.extend(importlib.import_module(name).MUTATIONS)
    return out


def _caught(code: str, found: set[str]) -> bool:
    return any(f == code or (code.endswith(".") and f.startswith(code)) for f in found)


def test_at_least_25_operators() -> None:
    names = [m.name for m in all_mutations()]
    assert len(names) == len(set(names)), "duplicate operator names"
    assert len(names) >= 25, names


@pytest.mark.parametrize("mutation", all_mutations(), ids=lambda m: m.name)
def test_mutant_is_caught(mutation: Mutation) -> None:
    applied = 0
    missed = []
    for it in corpus.by_endpoint(mutation.endpoint, stream=mutation.stream):
        mutant = mutation.apply(it)
        if mutant is None:
            continue
        applied += 1
        ev = evaluate_exchange(
            mutant,
            mutation.endpoint,
            level="strict",
            stream_requested=mutation.stream,
            recorded=True,  # recorded traffic: judged against the API of its date
            recorded_on=it.recorded_on,
        )
        found = {v.code for v in ev.failing("strict")}
        if not _caught(mutation.code, found):
            missed.append(f"{it.id}: expected {mutation.code}, got {sorted(found) or 'nothing'}")
        if applied >= MAX_TARGETS:
            break
    assert applied, f"{mutation.name} applied to no corpus interaction"
    assert not missed, f"{len(missed)}/{applied} mutants missed:\n" + "\n".join(missed[:10])
