"""Every option of a relaycheck run, defined once. The pytest plugin registers them on its
option group; ``relaycheck run`` builds its parser from the same list and forwards to pytest
whatever the user set, so the two can never drift apart. (No pytest import here.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.dialects import registry
from harness.recording.options import add_options as add_recording_options
from harness.shard import parse_shard

AddOption = Callable[..., Any]


def add_options(addoption: AddOption, *, cli: bool = False) -> None:
    """Register every option through ``addoption`` (argparse's add_argument or a pytest group's
    addoption: they take the same arguments). ``cli`` leaves out what `relaycheck run` offers in
    its own words (its --progress maps onto the plugin's --relaycheck-progress)."""
    addoption("--gateway", help="gateway name from gateways.yaml (default: the file's default, the built-in 'local')")
    addoption("--base-url", help="relay base URL, e.g. https://relay.example or https://relay.example/v1")
    addoption(
        "--api-key",
        help="API key; better: export the variable named by the gateway's api_key_env (RELAYCHECK_API_KEY by default)",
    )
    addoption("--auth", choices=("bearer", "x-api-key", "both"), help="how /v1/messages authenticates")
    addoption("--models", help="comma-separated model names, applied to every selected endpoint")
    addoption("--endpoints", help=f"comma-separated subset of {','.join(registry.names())} (default: all)")
    addoption("--report-dir", help="where summary.json and the other reports go (default: reports/)")
    addoption("--gateways-file", help="gateway config (default: ./gateways.yaml, else the built-in one)")
    addoption(
        "--level",
        choices=("strict", "compatible"),
        help="strict: the official wire format byte for byte (default); compatible: what the official SDKs accept",
    )
    addoption(
        "--profile",
        choices=("official", "open-responses"),
        help="Responses stream rules: the official API (default) or the Open Responses spec",
    )
    addoption("--anthropic-version", help="anthropic-version header (default from the gateway config)")
    addoption(
        "--extras",
        choices=("note", "fail"),
        default="note",
        help="fields the official API does not send: note (default: listed as schema.extra notes) or fail "
        "(they fail the strict level)",
    )
    addoption(
        "--sdk-check",
        action="store_true",
        default=False,
        help="also feed each answer's bytes to the official SDK (openai / anthropic: pip install "
        "'relaycheck[sdk]'); a raise or another fold is an sdk.break violation naming the SDK",
    )
    addoption(
        "--concurrency",
        type=int,
        help="live items in flight at once, in one process (default: the gateway's concurrency; not used under -n)",
    )
    addoption(
        "--rate-limit",
        type=float,
        metavar="RPM",
        help="requests per minute to the gateway, shared by every worker (default: the gateway's rate_limit_rpm)",
    )
    addoption(
        "--rate-limit-backend",
        metavar="URL",
        help="keep the rate limit in Redis (redis://host:6379/0, or env:NAME for a URL held in a variable), "
        "shared by every machine testing the same relay with the same key, e.g. the shards of a CI matrix "
        "(default: the gateway's rate_limit_backend, else a local file; needs relaycheck[redis])",
    )
    addoption(
        "--max-answer-bytes",
        metavar="SIZE",
        help="the most one answer may be, on the wire and decoded (e.g. 8MiB, the default; the gateway's "
        "max_answer_bytes); a bigger answer fails its item with transport.too_large",
    )
    add_recording_options(addoption)  # --record-mode, --replay-pacing, --cassette-dir, ...
    addoption(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="built-in gateway only: switch a named misbehaviour on (repeatable; see `relaycheck faults`)",
    )
    if not cli:
        addoption(
            "--relaycheck-progress",
            choices=("off", "auto", "live", "lines"),
            default="off",
            help="progress display: live (one redrawn line), lines (a line every N items, for CI "
            "logs), auto (live on a terminal, lines when CI=true or not a TTY); default off",
        )
    addoption(
        "--progress-every",
        type=int,
        default=0,
        metavar="N",
        help="lines mode: at most one progress line every N items (default: a tenth of the run)",
    )
    addoption(
        "--shard",
        type=parse_shard,
        metavar="K/N",
        help="run only part K of N of the selected items (e.g. 2/4 on the second of four CI machines): a "
        "deterministic split by case (hash of its file and id), the same on every machine; summary.json "
        "records the part, and `relaycheck report merge` checks that the parts add up",
    )
    addoption("--no-matrix", action="store_true", help="do not write matrix.html next to summary.json")
    addoption(
        "--dry-run",
        action="store_true",
        help="list the items that would run with their estimated input/output tokens; send nothing",
    )
    addoption(
        "--token-budget",
        type=int,
        metavar="N",
        help="stop sending new requests once N tokens (input + output, from usage) are spent; the "
        "items not sent are skipped as 'not run'",
    )


def forwarded_args(specs: list[tuple[str, str, str | None, Any]], values: dict[str, Any]) -> list[str]:
    """Command-line words for pytest from the options the user set. ``specs`` holds, per option,
    its flag, its dest, its argparse action and its default."""
    out: list[str] = []
    for flag, dest, action, default in specs:
        value = values.get(dest)
        if action == "store_true":
            out += [flag] if value else []
        elif action == "append":
            for item in value or ():
                out += [flag, str(item)]
        elif value is not None and value != default:
            out += [flag, str(value)]
    return out
