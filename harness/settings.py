"""Run settings, resolved once from the command line and gateways.yaml (no pytest import)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.dialects.base import Profile
from harness.gateways import ENDPOINTS, ConfigError, Gateway, Overrides, resolve
from harness.model import Level


@dataclass(frozen=True)
class Settings:
    gateway: Gateway
    endpoints: tuple[str, ...]
    report_dir: Path
    level: Level
    profile: Profile


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def from_options(opts: dict[str, Any]) -> Settings:
    endpoints = _csv(opts.get("endpoints")) or ENDPOINTS
    unknown = [e for e in endpoints if e not in ENDPOINTS]
    if unknown:
        raise ConfigError(f"--endpoints: unknown endpoint {', '.join(unknown)} (known: {', '.join(ENDPOINTS)})")
    gateways_file = opts.get("gateways_file")
    gateway = resolve(
        Overrides(
            gateway=opts.get("gateway"),
            base_url=opts.get("base_url"),
            api_key=opts.get("api_key"),
            auth=opts.get("auth"),
            models=_csv(opts.get("models")),
            anthropic_version=opts.get("anthropic_version"),
            gateways_file=Path(gateways_file) if gateways_file else None,
            max_answer_bytes=opts.get("max_answer_bytes"),
        )
    )
    level = opts.get("level") or "strict"
    profile = opts.get("profile") or "official"
    return Settings(gateway, endpoints, Path(opts.get("report_dir") or "reports"), level, profile)
