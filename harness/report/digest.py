"""The digest: what a run found, in one screen. Printed at the end of every run, stored as
``digest`` in summary.json and shown at the top of matrix.html, from the summary alone:

- per gateway x model x endpoint: passed / failed / skipped and the strict and compatible scores;
- the top defects grouped by code, with a plain sentence (harness/codes.py) and one example item;
- why items were skipped (capability not declared, not served, lacks a capability, other);
- the tokens the relay reported using, per model (live answers only: a replay costs nothing);
- what to do next: where the matrix is, and the curl of the first failure (for the built-in
  gateway, whose port closes with the run, how to bring it back with ``relaycheck serve``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from harness.report.summary import passes

TOP_DEFECTS = 5
SERVE_PORT = 8765  # `relaycheck serve`'s default port
SKIP_KINDS = (
    ("capability not declared for ", "capability not declared (run relaycheck discover or tag it in gateways.yaml)"),
    ("not served: ", "not served by the relay (answered not found for a model nobody declared there)"),
    ("not run: ", "not run (token budget spent)"),
)


def _score(entries: list[dict[str, Any]], level: str) -> tuple[int, int]:
    judged = [p for p in (passes(e, level) for e in entries) if p is not None]
    return sum(judged), len(judged)


def _skip_kind(reason: str) -> str:
    for prefix, words in SKIP_KINDS:
        if reason.startswith(prefix):
            return words
    if "lacks capability" in reason:
        return "the model lacks a capability the case requires (per its tags)"
    if "is not listed for" in reason:
        return "a cross-endpoint case for a model not listed on every endpoint it uses"
    return "other"


def build_digest(
    summary: dict[str, Any],
    *,
    matrix: str | None = None,
    builtin: bool = False,
    faults: tuple[str, ...] = (),
) -> dict[str, Any]:
    from harness.codes import all_codes

    items: list[dict[str, Any]] = summary.get("items", [])
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for e in items:
        key = (
            str(e.get("gateway") or summary.get("gateway") or "?"),
            str(e.get("model") or "request-model"),
            str(e.get("endpoint") or "other"),
        )
        groups.setdefault(key, []).append(e)
    rows = []
    for (gateway, model, endpoint), entries in sorted(groups.items()):
        outcomes = Counter(e["outcome"] for e in entries)
        spent = [e for e in entries if e.get("source", "live") != "replayed" and e["outcome"] != "skipped"]
        rows.append(
            {
                "gateway": gateway,
                "model": model,
                "endpoint": endpoint,
                **{k: outcomes.get(k, 0) for k in ("passed", "failed", "error", "skipped")},
                "strict": list(_score(entries, "strict")),
                "compatible": list(_score(entries, "compatible")),
                "input_tokens": sum(e.get("input_tokens") or 0 for e in spent),
                "output_tokens": sum(e.get("output_tokens") or 0 for e in spent),
            }
        )
    meanings = all_codes()
    by_code: dict[str, list[str]] = {}
    for e in items:
        if e["outcome"] not in ("failed", "error"):
            continue  # a skipped item's violations (e.g. the 404 that made it "not served") are no defect
        for code in dict.fromkeys(v["code"] for v in e.get("violations", [])):
            by_code.setdefault(code, []).append(e["id"])
    defects = [
        {"code": c, "items": len(ids), "meaning": meanings.get(c, "(no description)"), "example": ids[0]}
        for c, ids in sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    skips = Counter(_skip_kind(str(e.get("skip_reason", ""))) for e in items if e["outcome"] == "skipped")
    tokens: dict[str, dict[str, int]] = {}
    for e in items:
        if e.get("source", "live") == "replayed" or e["outcome"] == "skipped":
            continue
        t = tokens.setdefault(str(e.get("model") or "request-model"), {"input": 0, "output": 0})
        t["input"] += e.get("input_tokens") or 0
        t["output"] += e.get("output_tokens") or 0
    tokens = {m: t for m, t in tokens.items() if t["input"] or t["output"]}
    first = next((e for e in items if e["outcome"] == "failed"), None) or next(
        (e for e in items if e["outcome"] == "error"), None
    )
    return {
        "totals": summary.get("totals", {}),
        "served_nowhere": served_nowhere(items),
        "rows": rows,
        "defects": defects[:TOP_DEFECTS],
        "more_codes": max(0, len(defects) - TOP_DEFECTS),
        "skipped": dict(skips.most_common()),
        "tokens": tokens,
        "next": _next_steps(first, matrix, builtin, faults),
        **({"fidelity": fidelity_digest(summary)} if summary.get("fidelity") else {}),
    }


def fidelity_digest(summary: dict[str, Any]) -> dict[str, Any]:
    """The fidelity section: counts per verdict, and one row per gateway x model x endpoint x
    probe (inconsistent first) with its sentence, its numbers and its codes."""
    records = [r for r in summary.get("fidelity") or () if isinstance(r, dict)]
    order = {"inconsistent": 0, "inconclusive": 1, "consistent": 2}
    rows = [
        {k: r.get(k) for k in ("gateway", "model", "endpoint", "probe", "verdict", "reason", "numbers", "codes")}
        for r in sorted(
            records,
            key=lambda r: (
                order.get(str(r.get("verdict")), 3),
                *(str(r.get(k)) for k in ("gateway", "model", "endpoint", "probe")),
            ),
        )
    ]
    counts = Counter(str(r.get("verdict")) for r in records)
    return {"counts": {k: counts.get(k, 0) for k in order}, "rows": rows}


def served_nowhere(items: list[dict[str, Any]]) -> list[str]:
    """Models asked for that the relay answered "not found" for on every endpoint they were tried
    on. Their items are skipped as not served, and the few model-independent items (a wrong key's
    401) still pass: without this the run would look green while the model was never checked."""
    tried: dict[str, set[str]] = {}
    missing: dict[str, set[str]] = {}
    for e in items:
        model, endpoint = e.get("model"), e.get("endpoint")
        if not model or not endpoint:
            continue
        tried.setdefault(model, set()).add(endpoint)
        if str(e.get("skip_reason", "")).startswith("not served: "):
            missing.setdefault(model, set()).add(endpoint)
    return sorted(m for m, endpoints in missing.items() if endpoints == tried[m])


def _next_steps(first: dict[str, Any] | None, matrix: str | None, builtin: bool, faults: tuple[str, ...]) -> list[str]:
    out = []
    if matrix:
        out.append(f"open {matrix} (every item, its violations and its wire transcript)")
    if first is None:
        return out
    out.append(f"first failure: {first['id']}")
    curl = first.get("reproduce")
    if curl and builtin:
        # The built-in gateway served on a random port that closed with the run.
        serve = " ".join(["relaycheck serve", f"--port {SERVE_PORT}", *(f"--fault {f}" for f in faults)])
        out.append(
            "the built-in gateway's port closed with the run; start it again: "
            f"export RELAYCHECK_API_KEY=rc-local-key; {serve} &"
        )
        curl = re.sub(r"http://127\.0\.0\.1:\d+", f"http://127.0.0.1:{SERVE_PORT}", curl, count=1)
    if curl:
        out.append(f"reproduce: {curl}")
    return out


def _pct(pair: list[int]) -> str:
    ok, n = pair
    return f"{100 * ok / n:.0f}%" if n else "-"


def render_fidelity(f: dict[str, Any] | None) -> list[str]:
    """The digest's fidelity lines: what the probes (and compare) concluded, with the numbers."""
    if not isinstance(f, dict) or not f.get("rows"):
        return []
    c = f.get("counts", {})
    lines = [
        f"fidelity: {c.get('consistent', 0)} consistent, {c.get('inconsistent', 0)} inconsistent, "
        f"{c.get('inconclusive', 0)} inconclusive (gateway x model x endpoint x probe)"
    ]
    agreed: Counter[str] = Counter()
    for r in f["rows"]:
        if r.get("verdict") == "consistent":
            agreed[str(r.get("probe"))] += 1
            continue
        codes = f" [{', '.join(map(str, r['codes']))}]" if isinstance(r.get("codes"), list) and r["codes"] else ""
        lines.append(
            f"  {str(r.get('verdict')).upper():12} {r.get('gateway')} {r.get('model')} {r.get('endpoint')} "
            f"{r.get('probe')}: {r.get('reason')}{codes}"
        )
    if agreed:  # one line: every consistent verdict, with its numbers, is in summary.json and the matrix
        lines.append("  consistent: " + ", ".join(f"{p} ({n})" for p, n in sorted(agreed.items())))
    return lines


def render_digest(d: dict[str, Any], width: int = 160) -> list[str]:
    """The digest as terminal lines (one screen for the whole bundled suite)."""
    t = d.get("totals", {})
    lines = [
        f"relaycheck digest: {t.get('items', 0)} items: {t.get('passed', 0)} passed, {t.get('failed', 0)} failed, "
        f"{t.get('error', 0)} errors, {t.get('skipped', 0)} skipped"
    ]
    for model in d.get("served_nowhere", []):
        lines.append(
            f'  NOT SERVED: {model} was answered "not found" on every endpoint tried: nothing about it was '
            "checked (check --models; relaycheck discover lists what the relay serves)"
        )
    rows = d.get("rows", [])
    if rows:
        mw = max(len("model"), *(len(r["model"]) for r in rows))
        gw = max(len("gateway"), *(len(r["gateway"]) for r in rows))
        lines.append(
            f"  {'gateway':{gw}}  {'model':{mw}}  {'endpoint':9}  pass  fail  skip  strict  compatible  tokens in/out"
        )
        for r in rows:
            lines.append(
                f"  {r['gateway']:{gw}}  {r['model']:{mw}}  {r['endpoint']:9}  {r['passed']:4}  "
                f"{r['failed'] + r['error']:4}  {r['skipped']:4}  {_pct(r['strict']):>6}  {_pct(r['compatible']):>10}"
                f"  {r.get('input_tokens', 0)}/{r.get('output_tokens', 0)}"
            )
    if d.get("defects"):
        lines.append("top defects:")
        for x in d["defects"]:
            lines.append(f"  {x['code']} ({x['items']} items): {x['meaning']}")
            lines.append(f"      e.g. {x['example']}")
        if d.get("more_codes"):
            lines.append(f"  ... and {d['more_codes']} more codes (see the matrix)")
    if d.get("skipped"):
        lines.append(f"skipped ({sum(d['skipped'].values())}):")
        lines += [f"  {n} {kind}" for kind, n in d["skipped"].items()]
    if d.get("tokens"):
        total_in = sum(t["input"] for t in d["tokens"].values())
        total_out = sum(t["output"] for t in d["tokens"].values())
        lines.append(
            f"tokens used (from usage, live answers): {total_in} in / {total_out} out over {len(d['tokens'])} "
            "model(s); per model x endpoint in the table"
        )
    lines += render_fidelity(d.get("fidelity"))
    for step in d.get("next", []):
        lines.append(f"next: {step}")
    return [
        line if len(line) <= width or line.startswith("next: reproduce") else line[: width - 1] + "…" for line in lines
    ]
