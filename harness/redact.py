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
# One pass over the text (this runs on every chunk written and every report line) for what is
# masked even when nobody named the value:
# - keys passed in a URL (?key=..., Gemini and some relays; ?api-key=..., Azure);
# - OpenAI organisation and project ids: not keys, but they name the account a recording came from;
# - shapes of real keys (a relay echoing a key, a Bearer header pasted into an error message).
_BUILTIN = re.compile(
    r"(?P<url>[?&](?i:key|api[-_]?key|apikey|access[-_]?token|token)=)[^&#\s\"']+"
    r"|\b(?:org-[A-Za-z0-9]{16,}|proj_[A-Za-z0-9]{16,})\b"
    r"|\b(?P<bearer>Bearer)\s+[A-Za-z0-9._~+/=-]{12,}"
    r"|\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"
)


def _might_hold_key(value: str) -> bool:
    """Cheap substring tests that every _BUILTIN match needs: most text (model output, JSON
    events) has none of them, and the regex then need not scan it at all."""
    if "sk-" in value or "Bearer" in value or "org-" in value or "proj_" in value:
        return True
    if "=" not in value:
        return False
    lowered = value.lower()
    return "key=" in lowered or "token=" in lowered


# The deliberately wrong key of `auth: wrong-key` cases (harness.runner.WRONG_KEY) is public: it
# is printed as sent, so a reproduce command fails the way the case did.
PUBLIC_KEY_PREFIX = "rc-wrong-key-"


def _mask(m: re.Match[str]) -> str:
    if m.group("bearer") and m.group(0).split()[-1].startswith(PUBLIC_KEY_PREFIX):
        return m.group(0)
    if m.group("url"):
        return m.group("url") + MASK
    return "Bearer " + MASK if m.group("bearer") else MASK


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
        return _BUILTIN.sub(_mask, value) if _might_hold_key(value) else value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (MASK if k.lower() in SECRET_HEADERS else self.text(v)) for k, v in headers.items()}
