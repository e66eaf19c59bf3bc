"""Validation speed: parse and check every official stream of the shared corpus, on one core.

Prints, side by side in one run:
- relaycheck's whole stream pipeline (SSE parse, JSON decode, per-event schema through the
  validation seam, stream grammar, fold, final-object checks), in events per second;
- the same events validated with plain python-jsonschema (Draft 2020-12, same schemas) and
  nothing else, the baseline the issue quotes (~9,600 validations/s);
- the ratio. Target: >= 50,000 events/s.

Usage: python benchmarks/bench_validation.py [--repeat N] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import sse, validation  # noqa: E402
from harness.cassettes import load_jsonl  # noqa: E402
from harness.engine import evaluate_exchange  # noqa: E402

SCHEMA_FOR = {  # event -> schema id of the strict level, for the plain-jsonschema baseline
    "chat": lambda data: "chat/strict/chunk",
    "messages": lambda data: f"messages/strict/event_{data.get('type')}",
    "responses": lambda data: f"responses/strict/events/{data.get('type')}",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "interactions.jsonl")
    args = ap.parse_args()
    if not args.corpus.is_file():
        print(f"corpus not found at {args.corpus}; pass --corpus", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target says
    streams = [it for it in load_jsonl(args.corpus) if it.endpoint and it.exchange.is_sse]
    n_events = sum(len(sse.parse(it.exchange.body)[0]) for it in streams)
    print(f"{len(streams)} official streams, {n_events} events, {args.repeat} repeats, 1 core")

    for it in streams:  # warm caches (compiled schemas) outside the timing
        evaluate_exchange(it.exchange, it.endpoint, stream_requested=True)
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for it in streams:
            evaluate_exchange(it.exchange, it.endpoint, stream_requested=True)
        best = min(best, time.perf_counter() - t0)
    ours = n_events / best

    import jsonschema

    payloads = []
    for it in streams:
        for ev in sse.parse(it.exchange.body)[0]:
            try:
                data = json.loads(ev.data)
            except ValueError:
                continue
            sid = SCHEMA_FOR[it.endpoint](data)
            if (validation.SCHEMA_DIR / f"{sid}.json").is_file():
                payloads.append((sid, data))
    validators = {sid: jsonschema.Draft202012Validator(validation.load_schema(sid)) for sid, _ in payloads}
    t0 = time.perf_counter()
    for sid, data in payloads:
        validators[sid].is_valid(data)
    plain = len(payloads) / (time.perf_counter() - t0)

    print(f"{'relaycheck pipeline (parse + schema + grammar + fold)':58} {ours:>10,.0f} events/s")
    print(f"{'plain python-jsonschema, schema only':58} {plain:>10,.0f} events/s")
    print(f"{'ratio':58} {ours / plain:>10.1f}x")
    print(f"target >= 50,000 events/s: {'met' if ours >= 50_000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
