"""Output usage consistent with the text returned, streamed or not (probe ``usage.output``).

A tokenizer gives a text about the same count whether the model wrote it or it is read back as
input. So the answer's visible text is sent back, appended to a fixed prompt, and the input
tokens it adds (against the fixed prompt alone) measure it in the serving model's own tokenizer,
whatever that is. The output tokens the relay billed (reasoning tokens taken off, as reported)
must match that within max(3, 15 %): boundary effects and an end-of-turn token move it by one or
two. The same request streamed must bill the same input tokens (within 1) and an output count
that matches its own text the same way.

- ``fidelity.usage.output``: the non-streamed answer's output tokens are not its text's count;
- ``fidelity.usage.stream_mismatch``: the stream bills other input tokens than the same request
  not streamed, or output tokens that are not its text's count (a relay that estimates streamed
  usage itself instead of forwarding the upstream's).
"""

from __future__ import annotations

from typing import Any

from harness.fidelity.probe import Sender, Verdict, request_body, text_of, tokens_of
from harness.model import Violation

PROMPT = "Write two sentences about a lighthouse keeper."
MAX_TOKENS = 48
REFERENCE = "Reply with the single word OK."
INPUT_TOLERANCE = 1


def tolerance(n: int) -> float:
    return max(3.0, 0.15 * n)


def reasoning_tokens(endpoint: str, body: dict[str, Any]) -> int:
    u = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    details = u.get("completion_tokens_details" if endpoint == "chat" else "output_tokens_details")
    value = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return value if isinstance(value, int) else 0


def probe_output(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("usage.output", endpoint, model)
    body = request_body(endpoint, model, PROMPT, MAX_TOKENS)
    plain = sender.send(endpoint, body)
    extra = {"stream_options": {"include_usage": True}} if endpoint == "chat" else {}
    streamed, _ = sender.stream(endpoint, {**body, **extra})
    reference = sender.send(endpoint, request_body(endpoint, model, REFERENCE, 16))
    if not plain.ok or plain.body is None or not reference.ok or reference.body is None:
        return done("inconclusive", f"no usable answer ({plain.error or reference.error})", {})
    base, _ = tokens_of(endpoint, reference.body)
    if base is None:
        return done("inconclusive", "the reference answer reports no input tokens", {})

    def measured(text: str) -> int | None:
        """The input tokens ``text`` adds to the reference prompt."""
        echo = sender.send(endpoint, request_body(endpoint, model, REFERENCE + "\n\n" + text, 16))
        n, _ = tokens_of(endpoint, echo.body) if echo.ok else (None, None)
        return None if n is None else n - base

    numbers: dict[str, Any] = {"reference_input": base}
    found: list[Violation] = []
    judged = []
    p_in, p_out = tokens_of(endpoint, plain.body)
    p_text = text_of(endpoint, plain.body) or ""
    if p_out is not None and p_text:
        billed = p_out - reasoning_tokens(endpoint, plain.body)
        count = measured(p_text)
        numbers |= {"output_tokens": billed, "text_as_input": count}
        if count is not None:
            judged.append("non-streamed")
            if abs(billed - count) > tolerance(count):
                found.append(
                    Violation(
                        "fidelity.usage.output",
                        "usage.output_tokens",
                        f"{billed} output tokens billed for a text that counts {count} tokens read back as input",
                        count,
                        billed,
                    )
                )
    if streamed.ok and streamed.body is not None:
        s_in, s_out = tokens_of(endpoint, streamed.body)
        s_text = text_of(endpoint, streamed.body) or ""
        numbers |= {"input_tokens": p_in, "stream_input_tokens": s_in}
        if s_in is not None and p_in is not None:
            judged.append("stream input")
            if abs(s_in - p_in) > INPUT_TOLERANCE:
                found.append(
                    Violation(
                        "fidelity.usage.stream_mismatch",
                        "usage.input_tokens",
                        f"the streamed request billed {s_in} input tokens, the same request not streamed {p_in}",
                        p_in,
                        s_in,
                    )
                )
        if s_out is not None and s_text:
            billed = s_out - reasoning_tokens(endpoint, streamed.body)
            count = (
                p_count
                if s_text == p_text and (p_count := numbers.get("text_as_input")) is not None
                else measured(s_text)
            )
            numbers |= {"stream_output_tokens": billed, "stream_text_as_input": count}
            if count is not None:
                judged.append("stream output")
                if abs(billed - count) > tolerance(count):
                    found.append(
                        Violation(
                            "fidelity.usage.stream_mismatch",
                            "usage.output_tokens",
                            f"the stream billed {billed} output tokens for a text that counts {count} tokens read "
                            "back as input",
                            count,
                            billed,
                        )
                    )
    if found:
        return done("inconsistent", "; ".join(v.message for v in found), numbers, found)
    if not judged:
        return done("inconclusive", "no answer had both a text and its usage", numbers)
    missing = {"non-streamed", "stream input", "stream output"} - set(judged)
    note = f" (not judged: {', '.join(sorted(missing))})" if missing else ""
    return done("consistent", f"billed output matches the text's own count ({', '.join(judged)}){note}", numbers)
