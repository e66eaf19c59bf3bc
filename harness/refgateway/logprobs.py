"""Token log probabilities, as the official OpenAI APIs return them when asked: chat ``logprobs:
true`` (+ ``top_logprobs: k``) and Responses ``include: ["message.output_text.logprobs"]`` (+
``top_logprobs: k``). One entry per output token of the serving family's tokenizer (so the count
matches the billed output tokens), each with exactly k alternatives, the first being the token
itself. The values are made up but deterministic. Fault logprobs-dropped: none are returned."""

from __future__ import annotations

from typing import Any

from harness.refgateway import tokenizer
from harness.refgateway.common import Ctx

INCLUDE = "message.output_text.logprobs"
ALTERNATIVES = (" the", " a", ",", ".", " and", " of", " to", " in", " is", " it", "\n", " that", " for", " on")


def wanted_chat(ctx: Ctx) -> int | None:
    """top_logprobs k when chat logprobs are asked for (0 without top_logprobs), else None."""
    if ctx.body.get("logprobs") is not True or ctx.has("logprobs-dropped"):
        return None
    top = ctx.body.get("top_logprobs")
    return top if isinstance(top, int) and top > 0 else 0


def wanted_responses(ctx: Ctx) -> int | None:
    if INCLUDE not in (ctx.body.get("include") or ()) or ctx.has("logprobs-dropped"):
        return None
    top = ctx.body.get("top_logprobs")
    return top if isinstance(top, int) and top > 0 else 0


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


def entries(ctx: Ctx, text: str, top: int, start: int = 0) -> list[dict[str, Any]]:
    """Logprob entries of ``text``'s tokens; ``start`` numbers them after earlier stream pieces."""
    out = []
    for i, token in enumerate(tokenizer.tokens(text, ctx.family), start):
        lp = -round(ctx.seed[i % 32] / 255 * 0.5, 6)  # the chosen token: likely
        alts = [_entry(token, lp)]
        others = [a for a in ALTERNATIVES if a != token]
        alts += [_entry(others[(i + j) % len(others)], round(lp - 1.5 * j, 6)) for j in range(1, top)]
        out.append({**_entry(token, lp), "top_logprobs": alts[:top]})
    return out
