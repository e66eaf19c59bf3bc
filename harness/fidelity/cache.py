"""Prompt caching honoured (Messages ``cache_control``).

Two identical requests whose system prompt is a long text marked ``cache_control: ephemeral``,
with a fresh nonce at its start so that no earlier run's cache entry can answer the first one.
The official API writes the prefix on the first call (``cache_creation_input_tokens`` > 0) and
reads it on the second (``cache_read_input_tokens`` > 0). A relay that strips ``cache_control``,
or spreads consecutive requests over upstream accounts that share no cache, reports neither
(the client pays full price every time). The prefix is well above every model's minimum
cacheable length (1024-4096 tokens). OpenAI's automatic caching is not probed: it is best effort
by design, so an absent cache hit proves nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from harness.fidelity.probe import Sender, Verdict
from harness.model import Violation

SENTENCE = " The keeper writes the weather in the log at dawn and at dusk, and checks the lamp."
REPEATS = 300  # about 5,000 tokens on real tokenizers: above every model's cache minimum
QUESTION = "Reply with the single word OK."


def body(model: str, nonce: str) -> dict[str, Any]:
    system = f"Log {nonce}." + SENTENCE * REPEATS
    return {
        "model": model,
        "max_tokens": 16,
        "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": QUESTION}],
    }


def _cache_counts(answer_body: dict[str, Any]) -> tuple[int | None, int | None]:
    u = answer_body.get("usage")
    if not isinstance(u, dict):
        return None, None
    w, r = u.get("cache_creation_input_tokens"), u.get("cache_read_input_tokens")
    return (w if isinstance(w, int) else None), (r if isinstance(r, int) else None)


def probe_cache(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("cache.control", endpoint, model)

    request = body(model, secrets.token_hex(8))
    first = sender.send(endpoint, request)
    second = sender.send(endpoint, request)
    if not first.ok or not second.ok or first.body is None or second.body is None:
        return done("inconclusive", f"no usable answer ({first.error or second.error})", {})
    w1, r1 = _cache_counts(first.body)
    w2, r2 = _cache_counts(second.body)
    numbers = {"first_written": w1, "first_read": r1, "second_written": w2, "second_read": r2}
    # The usage the client is billed: uncached input plus written and read prefix tokens.
    numbers["first_input"], numbers["second_input"] = (
        u.get("input_tokens") if isinstance(u := a.body.get("usage"), dict) else None for a in (first, second)
    )
    if None in (w1, r1, w2, r2):
        return done("inconclusive", "an answer's usage lacks the cache counts", numbers)
    if r2 > 0:
        return done("consistent", f"first call wrote {w1} tokens to the cache, the repeat read {r2}", numbers)
    v = Violation(
        "fidelity.cache.not_honoured",
        "usage.cache_read_input_tokens",
        (
            f"the repeat of a cache_control prefix read 0 tokens from the cache (first call wrote {w1}): "
            + ("the cache entry was not found again" if w1 or r1 else "cache_control was not honoured")
        ),
        "> 0",
        r2,
    )
    return done("inconsistent", v.message, numbers, (v,))
