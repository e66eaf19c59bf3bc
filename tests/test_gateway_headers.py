"""gateways.yaml `headers:`: extra request headers per gateway (a relay that routes by header,
such as Portkey's x-portkey-provider), ${VAR} expanded from the environment at run time and
masked wherever relaycheck writes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.cases import RequestSpec
from harness.gateways import ConfigError, Overrides, load_gateways, resolve
from harness.redact import MASK, Redactor
from harness.runner import build_request

CONFIG = textwrap.dedent("""\
    default: pk
    gateways:
      pk:
        base_url: http://127.0.0.1:9/
        auth: bearer
        headers:
          X-Portkey-Provider: openai
          x-portkey-custom-host: "${RC_TEST_UPSTREAM}/v1"
        models: {chat: [gpt-4.1]}
""")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateways.yaml"
    path.write_text(CONFIG)
    return path


def _request(gw, headers: tuple[tuple[str, str], ...] = ()):  # type: ignore[no-untyped-def]
    spec = RequestSpec(headers=headers, body_json=json.dumps({"messages": []}))
    variant = SimpleNamespace(model="gpt-4.1", stream=False)
    ctx = SimpleNamespace(gateway=gw, base_url=gw.base_url)
    return build_request(spec, "chat", variant, ctx, {})  # type: ignore[arg-type]


def test_headers_are_sent_with_env_values_expanded_at_run_time(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RC_TEST_UPSTREAM", "http://127.0.0.1:8123")
    gw = resolve(Overrides(gateways_file=config))
    assert gw.headers == (("x-portkey-provider", "openai"), ("x-portkey-custom-host", "${RC_TEST_UPSTREAM}/v1"))
    sent = _request(gw).headers
    assert sent["x-portkey-provider"] == "openai"
    assert sent["x-portkey-custom-host"] == "http://127.0.0.1:8123/v1"
    # A case's own header wins over the gateway's.
    assert _request(gw, (("X-Portkey-Provider", "anthropic"),)).headers["x-portkey-provider"] == "anthropic"


def test_env_valued_headers_are_secrets_and_literal_ones_are_not(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RC_TEST_UPSTREAM", "http://127.0.0.1:8123")
    gw = resolve(Overrides(gateways_file=config))
    assert gw.header_secrets() == ["http://127.0.0.1:8123/v1"]  # "openai" is written in the file: not a secret
    assert "http://127.0.0.1:8123/v1" in gw.secrets()  # every redactor built from the gateway masks it
    masked = Redactor(gw.header_secrets()).text("host http://127.0.0.1:8123/v1 via openai")
    assert masked == f"host {MASK} via openai"


def test_unset_variable_is_a_config_error(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RC_TEST_UPSTREAM", raising=False)
    load_gateways(config)  # reading the file does not need the variable...
    with pytest.raises(ConfigError, match="RC_TEST_UPSTREAM"):
        resolve(Overrides(gateways_file=config))  # ...running against the gateway does


def test_headers_must_be_a_mapping_of_strings(tmp_path: Path) -> None:
    bad = tmp_path / "gateways.yaml"
    bad.write_text("gateways:\n  pk:\n    base_url: http://127.0.0.1:9/\n    headers: [x-a, x-b]\n")
    with pytest.raises(ConfigError, match="headers"):
        load_gateways(bad)
