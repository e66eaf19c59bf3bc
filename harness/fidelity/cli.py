"""``relaycheck fidelity``: run the fidelity probes on a relay (or the built-in reference gateway)
and print each verdict with its numbers and its token cost; summary.json as `relaycheck run`
writes it. Exit 0: nothing inconsistent; 1: some probe inconsistent; 2: usage error."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from harness.fidelity.probe import ENDPOINTS, Sender, Verdict
from harness.gateways import ConfigError, Gateway, Overrides, Timeouts, resolve


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fidelity",
        help="probe whether a relay is honest: usage accounting, parameters, context, upstream controls, caching",
        description="Send a few cheap requests per model and endpoint and judge what the answers say about "
        "the relay: input tokens against a baseline (tokenizer family, injected prompt, inflated usage), "
        "output tokens against the text returned (streamed or not), max_tokens, stop, n, logprobs, "
        "response_format, include_usage, parallel_tool_calls and tool_choice honoured, a long prompt and a "
        "tool result reaching the model whole, a tampered thinking signature, a made-up previous_response_id "
        "and a tampered encrypted_content rejected, cache_control honoured. Writes summary.json (its "
        "`fidelity` section) and matrix.html. Each verdict is consistent, inconsistent or inconclusive, "
        "with its numbers and its token cost (docs/fidelity.md).",
    )
    p.add_argument("--gateway", help="a gateway of gateways.yaml (default: the default one, the built-in gateway)")
    p.add_argument("--base-url", help="relay base URL (then give --models)")
    p.add_argument("--gateways-file", type=Path, help="gateway config (default: ./gateways.yaml)")
    p.add_argument("--api-key", help="API key; better: export the variable the gateway names (RELAYCHECK_API_KEY)")
    p.add_argument("--auth", help="how /v1/messages authenticates: bearer, x-api-key or both")
    p.add_argument("--models", help="comma-separated models, probed on every selected endpoint")
    p.add_argument("--endpoints", help="comma-separated subset of chat,messages,responses (default: all)")
    p.add_argument("--baseline", type=Path, help="usage baselines measured on the official API (--save-baseline)")
    p.add_argument("--save-baseline", type=Path, help="measure the usage lines and write them here (no verdicts)")
    p.add_argument("--fault", action="append", help="built-in gateway only: show this named fault (repeatable)")
    p.add_argument(
        "--report-dir", type=Path, default=Path("reports"), help="where summary.json and matrix.html go (%(default)s)"
    )


def add_run_option(p: argparse.ArgumentParser) -> None:
    """`relaycheck run --fidelity`: the probes after the suite, in the same reports."""
    p.add_argument(
        "--fidelity",
        action="store_true",
        help="after the suite, run the fidelity probes on the same gateway (first model per endpoint) and add "
        "their verdicts to summary.json (`fidelity`), the digest and matrix.html (docs/fidelity.md)",
    )


def after_run(args: argparse.Namespace, code: int, started: float) -> int:
    """The fidelity probes after `relaycheck run`: the first model of each selected endpoint (the
    detection matrix's choice: the probes cost tokens per model), verdicts added to the run's reports.
    An inconsistent verdict turns a passing run's exit code into 1."""
    from harness import exitcodes
    from harness.fidelity import report as fidelity_report
    from harness.fidelity import run as fidelity
    from harness.report.digest import fidelity_digest, render_fidelity
    from harness.transport import Transport

    if code in (exitcodes.USAGE, exitcodes.INCOMPLETE):
        return code
    probe_args = argparse.Namespace(
        gateway=args.gateway,
        base_url=args.base_url,
        api_key=args.api_key,
        auth=args.auth,
        models=args.models,
        gateways_file=Path(args.gateways_file) if args.gateways_file else None,
        fault=args.fault,
    )
    endpoints = _csv(args.endpoints) or list(ENDPOINTS)
    print(f"relaycheck run --fidelity: the fidelity probes (docs/fidelity.md) on {', '.join(endpoints)}")
    with _target(probe_args) as (gw, base_url):
        models = {e: [m.name for m in gw.models_for(e)][:1] for e in endpoints if e in ENDPOINTS}
        baselines = fidelity.load_baselines(fidelity.LOCAL_BASELINE) if gw.builtin else None
        transport = Transport(gw.timeouts)
        try:
            sender = Sender(gw, transport, base_url)
            _say_not_probed("relaycheck run --fidelity", models)
            verdicts = fidelity.run_probes(
                sender, models, baselines, on_verdict=lambda v: print(fidelity.line_of(v), flush=True)
            )
        finally:
            transport.close()
    records = [fidelity_report.record(v, gw.name) for v in verdicts]
    report_dir = Path(args.report_dir or "reports")
    path = fidelity_report.attach(report_dir, records, matrix=not args.no_matrix, since=started)
    for line in render_fidelity(fidelity_digest({"fidelity": records})):
        print(line)
    if path is not None:
        print(f"relaycheck run --fidelity: {len(records)} verdict(s) added to {path}")
    else:
        print(f"relaycheck run --fidelity: no summary.json in {report_dir} to add the verdicts to", file=sys.stderr)
        return exitcodes.INCOMPLETE
    inconsistent = any(v.outcome == "inconsistent" for v in verdicts)
    return exitcodes.FAILED if inconsistent and code == exitcodes.PASSED else code


def _say_not_probed(who: str, models: dict[str, list[str]]) -> None:
    from harness.fidelity import run as fidelity

    left = fidelity.not_probed(models)
    if left:
        print(
            f"{who}: not probed: {', '.join(left)} (the probes write {', '.join(fidelity.WRITTEN_FOR)} "
            "requests only; docs/fidelity.md)",
            flush=True,
        )


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[Gateway, str | None]]:
    """The gateway and, for the built-in one, the base URL of a reference gateway started here."""
    gw = resolve(
        Overrides(
            gateway=args.gateway,
            base_url=args.base_url,
            api_key=args.api_key,
            auth=args.auth,
            models=tuple(_csv(args.models)),
            gateways_file=args.gateways_file,
        )
    )
    if not gw.builtin:
        if args.fault:
            raise ConfigError("--fault works on the built-in gateway only")
        if not gw.api_key():
            raise ConfigError(f"no API key: export {gw.api_key_env}=... (or give --api-key)")
        yield gw, None
        return
    from harness.refgateway import start_in_thread
    from harness.refgateway.faults import check_faults

    try:
        faults = check_faults(args.fault or ())
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    key = "rc-fidelity-" + secrets.token_hex(12)  # lives only in this process
    served = {e: [m.name for m in gw.models_for(e)] for e in ENDPOINTS}
    with start_in_thread(key, models=served, faults=faults) as server:
        yield replace(gw, api_key_value=key, timeouts=Timeouts(5, 30, 60)), server.base_url


def run(args: argparse.Namespace) -> int:
    from harness.fidelity import report as fidelity_report
    from harness.fidelity import run as fidelity
    from harness.transport import Transport

    endpoints = _csv(args.endpoints) or list(ENDPOINTS)
    unknown = [e for e in endpoints if e not in ENDPOINTS]
    if unknown:
        raise ConfigError(f"--endpoints: unknown endpoint {', '.join(unknown)} (known: {', '.join(ENDPOINTS)})")
    baselines = fidelity.load_baselines(args.baseline) if args.baseline else None
    started = time.time()
    with _target(args) as (gw, base_url):
        models = {e: [m.name for m in gw.models_for(e)] for e in endpoints}
        if not any(models.values()):
            raise ConfigError("no models to probe: give --models M1,M2")
        if not any(ms for e, ms in models.items() if e in fidelity.WRITTEN_FOR):
            raise ConfigError(
                f"no model on an endpoint the probes are written for ({', '.join(fidelity.WRITTEN_FOR)}); "
                f"not probed: {', '.join(fidelity.not_probed(models))}"
            )
        if baselines is None and gw.builtin and args.baseline is None:
            baselines = fidelity.load_baselines(fidelity.LOCAL_BASELINE)
        transport = Transport(gw.timeouts)
        try:
            sender = Sender(gw, transport, base_url)
            if args.save_baseline:
                data = fidelity.measure_baselines(sender, models, gw.base_url if not gw.builtin else "builtin")
                args.save_baseline.parent.mkdir(parents=True, exist_ok=True)
                args.save_baseline.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
                print(
                    f"relaycheck fidelity: {len(data['lines'])} usage line(s) written to {args.save_baseline} "
                    f"({sender.requests} requests, {sender.tokens} tokens)"
                )
                return 0
            _say_not_probed("relaycheck fidelity", models)
            pairs = sum(len(v) for e, v in models.items() if e in fidelity.WRITTEN_FOR)
            print(f"relaycheck fidelity: {pairs} model/endpoint pair(s) on {gw.name}; verdict, probe, tokens spent")

            def show(v: Verdict) -> None:
                sys.stdout.write(fidelity.line_of(v) + "\n")
                sys.stdout.flush()

            verdicts = fidelity.run_probes(sender, models, baselines, on_verdict=show)
        finally:
            transport.close()
    entries = fidelity.summary(verdicts, gw.name, started)["items"]
    records = [fidelity_report.record(v, gw.name) for v in verdicts]
    path = fidelity_report.standalone(
        args.report_dir, entries, records, gateway=gw.name, tool="fidelity", started=started
    )
    counts = {o: sum(1 for v in verdicts if v.outcome == o) for o in ("consistent", "inconsistent", "inconclusive")}
    print(
        f"relaycheck fidelity: {counts['consistent']} consistent, {counts['inconsistent']} inconsistent, "
        f"{counts['inconclusive']} inconclusive; {sender.requests} requests, {sender.tokens} tokens; {path}"
    )
    return 1 if counts["inconsistent"] else 0
