"""An inline SVG bar chart of TTFT and total latency per model: no library, no network, and
every value printed next to its bar so the chart reads without hovering."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from html import escape
from typing import Any

ROW = 22  # px per bar
LABEL_W = 260
BAR_W = 420
COLORS = {"ttft_ms": "#4f7cc3", "latency_ms": "#e08a3c"}
NAMES = {"ttft_ms": "TTFT", "latency_ms": "total latency"}


def latency_groups(items: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Measured values per (gateway, model), skipped items and missing values left out."""
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for e in items:
        if e.get("outcome") == "skipped":
            continue
        key = (str(e.get("gateway") or "?"), str(e.get("model") or "request-model"))
        g = groups.setdefault(key, {"ttft_ms": [], "latency_ms": []})
        for metric in g:
            value = e.get(metric)
            if isinstance(value, int | float):
                g[metric].append(float(value))
    return {k: v for k, v in sorted(groups.items()) if v["latency_ms"]}


def _fmt(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


def latency_svg(items: Iterable[dict[str, Any]]) -> str:
    groups = latency_groups(items)
    if not groups:
        return '<p class="muted">No timings in this summary.</p>'
    several_gateways = len({gw for gw, _ in groups}) > 1
    top = max(max(vals) for g in groups.values() for vals in g.values() if vals)
    top = top or 1.0
    rows: list[str] = []
    y = 28
    for (gw, model), values in groups.items():
        label = f"{gw} · {model}" if several_gateways else model
        n = len(values["latency_ms"])
        rows.append(f'<text class="model" x="{LABEL_W - 8}" y="{y + ROW - 6}" text-anchor="end">{escape(label)}</text>')
        rows.append(f'<text class="n" x="{LABEL_W - 8}" y="{y + 2 * ROW - 8}" text-anchor="end">n={n}</text>')
        for metric in ("ttft_ms", "latency_ms"):
            vals = values[metric]
            if vals:
                med = statistics.median(vals)
                p90 = sorted(vals)[max(0, round(0.9 * len(vals)) - 1)]
                w = max(1.0, BAR_W * med / top)
                tip = f"{NAMES[metric]} {model}: median {_fmt(med)}, p90 {_fmt(p90)}, max {_fmt(max(vals))}"
                rows.append(
                    f'<rect class="bar {metric}" x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" '
                    f'height="{ROW - 6}" fill="{COLORS[metric]}"><title>{escape(tip)}</title></rect>'
                )
                rows.append(
                    f'<text class="value" x="{LABEL_W + w + 6:.1f}" y="{y + ROW - 7}">'
                    f"{_fmt(med)} (p90 {_fmt(p90)})</text>"
                )
            y += ROW
        y += 8
    legend = "".join(
        f'<rect x="{LABEL_W + i * 150}" y="6" width="12" height="12" fill="{COLORS[m]}"/>'
        f'<text x="{LABEL_W + i * 150 + 18}" y="17">median {NAMES[m]}</text>'
        for i, m in enumerate(("ttft_ms", "latency_ms"))
    )
    width = LABEL_W + BAR_W + 170
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 4}" '
        f'viewBox="0 0 {width} {y + 4}" role="img" aria-label="TTFT and total latency per model">'
        f"{legend}{''.join(rows)}</svg>"
    )
