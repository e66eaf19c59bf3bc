"""Live runs: N streamed items against the reference gateway (its own process) answering after
``latency`` seconds, ``concurrency`` at a time. Prints, measured side by side in one run:

- the ideal: ceil(N / concurrency) rounds of (latency + stream time), the stream time measured
  (first to last byte of each endpoint's answer, one request at a time);
- the floor: the same N requests sent by ``concurrency`` bare httpx threads doing nothing else,
  what any client pays on this machine at this moment;
- ``relaycheck run`` (the in-process pool, summary.json only): wall time from process start to
  exit, and its pytest session alone (summary.json ``duration_s``);
- optionally pytest-xdist ``-n concurrency``.

Each as a ratio to the ideal. Target: relaycheck <= 1.1x the ideal.

Usage: python benchmarks/bench_live.py [--items 200] [--latency 0.5] [--concurrency 16]
[--repeat 2] [--xdist] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale as bs
import scale_project as sp

CHUNK_DELAY = 0.002
PATHS = {"chat": "/v1/chat/completions", "messages": "/v1/messages", "responses": "/v1/responses"}
MODELS = {"chat": "gpt-4o", "messages": "claude-sonnet-4-20250514", "responses": "gpt-4o"}
HEADERS = {"x-api-key": bs.KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}


def requests_of(project: Path) -> list[tuple[str, bytes]]:
    """(path, body) of every case of the live project, as relaycheck sends them."""
    cases = yaml.safe_load((project / "cases" / "live.yaml").read_text())["cases"]
    out = []
    for case in cases:
        body = {"model": MODELS[case["endpoint"]], **case["request"]["body"], "stream": True}
        out.append((PATHS[case["endpoint"]], json.dumps(body).encode()))
    return out


def send(client: Any, url: str, request: tuple[str, bytes]) -> tuple[float, float, float]:
    """Start, first byte and last byte of one streamed answer (perf_counter)."""
    start = time.perf_counter()
    first = last = start
    with client.stream("POST", url + request[0], content=request[1], headers=HEADERS) as resp:
        for chunk in resp.iter_raw():
            if chunk:
                last = time.perf_counter()
                first = first if first > start else last
    return start, first, last


def stream_time(url: str, requests: list[tuple[str, bytes]]) -> float:
    """Mean first-to-last-byte time of an answer, two of each endpoint, one at a time."""
    import httpx

    with httpx.Client(timeout=60) as client:
        picks = requests[:6]
        return statistics.mean(last - first for _, first, last in (send(client, url, r) for r in picks))


def bare_floor(url: str, requests: list[tuple[str, bytes]], concurrency: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=60, limits=limits) as client, ThreadPoolExecutor(concurrency) as pool:
        start = time.perf_counter()
        list(pool.map(lambda r: send(client, url, r), requests))
        return time.perf_counter() - start


def relaycheck_run(project: Path, xdist: int = 0) -> tuple[float, float, str, float]:
    """Wall time, session time (summary.json duration_s), outcome and CPU seconds (user + system,
    workers included) of one ``relaycheck run``."""
    cmd = [bs.PY, "-m", "harness.cli", "run", "--gateway", "slow", "--gateways-file", "gateways.yaml"]
    cmd += ["--cases", "cases", "--report-dir", "r", *bs.LEAN, "--record-mode", "off", *bs.QUIET]
    if xdist:
        cmd += ["-n", str(xdist)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, res = bs.timed(cmd, project, RELAYCHECK_BENCH_KEY=bs.KEY)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    session = json.loads((project / "r" / "summary.json").read_text())["duration_s"]
    return wall, session, bs.outcome(res), cpu


def run(work: Path, n: int, latency: float, conc: int, repeat: int, xdist: bool) -> dict[str, float]:
    rounds = math.ceil(n / conc)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n[live] {n} streamed items, latency {latency} s, concurrency {conc}; load average {load:.1f}")
    with bs.gateway(latency=latency, chunk_delay=CHUNK_DELAY) as url:
        project = sp.live_project(work / "live", n, url, conc)
        requests = requests_of(project)
        stream = stream_time(url, requests)
        ideal = rounds * (latency + stream)
        print(f"  ideal = {rounds} rounds x ({latency} s + {stream * 1000:.0f} ms stream) = {ideal:.2f} s")
        floor = wall = session = cpu = floor_cpu = float("inf")
        outcome = ""
        for _ in range(repeat):  # interleaved, best of each: a burst of load hits both alike
            c0 = time.process_time()
            floor = min(floor, bare_floor(url, requests, conc))
            floor_cpu = min(floor_cpu, time.process_time() - c0)
            w, s, outcome, c = relaycheck_run(project)
            wall, session, cpu = min(wall, w), min(session, s), min(cpu, c)
        r = floor / ideal
        print(f"  bare httpx threads, same requests  : {floor:6.2f} s  {r:.2f}x ideal  (CPU {floor_cpu:.2f} s)")
        print(f"  relaycheck run, pytest session     : {session:6.2f} s  {session / ideal:.2f}x ideal")
        print(f"  relaycheck run, wall (start to exit): {wall:6.2f} s  {wall / ideal:.2f}x ideal  (CPU {cpu:.2f} s)")
        print(f"    [{outcome}]; outside the session (interpreter, imports, exit): {wall - session:.2f} s")
        figures = {"ideal": ideal, "floor": floor, "session": session, "wall": wall}
        if xdist:
            xw, _, xo, xc = relaycheck_run(project, xdist=conc)
            r = xw / ideal
            print(f"  xdist -n {conc}, wall                 : {xw:6.2f} s  {r:.2f}x ideal  (CPU {xc:.2f} s) [{xo}]")
            figures["xdist"] = xw
    print("  target: relaycheck <= 1.1x ideal. On a loaded machine every CPU second costs several wall")
    print("  seconds, so the side that spends more CPU (relaycheck, not the bare floor) loses more there.")
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--xdist", action="store_true", help="also time pytest-xdist -n CONCURRENCY")
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="relaycheck-live-"))
    run(work, args.items, args.latency, args.concurrency, args.repeat, args.xdist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
