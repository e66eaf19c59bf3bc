"""Scale benchmarks, measured side by side in one run (not a timed test in CI). Prints ratios.

1. offline: N items (default 500) of the bundled suite replayed from cassettes, against the same
   requests as Tavern YAML tests sent to the reference gateway, against a bare pytest floor of N
   trivial YAML items. Targets: relaycheck <= 1.5x the floor, >= 7x faster than Tavern.
2. live: 200 streamed items against the reference gateway (another process) answering after
   500 ms, concurrency 16: the in-process pool and xdist -n 16 beside bare httpx threads
   (benchmarks/bench_live.py). Target: <= 1.1x the ideal, 13 rounds x (0.5 s + stream time).
3. TTFT: relaycheck's measured TTFT against the delay the gateway injects. Target: within 5 ms.
4. memory: peak RSS of a replay of 250 / 500 / 1000 items.
5. memory10k: benchmarks/bench_memory.py, KiB per item at 1,000 / 5,000 / 10,000 generated items.
   Target: linear, under 80 KiB per item at 10,000.
6. validation: benchmarks/bench_validation.py, stream parse + validate events/s on one core over
   the official streams. Target: >= 200,000 events/s.

All six by default, so one run prints every issue-17 ratio.

Tavern is installed into its own venv under the work dir (``pip install tavern``), never into
relaycheck's. Usage: python benchmarks/bench_scale.py [--parts offline,live,ttft,memory,memory10k,validation]
[--items 500] [--workdir DIR] [--tavern-python PATH] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_project as sp

PY = sys.executable
KEY = "rc-bench-key-0123456789abcdef0123456789"
QUIET = ["--progress", "off", "--", "-q", "-p", "no:randomly"]
LEAN = ["--no-junit", "--no-allure", "--no-matrix"]


def timed(cmd: list[str], cwd: Path, **env: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    return time.perf_counter() - start, res


def outcome(res: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in res.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    return lines[-1].strip("= ") if lines else f"exit {res.returncode}: {res.stderr[-300:]}"


def best_of(n: int, cmd: list[str], cwd: Path, **env: str) -> tuple[float, str]:
    runs = [timed(cmd, cwd, **env) for _ in range(n)]
    return min(t for t, _ in runs), outcome(runs[-1][1])


def best_cpu_of(n: int, cmd: list[str], cwd: Path, **env: str) -> tuple[float, float, str]:
    """Best wall time and best CPU time (user + system of the process, steadier than the wall
    time when other work shares the CPUs) of n runs."""
    walls, cpus, res = [], [], None
    for _ in range(n):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, res = timed(cmd, cwd, **env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(wall)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    assert res is not None
    return min(walls), min(cpus), outcome(res)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gateway(**slow: float) -> Iterator[str]:
    """``relaycheck serve`` in its own process (so its CPU never competes with the client's GIL)."""
    port = free_port()
    args = [f"--{k.replace('_', '-')}={v}" for k, v in slow.items()]
    proc = subprocess.Popen(
        [PY, "-m", "harness.cli", "serve", "--port", str(port), "--api-key", KEY, *args],
        cwd=sp.REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def recorded_suite(work: Path, copies: int) -> Path:
    root = work / "suite"
    if len(list((root / "cases").glob("rep*"))) < copies:  # too few items for this size: record anew
        shutil.rmtree(root, ignore_errors=True)
    if not (root / "cassettes").is_dir():
        sp.replicated_suite(root, copies)
        res = subprocess.run(
            [PY, "-m", "harness.cli", "record", "--cases", "cases", "--report-dir", "r", *LEAN, *QUIET],
            cwd=root,
            capture_output=True,
            text=True,
        )
        print(f"  recorded the replicated suite once: {outcome(res)}")
    return root


def case_dirs(n: int) -> list[str]:
    # Only as many copies as n needs, so the count collected stays close to the count run.
    return [f"cases/rep{k}" for k in range(-(-n // 390))]


def replay_cmd(lean: bool, n: int) -> list[str]:
    dirs = [a for d in case_dirs(n) for a in ("--cases", d)]
    return [PY, "-m", "harness.cli", "replay", *dirs, "--report-dir", "r", *(LEAN if lean else []), *QUIET]


def tavern_python(work: Path, given: str | None) -> str:
    if given:
        return given
    env = work / "tavern-venv"
    if not (env / "bin" / "python").exists():
        venv.create(env, with_pip=True)
        # Tavern 3.7 imports _pytest.python_api, which pytest 9 removed.
        subprocess.run([env / "bin" / "pip", "install", "-q", "tavern", "pytest<9"], check=True)
    return str(env / "bin" / "python")


def part_offline(work: Path, n: int, tavern: str | None, baseline: Path | None = None) -> None:
    print(f"\n[1] offline: {n} items")
    suite = recorded_suite(work, copies=max(3, -(-n // 390)))
    env = {"BENCH_ITEMS": str(n)}
    rc, rc_cpu, rc_out = best_cpu_of(3, replay_cmd(False, n), suite, **env)
    lean, lean_cpu, lean_out = best_cpu_of(3, replay_cmd(True, n), suite, **env)
    if baseline is not None:  # another checkout of harness/ (e.g. `git archive` of an older commit)
        old = {**env, "PYTHONPATH": str(baseline)}
        b_rc, b_rc_cpu, b_rc_out = best_cpu_of(3, replay_cmd(False, n), suite, **old)
        b_lean, b_lean_cpu, b_lean_out = best_cpu_of(3, replay_cmd(True, n), suite, **old)
    floor_dir = sp.floor_project(work / f"floor{n}", n)
    floor, floor_cpu, floor_out = best_cpu_of(
        3,
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_floor.yaml"],
        floor_dir,
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    # The items relaycheck replayed, in its order: each cassette's requests become a Tavern test.
    listed = subprocess.run(
        [PY, "-m", "pytest", *case_dirs(n), "--collect-only", "-q", "-p", "no:randomly"],
        cwd=suite,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    ).stdout
    ids = [ln for ln in listed.splitlines() if "::" in ln][:n]
    from harness.recording.cassette import cassette_path

    items = sp.cassette_requests([cassette_path(suite / "cassettes", "local", i) for i in ids])
    py = tavern_python(work, tavern)
    with gateway() as url:
        tdir = sp.tavern_project(work / f"tavern{n}", items, url, KEY)
        tav, tav_out = best_of(1, [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_items.tavern.yaml"], tdir)
    print(f"  bare pytest floor ({n} trivial YAML items): {floor:6.2f} s  (CPU {floor_cpu:5.2f} s)  [{floor_out}]")
    print(
        f"  relaycheck replay, all reports          : {rc:6.2f} s  (CPU {rc_cpu:5.2f} s)  [{rc_out}]  "
        f"{rc / floor:.2f}x floor (CPU {rc_cpu / floor_cpu:.2f}x)"
    )
    print(
        f"  relaycheck replay, summary.json only    : {lean:6.2f} s  (CPU {lean_cpu:5.2f} s)  [{lean_out}]  "
        f"{lean / floor:.2f}x floor (CPU {lean_cpu / floor_cpu:.2f}x)"
    )
    if baseline is not None:
        for what, wall, cpu, out in (
            ("all reports", b_rc, b_rc_cpu, b_rc_out),
            ("summary.json only", b_lean, b_lean_cpu, b_lean_out),
        ):
            print(
                f"  baseline {baseline.name}, {what:17}: {wall:6.2f} s  (CPU {cpu:5.2f} s)  [{out}]  "
                f"{wall / floor:.2f}x floor (CPU {cpu / floor_cpu:.2f}x), Tavern {tav / wall:.1f}x slower"
            )
    print(f"  Tavern, same requests, status checks     : {tav:6.2f} s  [{tav_out}]")
    print(
        f"  => relaycheck is {tav / rc:.1f}x faster than Tavern (all reports), {tav / lean:.1f}x (lean); "
        f"targets: <= 1.5x floor, >= 7x Tavern"
    )


def part_live(work: Path, n: int = 200, latency: float = 0.5, conc: int = 16) -> None:
    import bench_live  # the live part has its own script (benchmarks/bench_live.py)

    bench_live.run(work, n, latency, conc, repeat=1, xdist=True)


def part_ttft(delays: tuple[float, ...] = (0.0, 0.05, 0.2, 0.5), repeats: int = 10) -> None:
    print("\n[3] TTFT accuracy: streamed chat request, gateway in another process, injected delay")
    import json

    from harness.gateways import Timeouts
    from harness.model import WireRequest
    from harness.transport import Transport

    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    for delay in delays:
        with gateway(latency=delay) as url:
            t = Transport(Timeouts())
            req = WireRequest("POST", url + "/v1/chat/completions", headers, body.encode())
            t.send(req)  # connection set up outside the measurement
            ttfts = [t.send(req).ttft_ms or 0.0 for _ in range(repeats)]
            t.close()
        err = [x - delay * 1000 for x in ttfts]
        print(
            f"  injected {delay * 1000:5.0f} ms: measured median {statistics.median(ttfts):7.1f} ms, "
            f"error median {statistics.median(err):+5.1f} ms, max {max(err):+5.1f} ms"
        )
    print("  target: within 5 ms (the error includes the gateway's own work before the first byte)")


def part_memory(work: Path, sizes: tuple[int, ...] = (250, 500, 1000)) -> None:
    print("\n[4] memory: peak RSS of a replay (fast pacing, all reports)")
    suite = recorded_suite(work, copies=max(3, -(-max(sizes) // 390)))
    for n in sizes:
        cmd = [PY, __file__, "_rss", *replay_cmd(False, n)[3:]]  # without `-m harness.cli`
        _, res = timed(cmd, suite, BENCH_ITEMS=str(n))
        rss = re.search(r"PEAK_RSS_KB (\d+)", res.stderr)
        mib = int(rss.group(1)) / 1024 if rss else float("nan")
        print(f"  {n:5d} items: peak RSS {mib:6.1f} MiB  [{outcome(res)}]")


def part_script(title: str, script: str) -> None:
    """Another benchmark of this folder, its lines printed here (one run, every ratio)."""
    print(f"\n{title}", flush=True)
    res = subprocess.run([PY, str(Path(__file__).resolve().parent / script)], check=False)
    if res.returncode:
        print(f"  {script} exited {res.returncode}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_rss":  # a relaycheck command in-process, then its peak RSS
        from harness.cli import main as relaycheck

        code = relaycheck(sys.argv[2:])
        print(f"PEAK_RSS_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
        return code
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="offline,live,ttft,memory,memory10k,validation")
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--workdir", type=Path, help="keeps the recorded suite and Tavern's venv between runs")
    ap.add_argument("--tavern-python", help="a python with tavern installed (default: a venv made here)")
    ap.add_argument(
        "--baseline-src",
        type=Path,
        help="offline part: also replay with this checkout's harness/ first on PYTHONPATH (before/after in one run)",
    )
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="relaycheck-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"relaycheck scale benchmark; work dir {work}; {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
        f"load average {os.getloadavg()[0]:.1f} (ratios are measured side by side, so they hold under load)"
    )
    parts = args.parts.split(",")
    if "offline" in parts:
        part_offline(work, args.items, args.tavern_python, args.baseline_src)
    if "live" in parts:
        part_live(work)
    if "ttft" in parts:
        part_ttft()
    if "memory" in parts:
        part_memory(work)
    if "memory10k" in parts:
        part_script("[5] memory at 10,000 items (benchmarks/bench_memory.py)", "bench_memory.py")
    if "validation" in parts:
        part_script("[6] stream parse + validate (benchmarks/bench_validation.py)", "bench_validation.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
