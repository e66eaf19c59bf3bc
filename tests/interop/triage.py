"""Write a peer's triaged findings from a run's summary.json, and list them for docs/interop.md.

    python tests/interop/triage.py PEER reports/summary.json     # writes tests/interop/expected/PEER.yaml
    python tests/interop/triage.py --markdown PEER               # the item lists of docs/interop.md

Regenerate only after triaging every new failure in docs/interop.md: the expected file is what the
interop test holds the peer to (same items failing with the same codes, nothing else failing)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def failures(summary: dict) -> dict[str, list[str]]:
    """Item id -> failing codes, without the lab's timing verdict (peers.TIMING)."""
    out = {}
    for item in summary.get("items", []):
        if item.get("outcome") in ("failed", "error"):
            codes = {v["code"] for v in item.get("violations", [])} - {"stream.buffered"}
            if codes or not item.get("violations"):
                out[item["id"]] = sorted(codes or {"(error)"})
    return out


def write(peer: str, summary_path: Path) -> Path:
    summary = json.loads(summary_path.read_text())
    found = failures(summary)
    totals = summary.get("totals", {})
    passed = sorted(i["id"] for i in summary.get("items", []) if i.get("outcome") == "passed")
    doc = {
        "peer": peer,
        "totals": {k: totals.get(k) for k in ("items", "passed", "failed", "skipped")},
        "findings": {item: {"codes": codes} for item, codes in sorted(found.items())},
        "passes": passed,  # for docs/interop.md; the test checks that nothing outside findings fails
    }
    path = HERE / "expected" / f"{peer}.yaml"
    header = f"# Triaged findings for {peer}: every item listed is explained in docs/interop.md.\n"
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=200))
    return path


def markdown(peer: str) -> str:
    raw = yaml.safe_load((HERE / "expected" / f"{peer}.yaml").read_text())
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for item, entry in raw["findings"].items():
        file, _, rest = item.partition("::")
        endpoint = file.split("/")[1]
        groups[(endpoint, tuple(entry["codes"]))].append(f"{file.split('/')[-1]}::{rest}")
    lines = ["| endpoint | codes | items |", "|---|---|---|"]
    for (endpoint, codes), items in sorted(groups.items()):
        lines.append(f"| {endpoint} | {', '.join(codes)} | {len(items)}: {', '.join(sorted(items))} |")
    passes: dict[str, list[str]] = defaultdict(list)
    for item in raw.get("passes") or []:
        file, _, rest = item.partition("::")
        passes[file.split("/")[1]].append(f"{file.split('/')[-1]}::{rest}")
    lines += ["", "Passes:", ""]
    lines += [f"- {endpoint} ({len(items)}): {', '.join(sorted(items))}" for endpoint, items in sorted(passes.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--markdown":
        print(markdown(sys.argv[2]))
    else:
        print(write(sys.argv[1], Path(sys.argv[2])))
