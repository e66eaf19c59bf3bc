"""LiteLLM proxy (pinned in versions.sh) in front of the reference gateway: the bundled suite
through it, every failure as triaged in docs/interop.md, and a planted deviation caught."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop import peers

pytestmark = pytest.mark.interop

MODELS = {
    # gpt-4.1: an OpenAI model passed through on chat and responses.
    # gpt-4o on /v1/messages: bridged (in this release onto the upstream's /v1/responses).
    # claude-sonnet-4-6: native on /v1/messages, bridged onto it from chat and responses.
    "chat": {"gpt-4.1": ["tools", "parallel_tools", "vision"], "claude-sonnet-4-6": ["tools", "parallel_tools"]},
    "messages": {
        "claude-sonnet-4-6": ["tools", "parallel_tools", "thinking", "count_tokens"],
        "gpt-4o": ["tools", "parallel_tools"],
    },
    "responses": {
        "gpt-4.1": ["tools", "parallel_tools", "stored_responses"],
        "claude-sonnet-4-6": ["tools", "parallel_tools"],
    },
}


def _start_litellm(
    prefix: Path, upstream: tuple[str, str], log_dir: Path, config: Path, name: str
) -> tuple[peers.Process, str, str]:
    url, key = upstream
    master = "sk-litellm-" + secrets.token_hex(12)
    port = peers.free_port()
    env = peers.base_env(
        RC_UPSTREAM=url,
        RC_UPSTREAM_V1=url + "/v1",
        RC_UPSTREAM_KEY=key,
        RC_LITELLM_MASTER_KEY=master,
        # Offline: the bundled cost map instead of fetching it, no telemetry, no feedback banner;
        # a dead proxy for everything but loopback, so any other outbound call fails at once.
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        LITELLM_DONT_SHOW_FEEDBACK_BOX="True",
        DISABLE_SCHEMA_UPDATE="True",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        PYTHONUNBUFFERED="1",
    )
    argv = [str(prefix / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    proc = peers.start(name, argv, log_dir, env, cwd=config.parent)
    base = f"http://127.0.0.1:{port}"
    peers.wait_http(proc, base + "/health/liveliness", timeout=120)
    return proc, base, master


def _gateway(base: str) -> dict:
    return {
        "base_url": base,
        "auth": "x-api-key",
        "api_key_env": "RC_INTEROP_KEY",
        "retries": 0,
        "concurrency": 4,
        "timeouts": {"connect": 5, "first_byte": 30, "total": 60},
        "models": MODELS,
    }


@pytest.fixture(scope="module")
def litellm(upstream: tuple[str, str], interop_logs: Path) -> Iterator[tuple[str, str]]:
    prefix = peers.install("litellm")
    proc, base, master = _start_litellm(prefix, upstream, interop_logs, peers.HERE / "litellm_config.yaml", "litellm")
    try:
        yield base, master
    finally:
        proc.stop()


def test_litellm_findings_match_triage(litellm: tuple[str, str], tmp_path: Path) -> None:
    base, master = litellm
    result = peers.run_relaycheck("litellm", _gateway(base), {"RC_INTEROP_KEY": master}, tmp_path)
    print(f"litellm: {result.counts()}")
    problems = peers.compare(result, "litellm")
    assert not problems, f"LiteLLM findings differ from docs/interop.md (run: {tmp_path}):\n" + "\n".join(problems)
    # The run judged something: most items passed or failed as triaged, not set aside.
    assert result.counts().get("passed", 0) >= 20  # 26 since it is held to the request-id header (L18)


def test_litellm_planted_deviation_is_caught(litellm: tuple[str, str], tmp_path: Path) -> None:
    """The same proxy, asked with the header that switches on its planted callback
    (tests/interop/litellm_planted.py, which rewrites the id of non-streamed chat answers):
    relaycheck reports id.prefix where the clean run had none."""
    base, master = litellm
    # The plant is switched on by a gateways.yaml `headers:` entry whose value comes from the environment.
    gateway = {**_gateway(base), "headers": {"x-interop-plant": "${RC_INTEROP_PLANT}"}}
    result = peers.run_relaycheck(
        "litellm",
        gateway,
        {"RC_INTEROP_KEY": master, "RC_INTEROP_PLANT": "chat-id"},
        tmp_path,
        extra=["--endpoints", "chat", "--", "-k", "basic.yaml and sync"],
    )
    clean = peers.expected("litellm")
    found = result.failures()
    caught = [item for item, codes in found.items() if "id.prefix" in codes and "id.prefix" not in clean.get(item, [])]
    assert caught, f"the planted id rewrite went unnoticed: {found}"
    assert "cases/chat/basic.yaml::plain-text[litellm-gpt-4.1-sync]" in caught
    # The header's value came from the environment: it is masked wherever it would be written.
    assert "chat-id" not in (tmp_path / "summary.json").read_text()
