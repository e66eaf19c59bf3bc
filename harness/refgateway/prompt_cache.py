"""Prompt caching as the reference gateway plays it (Anthropic ``cache_control``).

Deterministic accounting, keyed by content: the request's prefix up to and including the last
block marked with ``cache_control`` (tools, then system blocks, then message content blocks, the
official order) is hashed with the model name. A prefix of at least MIN_TOKENS tokens is
"written" the first time it is seen (``cache_creation_input_tokens``) and "read" every time after
(``cache_read_input_tokens``); ``input_tokens`` then counts only what follows it, as the official
usage does. Simplified: one breakpoint (the last), no expiry, no look-back to earlier breakpoints.
The fault cache-control-stripped never caches, as a relay that drops the field upstream.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from harness.refgateway import tokenizer

MIN_TOKENS = 1024  # the official minimum for Sonnet and Opus 4 models
LIMIT = 4096  # prefixes remembered; the oldest go first


@dataclass(frozen=True)
class Hit:
    written: int = 0
    read: int = 0
    ttl: str = "5m"


def _segments(body: dict[str, Any]) -> list[Any]:
    """Every block that may carry cache_control, in the official prefix order."""
    out: list[Any] = list(body.get("tools") or [])
    system = body.get("system")
    if isinstance(system, list):
        out += system
    for m in body.get("messages") or []:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            out += [{"role": m.get("role"), **b} if isinstance(b, dict) else b for b in content]
        else:
            out.append(m)
    return out


def _marked(segment: Any) -> bool:
    return isinstance(segment, dict) and isinstance(segment.get("cache_control"), dict)


class PromptCache:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, None] = OrderedDict()

    def account(self, body: dict[str, Any], family: tokenizer.Family) -> Hit:
        """What this request writes to or reads from the cache (nothing when unmarked or short)."""
        segments = _segments(body)
        last = max((i for i, s in enumerate(segments) if _marked(s)), default=None)
        if last is None:
            return Hit()
        prefix = segments[: last + 1]
        tokens = sum(tokenizer.count_text(s, family) for s in tokenizer.strings_in(prefix))
        if tokens < MIN_TOKENS:
            return Hit()
        ttl = "1h" if segments[last]["cache_control"].get("ttl") == "1h" else "5m"
        key = hashlib.sha256(json.dumps([body.get("model"), prefix], sort_keys=True).encode()).hexdigest()
        if key in self._seen:
            self._seen.move_to_end(key)
            return Hit(read=tokens, ttl=ttl)
        self._seen[key] = None
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)
        return Hit(written=tokens, ttl=ttl)
