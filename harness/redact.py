"""Secrets never leave the process: keys are replaced before anything is printed or written."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
        "proxy-authorization",
        "anthropic-organization-id",
        "x-goog-api-key",
    }
)
MASK = "[REDACTED]"
# Shapes of real keys, caught even when nobody told us the value (e.g. a relay echoing a key).
_KEY_SHAPES = re.compile(r"\b(sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|Bearer\s+[A-Za-z0-9._~+/=-]{12,})")
# OpenAI organisation and project ids: not keys, but they name the account a recording came from.
_ACCOUNT_IDS = re.compile(r"\b(?:org-[A-Za-z0-9]{16,}|proj_[A-Za-z0-9]{16,})\b")
# Keys passed in a URL (?key=..., Gemini and some relays; ?api-key=..., Azure).
_URL_KEYS = re.compile(r"([?&](?:key|api[-_]?key|apikey|access[-_]?token|token)=)[^&#\s\"']+", re.I)


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self.patterns = [re.compile(p) for p in patterns]

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        for pattern in self.patterns:
            value = pattern.sub(MASK, value)
        value = _URL_KEYS.sub(lambda m: m.group(1) + MASK, value)
        value = _ACCOUNT_IDS.sub(MASK, value)
        return _KEY_SHAPES.sub(lambda m: "Bearer " + MASK if m.group(0).startswith("Bearer") else MASK, value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (MASK if k.lower() in SECRET_HEADERS else self.text(v)) for k, v in headers.items()}
