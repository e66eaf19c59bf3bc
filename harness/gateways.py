"""Gateways: where a relay is, how it authenticates, which models it serves with which
capabilities. Read from gateways.yaml; command-line flags override single fields."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from harness import resources, yamlpos
from harness.dialects import registry
from harness.dialects.base import AuthStyle

ENDPOINTS = registry.names()  # every registered dialect
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
DEFAULT_FILE = resources.gateways_file()
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024  # per answer; a real completion is far smaller
DEFAULT_UNREACHABLE_AFTER = 3  # consecutive transport failures before a gateway counts as down


class ConfigError(ValueError):
    """A usage or configuration problem; the CLI prints it on one line and exits 2."""


@dataclass(frozen=True)
class Model:
    name: str
    capabilities: frozenset[str]
    # False: nobody said what the model can do (a name from --models, or a plain list in
    # gateways.yaml). Cases that require a capability are then skipped as "not declared", never
    # run and failed: "not offered" must not read as "broken" (`relaycheck discover` finds out).
    declared: bool = True


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
    # Where that budget is kept: None = a local file (this machine's processes); redis://... or
    # env:NAME = Redis, shared by every machine with the same relay and key (harness/shared_limit.py).
    rate_limit_backend: str | None = field(default=None, repr=False)
    retries: int = 2  # as the official SDKs: 429 / 5xx / overloaded retried twice
    retry_budget_s: float = 60.0  # the most one request waits between its attempts
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES  # --max-answer-bytes overrides
    unreachable_after: int = DEFAULT_UNREACHABLE_AFTER
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
        ends in /v1 is not doubled. A query on the base URL (``?key=...``, which some relays
        require) stays on the final URL, after the path's own query."""
        parts = urlsplit(base_url or self.base_url)
        base = parts.path.rstrip("/")
        if base.endswith("/v1") and path.startswith("/v1/"):
            base = base[: -len("/v1")]
        own_path, _, own_query = path.partition("?")
        query = "&".join(q for q in (own_query, parts.query) if q)
        return urlunsplit((parts.scheme, parts.netloc, base + own_path, query, ""))

    def secrets(self) -> list[str]:
        """What a report must never show: the key, the values of the base URL's query (a relay
        that takes its key as ``?key=`` or ``?code=``) and header values from the environment."""
        found = [self.api_key() or "", *self.header_secrets()]
        if not self.builtin:
            found += [v for _, v in parse_qsl(urlsplit(self.base_url).query) if len(v) >= 4]
        return [s for s in found if s]


_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KkMmGg])?(i)?[Bb]?\s*")


def parse_size(value: Any, what: str = "size") -> int:
    """Bytes from 8388608, "8MiB", "512KiB", "8MB" (MB = 10**6, MiB = 2**20). Raises ConfigError."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        m = _SIZE.fullmatch(str(value))
        if not m:
            raise ConfigError(f"{what} must be a number of bytes such as 8388608 or 8MiB, not {value!r}")
        power = "KMG".index(m.group(2).upper()) + 1 if m.group(2) else 0
        number = int(float(m.group(1)) * ((1024 if m.group(3) else 1000) ** power))
    if number <= 0:
        raise ConfigError(f"{what} must be positive, not {value!r}")
    return number


def check_base_url(url: str, what: str = "base URL") -> None:
    """A usable http(s) URL with a host and a valid port (``builtin`` aside). Raises ConfigError."""
    if url == BUILTIN:
        return
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for 99999 or a non-number
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise ConfigError(f"{what} {url!r}: the port must be a number from 1 to 65535") from None
        raise ConfigError(f"{what} {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{what} must start with http:// or https://, got {url!r}")
    if not parts.hostname:
        raise ConfigError(f"{what} {url!r} names no host")
    if port == 0:
        raise ConfigError(f"{what} {url!r}: port 0 is not a port one can connect to")


@cache
def _validator() -> Any:
    import jsonschema

    from harness.validation import SCHEMA_DIR

    schema = json.loads((SCHEMA_DIR / "gateways.schema.json").read_text(encoding="utf-8"))
    # models: one list per registered dialect (the file lists the built-in ones for editors).
    models = schema["$defs"]["gateway"]["properties"]["models"]["properties"]
    ref = next(iter(models.values()))
    for name in registry.names():
        models.setdefault(name, ref)
    return jsonschema.Draft202012Validator(schema)


def _validate(doc: yamlpos.Located, file: str) -> None:
    """The file against schemas/gateways.schema.json: the first problem as ``file:line:col: message``,
    like a case file (an unknown key such as ``modles:`` points at the key itself)."""
    from harness.cases import _best_error, _describe

    errors = list(_validator().iter_errors(doc.value))
    if not errors:
        return
    err = _best_error(errors)
    at = tuple(err.absolute_path)
    line, col = doc.where(at)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})), key=str)
        if extra:
            line, col = doc.where_key((*at, extra[0]))
    message = _describe(err)
    where = ".".join(str(p) for p in at)
    if err.validator == "enum" and "models" in at:
        message = f"{where}: unknown capability {err.instance!r} (known: {', '.join(CAPABILITIES)})"
    elif err.validator == "exclusiveMinimum" or (err.validator == "minimum" and err.validator_value == 1):
        message = f"{where} must be a positive number, not {err.instance!r}"
    elif err.validator == "minimum":
        message = f"{where} must be at least {err.validator_value}, not {err.instance!r}"
    raise ConfigError(f"{file}:{line}:{col}: {message}")


def _gateway(name: str, raw: dict[str, Any], file: str, doc: yamlpos.Located) -> Gateway:
    """One gateway entry (already valid against the schema)."""
    models: dict[str, tuple[Model, ...]] = {}
    for endpoint, entries in (raw.get("models") or {}).items():
        if isinstance(entries, list):  # plain list of names: capabilities unknown (not "none")
            entries = {m: None for m in entries}
        models[endpoint] = tuple(Model(str(m), frozenset(c or ()), declared=c is not None) for m, c in entries.items())
    headers = raw.get("headers") or {}  # its shape is checked by schemas/gateways.schema.json
    t = raw.get("timeouts") or {}
    rpm = raw.get("rate_limit_rpm")
    base_url = str(raw["base_url"])
    try:
        check_base_url(base_url)
        size = parse_size(raw.get("max_answer_bytes", DEFAULT_MAX_ANSWER_BYTES), "max_answer_bytes")
    except ConfigError as exc:
        key = "base_url" if "max_answer_bytes" not in str(exc) else "max_answer_bytes"
        line, col = doc.where(("gateways", name, key))
        raise ConfigError(f"{file}:{line}:{col}: gateways.{name}.{key}: {exc}") from None
    return Gateway(
        name=name,
        base_url=base_url,
        auth=raw.get("auth", "x-api-key"),
        api_key_env=str(raw.get("api_key_env", "RELAYCHECK_API_KEY")),
        anthropic_version=str(raw.get("anthropic_version", "2023-06-01")),
        timeouts=Timeouts(float(t.get("connect", 10)), float(t.get("first_byte", 60)), float(t.get("total", 300))),
        concurrency=int(raw.get("concurrency", 4)),
        rate_limit_rpm=float(rpm) if rpm is not None else None,
        rate_limit_backend=raw.get("rate_limit_backend") or None,
        retries=int(raw.get("retries", 2)),
        retry_budget_s=float(raw.get("retry_budget_s", 60)),
        max_answer_bytes=size,
        unreachable_after=int(raw.get("unreachable_after", DEFAULT_UNREACHABLE_AFTER)),
        models=models,
        headers=tuple((str(k).lower(), str(v)) for k, v in headers.items()),
    )


def load_gateways(path: Path | None = None) -> tuple[dict[str, Gateway], str]:
    """All gateways of a file and the name of the default one. A problem in the file is one
    ConfigError ``file:line:col: message`` (exit 2 from the CLI), never a traceback."""
    path = path or (Path("gateways.yaml") if Path("gateways.yaml").is_file() else DEFAULT_FILE)
    try:
        doc = yamlpos.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read gateway file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}:1:1: not UTF-8: {exc.reason}") from None
    except yamlpos.YamlError as exc:
        # yamlpos speaks of case files; the same rules (no merge keys, no duplicate keys) hold here.
        message = exc.message.replace("in case files", "in gateway files")
        raise ConfigError(f"{path}:{exc.line}:{exc.col}: {message}") from None
    raw = doc.value if doc.value is not None else {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1:1: a gateway file is a mapping with a 'gateways' mapping")
    _validate(doc, str(path))
    gateways = {name: _gateway(name, g, str(path), doc) for name, g in (raw.get("gateways") or {}).items()}
    default = raw.get("default") or (next(iter(gateways)) if gateways else "")
    if raw.get("default") and default not in gateways:
        line, col = doc.where(("default",))
        raise ConfigError(f"{path}:{line}:{col}: default: no gateway named {default!r}")
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
    max_answer_bytes: str | None = None


def resolve(overrides: Overrides) -> Gateway:
    """The gateway to test: the named (or default) one from the file, with flags applied."""
    gateways, default = load_gateways(overrides.gateways_file)
    if overrides.gateway:
        if overrides.gateway not in gateways:
            raise ConfigError(f"unknown gateway {overrides.gateway!r} (known: {', '.join(sorted(gateways)) or 'none'})")
        gw = gateways[overrides.gateway]
    elif overrides.base_url:
        # A bare --base-url: a relay of unknown make. It keeps the default gateway's settings but
        # not its models: those describe another gateway, and their tags would be guesses here.
        base = gateways.get(default)
        gw = (
            replace(base, name="relay", base_url=overrides.base_url, models={})
            if base
            else Gateway("relay", overrides.base_url)
        )
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
    if overrides.max_answer_bytes is not None:
        gw = replace(gw, max_answer_bytes=parse_size(overrides.max_answer_bytes, "--max-answer-bytes"))
    check_base_url(gw.base_url)
    return gw


def _override_model(gw: Gateway, endpoint: str, name: str) -> Model:
    """--models applies to every endpoint. A model the config describes on this endpoint keeps
    its capability tags; any other has unknown capabilities (tags are per endpoint: a model's
    count_tokens on /v1/messages says nothing about /v1/chat/completions), so the cases that
    require one are skipped with that reason and counted in the digest."""
    return gw.model(endpoint, name) or Model(name, frozenset(), declared=False)
