"""Parameters honoured: max_tokens and stop sequences have an observable effect.

- ``max_tokens`` (``max_completion_tokens`` on chat, ``max_output_tokens`` on Responses): a prompt
  that asks for a long answer, limited to 16 output tokens. The answer must report at most 16 output
  tokens and say it stopped at the limit (``length``, ``max_tokens``, ``incomplete``). An answer
  that ends on its own within the limit proves nothing (inconclusive).
- ``stop`` (chat) / ``stop_sequences`` (Messages): a control request without the stop sequence,
  then the same request with it. When the control's text contains the sequence, the stopped text
  must not, and Messages must report ``stop_reason: stop_sequence`` with that sequence. When the
  control never produces it, the probe cannot tell (inconclusive). The Responses API has no stop
  parameter, so it is not probed there.
"""

from __future__ import annotations

from typing import Any

from harness.fidelity.probe import Sender, Verdict, request_body, stopped_at_limit, text_of, tokens_of
from harness.model import Violation

LONG_PROMPT = "Write a long story about a lighthouse keeper who finds a map hidden in a bottle on the shore."
LIMIT = 16  # the Responses API's minimum max_output_tokens
CAP_SLACK = 1  # tokens an answer stopped at the limit may report below it
STOP = "lighthouse"
STOP_MAX_TOKENS = 64  # room for the sequence to come up in the control answer
STOP_PARAM = {"chat": "stop", "messages": "stop_sequences"}


def probe_max_tokens(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.max_tokens", endpoint, model)
    answer = sender.send(endpoint, request_body(endpoint, model, LONG_PROMPT, LIMIT))
    if not answer.ok or answer.body is None:
        return done("inconclusive", f"no usable answer ({answer.error})", {"limit": LIMIT})
    _, out = tokens_of(endpoint, answer.body)
    at_limit = stopped_at_limit(endpoint, answer.body)
    numbers = {"limit": LIMIT, "output_tokens": out, "stopped_at_limit": at_limit}
    if out is None or at_limit is None:
        return done("inconclusive", "the answer reports no output tokens or no stop reason", numbers)
    if out > LIMIT:
        v = Violation(
            "fidelity.param.max_tokens",
            "usage.output_tokens",
            f"{out} output tokens for a limit of {LIMIT}: "
            + ("it says it stopped at the limit, so the count is overstated" if at_limit else "the limit was ignored"),
            LIMIT,
            out,
        )
        return done("inconsistent", v.message, numbers, (v,))
    if at_limit and out < LIMIT - CAP_SLACK:
        # The official APIs stop at exactly the limit (inside a word if need be): an answer that
        # says it hit the limit well before it was cut by a lower one, or under-reports its output.
        v = Violation(
            "fidelity.param.max_tokens",
            "usage.output_tokens",
            f"it says it stopped at the limit after {out} output tokens of the {LIMIT} allowed: the limit was "
            "lowered on the way (or the output under-reported)",
            LIMIT,
            out,
        )
        return done("inconsistent", v.message, numbers, (v,))
    if at_limit:
        return done("consistent", f"{out} output tokens for a limit of {LIMIT}, stopped at the limit", numbers)
    return done(
        "inconclusive", f"the answer ended on its own after {out} of {LIMIT} tokens: the limit was not reached", numbers
    )


def probe_stop(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.stop", endpoint, model)

    param = STOP_PARAM[endpoint]
    control = sender.send(endpoint, request_body(endpoint, model, LONG_PROMPT, STOP_MAX_TOKENS))
    stopped = sender.send(endpoint, request_body(endpoint, model, LONG_PROMPT, STOP_MAX_TOKENS, **{param: [STOP]}))
    numbers: dict[str, Any] = {"stop": STOP}
    if not control.ok or not stopped.ok or control.body is None or stopped.body is None:
        return done("inconclusive", f"no usable answer ({control.error or stopped.error})", numbers)
    before, after = text_of(endpoint, control.body), text_of(endpoint, stopped.body)
    if before is None or after is None:
        return done("inconclusive", "an answer has no text", numbers)
    numbers |= {"control_has_stop": STOP in before, "stopped_has_stop": STOP in after}
    if endpoint == "messages":
        numbers |= {"stop_reason": stopped.body.get("stop_reason"), "stop_sequence": stopped.body.get("stop_sequence")}
    if STOP in after:
        v = Violation(
            "fidelity.param.stop",
            "text",
            f"the text runs past the stop sequence {STOP!r}: {param} was not applied",
            STOP,
            _around(after, STOP),
        )
        return done("inconsistent", v.message, numbers, (v,))
    if endpoint == "messages" and stopped.body.get("stop_reason") == "stop_sequence":
        if stopped.body.get("stop_sequence") != STOP:
            v = Violation(
                "fidelity.param.stop",
                "stop_sequence",
                f"stop_reason stop_sequence names {stopped.body.get('stop_sequence')!r}, not the {STOP!r} sent",
                STOP,
                stopped.body.get("stop_sequence"),
            )
            return done("inconsistent", v.message, numbers, (v,))
        return done("consistent", f"stopped at {STOP!r}, reported as stop_sequence", numbers)
    if STOP not in before:
        return done("inconclusive", f"the control answer never produced {STOP!r}: the stop was not tested", numbers)
    if stopped_at_limit(endpoint, stopped.body) is not False:
        # It ran to the limit without the sequence the control produced: another wording this
        # time, or an ignored stop that happened not to matter. Either way, no evidence.
        return done("inconclusive", f"the stopped answer neither produced {STOP!r} nor stopped early", numbers)
    if endpoint == "messages":
        return done(
            "inconclusive",
            f"the control produced {STOP!r}; the stopped answer ended without it, as "
            f"{stopped.body.get('stop_reason')!r} (another wording, not a stop)",
            numbers,
        )
    return done("consistent", f"the control answer produced {STOP!r}; with {param} the text stops before it", numbers)


def _around(text: str, needle: str, width: int = 30) -> str:
    i = text.find(needle)
    return text[max(0, i - width) : i + len(needle) + width]
