"""``relaycheck``: run the suite against a relay (or the built-in reference gateway), lint
recorded traffic, list violation codes, serve the reference gateway.

Exit codes (harness/exitcodes.py): 0 every item passed, 1 the relay failed items, 2 usage or
configuration error, 3 relaycheck itself could not finish (interrupted, internal error, reports).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import discover_cli, exitcodes, options, resources
from harness.fidelity import cli as fidelity_cli
from harness.fidelity import compare_cli
from harness.gateways import ConfigError, Overrides, resolve
from harness.report import commands as report_commands
from harness.report.discard import discard_in_background

DEFAULT_CASES = resources.cases_dir()


_RECORD_DEFAULT = {"run": None, "record": "all", "replay": "none"}


def _run_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog="Arguments after -- go to pytest unchanged (e.g. -- -k weather -n 4 -x).",
    )
    # The plugin's own options, forwarded to pytest as given; see harness/options.py.
    forwarded: list[tuple[str, str, str | None, Any]] = []

    def add(*flags: str, **kwargs: Any) -> None:
        action = p.add_argument(*flags, **kwargs)
        forwarded.append((flags[0], action.dest, kwargs.get("action"), action.default))

    options.add_options(add, cli=True)
    p.set_defaults(forwarded=forwarded, record_mode=_RECORD_DEFAULT.get(name))
    p.add_argument("--cases", action="append", help="case file or directory (repeatable; default: the bundled cases/)")
    report_commands.add_run_options(p)  # --progress, --no-junit, --no-allure
    p.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relaycheck",
        description="Conformance and regression harness for LLM API relays: does the relay answer exactly "
        "as the official OpenAI Chat Completions, Anthropic Messages, OpenAI Responses and Google Gemini APIs would?",
        epilog=exitcodes.epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = _run_parser(sub, "run", "run the conformance suite against a relay (default: the built-in reference gateway)")
    fidelity_cli.add_run_option(run)  # --fidelity
    _run_parser(sub, "record", "run the suite live and record every item's cassette (--record-mode all)")
    _run_parser(sub, "replay", "replay the suite from cassettes, offline (--record-mode none)")
    compare_cli.add_arguments(
        _run_parser(sub, "compare", "record the relay and compare it item by item with a recording of the official API")
    )
    from harness.lint import add_arguments as add_lint_arguments

    add_lint_arguments(sub)
    codes = sub.add_parser("codes", help="list every violation code")
    codes.add_argument("--markdown", action="store_true", help="as the README's Markdown table")
    codes.add_argument("--grades", action="store_true", help="docs/codes.md: every code's severity and evidence")
    serve = sub.add_parser(
        "serve",
        help="serve the reference gateway on loopback (for client developers)",
        description="Serve the reference gateway on loopback. It accepts one API key: --api-key, else "
        "$RELAYCHECK_API_KEY, else a key it makes up and prints at start.",
    )
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    serve.add_argument("--fault", action="append", default=[], help="switch a named misbehaviour on (repeatable)")
    serve.add_argument(
        "--api-key", help="key the gateway accepts (default: $RELAYCHECK_API_KEY, else one made up and printed)"
    )
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
    discover_cli.add_parser(sub)  # relaycheck discover
    fidelity_cli.add_parser(sub)  # relaycheck fidelity
    from harness.docscheck import command as docs_command

    docs_command.add_parser(sub)  # relaycheck docs PAGE...
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            code = _main(argv)
        finally:  # flushed here, not at exit (also after --help's SystemExit), so a closed pipe is caught
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`relaycheck codes | head`): no traceback. Point stdout at devnull
        # so the interpreter's final flush does not fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exitcodes.INCOMPLETE if argv[:1] in (["run"], ["record"], ["replay"]) else exitcodes.PASSED
    return code


def entry() -> None:
    """The console script and ``python -m harness.cli``: ``main()``, then the end of the process
    without the interpreter's teardown. Everything a run leaves is written and closed by then;
    the atexit handlers (coverage, logging) still run, and stdout/stderr are flushed. What is
    skipped is freeing every object of the run one by one: 0.3-0.5 s after 200 live items on a
    loaded 2-core machine, about 5% of that run (docs/performance.md). ``main()`` itself, called
    in-process (tests), returns as before."""
    import atexit
    import os

    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said there
            pass
    os._exit(code)


def _main(argv: list[str]) -> int:
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
            started = time.time()
            code = _run(args, extra)
            return fidelity_cli.after_run(args, code, started) if getattr(args, "fidelity", False) else code
        if args.command == "compare":
            return compare_cli.run(args, extra, _run)
        if args.command == "lint-traffic":
            from harness.lint import main as lint_main

            return lint_main(args)
        if args.command == "codes":
            from harness import codes

            if args.grades:
                from harness.grades import markdown

                print(markdown(), end="")
            elif args.markdown:
                print(codes.markdown_table())
            else:
                for code, text in codes.all_codes().items():
                    print(f"{code:28} {text}")
            return 0
        if args.command == "faults":
            from harness.refgateway.faults import FAULT_RECORDS

            # One record per fault: what it does, then the codes that catch it and its defect row.
            for f in sorted(FAULT_RECORDS, key=lambda f: f.name):
                print(f"{f.name:32} {f.does}")
                row = f"; RELAY_DEFECTS #{f.defect}" if f.defect is not None else ""
                print(f"{'':32} caught by: {', '.join(sorted(f.codes))}{row}")
            return 0
        if args.command == "serve":
            return _serve(args)
        if args.command == "detection":
            return _detection(args)
        if args.command == "report":
            return report_commands.run(args)
        if args.command == "discover":
            return discover_cli.run(args)
        if args.command == "fidelity":
            return fidelity_cli.run(args)
        if args.command == "docs":
            from harness.docscheck import command as docs_command

            return docs_command.run(args)
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
            max_answer_bytes=args.max_answer_bytes,
        )
    )
    cases = [Path(c) for c in (args.cases or [str(DEFAULT_CASES)])]
    for c in cases:
        if not c.exists():
            raise ConfigError(f"no such case file or directory: {c}")
    report_dir = Path(args.report_dir or "reports")
    try:  # found out now, not after the whole run when the reports cannot be written
        report_dir.mkdir(parents=True, exist_ok=True)
        probe = report_dir / ".relaycheck-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write reports to {report_dir}: {exc.strerror or exc}") from None
    rootdir = DEFAULT_CASES.parent if all(_inside(c, DEFAULT_CASES.parent) for c in cases) else Path.cwd()
    # --assert=plain: the plugin's checks raise ConformanceFailure themselves, so pytest need not
    # rewrite the harness's modules at every start (a third of a second). no:unraisableexception:
    # at its end that plugin runs gc.collect() over every object of the run several times, to
    # surface exceptions raised in __del__ of Python test code, which a case file has none of
    # (0.14 s after 200 live items).
    pytest_args = [str(c) for c in cases] + [
        "--rootdir",
        str(rootdir),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:anyio",  # httpx's dependency brings a pytest plugin for async tests; case files have none
        "-p",
        "no:unraisableexception",  # its gc.collect() passes at the end cost ~0.14 s; case items raise none
        "--assert=plain",
        "-o",
        "testpaths=",
        "-o",
        "python_files=",
        "--continue-on-collection-errors",
        "-r",
        "fEs",
    ]
    pytest_args += options.forwarded_args(args.forwarded, vars(args))
    pytest_args += report_commands.run_pytest_args(args) + list(args.pytest_args) + extra
    watch = exitcodes.RunWatch()
    # The last run's allure results: deleted while this one runs, not before its first item.
    sweeper = None if args.no_allure else discard_in_background(report_dir / "allure-results")
    try:
        with exitcodes.sigterm_interrupts(), exitcodes.pipe_safe_stdout():
            code = int(pytest.main(pytest_args, plugins=[watch]))
    finally:
        if sweeper is not None:
            sweeper.join()
    # pytest: 0 ok, 1 failures, 2 interrupted, 3 internal error, 4 usage error, 5 no tests collected.
    for err in watch.collection_errors + watch.collection_crashes:
        where = f"{err['file']}:{err['line']}:{err['col']}" if err["line"] is not None else err["file"]
        print(f"relaycheck: error: {where}: {err['message']}", file=sys.stderr)
    if code == 5 and not watch.collection_errors:
        print("relaycheck: error: no case matched the selection (check --endpoints, --models, -k, -m)", file=sys.stderr)
    result = watch.exit_code(code)
    if result == exitcodes.USAGE and code == 0 and watch.nothing_judged:
        what = (
            f"the relay answered not found for {', '.join(watch.served_nowhere)} on every endpoint tried"
            if watch.served_nowhere
            else f"all {watch.skipped} selected items were skipped"
        )
        print(
            f"relaycheck: error: {what}: nothing was checked for it (see the skip reasons in the digest; "
            "relaycheck discover lists what the relay serves)",
            file=sys.stderr,
        )
    if result == exitcodes.INCOMPLETE:
        why = (
            "interrupted"
            if watch.interrupted
            else "internal error"
            if code == 3 or watch.collection_crashes
            else "reports not written"
        )
        print(f"relaycheck: incomplete run ({why}): the reports cover only what finished", file=sys.stderr)
    return result


def _detection(args: argparse.Namespace) -> int:
    from harness.detection import detection_matrix, render_markdown
    from harness.refgateway import FAULTS

    unknown = [f for f in args.fault or () if f not in FAULTS]
    if unknown:
        raise ConfigError(f"unknown fault {', '.join(unknown)} (see `relaycheck faults`)")
    matrix = detection_matrix(DEFAULT_CASES, args.fault, progress=lambda line: print(line, file=sys.stderr, flush=True))
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
        import secrets

        # No key given: make one up and say it, so a client (or a digest's curl) can use it.
        key = "rc-serve-" + secrets.token_hex(12)
        print(f"relaycheck: no --api-key or $RELAYCHECK_API_KEY: the gateway accepts this key: {key}")
        print(f"  export RELAYCHECK_API_KEY={key}")
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
    entry()
