"""``relaycheck compare --baseline DIR``: the relay against a recording of the official API.

Without ``--replay`` the relay is recorded live first: the ordinary `relaycheck record` run (its
options, its reports in --report-dir) into --cassette-dir (default: a temporary folder), then the
two recordings are compared item by item (harness/fidelity/compare.py) and the verdicts added to
that run's summary.json and matrix.html. With ``--replay DIR`` nothing is sent: DIR is a recording
of the relay made earlier. Exit 0: no difference; 1: a difference; 2: usage error or nothing
recorded on both sides; 3: the relay run did not finish. A live relay run that fails items of the
suite also exits 1 (its reports say which).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import exitcodes
from harness.fidelity import compare
from harness.fidelity import report as fidelity_report
from harness.fidelity.probe import Verdict
from harness.gateways import ConfigError, Overrides, resolve

SHOW_ITEMS = 20  # differing items printed; the rest are in summary.json and matrix.html


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--baseline",
        type=Path,
        action="append",
        required=True,
        metavar="DIR",
        help="a gateway's cassette folder recorded against the official API (<cassette-dir>/<gateway>, "
        "written by relaycheck record --gateway official --cassette-dir DIR); repeatable (e.g. one per vendor)",
    )
    p.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="compare this earlier recording of the relay (<cassette-dir>/<gateway>) instead of running it now",
    )


def run(args: argparse.Namespace, extra: list[str], run_suite: Callable[[argparse.Namespace, list[str]], int]) -> int:
    started = time.time()
    baseline = _baselines(args.baseline)
    report_dir = Path(args.report_dir or "reports")
    code = exitcodes.PASSED
    if args.replay is not None:
        relay, gateway = compare.load(args.replay), args.replay.name
    else:
        gw = resolve(
            Overrides(
                gateway=args.gateway,
                base_url=args.base_url,
                models=tuple(m for m in (args.models or "").split(",") if m),
                gateways_file=Path(args.gateways_file) if args.gateways_file else None,
            )
        )
        from harness.recording.cassette import gateway_dir

        with tempfile.TemporaryDirectory(prefix="relaycheck-compare-") as tmp:
            root = Path(args.cassette_dir) if args.cassette_dir else Path(tmp)
            folder = gateway_dir(root, gw.name)
            if any(folder.resolve() == b.resolve() for b in args.baseline):
                # Recording the relay there would overwrite the baseline, then agree with itself.
                raise ConfigError(f"--cassette-dir: the relay would be recorded into the baseline {folder}")
            args.cassette_dir, args.record_mode = str(root), "all"
            code = run_suite(args, extra)
            if code == exitcodes.USAGE:
                return code
            if not folder.is_dir():
                print(f"relaycheck compare: the relay run recorded nothing in {folder}", file=sys.stderr)
                return exitcodes.USAGE if code != exitcodes.INCOMPLETE else code
            relay, gateway = compare.load(folder), gw.name
    results = compare.compare(baseline, relay)
    verdicts = compare.verdicts(results)
    records = [fidelity_report.record(v, gateway) for v in verdicts]
    errors = [{"source": e.source, "where": e.where, "message": e.message} for e in (*baseline.errors, *relay.errors)]
    section = {
        "baseline": [str(b) for b in args.baseline],
        "relay": str(args.replay) if args.replay is not None else "recorded live",
        "unreadable": errors,
        "items": fidelity_report.compare_entries(results, gateway),
    }
    matrix = not getattr(args, "no_matrix", False)
    path = None
    if args.replay is None:  # into the reports of the relay run just made
        path = fidelity_report.attach(report_dir, records, compare=section, matrix=matrix, since=started)
    if path is None:
        path = fidelity_report.standalone(
            report_dir,
            section["items"],
            records,
            gateway=gateway,
            tool="compare",
            started=started,
            compare=section,
            matrix=matrix,
        )
    return _print(results, verdicts, errors, path, code)


def _baselines(folders: list[Path]) -> compare.Recording:
    """Several baselines (e.g. one per vendor's official API) as one; an item in two is an error."""
    items: dict[str, compare.Item] = {}
    errors = []
    for folder in folders:
        rec = compare.load(folder)
        twice = sorted(items.keys() & rec.items.keys())
        if twice:
            raise ConfigError(f"{folder}: item {twice[0]} is also in another baseline (give each item once)")
        items.update(rec.items)
        errors.extend(rec.errors)
    return compare.Recording(items, tuple(errors))


def _print(
    results: list[compare.ItemResult], verdicts: list[Verdict], errors: list[dict[str, str]], path: Path, run_code: int
) -> int:
    print("relaycheck compare: verdict per endpoint and model against the baseline")
    for v in verdicts:
        print(f"  {v.outcome:12} {v.endpoint:9} {v.model:28} {v.reason}")
    differing = [r for r in results if r.violations]
    for r in differing[:SHOW_ITEMS]:
        for v in r.violations:
            print(f"  {v.code}  {r.key}  {v.path}: {v.message}")
    if len(differing) > SHOW_ITEMS:
        print(f"  ... and {len(differing) - SHOW_ITEMS} more differing items (summary.json `compare`, matrix.html)")
    for side in ("baseline", "relay"):
        only = [r.key for r in results if r.only == side]
        if only:
            print(f"relaycheck compare: {len(only)} item(s) recorded in the {side} only, e.g. {only[0]}")
    unseen = sorted({r.model for r in results if r.only == "baseline"} - {r.model for r in results if r.only is None})
    if unseen:  # the usual cause: another selection than the baseline's
        print(
            f"relaycheck compare: the relay run has no item of {', '.join(unseen)}: give it the baseline's "
            "selection (--models, --endpoints, --cases)"
        )
    for e in errors[:5]:
        print(f"relaycheck compare: unreadable: {e['source']} {e['where']}: {e['message']}", file=sys.stderr)
    compared = sum(1 for r in results if r.only is None and r.compared)
    print(
        f"relaycheck compare: {compared} items compared, {len(differing)} differ, "
        f"{sum(1 for r in results if r.only)} on one side only, {len(errors)} unreadable; {path}"
    )
    if run_code == exitcodes.INCOMPLETE:
        return run_code
    if differing or run_code == exitcodes.FAILED:
        return exitcodes.FAILED
    if not compared:
        print("relaycheck: error: no item was recorded on both sides: nothing was compared", file=sys.stderr)
        return exitcodes.USAGE
    return exitcodes.PASSED
