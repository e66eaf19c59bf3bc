"""Two summaries compared for a nightly job: what newly fails (an item that failed no code
before, or a failing item with a code it did not have), what got fixed, and latency that got
worse beyond a ratio *and* an absolute floor (small numbers jitter by large ratios)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

FAILING = ("failed", "error")
HARNESS_ERROR = "harness.error"  # pseudo-code: the item could not be judged
METRICS = ("ttft_ms", "latency_ms")


@dataclass(frozen=True)
class ItemChange:
    id: str
    codes: tuple[str, ...]  # newly failing / new: the codes that appeared; fixed: the codes that went
    was: str | None  # the old outcome (None: the item is new)


@dataclass(frozen=True)
class LatencyChange:
    key: str  # an item id, or "gateway model endpoint stream" for --latency-scope group
    metric: str
    old_ms: float
    new_ms: float


@dataclass(frozen=True)
class Diff:
    newly_failing: tuple[ItemChange, ...]
    new_codes: tuple[ItemChange, ...]  # failing before and now, with codes it did not have
    fixed: tuple[ItemChange, ...]
    still_failing: int
    latency: tuple[LatencyChange, ...]
    only_old: tuple[str, ...]
    only_new: tuple[str, ...]

    @property
    def regressed(self) -> bool:
        return bool(self.newly_failing or self.new_codes or self.latency)

    def fails(self, allow_missing: bool = False) -> bool:
        """The diff's verdict: a regression, or items of the old run missing from the new one (an
        interrupted run, a case file that no longer loads) unless that is allowed."""
        return self.regressed or (bool(self.only_old) and not allow_missing)


def codes(entry: dict[str, Any]) -> set[str]:
    found = {v["code"] for v in entry.get("violations", [])}
    return found | {HARNESS_ERROR} if entry["outcome"] == "error" else found


def _slower(old: float | None, new: float | None, ratio: float, min_ms: float) -> bool:
    if old is None or new is None or ratio <= 0:
        return False
    return new > old * ratio and new - old >= min_ms


def _group_key(e: dict[str, Any]) -> str:
    stream = "stream" if e.get("stream") else "sync"
    return f"{e.get('gateway')} {e.get('model') or 'request-model'} {e.get('endpoint')} {stream}"


def _latency(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], ratio: float, min_ms: float, scope: str
) -> list[LatencyChange]:
    both = [
        i for i in sorted(old.keys() & new.keys()) if old[i]["outcome"] != "skipped" and new[i]["outcome"] != "skipped"
    ]
    pairs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for i in both:
        pairs.setdefault(i if scope == "item" else _group_key(new[i]), []).append((old[i], new[i]))
    out = []
    for key, group in sorted(pairs.items()):
        for metric in METRICS:
            olds = [o[metric] for o, n in group if o.get(metric) is not None and n.get(metric) is not None]
            news = [n[metric] for o, n in group if o.get(metric) is not None and n.get(metric) is not None]
            if not olds:
                continue
            o_ms, n_ms = statistics.median(olds), statistics.median(news)
            if _slower(o_ms, n_ms, ratio, min_ms):
                out.append(LatencyChange(key, metric, round(o_ms, 2), round(n_ms, 2)))
    return out


def diff(
    old: dict[str, Any], new: dict[str, Any], *, ratio: float = 1.5, min_ms: float = 200.0, scope: str = "item"
) -> Diff:
    o = {e["id"]: e for e in old["items"]}
    n = {e["id"]: e for e in new["items"]}
    newly, new_codes, fixed, still = [], [], [], 0
    for i in sorted(n):
        entry, before = n[i], o.get(i)
        was = before["outcome"] if before else None
        if entry["outcome"] in FAILING:
            if was not in FAILING:
                newly.append(ItemChange(i, tuple(sorted(codes(entry))), was))
                continue
            still += 1
            added = codes(entry) - codes(before or {"outcome": "passed"})
            if added:
                new_codes.append(ItemChange(i, tuple(sorted(added)), was))
        elif entry["outcome"] == "passed" and was in FAILING:
            fixed.append(ItemChange(i, tuple(sorted(codes(before or {"outcome": "passed"}))), was))
    return Diff(
        tuple(newly),
        tuple(new_codes),
        tuple(fixed),
        still,
        tuple(_latency(o, n, ratio, min_ms, scope)),
        tuple(sorted(o.keys() - n.keys())),
        tuple(sorted(n.keys() - o.keys())),
    )


def _ms(v: float) -> str:
    return f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms"


def render(d: Diff, old_name: str, new_name: str, ratio: float, min_ms: float, allow_missing: bool = False) -> str:
    lines = [f"relaycheck report diff: {old_name} -> {new_name}"]

    def block(title: str, changes: tuple[ItemChange, ...], verb: str) -> None:
        lines.append(f"{title} ({len(changes)}):")
        for c in changes:
            was = "new item" if c.was is None else f"was {c.was}"
            lines.append(f"  {c.id}  {verb} {', '.join(c.codes)}  ({was})")

    block("newly failing", d.newly_failing, "fails")
    block("new violation codes on items that already failed", d.new_codes, "now also")
    block("fixed", d.fixed, "no longer")
    lines.append(f"still failing: {d.still_failing}")
    rule = f"slower than {ratio:g}x and by at least {min_ms:g} ms" if ratio > 0 else "not judged"
    lines.append(f"latency regressions, {rule} ({len(d.latency)}):")
    for c in d.latency:
        lines.append(
            f"  {c.key}  {c.metric} {_ms(c.old_ms)} -> {_ms(c.new_ms)} (x{c.new_ms / max(c.old_ms, 1e-9):.1f})"
        )
    if d.only_old:
        allowed = " (allowed by --allow-missing)" if allow_missing else ""
        lines.append(f"missing from the new run: {len(d.only_old)} item(s){allowed}")
        lines += [f"  {i}" for i in d.only_old[:MISSING_SHOWN]]
        if len(d.only_old) > MISSING_SHOWN:
            lines.append(f"  ... and {len(d.only_old) - MISSING_SHOWN} more")
    if d.only_new:
        lines.append(f"in the new run only: {len(d.only_new)} item(s)")
    if d.regressed:
        lines.append("verdict: REGRESSED")
    elif d.fails(allow_missing):
        lines.append("verdict: INCOMPLETE (items of the old run are missing; --allow-missing accepts that)")
    else:
        lines.append("verdict: no new failures, no latency regressions")
    return "\n".join(lines)


MISSING_SHOWN = 20


def as_json(d: Diff) -> dict[str, Any]:
    def items(changes: tuple[ItemChange, ...]) -> list[dict[str, Any]]:
        return [{"id": c.id, "codes": list(c.codes), "was": c.was} for c in changes]

    return {
        "regressed": d.regressed,
        "missing": len(d.only_old),
        "newly_failing": items(d.newly_failing),
        "new_codes": items(d.new_codes),
        "fixed": items(d.fixed),
        "still_failing": d.still_failing,
        "latency": [asdict(c) for c in d.latency],
        "only_old": list(d.only_old),
        "only_new": list(d.only_new),
    }
