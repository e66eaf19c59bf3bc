"""The command-line side of ``relaycheck discover`` (argparse and printing; the probing is in
harness/discover.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.gateways import ConfigError, Gateway, Timeouts


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "discover",
        help="find out which models, endpoints, auth styles and capabilities a relay serves",
        description="List the relay's models (GET /v1/models, OpenAI and Anthropic shapes), probe each "
        "chosen model on each endpoint with the cheapest request (a few output tokens), and write a "
        "gateways.yaml entry whose tags each say which probe established them and when. Asks before "
        "sending (how many requests, roughly how many tokens); --yes skips the question.",
    )
    p.add_argument("--base-url", help="relay base URL, e.g. https://relay.example or .../v1")
    p.add_argument(
        "--gateway", help="or a gateway of gateways.yaml (its base URL, auth, key variable); its models are ignored"
    )
    p.add_argument(
        "--gateways-file", type=Path, help="gateway config (default: ./gateways.yaml, else the built-in one)"
    )
    p.add_argument("--api-key", help="API key; better: export the variable named by --api-key-env")
    p.add_argument("--api-key-env", default="RELAYCHECK_API_KEY", help="variable holding the key (default %(default)s)")
    p.add_argument("--models", help="comma-separated models to probe (default: every model /v1/models lists)")
    p.add_argument("--endpoints", help="comma-separated subset of chat,messages,responses (default: all)")
    p.add_argument("--name", help="the gateway's name in the entry (default: --gateway's, else relay)")
    p.add_argument("--output", "-o", type=Path, help="write the gateways.yaml file here (default: print it)")
    p.add_argument("--yes", "-y", action="store_true", help="send without asking (needed without a terminal, in CI)")
    p.add_argument("--concurrency", type=int, default=4, help="probes in flight at once (default %(default)s)")


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _gateway(args: argparse.Namespace) -> Gateway:
    """Where to probe: --base-url, or a gateways.yaml entry (a bare base URL is enough)."""
    if args.gateway:
        from dataclasses import replace

        from harness.gateways import Overrides, resolve

        gw = resolve(Overrides(gateway=args.gateway, api_key=args.api_key, gateways_file=args.gateways_file))
        if gw.builtin:
            raise ConfigError(f"gateway {gw.name!r} is the built-in one: give a relay's http(s) URL to discover")
        if args.base_url:
            gw = replace(gw, base_url=args.base_url)
        return replace(gw, name=args.name or gw.name, models={})
    if not args.base_url:
        raise ConfigError("give the relay: --base-url URL or --gateway NAME")
    if not args.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"base URL must start with http:// or https://, got {args.base_url!r}")
    return Gateway(
        args.name or "relay",
        args.base_url,
        api_key_env=args.api_key_env,
        api_key_value=args.api_key,
        timeouts=Timeouts(10, 60, 120),
    )


def run(args: argparse.Namespace) -> int:
    from harness.discover import ENDPOINTS as PROBED_ENDPOINTS
    from harness.discover import Discovery, Finding, Prober, discover, plan_size, render_entry
    from harness.transport import Transport

    gateway = _gateway(args)
    endpoints = _csv(args.endpoints) or list(PROBED_ENDPOINTS)
    unknown = [e for e in endpoints if e not in PROBED_ENDPOINTS]
    if unknown:
        known = ", ".join(PROBED_ENDPOINTS)
        raise ConfigError(f"--endpoints: unknown endpoint {', '.join(unknown)} (discover probes: {known})")
    if not gateway.api_key():
        raise ConfigError(f"no API key: export {gateway.api_key_env}=... (or give --api-key)")
    transport = Transport(gateway.timeouts)
    try:
        prober = Prober(gateway, transport)
        listed = prober.list_models()
        print(
            f"relaycheck discover: GET /v1/models lists {len(listed['openai'])} model(s) in the OpenAI shape, "
            f"{len(listed['anthropic'])} in the Anthropic shape"
        )
        chosen = _csv(args.models) or list(dict.fromkeys(listed["openai"] + listed["anthropic"]))
        if not chosen:
            raise ConfigError("the relay lists no models at /v1/models: name them with --models M1,M2")
        models = {e: chosen for e in endpoints}
        requests, tokens = plan_size(models)
        print(
            f"relaycheck discover: {len(chosen)} model(s) x {len(endpoints)} endpoint(s): at most {requests} "
            f"requests, roughly {tokens} tokens (input and output), to {gateway.base_url}"
        )
        if not args.yes:
            if not sys.stdin.isatty() or os.environ.get("CI"):
                print("relaycheck: error: not asking without a terminal: pass --yes to send them", file=sys.stderr)
                return 2
            if input("Send them? [y/N] ").strip().lower() not in ("y", "yes"):
                print("relaycheck discover: nothing sent")
                return 0
        done = [0]

        def show(f: Finding) -> None:
            done[0] += 1
            mark = "yes" if f.yes else "no "
            flag = f"  ! the answer violates the format: {', '.join(f.violations)}" if f.violations else ""
            # One write per line: findings arrive from the probing threads.
            sys.stdout.write(f"  [{done[0]:3}] {f.endpoint:9} {f.model:30} {f.question:16} {mark} {f.how}{flag}\n")
            sys.stdout.flush()

        found = discover(prober, models, workers=max(1, args.concurrency), on_finding=show)
    finally:
        transport.close()
    d = Discovery(gateway.base_url, listed, found)
    suspect = d.suspect()
    if suspect:
        print(
            f"relaycheck discover: {len(suspect)} probe answer(s) violated the wire format (listed above; the "
            "comments in the entry say which): `relaycheck run` will report them in full"
        )
    text = render_entry(d, gateway.name, gateway.api_key_env, endpoints)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"relaycheck discover: entry written to {args.output}; run it with:")
        print(f"  relaycheck run --gateways-file {args.output} --gateway {gateway.name}")
    else:
        print(text, end="")
    return 0
