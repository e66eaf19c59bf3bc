"""`relaycheck discover` against the reference gateway serving the built-in `local` gateway's
models with their real capabilities (the gateway refuses what a model's tags do not offer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.discover import ENDPOINTS  # the formats discover probes (not gemini yet)
from harness.gateways import DEFAULT_FILE, load_gateways
from tests.conftest import REPO, TEST_KEY


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("RELAYCHECK_API_KEY", "CI")}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=REPO,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,  # not a terminal: discover never waits for an answer
        capture_output=True,
        text=True,
        timeout=300,
    )


def _tags(gateway_file: Path, name: str) -> dict[str, dict[str, frozenset[str]]]:
    gw = load_gateways(gateway_file)[0][name]
    return {e: {m.name: m.capabilities for m in gw.models_for(e)} for e in ENDPOINTS}


@pytest.fixture(scope="module")
def local_relay() -> Iterator[str]:
    """The reference gateway as the built-in `local` gateway runs it: its models, its tags."""
    from harness.refgateway import start_in_thread

    local = load_gateways(DEFAULT_FILE)[0]["local"]
    models = {e: [m.name for m in local.models_for(e)] for e in ENDPOINTS}
    tags = {e: {m.name: m.capabilities for m in local.models_for(e)} for e in ENDPOINTS}
    with start_in_thread(TEST_KEY, models=models, capability_map=tags) as gw:
        yield gw.base_url


def test_discover_finds_the_builtin_gateways_real_capabilities_and_the_run_has_no_undeclared_failure(
    tmp_path: Path, local_relay: str
) -> None:
    hidden = tmp_path / "hidden.yaml"  # an entry with only a base URL: the model list is hidden
    hidden.write_text(f"gateways:\n  relay:\n    base_url: {local_relay}\n")
    out = tmp_path / "gateways.yaml"
    res = cli(
        "discover",
        "--gateways-file",
        str(hidden),
        "--gateway",
        "relay",
        "--yes",
        "--output",
        str(out),
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "at most " in res.stdout and " requests, roughly " in res.stdout and " tokens" in res.stdout
    assert _tags(out, "relay") == _tags(DEFAULT_FILE, "local")
    text = out.read_text()
    assert TEST_KEY not in text + res.stdout + res.stderr
    assert "api_key_env: RELAYCHECK_API_KEY" in text and "auth: both" in text
    assert "- thinking  # thinking probe: a signed thinking block (20" in text  # which probe, and when
    assert "parallel_tools" not in text.split('"claude-opus-4-6-thinking":')[1].split('"')[0]
    summary_dir = tmp_path / "reports"
    run = cli(
        "run",
        "--gateways-file",
        str(out),
        "--gateway",
        "relay",
        "--report-dir",
        str(summary_dir),
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert run.returncode == 0, run.stdout[-3000:]
    summary = json.loads((summary_dir / "summary.json").read_text())
    assert summary["totals"]["failed"] == 0 and summary["totals"]["error"] == 0
    assert summary["totals"]["passed"] >= 398
    assert not [i for i in summary["items"] if "not declared" in i.get("skip_reason", "")]


def test_without_a_terminal_discover_needs_yes(local_relay: str) -> None:
    res = cli("discover", "--base-url", local_relay, env={"RELAYCHECK_API_KEY": TEST_KEY})
    assert res.returncode == 2
    assert "pass --yes" in res.stderr
    assert "at most " in res.stdout  # the cost was said before refusing
    res = cli("discover", "--base-url", local_relay)
    assert res.returncode == 2 and "no API key: export RELAYCHECK_API_KEY" in res.stderr
    for args, message in [
        ((), "give the relay: --base-url URL or --gateway NAME"),
        (("--gateway", "local"), "is the built-in one"),
        (("--base-url", "ftp://x"), "base URL must start with http"),
    ]:
        res = cli("discover", *args, env={"RELAYCHECK_API_KEY": TEST_KEY})
        assert res.returncode == 2 and message in res.stderr, (args, res.stderr)


def test_a_probe_answer_that_breaks_the_format_is_reported(tmp_path: Path, faulty_gateway) -> None:  # type: ignore[no-untyped-def]
    url = faulty_gateway("bad-id-prefix", models={"chat": ["gpt-4o"]})
    out = tmp_path / "g.yaml"
    res = cli(
        "discover",
        "--base-url",
        url,
        "--endpoints",
        "chat",
        "--yes",
        "-o",
        str(out),
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "! the answer violates the format: id.prefix" in res.stdout
    assert "probe answer(s) violated the wire format" in res.stdout
    text = out.read_text()
    assert "its answer violated the format: id.prefix" in text
    # The relay does answer with tools: the tag is written (the run will fail it), and says why.
    assert _tags(out, "relay")["chat"]["gpt-4o"] >= {"tools", "parallel_tools", "vision"}


def test_models_are_listed_in_both_shapes(local_relay: str) -> None:
    from harness.discover import Prober
    from harness.gateways import Gateway
    from harness.transport import Transport

    local = load_gateways(DEFAULT_FILE)[0]["local"]
    transport = Transport(local.timeouts)
    try:
        listed = Prober(Gateway("r", local_relay, api_key_value=TEST_KEY), transport).list_models()
    finally:
        transport.close()
    assert listed["anthropic"] == [m.name for m in local.models_for("messages")]
    assert set(listed["openai"]) == {m.name for e in ENDPOINTS for m in local.models_for(e)}


def test_the_reference_gateway_refuses_what_a_models_tags_do_not_offer(local_relay: str) -> None:
    import httpx

    from harness.discover import body_for

    headers = {"authorization": f"Bearer {TEST_KEY}"}
    vision = httpx.post(f"{local_relay}/v1/responses", json=body_for("responses", "gpt-4.1", "vision"), headers=headers)
    assert vision.status_code == 400 and "vision is not supported" in vision.json()["error"]["message"]
    ok = httpx.post(f"{local_relay}/v1/responses", json=body_for("responses", "gpt-4o", "vision"), headers=headers)
    assert ok.status_code == 200
    one = httpx.post(
        f"{local_relay}/v1/responses", json=body_for("responses", "o4-mini", "parallel_tools"), headers=headers
    )
    assert sum(o["type"] == "function_call" for o in one.json()["output"]) == 1  # no parallel_tools tag
