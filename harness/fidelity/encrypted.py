"""Negative control ``control.encrypted_content`` (Responses, reasoning models).

A stateless turn (``store: false``, ``include: ["reasoning.encrypted_content"]``) returns its
reasoning as an opaque token the official API verifies when the item comes back: the untampered
history is accepted, one changed character gets 400 ``invalid_encrypted_content`` ("The encrypted
content gAAA...DQ== could not be verified.", openai/codex#8145). A relay that accepts the tampered
token does not forward to OpenAI (or drops the reasoning item on the way); one that rejects the
untampered one too spreads turns over accounts whose keys differ (Wei-Shaw/sub2api#3038), which
this control reports as inconclusive, not as a forgery.
"""

from __future__ import annotations

from typing import Any

from harness.fidelity.controls import FOLLOW_UP, PROMPT, judge, tamper
from harness.fidelity.probe import Sender, Verdict

INCLUDE = "reasoning.encrypted_content"
MAX_OUTPUT_TOKENS = 512  # room for a reasoning model's hidden reasoning before a one-word answer


def _body(model: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "model": model,
        "input": items,
        "store": False,
        "include": [INCLUDE],
        "max_output_tokens": MAX_OUTPUT_TOKENS,
    }


def probe_encrypted_content(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("control.encrypted_content", endpoint, model)
    first_input = [{"role": "user", "content": PROMPT}]
    first = sender.send(endpoint, _body(model, first_input))
    if not first.ok or first.body is None:
        return done("inconclusive", f"the first request got no usable answer ({first.error})", {})
    items = first.body.get("output")
    output = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    sealed = [i for i in output if i.get("type") == "reasoning" and isinstance(i.get("encrypted_content"), str)]
    if not sealed or not sealed[0]["encrypted_content"]:
        return done(
            "inconclusive", "the answer has no reasoning item with encrypted_content (not a reasoning model?)", {}
        )
    token = sealed[0]["encrypted_content"]
    follow = {"role": "user", "content": FOLLOW_UP}
    tampered_output = [{**i, "encrypted_content": tamper(token)} if i is sealed[0] else i for i in output]
    honest = sender.send(endpoint, _body(model, [*first_input, *output, follow]))
    tampered = sender.send(endpoint, _body(model, [*first_input, *tampered_output, follow]))
    numbers = {"token_chars": len(token), "untampered_status": honest.status, "tampered_status": tampered.status}
    return judge(
        done,
        numbers,
        honest,
        tampered,
        code="fidelity.control.encrypted_content",
        positive_failed=f"the untampered history was rejected too ({honest.error})",
        accepted="a reasoning item's encrypted_content with one character changed was accepted (HTTP 200); the "
        "official API answers 400 invalid_encrypted_content: the token is not verified upstream",
        consistent="untampered accepted, tampered rejected",
        unjudged=f"the tampered request got no verdict ({tampered.error})",
    )
