"""The fast paths of the stream checks (sse.parse's one pass, orjson through harness.fastjson,
jsonschema-rs) against the slow ones (the incremental SSE parser, json.loads, python-jsonschema)
on mutated official streams: the same violations, so a fast path never hides one."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from harness import fastjson, sse, validation
from harness.engine import evaluate_exchange
from harness.model import Chunk
from tests.truth import corpus

pytestmark = pytest.mark.skipif(corpus.corpus_path() is None, reason=corpus.SKIP_REASON)


def _incremental(body: bytes | str) -> tuple[list[sse.SSEEvent], sse.SSEParser]:
    parser = sse.SSEParser()
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return parser.feed(raw) + parser.close(), parser


@contextmanager
def _slow_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The incremental SSE parser and json.loads; schemas stay with jsonschema-rs, which was the
    production path before these fast paths too (the libraries are compared in the next test)."""
    with monkeypatch.context() as m:
        m.setattr(sse, "parse", _incremental)
        m.setattr(fastjson, "loads", json.loads)
        yield


# What a sloppy relay does to one event's payload: drop a field, change its type, add one, send
# an integer past 64 bits, NaN, a lone surrogate, or cut the JSON.
def _mutate(rng: random.Random, data: Any) -> str:
    if isinstance(data, dict) and data:
        target = data
        nested = [v for v in data.values() if isinstance(v, dict) and v]
        if nested and rng.random() < 0.5:
            target = rng.choice(nested)
        key = rng.choice(list(target))
        roll = rng.randrange(9)
        if roll == 0:
            del target[key]
        elif roll == 1:
            target[key] = rng.choice([None, "x", 7, 1.5, True, [], {}])
        elif roll == 2:
            target["unexpected_field"] = 1
        elif roll == 3:
            target[key] = 2**70
        elif roll == 4:
            target[key] = float("nan")
        elif roll == 5:
            target[key] = "\ud800"
        elif roll == 6:
            target["type"] = rng.choice(["response.brand_new", "content_block_delta", 5])
        elif roll == 7:
            return json.dumps(data)[: rng.randrange(1, 40)]
        else:
            target[key] = -(2**63) - 1
    return json.dumps(data, ensure_ascii=rng.random() < 0.5)


def _mutated(it: Any, rng: random.Random) -> bytes:
    events, _ = _incremental(it.exchange.body)  # not the path under test
    out = []
    for ev in events:
        data = ev.data
        if rng.random() < 0.15 and data != "[DONE]":
            try:
                data = _mutate(rng, json.loads(data))
            except ValueError:
                pass
        head = f"event: {ev.event}\n" if ev.event is not None else ""
        out.append(f"{head}data: {data}\n\n")
    return "".join(out).encode("utf-8", "surrogatepass")


def _verdict(ex: Any, endpoint: str) -> list[tuple[Any, ...]]:
    try:
        ev = evaluate_exchange(ex, endpoint, stream_requested=True)
    except Exception as exc:  # a grammar that trips over a mutation trips on both paths alike
        return [("crash", type(exc).__name__, "")]
    return sorted((v.code, v.path, v.severity) for v in ev.violations)


def _streams(per_endpoint: int) -> list[Any]:
    picked: list[Any] = []
    for endpoint in ("chat", "messages", "responses"):
        picked += corpus.by_endpoint(endpoint, stream=True)[:per_endpoint]
    return picked


def test_fast_and_slow_paths_give_the_same_violations(monkeypatch: pytest.MonkeyPatch) -> None:
    if not fastjson.FAST:
        pytest.skip("orjson not installed: there is only the slow path")
    rng = random.Random(1717)
    cases = []
    for it in _streams(25):
        for _ in range(6):
            cases.append((it.endpoint, replace(it.exchange, chunks=(Chunk(0.0, _mutated(it, rng)),))))
    fast = [_verdict(ex, endpoint) for endpoint, ex in cases]
    with _slow_paths(monkeypatch):
        slow = [_verdict(ex, endpoint) for endpoint, ex in cases]
    assert sum(1 for f in fast if any(code.startswith(("schema", "sse.json")) for code, _, _ in f)) > 50
    for (endpoint, ex), f, s in zip(cases, fast, slow, strict=True):
        assert f == s, (endpoint, ex.body[:300])


def test_each_event_schema_gives_the_same_verdict_in_both_libraries() -> None:
    """The validation seam (jsonschema-rs) and python-jsonschema agree on every official event and its
    mutations."""
    if validation.backend() != "rs":
        pytest.skip("jsonschema-rs not installed")
    rng = random.Random(17)
    schema_for = {
        "chat": lambda d: "chat/strict/chunk",
        "messages": lambda d: f"messages/strict/event_{d.get('type')}",
        "responses": lambda d: f"responses/strict/events/{d.get('type')}",
    }
    checked = invalid = 0
    for it in _streams(12):
        for ev in sse.parse(it.exchange.body)[0]:
            try:
                data = json.loads(ev.data)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            for instance in (data, _reloaded(_mutate(rng, json.loads(ev.data)))):
                sid = schema_for[it.endpoint](instance) if isinstance(instance, dict) else None
                if sid is None or not (validation.SCHEMA_DIR / f"{sid}.json").is_file():
                    continue
                rs = validation.is_valid(sid, instance)  # jsonschema-rs, python-jsonschema on a lone surrogate
                py = validation._compiled_by(sid, "python").is_valid(instance)
                if _non_finite(instance):
                    # Known difference: NaN (not JSON, but json.loads takes it) is null to jsonschema-rs
                    # and a number to python-jsonschema. Production validates with jsonschema-rs.
                    continue
                assert rs == py, (sid, instance)
                checked += 1
                invalid += not py
    assert checked > 300 and invalid > 30, (checked, invalid)


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return False


def _reloaded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
