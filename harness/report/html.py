"""matrix.html: one self-contained page from a summary. Cases down, (endpoint, model, stream)
across, one section per gateway with its conformance score at both levels, a latency chart,
and a side panel that opens an item's violations and transcript when its cell is clicked
(or when the page is opened with ``#item=<id>``)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from harness.report.assets import CSS, JS
from harness.report.chart import latency_svg
from harness.report.summary import passes


def _endpoint_rank(name: str) -> int:
    """Columns in the registry's order (a summary may name a format this install lacks: last)."""
    from harness.dialects import registry

    names = registry.names()
    return names.index(name) if name in names else len(names)


# css class, symbol, words: what a cell shows and the legend explains.
VERDICTS = {
    "pass": ("✓", "passes strict"),
    "strict": ("~", "compatible only (fails strict)"),
    "fail": ("✗", "fails compatible"),
    "error": ("!", "harness error"),
    "skip": ("–", "skipped"),
}


def verdict(entry: dict[str, Any]) -> str:
    if entry["outcome"] == "skipped":
        return "skip"
    if entry["outcome"] == "error":
        return "error"
    if passes(entry, "strict"):
        return "pass"
    return "strict" if passes(entry, "compatible") else "fail"


def score(entries: list[dict[str, Any]], level: str) -> tuple[int, int]:
    """(passing, judged) at ``level``; skipped items are not judged."""
    judged = [p for p in (passes(e, level) for e in entries) if p is not None]
    return sum(judged), len(judged)


def _column(e: dict[str, Any]) -> tuple[str, str, bool]:
    # lint-traffic summaries have items without an endpoint (skipped paths) or a case: still drawn.
    return str(e.get("endpoint") or "other"), str(e.get("model") or "request-model"), bool(e.get("stream"))


def _matrix(entries: list[dict[str, Any]]) -> str:
    columns = sorted({_column(e) for e in entries}, key=lambda c: (_endpoint_rank(c[0]), c[0], c[1], c[2]))
    rows: dict[tuple[str, str], dict[tuple[str, str, bool], dict[str, Any]]] = {}
    for e in entries:
        rows.setdefault((str(e.get("file") or ""), str(e.get("case") or e["id"])), {})[_column(e)] = e
    head1, head2, head3 = ['<th rowspan="3">case</th>'], [], []
    for endpoint in dict.fromkeys(c[0] for c in columns):
        span = sum(1 for c in columns if c[0] == endpoint)
        head1.append(f'<th colspan="{span}">{escape(endpoint)}</th>')
        for model in dict.fromkeys(c[1] for c in columns if c[0] == endpoint):
            mspan = sum(1 for c in columns if c[:2] == (endpoint, model))
            head2.append(f'<th colspan="{mspan}">{escape(model)}</th>')
            head3 += [f"<th>{'stream' if c[2] else 'sync'}</th>" for c in columns if c[:2] == (endpoint, model)]
    body = []
    for (file, case), cells in sorted(rows.items(), key=lambda r: (r[0][0], r[0][1])):
        first = next(iter(cells.values()))
        where = f"{file}:{first.get('line', '')}"
        tds = [f'<th class="case">{escape(case)}<div class="file">{escape(where)}</div></th>']
        for col in columns:
            e = cells.get(col)
            if e is None:
                tds.append('<td class="none"></td>')
                continue
            v = verdict(e)
            codes = ", ".join(sorted({x["code"] for x in e.get("violations", [])}))
            tip = f"{e['id']}: {VERDICTS[v][1]}" + (f" ({codes})" if codes else "")
            tds.append(
                f'<td class="cell {v}" data-id="{escape(e["id"])}" data-verdict="{v}" '
                f'title="{escape(tip)}">{VERDICTS[v][0]}</td>'
            )
        body.append(f"<tr>{''.join(tds)}</tr>")
    return (
        f'<div class="wrap"><table class="matrix"><thead><tr>{"".join(head1)}</tr><tr>{"".join(head2)}</tr>'
        f"<tr>{''.join(head3)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _matrices(entries: list[dict[str, Any]]) -> str:
    """One table per endpoint: a case speaks one endpoint, so a single wide table would be
    mostly empty cells."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        groups.setdefault(_column(e)[0], []).append(e)
    return "".join(_matrix(groups[k]) for k in sorted(groups, key=lambda k: (_endpoint_rank(k), k)))


def _score_card(gateway: str, entries: list[dict[str, Any]]) -> str:
    parts = [f'<div class="score" data-gateway="{escape(gateway)}"><div class="gw">{escape(gateway)}</div>']
    for level in ("strict", "compatible"):
        ok, n = score(entries, level)
        pct = 100 * ok / n if n else 0.0
        parts.append(
            f'<div class="row" data-level="{level}"><span class="pct">{pct:.0f}%</span>'
            f"<span>{level}: {ok} of {n} items</span></div>"
            f'<div class="meter"><span style="width:{pct:.1f}%"></span></div>'
        )
    return "".join(parts) + "</div>"


def _codes_table(entries: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for e in entries:
        for code in {v["code"] for v in e.get("violations", [])}:
            counts[code] = counts.get(code, 0) + 1
    if not counts:
        return '<p class="muted">No violations.</p>'
    rows = "".join(
        f"<tr><td><code>{escape(c)}</code></td><td>{n}</td></tr>"
        for c, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    )
    return f'<table class="codes"><tr><th>violation code</th><th>items</th></tr>{rows}</table>'


def _embedded(items: list[dict[str, Any]]) -> str:
    data = {e["id"]: {**e, "verdict": VERDICTS[verdict(e)][1], "css": verdict(e)} for e in items}
    text = json.dumps(data, ensure_ascii=False)
    # Inside <script>, "</script>" or "<!--" in a relay's answer must not end the element.
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _digest(summary: dict[str, Any]) -> str:
    """The run's digest (summary.json's ``digest``), the same lines the terminal showed."""
    if not isinstance(summary.get("digest"), dict):
        return ""
    from harness.report.digest import render_digest

    text = "\n".join(render_digest(summary["digest"], width=10_000))
    return f'<pre class="digest" id="digest">{escape(text)}</pre>'


FIDELITY_CSS = {"consistent": "pass", "inconsistent": "fail", "inconclusive": "skip"}


def _fidelity(summary: dict[str, Any]) -> str:
    """The fidelity section (summary.json ``fidelity``): one row per gateway x model x endpoint x
    probe with its verdict, its sentence, its numbers and its codes; inconsistent rows first."""
    from harness.report.digest import fidelity_digest

    if not summary.get("fidelity"):
        return ""
    f = fidelity_digest(summary)
    rows = []
    for r in f["rows"]:
        css = FIDELITY_CSS.get(str(r["verdict"]), "skip")
        numbers = json.dumps(r.get("numbers") or {}, ensure_ascii=False, sort_keys=True)
        rows.append(
            f'<tr data-verdict="{escape(str(r["verdict"]))}"><td>{escape(str(r["gateway"]))}</td>'
            f"<td>{escape(str(r['model']))}</td><td>{escape(str(r['endpoint']))}</td><td>{escape(str(r['probe']))}</td>"
            f'<td class="cell {css}">{escape(str(r["verdict"]))}</td><td>{escape(str(r["reason"]))}'
            f'<div class="file">{escape(numbers)}</div></td>'
            f"<td>{''.join(f'<code>{escape(str(c))}</code> ' for c in r.get('codes') or ())}</td></tr>"
        )
    c = f["counts"]
    head = (
        f"{c['consistent']} consistent, {c['inconsistent']} inconsistent, {c['inconclusive']} inconclusive "
        "(docs/fidelity.md: what each probe proves and what it cannot)"
    )
    return (
        f'<section class="fidelity" id="fidelity"><h2>Fidelity</h2><p class="muted">{escape(head)}</p>'
        '<div class="wrap"><table class="codes"><tr><th>gateway</th><th>model</th><th>endpoint</th><th>probe</th>'
        "<th>verdict</th><th>what it found, with its numbers</th><th>codes</th></tr>"
        f"{''.join(rows)}</table></div></section>"
    )


def render(summary: dict[str, Any]) -> str:
    items: list[dict[str, Any]] = summary["items"]
    gateways = sorted({str(e.get("gateway") or summary.get("gateway") or "?") for e in items})
    by_gw = {g: [e for e in items if str(e.get("gateway") or summary.get("gateway") or "?") == g] for g in gateways}
    t = summary.get("totals", {})
    meta = (
        f"{t.get('items', len(items))} items: {t.get('passed', 0)} passed, {t.get('failed', 0)} failed, "
        f"{t.get('error', 0)} errors, {t.get('skipped', 0)} skipped · run level {summary.get('level', '?')} · "
        f"started {summary.get('started', '?')} · {summary.get('duration_s', '?')} s"
    )
    legend = "".join(
        f'<span style="--c: var(--{k})">{escape(sym)} {escape(words)}</span>' for k, (sym, words) in VERDICTS.items()
    )
    sections = "".join(
        f'<section class="gateway" data-gateway="{escape(g)}"><h2>Gateway {escape(g)}</h2>{_matrices(by_gw[g])}'
        f"<h3>Violation codes</h3>{_codes_table(by_gw[g])}</section>"
        for g in gateways
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relaycheck matrix · {escape(", ".join(gateways))}</title>
<style>{CSS}</style></head>
<body>
<h1>relaycheck conformance matrix</h1>
<div class="muted">{escape(meta)}</div>
{_incomplete(summary)}
{_digest(summary)}
{_fidelity(summary)}
<div class="scores">{"".join(_score_card(g, by_gw[g]) for g in gateways)}</div>
<div class="legend">{legend}</div>
<p class="muted">Click a cell for its violations and the wire transcript with arrival offsets.
Strict: the official wire format byte for byte. Compatible: what the official SDKs accept.</p>
{sections}
<h2>Latency per model</h2>
{latency_svg(items)}
<aside id="detail" aria-live="polite"></aside>
<script type="application/json" id="relaycheck-items">{_embedded(items)}</script>
<script>{JS}</script>
</body></html>
"""


def _incomplete(summary: dict[str, Any]) -> str:
    """A run that did not finish, or whose case files did not all load, says so first."""
    run = summary.get("run") or {}
    errors = summary.get("collection_errors") or []
    if (not run or run.get("complete", True)) and not errors:
        return ""
    from harness.report.completeness import describe_run

    head = f": {escape(describe_run(run))}" if run else ""
    lines = [f"<strong>Incomplete run</strong>{head}"]
    for e in errors:
        where = f"{e['file']}:{e['line']}:{e['col']}" if e.get("line") is not None else str(e.get("file"))
        lines.append(f"<br><code>{escape(where)}: {escape(str(e.get('message')))}</code>")
    return f'<div class="incomplete" role="alert">{"".join(lines)}</div>'


def write_matrix(summary: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render(summary), encoding="utf-8")
    tmp.replace(path)
    return path
