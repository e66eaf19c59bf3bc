"""claude-code-router (pinned in versions.sh): an Anthropic /v1/messages front end translating
to an OpenAI chat upstream, here the reference gateway. The bundled Messages suite through it,
every failure as triaged in docs/interop.md."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop import peers

pytestmark = pytest.mark.interop

PACKAGE = "node_modules/@musistudio/claude-code-router/dist/cli.js"


@pytest.fixture(scope="module")
def ccr(
    upstream: tuple[str, str], interop_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    prefix = peers.install("ccr")
    url, key = upstream
    home = tmp_path_factory.mktemp("ccr-home")  # a scratch HOME: config, pid file and logs live under it
    port = peers.free_port()
    client_key = "sk-ccr-" + secrets.token_hex(12)
    config = {
        "APIKEY": "${RC_CCR_KEY}",  # interpolated by the router from its environment
        "HOST": "127.0.0.1",
        "PORT": port,
        "LOG": False,
        "NON_INTERACTIVE_MODE": True,
        "Providers": [
            {
                "name": "ref",
                "api_base_url": "${RC_UPSTREAM_CHAT}",
                "api_key": "${RC_UPSTREAM_KEY}",
                "models": ["gpt-4o"],
            }
        ],
        # Every request, whatever model it names, goes to the reference gateway's gpt-4o.
        "Router": {"default": "ref,gpt-4o"},
    }
    (home / ".claude-code-router").mkdir()
    (home / ".claude-code-router" / "config.json").write_text(json.dumps(config, indent=2))
    env = peers.base_env(
        HOME=str(home),
        RC_CCR_KEY=client_key,
        RC_UPSTREAM_CHAT=url + "/v1/chat/completions",
        RC_UPSTREAM_KEY=key,
    )
    # `ccr start` runs the server in this very process (no daemon), so its PID is the server's.
    # The preload keeps it on loopback: any outbound connection (update checks, telemetry) is refused.
    argv = ["node", "--require", str(peers.HERE / "loopback_preload.cjs"), str(prefix / PACKAGE), "start"]
    proc = peers.start("ccr", argv, interop_logs, env, cwd=home)
    base = f"http://127.0.0.1:{port}"
    peers.wait_http(proc, base + "/", timeout=60, ok=(200, 401, 404))
    try:
        yield base, client_key
    finally:
        proc.stop()
    assert "blocked outbound connection" not in proc.tail(200000), "claude-code-router tried to reach beyond loopback"


def test_ccr_findings_match_triage(ccr: tuple[str, str], tmp_path: Path) -> None:
    base, key = ccr
    gateway = {
        "base_url": base,
        "auth": "x-api-key",
        "api_key_env": "RC_INTEROP_KEY",
        "retries": 0,
        "concurrency": 4,
        "timeouts": {"connect": 5, "first_byte": 30, "total": 60},
        # What Claude Code sends; the router maps it to the upstream's gpt-4o.
        "models": {"messages": {"claude-sonnet-4-6": ["tools", "parallel_tools", "count_tokens"]}},
    }
    result = peers.run_relaycheck("ccr", gateway, {"RC_INTEROP_KEY": key}, tmp_path, extra=["--endpoints", "messages"])
    print(f"ccr: {result.counts()}")
    problems = peers.compare(result, "ccr")
    where = f"claude-code-router findings differ from docs/interop.md (run: {tmp_path})"
    assert not problems, where + ":\n" + "\n".join(problems)
    assert result.counts().get("failed", 0) > 0 and sum(result.counts().values()) >= 50
