"""Portkey's AI gateway (pinned in versions.sh), routed by request headers (x-portkey-provider,
x-portkey-custom-host) that gateways.yaml `headers:` entries send, so no shim sits in between.
It has no host option: a preload (loopback_preload.cjs) binds it to 127.0.0.1 and blocks any
outbound connection that is not loopback. Every failure as triaged in docs/interop.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop import peers

pytestmark = pytest.mark.interop

SERVER = "node_modules/@portkey-ai/gateway/build/start-server.js"

# One gateway per upstream provider: the routing headers are per gateway.
GATEWAYS = {
    # OpenAI provider: chat and responses passed through.
    "portkey-openai": {
        "auth": "bearer",
        "headers": {"x-portkey-provider": "openai", "x-portkey-custom-host": "${RC_PORTKEY_UPSTREAM}"},
        "models": {
            "chat": {"gpt-4.1": ["tools", "parallel_tools", "vision"]},
            "responses": {"gpt-4.1": ["tools", "parallel_tools", "stored_responses"]},
        },
    },
    # Anthropic provider: /v1/messages passed through, chat bridged onto it.
    "portkey-anthropic": {
        "auth": "x-api-key",
        "headers": {"x-portkey-provider": "anthropic", "x-portkey-custom-host": "${RC_PORTKEY_UPSTREAM}"},
        "models": {
            "chat": {"claude-sonnet-4-6": ["tools", "parallel_tools"]},
            "messages": {"claude-sonnet-4-6": ["tools", "parallel_tools", "thinking", "count_tokens"]},
        },
    },
}


@pytest.fixture(scope="module")
def portkey(upstream: tuple[str, str], interop_logs: Path) -> Iterator[str]:
    prefix = peers.install("portkey")
    port = peers.free_port()
    argv = [
        "node",
        "--require",
        str(peers.HERE / "loopback_preload.cjs"),
        str(prefix / SERVER),
        f"--port={port}",
        "--headless",
    ]
    proc = peers.start("portkey", argv, interop_logs, peers.base_env(), cwd=prefix)
    base = f"http://127.0.0.1:{port}"
    peers.wait_http(proc, base + "/", timeout=60, ok=(200, 404))
    try:
        yield base
    finally:
        proc.stop()
    assert "blocked outbound connection" not in proc.tail(200000), "Portkey tried to reach beyond loopback"


@pytest.mark.parametrize("name", sorted(GATEWAYS))
def test_portkey_findings_match_triage(name: str, portkey: str, upstream: tuple[str, str], tmp_path: Path) -> None:
    url, key = upstream
    gateway = {
        "base_url": portkey,
        "api_key_env": "RC_INTEROP_KEY",  # Portkey passes the client's key on to the provider
        "retries": 0,
        "concurrency": 4,
        "timeouts": {"connect": 5, "first_byte": 30, "total": 60},
        **GATEWAYS[name],
    }
    env = {"RC_INTEROP_KEY": key, "RC_PORTKEY_UPSTREAM": url + "/v1"}
    result = peers.run_relaycheck(name, gateway, env, tmp_path)
    print(f"{name}: {result.counts()}")
    problems = peers.compare(result, name)
    where = f"Portkey findings differ from docs/interop.md (run: {tmp_path})"
    assert not problems, where + ":\n" + "\n".join(problems)
    assert result.counts().get("passed", 0) >= 20
    # The routing header that came from the environment is masked in what relaycheck wrote.
    assert url + "/v1" not in (tmp_path / "summary.json").read_text()
