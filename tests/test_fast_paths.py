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


# -- the delta fast paths of the Messages and Responses grammars (FAST_PATHS in each module) ----
_DELTA_TYPES = {
    "messages": frozenset({"content_block_delta"}),
    "responses": frozenset(
        {"response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta"}
    ),
}
_ODD = [None, "x", "", 7, -1, 1.0, 0.0, True, False, [], {}, 2**70, float("nan")]


def _mutate_delta(rng: random.Random, data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """One delta event as a sloppy relay might send it: a field dropped or retyped, the index or
    sequence moved, a field added at the top or inside the delta, or the event: line changed
    (returned as the second value; None keeps it)."""
    inner = data.get("delta") if isinstance(data.get("delta"), dict) else None
    roll = rng.randrange(9)
    targets = [data] + ([inner] if inner is not None and rng.random() < 0.5 else [])
    target = rng.choice(targets)
    key = rng.choice(list(target)) if target else "type"
    if roll == 0:
        target.pop(key, None)
    elif roll == 1:
        target[key] = rng.choice(_ODD)
    elif roll == 2:
        target["unexpected_field"] = 1  # a schema.extra note, at the level it was added
    elif roll == 3:
        for k in ("index", "output_index", "content_index", "sequence_number"):
            if isinstance(data.get(k), int):
                data[k] += rng.choice([-1, 1, 5])
    elif roll == 4:
        if inner is not None:  # a delta type the open block may not take
            inner["type"] = rng.choice(["text_delta", "thinking_delta", "input_json_delta", "signature_delta"])
        else:
            data["type"] = rng.choice(sorted(_DELTA_TYPES["responses"]))
    elif roll == 5:
        return data, rng.choice(["message", "ping", "content_block_start", "response.output_text.done"])
    elif roll == 6:
        data["item_id"] = "msg_someone_else"
    elif roll == 7:
        data["type"] = rng.choice([5, None, [], {"a": 1}])  # unhashable ones too
    else:
        for k in ("index", "output_index", "content_index", "sequence_number"):
            if k in data:
                data[k] = float(data[k]) if isinstance(data[k], int) else data[k]
    return data, ""


def _delta_mutated(it: Any, rng: random.Random) -> bytes:
    events, _ = _incremental(it.exchange.body)
    out = []
    for ev in events:
        head = f"event: {ev.event}\n" if ev.event is not None else ""
        data_text = ev.data
        try:
            data = json.loads(ev.data)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("type") in _DELTA_TYPES[it.endpoint] and rng.random() < 0.2:
            data, name = _mutate_delta(rng, data)
            data_text = json.dumps(data)
            if name:
                head = f"event: {name}\n"
        out.append(f"{head}data: {data_text}\n\n")
    return "".join(out).encode("utf-8", "surrogatepass")


def _delta_verdict(ex: Any, endpoint: str) -> list[tuple[Any, ...]]:
    """_verdict, with the engine's safety net (a check that raised) named as such."""
    ev = evaluate_exchange(ex, endpoint, stream_requested=True)
    net = [("safety net", v.message, "") for v in ev.violations if "could not check" in v.message]
    return sorted((v.code, v.path, v.severity) for v in ev.violations) + net


def test_delta_fast_paths_give_the_same_violations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each dialect's delta fast path against its full path, on official streams whose delta
    events were mutated (wrong types, missing fields, wrong index or sequence, extra fields at
    the top and inside the delta, another event: line, another item id): the same violations,
    and the unknown fields still named as schema.extra notes at the level they were added."""
    from harness.dialects.messages import stream as messages_stream
    from harness.dialects.responses import stream as responses_stream

    modules = {"messages": messages_stream, "responses": responses_stream}
    rng = random.Random(4242)
    cases = []
    for endpoint in ("messages", "responses"):
        for it in corpus.by_endpoint(endpoint, stream=True)[:40]:
            for _ in range(4):
                cases.append((endpoint, replace(it.exchange, chunks=(Chunk(0.0, _delta_mutated(it, rng)),))))
    hits = {"messages": 0, "responses": 0}
    for endpoint, module in modules.items():
        real = module._fast_delta

        def counted(*args: Any, real: Any = real, endpoint: str = endpoint) -> bool:
            taken = real(*args)
            hits[endpoint] += taken
            return taken

        monkeypatch.setattr(module, "_fast_delta", counted)
    fast = [_delta_verdict(ex, endpoint) for endpoint, ex in cases]
    for module in modules.values():
        monkeypatch.setattr(module, "FAST_PATHS", False)
    slow = [_delta_verdict(ex, endpoint) for endpoint, ex in cases]
    for (endpoint, ex), f, s in zip(cases, fast, slow, strict=True):
        assert f == s, (endpoint, ex.body[:300])
    assert hits["messages"] > 1000 and hits["responses"] > 1000, hits  # the fast paths did run
    flat = [v for f in fast for v in f]
    assert not any(code in ("crash", "safety net") for code, _, _ in flat)
    extra = {path.rsplit(".", 2)[-2] for code, path, _ in flat if code == "schema.extra"}
    assert {"data", "delta"} <= extra, extra  # top-level and delta-level extras both named
    codes = {code for code, _, _ in flat}
    for code in (
        "schema",
        "sse.event_name",
        "grammar.messages.delta_type",
        "grammar.messages.delta_without_start",
        "grammar.responses.sequence_number",
        "grammar.responses.item_id",
    ):
        assert code in codes, code
