"""``relaycheck report diff | merge | html``: the CLI side of the reports (argparse only, so
``harness.cli`` stays a dispatcher)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Literal, TextIO

from harness.report.summary import SummaryError, load_summary, write_summary


def add_parser(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report",
        help="compare, merge and render summary.json files",
        description="Work on summary.json files written by `relaycheck run`.",
    )
    rsub = report.add_subparsers(dest="report_command", metavar="ACTION")
    d = rsub.add_parser(
        "diff",
        help="what newly fails, what got fixed, latency regressions (exit 1 on any)",
        description="Compare a new summary with a baseline. Exit 1 when an item newly fails, a "
        "failing item has a new violation code, latency regressed, or items of the baseline are missing "
        "from the new run (unless --allow-missing); else 0.",
    )
    d.add_argument("old", type=Path, help="baseline summary.json (e.g. last night's)")
    d.add_argument("new", type=Path, help="summary.json of this run")
    d.add_argument(
        "--latency-threshold",
        type=float,
        default=1.5,
        metavar="RATIO",
        help="a regression is slower than RATIO x the old value (default 1.5; 0 turns latency off)",
    )
    d.add_argument(
        "--latency-min-ms",
        type=float,
        default=200.0,
        metavar="MS",
        help="... and slower by at least MS milliseconds (default 200)",
    )
    d.add_argument(
        "--latency-scope",
        choices=("item", "group"),
        default="item",
        help="compare each item (default) or the median per gateway, model, endpoint and stream "
        "(steadier against live models' jitter)",
    )
    d.add_argument("--json", type=Path, metavar="PATH", help="also write the diff as JSON")
    d.add_argument(
        "--allow-missing",
        action="store_true",
        help="items of the baseline missing from the new run (an interrupted run, a case file that no "
        "longer loads, a narrower selection) do not fail the diff",
    )
    m = rsub.add_parser(
        "merge",
        help="fold the summaries of sharded runs into one, checking that none is missing",
        description="Fold summaries (the shards of a --shard K/N run, or runs per gateway) into one. "
        "Exit 1, writing nothing, when they are not one whole: a shard 1..N missing or given twice, an "
        "item a shard selected without a result, an item in two inputs; each is named.",
    )
    m.add_argument("out", type=Path)
    m.add_argument("inputs", type=Path, nargs="+")
    m.add_argument(
        "--partial",
        action="store_true",
        help="merge what is there anyway (exit 0): the gaps become warnings and the merged summary's "
        "'incomplete' list; an id in two inputs keeps the later file's entry",
    )
    h = rsub.add_parser(
        "html",
        help="build matrix.html from a summary",
        description="Build the self-contained matrix page from a summary.json.",
    )
    h.add_argument("summary", type=Path)
    h.add_argument("-o", "--output", type=Path, help="default: matrix.html next to the summary")
    t = rsub.add_parser(
        "trend",
        help="nights over time: pass rate, codes, TTFT/latency per gateway and model",
        description="Build a self-contained trend page from several summary.json files (or folders "
        "holding them, one per night): per gateway and model the pass rate, items per violation code and "
        "TTFT/latency p50/p95 per night, and the night each current failure started.",
    )
    t.add_argument("inputs", type=Path, nargs="+", metavar="SUMMARY|DIR")
    t.add_argument("-o", "--output", type=Path, default=Path("reports/trend.html"), help="default: %(default)s")


def run(args: argparse.Namespace) -> int:
    try:
        if args.report_command == "diff":
            return _diff(args)
        if args.report_command == "merge":
            return _merge(args)
        if args.report_command == "html":
            return _html(args)
        if args.report_command == "trend":
            return _trend(args)
    except SummaryError as exc:
        print(f"relaycheck: error: {exc}", file=sys.stderr)
        return 2
    print("relaycheck report: give an action: diff, merge, html or trend (see relaycheck report -h)", file=sys.stderr)
    return 2


def _diff(args: argparse.Namespace) -> int:
    from harness.report.diff import as_json, diff, render

    old, new = load_summary(args.old), load_summary(args.new)
    if old.get("level") != new.get("level"):
        print(
            f"relaycheck: warning: the runs were judged at different levels ({old.get('level')} vs "
            f"{new.get('level')}); outcomes may differ for that reason alone",
            file=sys.stderr,
        )
    run = new.get("run") or {}
    if run and not run.get("complete", True):
        from harness.report.completeness import describe_run

        print(f"relaycheck: warning: {args.new} is an incomplete run: {describe_run(run)}", file=sys.stderr)
    d = diff(old, new, ratio=args.latency_threshold, min_ms=args.latency_min_ms, scope=args.latency_scope)
    print(render(d, str(args.old), str(args.new), args.latency_threshold, args.latency_min_ms, args.allow_missing))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(as_json(d), indent=2) + "\n", encoding="utf-8")
    return 1 if d.fails(args.allow_missing) else 0


def _merge(args: argparse.Namespace) -> int:
    from harness.report.merge import completeness, merge

    summaries = [load_summary(p) for p in args.inputs]
    sources = [str(p) for p in args.inputs]
    problems = completeness(summaries, sources)
    if problems and not args.partial:
        for p in problems:
            print(f"relaycheck: error: {p}", file=sys.stderr)
        print(
            f"relaycheck: not merged: the {len(summaries)} summaries are not one whole run "
            "(--partial merges them anyway)",
            file=sys.stderr,
        )
        return 1
    merged, warnings = merge(summaries, sources)
    if problems:
        merged["incomplete"] = problems
        warnings = [*problems, *(w for w in warnings if "; keeping " not in w)]
    for w in warnings:
        print(f"relaycheck: warning: {w}", file=sys.stderr)
    write_summary(args.out, merged)
    t = merged["totals"]
    print(
        f"relaycheck: merged {len(summaries)} summaries, {t['items']} items ({t['failed']} failed, "
        f"{t['error']} errors) into {args.out}"
    )
    return 0


def _html(args: argparse.Namespace) -> int:
    from harness.report.html import write_matrix

    out = write_matrix(load_summary(args.summary), args.output or args.summary.parent / "matrix.html")
    print(f"relaycheck: matrix written to {out}")
    return 0


def _trend(args: argparse.Namespace) -> int:
    from harness.report.trend import collect, write_trend

    nights = collect(args.inputs)
    out = write_trend(nights, args.output)
    print(f"relaycheck: trend of {len(nights)} nights written to {out}")
    return 0


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options of `relaycheck run` alone (not the plugin's): which reports it writes, and its
    progress display."""
    p.add_argument(
        "--progress",
        choices=("auto", "live", "lines", "off"),
        default="auto",
        help="auto (default): a redrawn line on a terminal, a line every N items when CI is set or "
        "output is not a terminal; off: pytest's own output",
    )
    p.add_argument("--no-junit", action="store_true", help="do not write junit.xml into the report directory")
    p.add_argument("--no-allure", action="store_true", help="do not write allure-results into the report directory")


Mode = Literal["live", "lines"]


def choose_mode(requested: str, stream: TextIO | None = None, env: dict[str, str] | None = None) -> Mode:
    """The progress display for ``--progress``: redrawn on a terminal, lines in CI or a log."""
    if requested in ("live", "lines"):
        return requested  # type: ignore[return-value]
    env = dict(os.environ) if env is None else env
    stream = sys.stdout if stream is None else stream
    ci = env.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    is_tty = bool(getattr(stream, "isatty", lambda: False)())
    return "live" if is_tty and not ci else "lines"


def run_pytest_args(args: argparse.Namespace) -> list[str]:
    """pytest arguments for those options. Later arguments (after --) still override them."""
    # allure-pytest's per-item hooks cost more than the rest of the reporting together: relaycheck
    # writes the same allure-results itself (harness/report/allure.py) with its plugin off.
    out: list[str] = ["-p", "no:allure_pytest"]
    report_dir = Path(args.report_dir or "reports")
    if not args.no_junit:
        out += ["--junitxml", str(report_dir / "junit.xml"), "-o", "junit_suite_name=relaycheck"]
    if not args.no_allure:
        out += ["--alluredir", str(report_dir / "allure-results"), "--clean-alluredir"]
    if args.progress != "off":
        # Our line replaces pytest's per-file dots; -q and the classic style keep pytest from
        # drawing its own percentage over it. Failures are still reported in full at the end.
        out += ["--relaycheck-progress", choose_mode(args.progress), "-q", "-o", "console_output_style=classic"]
    return out
