"""``relaycheck``: run the suite against a relay (or the built-in reference gateway), lint
recorded traffic, list violation codes, serve the reference gateway.

Exit codes: 0 every item passed, 1 some item failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.gateways import ConfigError, Overrides, resolve
from harness.report import commands as report_commands

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CASES = REPO / "cases"


def _run_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog="Arguments after -- go to pytest unchanged (e.g. -- -k weather -n 4 -x).",
    )
    p.add_argument("--gateway", help="gateway name from gateways.yaml (default: its default, the built-in 'local')")
    p.add_argument("--base-url", help="relay base URL, e.g. https://relay.example or https://relay.example/v1")
    p.add_argument(
        "--api-key",
        help="API key; better: export the variable named by the gateway's api_key_env (RELAYCHECK_API_KEY by default)",
    )
    p.add_argument("--auth", choices=("bearer", "x-api-key", "both"), help="how /v1/messages authenticates")
    p.add_argument("--models", help="comma-separated model names, applied to every selected endpoint")
    p.add_argument("--endpoints", help="comma-separated subset of chat,messages,responses (default: all)")
    p.add_argument("--report-dir", default="reports", help="where summary.json is written (default: reports/)")
    p.add_argument("--gateways-file", help="gateway config (default: ./gateways.yaml, else the built-in one)")
    p.add_argument("--cases", action="append", help="case file or directory (repeatable; default: the bundled cases/)")
    p.add_argument(
        "--level",
        choices=("strict", "compatible"),
        default="strict",
        help="strict: the official wire format byte for byte (default); compatible: what the official SDKs accept",
    )
    p.add_argument(
        "--profile",
        choices=("official", "open-responses"),
        default="official",
        help="Responses stream rules: the official API (default) or the Open Responses spec",
    )
    p.add_argument("--anthropic-version", help="anthropic-version header (default from the gateway config)")
    p.add_argument(
        "--extras",
        choices=("note", "fail"),
        default="note",
        help="fields the official API does "
        "not send: note (default: schema.extra notes) or fail (they fail the strict level)",
    )
    _recording_args(p, name)
    report_commands.add_run_options(p)  # --fault, --progress, which reports to write
    p.add_argument("--concurrency", type=int, help="live items in flight at once (default: the gateway's)")
    p.add_argument(
        "--rate-limit",
        type=float,
        metavar="RPM",
        help="requests per minute to the gateway, all workers together (default: the gateway's rate_limit_rpm)",
    )
    p.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    return p


_RECORD_DEFAULT = {"run": None, "record": "all", "replay": "none"}


def _recording_args(p: argparse.ArgumentParser, name: str) -> None:
    from harness.recording import PACINGS, RECORD_MODES

    p.add_argument(
        "--record-mode",
        choices=RECORD_MODES,
        default=_RECORD_DEFAULT.get(name),
        help="cassettes, with vcrpy's modes: auto (run's default: replay items that have a cassette, "
        "run the others live), none (replay's: offline), once, new_episodes, all (record's), off",
    )
    p.add_argument(
        "--replay-pacing",
        choices=PACINGS,
        help="fast (default; streaming not judged) or real (chunks re-emitted at their recorded offsets)",
    )
    p.add_argument("--cassette-dir", help="where cassettes live (default: cassettes/ next to the cases)")
    p.add_argument("--max-cassette-age", type=float, metavar="DAYS", help="note replayed cassettes older than this")
    p.add_argument("--redact-pattern", action="append", metavar="REGEX", help="extra text to mask (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relaycheck",
        description="Conformance and regression harness for LLM API relays: does the relay answer exactly "
        "as the official OpenAI Chat Completions, Anthropic Messages and OpenAI Responses APIs would?",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _run_parser(sub, "run", "run the conformance suite against a relay (default: the built-in reference gateway)")
    _run_parser(sub, "record", "run the suite live and record every item's cassette (--record-mode all)")
    _run_parser(sub, "replay", "replay the suite from cassettes, offline (--record-mode none)")
    lint = sub.add_parser(
        "lint-traffic",
        help="check recorded exchanges offline (corpus JSONL, HAR)",
        description="Check recorded traffic (JSONL in the shared corpus format, HAR files) "
        "and print a verdict per interaction.",
    )
    lint.add_argument("paths", nargs="+", type=Path)
    lint.add_argument("--level", choices=("strict", "compatible"), default="strict")
    lint.add_argument("--profile", choices=("official", "open-responses"), default="official")
    lint.add_argument("--report-dir", default="reports", help="where summary.json is written")
    lint.add_argument("--quiet", "-q", action="store_true", help="print failing interactions only")
    codes = sub.add_parser("codes", help="list every violation code")
    codes.add_argument("--markdown", action="store_true", help="as the README's Markdown table")
    serve = sub.add_parser("serve", help="serve the reference gateway on loopback (for client developers)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    serve.add_argument("--fault", action="append", default=[], help="switch a named misbehaviour on (repeatable)")
    serve.add_argument("--api-key", help="key the gateway accepts (default: $RELAYCHECK_API_KEY)")
    # Slow mode, for trying a client's (or relaycheck's own) concurrency, rate limits and retries.
    serve.add_argument("--latency", type=float, default=0.0, metavar="S", help="seconds before each answer")
    serve.add_argument("--chunk-delay", type=float, default=0.0, metavar="S", help="seconds between stream events")
    serve.add_argument(
        "--fail-every",
        type=int,
        default=0,
        metavar="N",
        help="answer every N-th request with an official 429 and Retry-After",
    )
    serve.add_argument("--retry-after", type=float, default=1.0, metavar="S", help="the 429's Retry-After")
    sub.add_parser("faults", help="list the reference gateway's named faults")
    det = sub.add_parser(
        "detection",
        help="run the bundled suite once per fault and write the detection matrix",
        description="Switch each named fault of the reference gateway on in turn, run the "
        "bundled suite (first model per case, sync and stream) and write which items caught it "
        "with which codes. Exit 1 when a fault goes uncaught or misnamed, or the clean run fails.",
    )
    det.add_argument(
        "--output", "-o", type=Path, help="write the Markdown here (e.g. docs/detection.md); default: print it"
    )
    det.add_argument("--fault", action="append", help="only these faults (repeatable; default: all)")
    report_commands.add_parser(sub)  # relaycheck report diff | merge | html
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command in ("run", "record", "replay"):
            return _run(args, extra)
        if args.command == "lint-traffic":
            from harness.lint import lint_paths

            return lint_paths(
                args.paths, level=args.level, profile=args.profile, report_dir=Path(args.report_dir), quiet=args.quiet
            )
        if args.command == "codes":
            from harness import codes

            if args.markdown:
                print(codes.markdown_table())
            else:
                for code, text in codes.all_codes().items():
                    print(f"{code:28} {text}")
            return 0
        if args.command == "faults":
            from harness.refgateway import FAULTS

            for name, text in sorted(FAULTS.items()):
                print(f"{name:32} {text}")
            return 0
        if args.command == "serve":
            return _serve(args)
        if args.command == "detection":
            return _detection(args)
        if args.command == "report":
            return report_commands.run(args)
    except ConfigError as exc:
        print(f"relaycheck: error: {exc}", file=sys.stderr)
        return 2
    parser.print_help()
    return 2


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    import pytest

    # Validate the configuration here so a mistake is one line and exit 2, not a pytest trace.
    resolve(
        Overrides(
            gateway=args.gateway,
            base_url=args.base_url,
            api_key=args.api_key,
            auth=args.auth,
            models=tuple(m for m in (args.models or "").split(",") if m),
            gateways_file=Path(args.gateways_file) if args.gateways_file else None,
        )
    )
    cases = [Path(c) for c in (args.cases or [str(DEFAULT_CASES)])]
    for c in cases:
        if not c.exists():
            raise ConfigError(f"no such case file or directory: {c}")
    rootdir = DEFAULT_CASES.parent if all(_inside(c, DEFAULT_CASES.parent) for c in cases) else Path.cwd()
    # --assert=plain: the plugin's checks raise ConformanceFailure themselves, so pytest need not
    # rewrite the harness's modules at every start (a third of a second).
    pytest_args = [str(c) for c in cases] + [
        "--rootdir",
        str(rootdir),
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "-o",
        "testpaths=",
        "-o",
        "python_files=",
        "--continue-on-collection-errors",
        "--report-dir",
        args.report_dir,
        "--level",
        args.level,
        "--profile",
        args.profile,
        "--extras",
        args.extras,
        "-r",
        "fEs",
    ]
    for flag in ("gateway", "base_url", "api_key", "auth", "models", "endpoints", "gateways_file", "anthropic_version"):
        value = getattr(args, flag)
        if value:
            pytest_args += [f"--{flag.replace('_', '-')}", value]
    for flag in ("record_mode", "replay_pacing", "cassette_dir", "max_cassette_age", "concurrency", "rate_limit"):
        if getattr(args, flag) is not None:
            pytest_args += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    for pattern in args.redact_pattern or ():
        pytest_args += ["--redact-pattern", pattern]
    pytest_args += report_commands.run_pytest_args(args) + list(args.pytest_args) + extra
    code = int(pytest.main(pytest_args))
    # pytest: 0 ok, 1 failures, 2 interrupted, 3 internal error, 4 usage error, 5 no tests collected.
    if code == 5:
        print("relaycheck: error: no case matched the selection (check --endpoints, --models, -k, -m)", file=sys.stderr)
        return 2
    return {0: 0, 1: 1}.get(code, 2 if code == 4 else 1)


def _detection(args: argparse.Namespace) -> int:
    from harness.detection import detection_matrix, render_markdown
    from harness.refgateway import FAULTS

    unknown = [f for f in args.fault or () if f not in FAULTS]
    if unknown:
        raise ConfigError(f"unknown fault {', '.join(unknown)} (see `relaycheck faults`)")
    matrix = detection_matrix(DEFAULT_CASES, args.fault)
    text = render_markdown(matrix)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"relaycheck: detection matrix written to {args.output}")
    else:
        print(text, end="")
    bad = [r.fault for r in matrix.rows if not r.caught_by or r.misnamed]
    for fault in bad:
        print(f"relaycheck: fault {fault} is not caught, or fails items without its code", file=sys.stderr)
    return 1 if bad or matrix.clean_failures else 0


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _serve(args: argparse.Namespace) -> int:
    import os

    from harness.refgateway import FAULTS, serve

    unknown = [f for f in args.fault if f not in FAULTS]
    if unknown:
        raise ConfigError(f"unknown fault {', '.join(unknown)} (see `relaycheck faults`)")
    key = args.api_key or os.environ.get("RELAYCHECK_API_KEY")
    if not key:
        raise ConfigError("give the key the gateway accepts: --api-key or $RELAYCHECK_API_KEY")
    print(f"relaycheck reference gateway on http://{args.host}:{args.port} (faults: {', '.join(args.fault) or 'none'})")
    serve(
        key,
        host=args.host,
        port=args.port,
        faults=args.fault,
        latency=args.latency,
        chunk_delay=args.chunk_delay,
        fail_every=args.fail_every,
        retry_after=args.retry_after,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
