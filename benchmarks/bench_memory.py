"""Memory per item at scale (not a timed test in CI). Prints KiB per item and the ratio.

Generates N trivial cases (one non-streamed chat request each, one model, so one item per
case) in files of 1,000, records them once against the built-in gateway, then replays the
first 1k / 5k / 10k items with every report on (summary.json, JUnit, allure, matrix.html), each
in its own process, and reads that process's peak RSS (``wait4``). A baseline replay of one
item gives the interpreter, the libraries and the fixed costs; what a run adds per item is
(peak RSS - baseline) / items. Target: under 80 KiB per item at 10,000 items, and linear
(the per-item figure at 10k no larger than at 1k, within noise).

Usage: python benchmarks/bench_memory.py [--sizes 1000,5000,10000] [--workdir DIR] [--lean]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PY = sys.executable
PER_FILE = 1000
QUIET = ["--progress", "off", "--", "-q", "-p", "no:randomly"]
LEAN = ["--no-junit", "--no-allure", "--no-matrix"]


def _case(i: int) -> dict[str, object]:
    return {
        "id": f"m{i:05d}",
        "description": f"trivial item {i}",
        "endpoint": "chat",
        "stream": False,
        "models": ["gpt-4o"],
        "request": {"body": {"max_completion_tokens": 16, "messages": [{"role": "user", "content": f"Say {i}."}]}},
        "expect": {"status": 200},
    }


def project(root: Path, n: int) -> Path:
    """root/cases/mem/partNN.yaml (1,000 cases each) and root/cases/base/one.yaml (one case)."""
    files = -(-n // PER_FILE)
    done = root / f".made-{files}"
    if done.exists():
        return root
    for k in range(files):
        cases = [_case(i) for i in range(k * PER_FILE, (k + 1) * PER_FILE)]
        path = root / "cases" / "mem" / f"part{k:02d}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"cases": cases}, sort_keys=False), encoding="utf-8")
    base = root / "cases" / "base" / "one.yaml"
    base.parent.mkdir(parents=True, exist_ok=True)
    base.write_text(yaml.safe_dump({"cases": [_case(0)]}, sort_keys=False), encoding="utf-8")
    start = time.perf_counter()
    res = subprocess.run(
        [PY, "-m", "harness.cli", "record", "--cases", "cases", "--report-dir", "rec", *LEAN, *QUIET],
        cwd=root,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    print(f"  recorded {files * PER_FILE + 1} items once in {took:.0f} s: {_outcome(res.stdout)}")
    done.touch()
    return root


def _outcome(out: str) -> str:
    lines = [ln for ln in out.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    tail = out.strip().splitlines()[-1:] or ["(no output)"]
    return lines[-1].strip("= ") if lines else f"FAILED: {tail[0][:200]}"


def peak_rss(root: Path, dirs: list[str], lean: bool) -> tuple[int, float, str]:
    """Peak RSS (KiB) and CPU time (user + system, steadier than wall time on a shared
    machine) of one replay, in its own process."""
    args = [a for d in dirs for a in ("--cases", d)]
    cmd = [PY, "-m", "harness.cli", "replay", *args, "--report-dir", "r", *(LEAN if lean else []), *QUIET]
    with open(root / "out.txt", "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT)
        _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss, usage.ru_utime + usage.ru_stime, _outcome((root / "out.txt").read_text(encoding="utf-8"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,5000,10000")
    ap.add_argument("--workdir", type=Path, help="keeps the generated, recorded project between runs")
    ap.add_argument("--lean", action="store_true", help="summary.json only (no JUnit, allure, matrix)")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="relaycheck-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"relaycheck memory benchmark; work dir {work}; {os.cpu_count()} CPUs; load average {load:.1f}")
    root = project(work / "project", max(sizes))
    base, took, out = peak_rss(root, ["cases/base"], args.lean)
    print(f"  baseline (1 item)  : peak RSS {base / 1024:7.1f} MiB  {took:6.1f} s CPU  [{out}]")
    per: dict[int, float] = {}
    for n in sizes:
        if n % PER_FILE:
            raise SystemExit(f"sizes must be multiples of {PER_FILE}")
        dirs = [f"cases/mem/part{k:02d}.yaml" for k in range(n // PER_FILE)]
        rss, took, out = peak_rss(root, dirs, args.lean)
        per[n] = (rss - base) / n
        print(
            f"  {n:6d} items      : peak RSS {rss / 1024:7.1f} MiB  {took:6.1f} s CPU  "
            f"{per[n]:5.1f} KiB/item above the baseline  [{out}]"
        )
    small, large = min(sizes), max(sizes)
    print(
        f"  => {per[large]:.1f} KiB/item at {large} items (target < 80); "
        f"ratio {large} / {small}: {per[large] / per[small]:.2f} (linear: <= ~1)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
