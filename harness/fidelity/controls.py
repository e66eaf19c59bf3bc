"""Negative controls: round trips the official upstream verifies on its side.

- ``control.signature`` (Messages): a thinking answer, then the same two-turn history sent back
  twice, once as received and once with one character of the thinking ``signature`` changed.
  Anthropic verifies signatures: it accepts the first and answers 400 to the second. A relay that
  accepts the tampered one is not forwarding to an Anthropic backend (or rebuilds the history and
  drops the signature). A model that does not think gives no signature: inconclusive.
- ``control.previous_response`` (Responses): a stored response is continued with its id (the
  positive control), then a made-up ``previous_response_id`` is sent. The official API answers
  400 ``previous_response_not_found`` to the made-up one. A relay that accepts it ignores the
  field (or keeps no conversation state), whatever it claims.

Neither can tell one model of a family from another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.fidelity.probe import Answer, Sender, Verdict, request_body
from harness.model import Violation

PROMPT = "Reply with the single word OK."
FOLLOW_UP = "Thanks. Reply with the single word OK once more."
BUDGET = 1024  # the official minimum budget_tokens
MAX_TOKENS = BUDGET + 64
# Shaped like an official id (resp_ + 48 hex digits), but no response ever had it.
MADE_UP_RESPONSE_ID = "resp_" + "0f1d3" * 9 + "c0ffee"[:3]
REJECTED = (400, 404)  # the official answer is 400; 404 rejects it just as plainly


def tamper(sig: str) -> str:
    """The signature with its middle character replaced by another base64 character."""
    i = len(sig) // 2
    return sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1 :]


def _thinking_body(model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "thinking": {"type": "enabled", "budget_tokens": BUDGET},
        "messages": messages,
    }


def probe_signature(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("control.signature", endpoint, model)

    first = sender.send(endpoint, _thinking_body(model, [{"role": "user", "content": PROMPT}]))
    if not first.ok or first.body is None:
        return done(
            "inconclusive", f"the thinking request got no usable answer ({first.error}): the model may not think", {}
        )
    content = first.body.get("content")
    blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    thinking = [b for b in blocks if b.get("type") == "thinking" and isinstance(b.get("signature"), str)]
    if not thinking or not thinking[0]["signature"]:
        return done("inconclusive", "the answer has no signed thinking block: nothing to tamper with", {})
    sig = thinking[0]["signature"]

    def history(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"role": "user", "content": PROMPT},
            {"role": "assistant", "content": content},
            {"role": "user", "content": FOLLOW_UP},
        ]

    tampered_blocks = [{**b, "signature": tamper(sig)} if b is thinking[0] else b for b in blocks]
    honest = sender.send(endpoint, _thinking_body(model, history(blocks)))
    tampered = sender.send(endpoint, _thinking_body(model, history(tampered_blocks)))
    numbers = {"signature_chars": len(sig), "untampered_status": honest.status, "tampered_status": tampered.status}
    # The official API accepts its own signature: a relay that does not has another defect
    # (it alters the history), which the suite reports; this control cannot tell.
    return judge(
        done,
        numbers,
        honest,
        tampered,
        code="fidelity.control.signature",
        positive_failed=f"the untampered history was rejected too ({honest.error})",
        accepted="a thinking signature with one character changed was accepted (HTTP 200); "
        "the official API answers 400: the signature is not verified upstream",
        consistent="untampered accepted, tampered rejected",
        unjudged=f"the tampered request got no verdict ({tampered.error})",
    )


def probe_previous_response(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("control.previous_response", endpoint, model)

    stored = sender.send(endpoint, request_body(endpoint, model, PROMPT, 16, store=True))
    rid = stored.body.get("id") if stored.ok and stored.body is not None else None
    if not isinstance(rid, str):
        return done("inconclusive", f"the stored request got no usable answer ({stored.error})", {})
    follow = sender.send(endpoint, request_body(endpoint, model, FOLLOW_UP, 16, previous_response_id=rid))
    made_up = sender.send(
        endpoint, request_body(endpoint, model, FOLLOW_UP, 16, previous_response_id=MADE_UP_RESPONSE_ID)
    )
    numbers = {"continued_status": follow.status, "made_up_status": made_up.status, "made_up_id": MADE_UP_RESPONSE_ID}
    return judge(
        done,
        numbers,
        follow,
        made_up,
        code="fidelity.control.previous_response",
        positive_failed=f"continuing a stored response failed ({follow.error}): no stored state",
        accepted="a made-up previous_response_id was accepted (HTTP 200); the official API answers 400 "
        "previous_response_not_found: the field is ignored or not forwarded",
        consistent="stored response continued, made-up id rejected",
        unjudged=f"the made-up id got no verdict ({_err(made_up)})",
    )


def judge(
    done: Callable[..., Verdict],
    numbers: dict[str, Any],
    positive: Answer,
    negative: Answer,
    *,
    code: str,
    positive_failed: str,
    accepted: str,
    consistent: str,
    unjudged: str,
) -> Verdict:
    """The verdict of a negative control: the genuine request (``positive``) must be accepted,
    else the control cannot tell; the forged one (``negative``) accepted with 200 is the finding,
    rejected (400/404) is consistent, anything else gives no verdict."""
    if not positive.ok:
        return done("inconclusive", positive_failed, numbers)
    if negative.status == 200:
        v = Violation(code, "status", accepted, 400, negative.status)
        return done("inconsistent", v.message, numbers, (v,))
    if negative.status in REJECTED:
        return done("consistent", f"{consistent} (HTTP {negative.status})", numbers)
    return done("inconclusive", unjudged, numbers)


def _err(a: Answer) -> str:
    return a.error or f"HTTP {a.status}"
