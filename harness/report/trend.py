"""trend.html: nights over time, from a series of summary.json files (one per night). One
self-contained page (inline CSS and SVG, no script, no network): per gateway and model, the pass
rate, the items per violation code and TTFT / latency p50 and p95 per night, and the current
failures (those of the latest night) with the night each one started failing without a break.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from harness.report.summary import SummaryError, load_summary

W, H, PAD = 560, 150, 34  # px: chart size and left/bottom padding for the axis labels
SERIES_COLORS = ("#4f7cc3", "#9dbbe6", "#e08a3c", "#f2c299")


@dataclass(frozen=True)
class Night:
    label: str  # the run's start time, or the file name when it has none
    source: str
    summary: dict[str, Any]


def collect(paths: list[Path]) -> list[Night]:
    """Summaries from files and folders (every *.json below a folder that is a summary), oldest
    first. A folder's other JSON files (diff.json) are passed over; a named file must be one."""
    nights = []
    for path in paths:
        if path.is_dir():
            for f in sorted(path.rglob("*.json")):
                try:
                    nights.append(_night(f, load_summary(f)))
                except SummaryError:
                    continue
        else:
            nights.append(_night(path, load_summary(path)))
    if not nights:
        raise SummaryError(f"no summary.json found in {', '.join(map(str, paths))}")
    return sorted(nights, key=lambda n: (n.label, n.source))


def _night(path: Path, summary: dict[str, Any]) -> Night:
    return Night(str(summary.get("started") or path.parent.name or path.name), str(path), summary)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _key(e: dict[str, Any], summary: dict[str, Any]) -> tuple[str, str]:
    return str(e.get("gateway") or summary.get("gateway") or "?"), str(e.get("model") or "request-model")


def series(nights: list[Night]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per (gateway, model): one point per night where it ran."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for night in nights:
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for e in night.summary["items"]:
            groups.setdefault(_key(e, night.summary), []).append(e)
        for key, items in groups.items():
            judged = [e for e in items if e["outcome"] != "skipped"]
            codes: dict[str, int] = {}
            for e in judged:
                for code in {v["code"] for v in e.get("violations", [])}:
                    codes[code] = codes.get(code, 0) + 1
            ttft = [float(e["ttft_ms"]) for e in judged if isinstance(e.get("ttft_ms"), int | float)]
            latency = [float(e["latency_ms"]) for e in judged if isinstance(e.get("latency_ms"), int | float)]
            passed = sum(1 for e in judged if e["outcome"] == "passed")
            out.setdefault(key, []).append(
                {
                    "night": night.label,
                    "judged": len(judged),
                    "passed": passed,
                    "pass_rate": passed / len(judged) if judged else None,
                    "codes": codes,
                    "ttft_p50": _pct(ttft, 50),
                    "ttft_p95": _pct(ttft, 95),
                    "latency_p50": _pct(latency, 50),
                    "latency_p95": _pct(latency, 95),
                }
            )
    return dict(sorted(out.items()))


def failing_since(nights: list[Night]) -> dict[tuple[str, str], list[tuple[str, str, list[str]]]]:
    """The latest night's failures per (gateway, model): (item id, first night of the unbroken
    run of failures up to now, its codes now). A night where the item did not run breaks nothing;
    a night where it passed (or was skipped) ends the search."""
    latest = nights[-1].summary
    out: dict[tuple[str, str], list[tuple[str, str, list[str]]]] = {}
    outcome = [{e["id"]: e["outcome"] for e in n.summary["items"]} for n in nights]
    for e in latest["items"]:
        if e["outcome"] not in ("failed", "error"):
            continue
        since = nights[-1].label
        for night, seen in zip(reversed(nights[:-1]), reversed(outcome[:-1]), strict=True):
            state = seen.get(e["id"])
            if state is None:
                continue
            if state not in ("failed", "error"):
                break
            since = night.label
        codes = sorted({v["code"] for v in e.get("violations", [])}) or [e["outcome"]]
        out.setdefault(_key(e, latest), []).append((e["id"], since, codes))
    return out


# ---------------------------------------------------------------- rendering


def _chart(title: str, points: list[dict[str, Any]], keys: list[tuple[str, str]], unit: str, top: float | None) -> str:
    values = [p[k] for p in points for k, _ in keys if p[k] is not None]
    if not values:
        return f'<div class="chart"><h4>{escape(title)}</h4><p class="muted">no values</p></div>'
    hi = top if top is not None else max(values) * 1.1 or 1.0
    n = len(points)

    def x(i: int) -> float:
        return PAD + (W - PAD - 10) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return 10 + (H - PAD) * (1 - v / hi)

    parts = [f'<line x1="{PAD}" y1="{y(0):.1f}" x2="{W - 10}" y2="{y(0):.1f}" class="axis"/>']
    parts.append(f'<text x="2" y="{y(hi) + 4:.1f}" class="tick">{_fmt(hi, unit)}</text>')
    parts.append(f'<text x="2" y="{y(0):.1f}" class="tick">0</text>')
    for i, p in enumerate(points):
        anchor = "end" if i == n - 1 and n > 1 else ("start" if i == 0 and n > 1 else "middle")
        parts.append(
            f'<text x="{x(i):.1f}" y="{H - 4}" class="tick" text-anchor="{anchor}">{escape(p["night"][:10])}</text>'
        )
    legend = []
    for (key, name), color in zip(keys, SERIES_COLORS, strict=False):
        pts = [(x(i), y(p[key]), p[key]) for i, p in enumerate(points) if p[key] is not None]
        if len(pts) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for px, py, v in pts:
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}" data-series="{key}" data-value="{v:.4g}">'
                f"<title>{escape(name)}: {_fmt(v, unit)}</title></circle>"
            )
        last = pts[-1][2] if pts else None
        legend.append(
            f'<span style="--c:{color}">{escape(name)}{": " + _fmt(last, unit) if last is not None else ""}</span>'
        )
    return (
        f'<div class="chart"><h4>{escape(title)}</h4><div class="legend">{"".join(legend)}</div>'
        f'<svg width="{W}" height="{H}" role="img" aria-label="{escape(title)}">{"".join(parts)}</svg></div>'
    )


def _fmt(v: float, unit: str) -> str:
    if unit == "%":
        return f"{100 * v:.0f}%"
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def _codes_table(points: list[dict[str, Any]]) -> str:
    codes = sorted({c for p in points for c in p["codes"]})
    if not codes:
        return '<p class="muted">No violations on any night.</p>'
    head = "".join(f"<th>{escape(p['night'][:10])}</th>" for p in points)
    rows = "".join(
        f"<tr><td><code>{escape(c)}</code></td>"
        + "".join(f'<td class="{"bad" if p["codes"].get(c) else ""}">{p["codes"].get(c, "")}</td>' for p in points)
        + "</tr>"
        for c in codes
    )
    return f'<table class="codes"><tr><th>items per code</th>{head}</tr>{rows}</table>'


def _failures(rows: list[tuple[str, str, list[str]]]) -> str:
    if not rows:
        return '<p class="muted">Nothing fails on the latest night.</p>'
    body = "".join(
        f'<tr data-id="{escape(i)}"><td>{escape(i)}</td><td>{escape(", ".join(c))}</td><td>{escape(s)}</td></tr>'
        for i, s, c in sorted(rows, key=lambda r: (r[1], r[0]))
    )
    return f'<table class="failures"><tr><th>failing now</th><th>codes</th><th>failing since</th></tr>{body}</table>'


CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; }
h1 { margin: 0 0 4px; } h2 { margin-top: 28px; border-bottom: 1px solid #d0d7de; }
.muted { color: #6a737d; } code { font: 12px ui-monospace, monospace; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
.chart h4 { margin: 0 0 4px; } .axis { stroke: #8c959f; } .tick { font: 10px sans-serif; fill: #57606a; }
.legend span { margin-right: 12px; font-size: 12px; } .legend span::before { content: "\\25CF "; color: var(--c); }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
td, th { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }
td.bad { background: #ffebe9; color: #cf222e; font-weight: 600; text-align: right; }
"""


def render(nights: list[Night]) -> str:
    data = series(nights)
    since = failing_since(nights)
    sections = []
    for (gateway, model), points in data.items():
        charts = "".join(
            [
                _chart("pass rate (of items judged)", points, [("pass_rate", "pass rate")], "%", 1.0),
                _chart(
                    "TTFT and total latency",
                    points,
                    [
                        ("ttft_p50", "TTFT p50"),
                        ("ttft_p95", "TTFT p95"),
                        ("latency_p50", "latency p50"),
                        ("latency_p95", "latency p95"),
                    ],
                    "ms",
                    None,
                ),
            ]
        )
        sections.append(
            f'<section class="model" data-gateway="{escape(gateway)}" data-model="{escape(model)}">'
            f'<h2>{escape(gateway)} · {escape(model)}</h2><div class="charts">{charts}</div>'
            f"{_codes_table(points)}{_failures(since.get((gateway, model), []))}</section>"
        )
    first, last = nights[0].label, nights[-1].label
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relaycheck trend · {len(nights)} nights</title><style>{CSS}</style></head>
<body><h1>relaycheck over time</h1>
<div class="muted">{len(nights)} nights from {escape(first)} to {escape(last)}; per gateway and model: pass rate,
items per violation code, TTFT and latency percentiles, and since when each current failure fails.</div>
{"".join(sections)}
</body></html>
"""


def write_trend(nights: list[Night], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render(nights), encoding="utf-8")
    tmp.replace(path)
    return path
