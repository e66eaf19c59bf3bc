"""Gateways: where a relay is, how it authenticates, which models it serves with which
capabilities. Read from gateways.yaml; command-line flags override single fields."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from harness.dialects.base import AuthStyle

ENDPOINTS = ("chat", "messages", "responses")
CAPABILITIES = (
    "tools",
    "parallel_tools",
    "thinking",
    "reasoning",
    "vision",
    "count_tokens",
    "stored_responses",
)
BUILTIN = "builtin"
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "gateways.yaml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """A usage or configuration problem; the CLI prints it on one line and exits 2."""


@dataclass(frozen=True)
class Model:
    name: str
    capabilities: frozenset[str]


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    first_byte: float = 60.0  # also the longest silence allowed between two chunks
    total: float = 300.0


@dataclass(frozen=True)
class Gateway:
    name: str
    base_url: str  # "builtin" or e.g. "https://relay.example/" (with or without /v1)
    auth: AuthStyle = "x-api-key"
    api_key_env: str = "RELAYCHECK_API_KEY"
    api_key_value: str | None = field(default=None, repr=False)  # from --api-key; never written anywhere
    anthropic_version: str = "2023-06-01"
    timeouts: Timeouts = Timeouts()
    concurrency: int = 4  # live items in flight at once (--concurrency overrides)
    rate_limit_rpm: float | None = None  # requests per minute across all workers (--rate-limit)
    retries: int = 2  # as the official SDKs: 429 / 5xx / overloaded retried twice
    retry_budget_s: float = 60.0  # the most one request waits between its attempts
    models: dict[str, tuple[Model, ...]] = field(default_factory=dict)
    # Extra request headers sent on every request (a relay that routes by header, e.g. Portkey's
    # x-portkey-provider). Values are kept as written; ${VAR} is expanded only when a request is
    # built, and such values are treated as secrets (masked in reports, cassettes and failures).
    headers: tuple[tuple[str, str], ...] = ()

    def extra_headers(self) -> dict[str, str]:
        return {name: _ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), value) for name, value in self.headers}

    def header_secrets(self) -> list[str]:
        """Header values that came from the environment: masked like the key wherever we write."""
        expanded = self.extra_headers()
        return [v for name, value in self.headers if _ENV_REF.search(value) and (v := expanded[name])]

    def missing_env(self) -> list[str]:
        return sorted({m for _, v in self.headers for m in _ENV_REF.findall(v) if m not in os.environ})

    @property
    def builtin(self) -> bool:
        return self.base_url == BUILTIN

    def api_key(self) -> str | None:
        return self.api_key_value or os.environ.get(self.api_key_env) or None

    def models_for(self, endpoint: str) -> tuple[Model, ...]:
        return self.models.get(endpoint, ())

    def model(self, endpoint: str, name: str) -> Model | None:
        for m in self.models_for(endpoint):
            if m.name == name:
                return m
        return None

    def url(self, path: str, base_url: str | None = None) -> str:
        """Join the base URL and an API path such as /v1/messages; a base URL that already
        ends in /v1 is not doubled."""
        base = (base_url or self.base_url).rstrip("/")
        if base.endswith("/v1") and path.startswith("/v1/"):
            base = base[: -len("/v1")]
        return base + path


def _capabilities(raw: Any, where: str) -> frozenset[str]:
    caps = frozenset(raw or ())
    unknown = caps - set(CAPABILITIES)
    if unknown:
        raise ConfigError(f"{where}: unknown capability {sorted(unknown)} (known: {', '.join(CAPABILITIES)})")
    return caps


def _positive(value: Any, kind: type, where: str) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ConfigError(f"{where} must be a positive number, not {value!r}")
    return number


def _gateway(name: str, raw: dict[str, Any], file: str) -> Gateway:
    where = f"{file}: gateway {name!r}"
    if not isinstance(raw, dict) or "base_url" not in raw:
        raise ConfigError(f"{where}: needs at least base_url")
    models: dict[str, tuple[Model, ...]] = {}
    for endpoint, entries in (raw.get("models") or {}).items():
        if endpoint not in ENDPOINTS:
            raise ConfigError(f"{where}: models for unknown endpoint {endpoint!r}")
        if isinstance(entries, list):  # plain list of names: no capability tags
            entries = {m: [] for m in entries}
        models[endpoint] = tuple(Model(m, _capabilities(c, f"{where} model {m}")) for m, c in entries.items())
    auth = raw.get("auth", "x-api-key")
    if auth not in ("bearer", "x-api-key", "both"):
        raise ConfigError(f"{where}: auth must be bearer, x-api-key or both, not {auth!r}")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str | int | float) for v in headers.values()):
        raise ConfigError(f"{where}: headers must map header names to string values")
    t = raw.get("timeouts") or {}
    rpm = raw.get("rate_limit_rpm")
    return Gateway(
        name=name,
        base_url=str(raw["base_url"]),
        auth=auth,
        api_key_env=str(raw.get("api_key_env", "RELAYCHECK_API_KEY")),
        anthropic_version=str(raw.get("anthropic_version", "2023-06-01")),
        timeouts=Timeouts(float(t.get("connect", 10)), float(t.get("first_byte", 60)), float(t.get("total", 300))),
        concurrency=_positive(raw.get("concurrency", 4), int, f"{where}: concurrency"),
        rate_limit_rpm=_positive(rpm, float, f"{where}: rate_limit_rpm") if rpm is not None else None,
        retries=int(raw.get("retries", 2)),
        retry_budget_s=float(raw.get("retry_budget_s", 60)),
        models=models,
        headers=tuple((str(k).lower(), str(v)) for k, v in headers.items()),
    )


def load_gateways(path: Path | None = None) -> tuple[dict[str, Gateway], str]:
    """All gateways of a file and the name of the default one."""
    path = path or (Path("gateways.yaml") if Path("gateways.yaml").is_file() else DEFAULT_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read gateway file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    gateways = {name: _gateway(name, g, str(path)) for name, g in (raw.get("gateways") or {}).items()}
    default = raw.get("default") or (next(iter(gateways)) if gateways else "")
    return gateways, default


@dataclass(frozen=True)
class Overrides:
    gateway: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    auth: str | None = None
    models: tuple[str, ...] = ()
    anthropic_version: str | None = None
    gateways_file: Path | None = None


def resolve(overrides: Overrides) -> Gateway:
    """The gateway to test: the named (or default) one from the file, with flags applied."""
    gateways, default = load_gateways(overrides.gateways_file)
    if overrides.gateway:
        if overrides.gateway not in gateways:
            raise ConfigError(f"unknown gateway {overrides.gateway!r} (known: {', '.join(sorted(gateways)) or 'none'})")
        gw = gateways[overrides.gateway]
    elif overrides.base_url:
        # A bare --base-url: a relay of unknown make; it gets the default gateway's models.
        base = gateways.get(default)
        gw = replace(base, name="relay", base_url=overrides.base_url) if base else Gateway("relay", overrides.base_url)
    else:
        if default not in gateways:
            raise ConfigError("no gateway given and no default gateway configured")
        gw = gateways[default]
    if overrides.base_url:
        gw = replace(gw, base_url=overrides.base_url)
    if overrides.api_key:
        gw = replace(gw, api_key_value=overrides.api_key)
    if overrides.auth:
        if overrides.auth not in ("bearer", "x-api-key", "both"):
            raise ConfigError(f"--auth must be bearer, x-api-key or both, not {overrides.auth!r}")
        gw = replace(gw, auth=overrides.auth)  # type: ignore[arg-type]
    if overrides.anthropic_version:
        gw = replace(gw, anthropic_version=overrides.anthropic_version)
    if overrides.models:
        gw = replace(gw, models={e: tuple(_override_model(gw, e, m) for m in overrides.models) for e in ENDPOINTS})
    if gw.missing_env():
        unset = ", ".join(gw.missing_env())
        raise ConfigError(f"gateway {gw.name!r}: headers use unset environment variable(s) {unset}")
    if not gw.builtin and not gw.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"base URL must start with http:// or https://, got {gw.base_url!r}")
    return gw


def _override_model(gw: Gateway, endpoint: str, name: str) -> Model:
    """--models applies to every endpoint. A model the config already describes keeps its
    capability tags; an unknown one is assumed capable of everything the user asks of it,
    so no case is skipped silently for lack of a tag nobody wrote."""
    known = gw.model(endpoint, name) or next((m for e in ENDPOINTS for m in gw.models_for(e) if m.name == name), None)
    return known or Model(name, frozenset(CAPABILITIES))
