"""Validation speed: parse and check every official stream of the shared corpus, on one core.

Prints, measured side by side in one run (repeats interleaved, best of each):
- relaycheck's whole stream pipeline (SSE parse, JSON decode, per-event schema through the
  validation seam, stream grammar, fold, final-object checks), in events per second;
- the same pipeline on the slow paths (the incremental SSE parser, the standard library's
  json.loads, the dialects' delta fast paths off, python-jsonschema instead of jsonschema-rs),
  the code as it was before issue 17;
- the floors: SSE parsing alone, JSON decoding alone, jsonschema-rs alone, and plain
  python-jsonschema on the same events (the first baseline, ~9,600 validations/s).

Speeds are events per CPU second of this thread (``time.thread_time``), so other work on a shared
machine changes them far less than wall time would; wall-time figures are printed beside them.
Target: >= 200,000 events/s on one core.

Usage: python benchmarks/bench_validation.py [--repeat N] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import fastjson, sse, validation  # noqa: E402
from harness.cassettes import load_jsonl  # noqa: E402
from harness.dialects.messages import stream as messages_stream  # noqa: E402
from harness.dialects.responses import stream as responses_stream  # noqa: E402
from harness.engine import evaluate_exchange  # noqa: E402

DELTA_FAST = (messages_stream, responses_stream)  # modules with a delta fast path (FAST_PATHS)

SCHEMA_FOR = {  # event -> schema id of the strict level, for the schema-only floors
    "chat": lambda data: "chat/strict/chunk",
    "messages": lambda data: f"messages/strict/event_{data.get('type')}",
    "responses": lambda data: f"responses/strict/events/{data.get('type')}",
}
TARGET = 200_000


def _incremental(body: bytes | str) -> tuple[list[sse.SSEEvent], sse.SSEParser]:
    parser = sse.SSEParser()
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return parser.feed(raw) + parser.close(), parser


@contextmanager
def slow_paths(python_schemas: bool = False) -> Iterator[None]:
    """The incremental SSE parser, json.loads (and python-jsonschema) in place of the fast paths,
    and the dialects' delta fast paths off."""
    parse, loads = sse.parse, fastjson.loads
    sse.parse, fastjson.loads = _incremental, json.loads
    for module in DELTA_FAST:
        module.FAST_PATHS = False
    previous = validation.use_backend("python") if python_schemas else None
    try:
        yield
    finally:
        sse.parse, fastjson.loads = parse, loads
        for module in DELTA_FAST:
            module.FAST_PATHS = True
        if previous is not None:
            validation.use_backend(previous)


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this thread, wall seconds) of one call."""
    c0, w0 = time.thread_time(), time.perf_counter()
    fn()
    return time.thread_time() - c0, time.perf_counter() - w0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "interactions.jsonl")
    args = ap.parse_args()
    if not args.corpus.is_file():
        print(f"corpus not found at {args.corpus}; pass --corpus", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target says
    streams = [it for it in load_jsonl(args.corpus) if it.endpoint and it.exchange.is_sse]
    bodies = [it.exchange.body for it in streams]
    n_events = sum(len(sse.parse(b)[0]) for b in bodies)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{len(streams)} official streams, {n_events} events, best of {args.repeat}, 1 core; "
        f"jsonschema-rs: {validation.backend() == 'rs'}, orjson: {fastjson.FAST}; load average {load:.1f}"
    )

    def pipeline() -> None:
        for it in streams:
            evaluate_exchange(it.exchange, it.endpoint, stream_requested=True)

    def pipeline_before() -> None:
        with slow_paths():
            pipeline()

    def pipeline_python() -> None:
        with slow_paths(python_schemas=True):
            pipeline()

    payloads, datas = [], []
    for it in streams:
        for ev in sse.parse(it.exchange.body)[0]:
            datas.append(ev.data)
            try:
                data = json.loads(ev.data)
            except ValueError:
                continue
            sid = SCHEMA_FOR[it.endpoint](data)
            if (validation.SCHEMA_DIR / f"{sid}.json").is_file():
                payloads.append((sid, data))
    rs = {sid: validation._compiled_by(sid, "rs") for sid, _ in payloads} if validation.backend() == "rs" else {}
    py = {sid: validation._compiled_by(sid, "python") for sid, _ in payloads}

    def decode(loads: Callable[[str], object]) -> Callable[[], None]:
        def run() -> None:
            for d in datas:
                try:
                    loads(d)
                except ValueError:
                    pass

        return run

    rows: list[tuple[str, Callable[[], object], int]] = [
        ("relaycheck pipeline (parse + schema + grammar + fold)", pipeline, n_events),
        ("  slow paths (incremental SSE, json.loads, full grammar)", pipeline_before, n_events),
        ("  same, slow paths and python-jsonschema", pipeline_python, n_events),
        ("floor: sse.parse alone", lambda: [sse.parse(b) for b in bodies], n_events),
        ("floor: incremental SSE parser alone (before)", lambda: [_incremental(b) for b in bodies], n_events),
        ("floor: fastjson.loads alone", decode(fastjson.loads), len(datas)),
        ("floor: json.loads alone (before)", decode(json.loads), len(datas)),
        ("floor: jsonschema-rs is_valid alone", lambda: [rs[s].is_valid(d) for s, d in payloads], len(payloads)),
        ("plain python-jsonschema is_valid alone", lambda: [py[s].is_valid(d) for s, d in payloads], len(payloads)),
    ]
    if not rs:
        rows = [r for r in rows if "jsonschema-rs" not in r[0]]
    pipeline_python()  # warm every cache (compiled schemas of both libraries) outside the timing
    pipeline_before()
    pipeline()
    best = {name: (float("inf"), float("inf")) for name, _, _ in rows}
    for _ in range(args.repeat):  # interleaved, so a burst of load hits every row alike
        for name, fn, _ in rows:
            cpu, wall = measure(fn)
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    print(f"{'':58} {'events/s (CPU)':>15} {'(wall)':>10}")
    speed = {}
    for name, _, count in rows:
        cpu, wall = best[name]
        speed[name] = count / cpu
        print(f"{name:58} {count / cpu:>15,.0f} {count / wall:>10,.0f}")
    ours, before = speed[rows[0][0]], speed[rows[1][0]]
    print(f"{'pipeline now / before (same run)':58} {ours / before:>15.2f}x")
    print(f"target >= {TARGET:,} events/s on one core: {'met' if ours >= TARGET else 'NOT met'} ({ours / TARGET:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
