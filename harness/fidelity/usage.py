"""Usage accounting: a tokenizer fingerprint from the input tokens a relay reports.

The same prompt is sent with k = 0, 1, 2, 4, 8 repetitions of a fixed unit. Honest accounting grows
linearly: input_tokens = intercept + slope * k, where the slope is what the serving model's
tokenizer gives the unit (a fingerprint of its family) and the intercept is the fixed overhead
(the chat template and the base prompt). Against a baseline for the claimed model (a stored one,
measured once on the official API, or the relay's own count_tokens on /v1/messages):

- counts not on a line: ``fidelity.usage.nonlinear`` (truncation, random padding, made-up counts);
- both slope and intercept scaled by one factor > 1: ``fidelity.usage.inflated``;
- same slope, larger intercept: ``fidelity.usage.injected_prompt`` (a hidden prompt, +N tokens);
- same slope, smaller intercept: ``fidelity.usage.overhead``;
- another slope: ``fidelity.usage.tokenizer`` (another tokenizer family answers).

What it cannot see: a smaller model of the same family shares the tokenizer (same slope, same
intercept), and a relay that rewrites count_tokens the same way as usage matches its own baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.fidelity.probe import COUNT_TOKENS_PATH, Sender, Verdict, request_body, tokens_of
from harness.model import Violation

BASE_PROMPT = "Reply with the single word OK."
# Letters and digits: real and reference tokenizers split digit runs very differently per family.
UNIT = " 1234567 fidelity"
REPEATS: tuple[int, ...] = (0, 1, 2, 4, 8)
MAX_TOKENS = 16  # the Responses API's minimum max_output_tokens; the answer is one word
NONLINEAR_TOLERANCE = 1.0  # tokens a count may sit off the fitted line


@dataclass(frozen=True)
class Line:
    slope: float
    intercept: float
    worst_residual: float  # tokens

    def as_dict(self) -> dict[str, float]:
        return {"slope": round(self.slope, 3), "intercept": round(self.intercept, 3)}


def prompt(k: int) -> str:
    return BASE_PROMPT + UNIT * k


def fit(ks: Sequence[int], counts: Sequence[int]) -> Line:
    """Least-squares line through (k, count)."""
    n = len(ks)
    mk, mc = sum(ks) / n, sum(counts) / n
    sxx = sum((k - mk) ** 2 for k in ks)
    slope = sum((k - mk) * (c - mc) for k, c in zip(ks, counts, strict=True)) / sxx if sxx else 0.0
    intercept = mc - slope * mk
    worst = max(abs(c - (intercept + slope * k)) for k, c in zip(ks, counts, strict=True))
    return Line(slope, intercept, worst)


def compare(measured: Line, baseline: Line) -> list[Violation]:
    """How the measured line differs from the baseline's, as violations (none: consistent)."""
    s, b, s0, b0 = measured.slope, measured.intercept, baseline.slope, baseline.intercept
    slope_same = abs(s - s0) <= max(0.25, 0.02 * abs(s0))
    intercept_same = abs(b - b0) <= max(2.0, 0.02 * abs(b0))
    numbers = {"measured": measured.as_dict(), "baseline": baseline.as_dict()}
    if slope_same and intercept_same:
        return []
    fs = s / s0 if s0 else 0.0
    fb = b / b0 if b0 else 0.0
    if fs > 1.05 and abs(fs - fb) <= 0.05 * fs:
        return [
            Violation(
                "fidelity.usage.inflated",
                "usage.input_tokens",
                f"every count is {fs:.2f} times the baseline's (slope {s:.2f} vs {s0:.2f} tokens per unit, "
                f"overhead {b:.1f} vs {b0:.1f}): usage is inflated",
                numbers["baseline"],
                numbers["measured"],
            )
        ]
    if slope_same and b > b0:
        return [
            Violation(
                "fidelity.usage.injected_prompt",
                "usage.input_tokens",
                f"the fixed overhead is {b - b0:.0f} tokens above the baseline's ({b:.1f} vs {b0:.1f}) with the same "
                f"slope ({s:.2f} tokens per unit): something is added to every prompt",
                numbers["baseline"],
                numbers["measured"],
            )
        ]
    if slope_same:
        return [
            Violation(
                "fidelity.usage.overhead",
                "usage.input_tokens",
                f"the fixed overhead is {b0 - b:.0f} tokens below the baseline's ({b:.1f} vs {b0:.1f}) with the same "
                f"slope: part of the request is not counted (or not sent)",
                numbers["baseline"],
                numbers["measured"],
            )
        ]
    return [
        Violation(
            "fidelity.usage.tokenizer",
            "usage.input_tokens",
            f"the unit costs {s:.2f} tokens where the baseline's tokenizer gives {s0:.2f} (overhead {b:.1f} vs "
            f"{b0:.1f}): another tokenizer family counts this model's prompts",
            numbers["baseline"],
            numbers["measured"],
        )
    ]


Baselines = Mapping[str, Mapping[str, Any]]  # "endpoint/model" -> {"slope", "intercept", ...}


def probe_usage(
    sender: Sender,
    endpoint: str,
    model: str,
    baselines: Baselines | None = None,
    *,
    count_tokens: bool = True,
) -> Verdict:
    """Run the probe on one endpoint and model. The baseline is the stored one for
    ``endpoint/model`` when ``baselines`` has it, else (on /v1/messages, when ``count_tokens``)
    the relay's count_tokens for the same bodies."""
    done = sender.verdicts("usage", endpoint, model)

    counts: list[int] = []
    for k in REPEATS:
        answer = sender.send(endpoint, request_body(endpoint, model, prompt(k), MAX_TOKENS))
        tin, _ = tokens_of(endpoint, answer.body) if answer.ok else (None, None)
        if tin is None:
            return done("inconclusive", f"k={k}: {answer.error or 'the answer reports no input tokens'}", {})
        counts.append(tin)
    line = fit(REPEATS, counts)
    numbers: dict[str, Any] = {"unit": UNIT, "k": list(REPEATS), "input_tokens": counts, **line.as_dict()}
    if line.worst_residual > NONLINEAR_TOLERANCE or line.slope <= 0:
        v = Violation(
            "fidelity.usage.nonlinear",
            "usage.input_tokens",
            f"input tokens {counts} for k={list(REPEATS)} repetitions of the unit do not grow on a line "
            f"(worst point {line.worst_residual:.1f} tokens off the fit, slope {line.slope:.2f})",
        )
        return done("inconsistent", v.message, numbers, [v])
    base, source = _baseline(sender, endpoint, model, baselines, count_tokens)
    if base is None:
        reason = (
            f"linear (slope {line.slope:.2f} tokens per unit, overhead {line.intercept:.1f}), but no baseline is "
            f"known for {endpoint}/{model}: {source}"
        )
        return done("inconclusive", reason, numbers)
    numbers |= {"baseline": base.as_dict(), "baseline_source": source}
    found = compare(line, base)
    if found:
        return done("inconsistent", found[0].message, numbers, found)
    reason = f"slope {line.slope:.2f} tokens per unit and overhead {line.intercept:.1f} match the baseline ({source})"
    return done("consistent", reason, numbers)


def _baseline(
    sender: Sender, endpoint: str, model: str, baselines: Baselines | None, count_tokens: bool
) -> tuple[Line | None, str]:
    stored = (baselines or {}).get(f"{endpoint}/{model}")
    if stored is not None:
        return Line(float(stored["slope"]), float(stored["intercept"]), 0.0), str(stored.get("source", "stored"))
    if endpoint != "messages" or not count_tokens:
        return None, "give a baseline file measured on the official API (--baseline)"
    counted: list[int] = []
    for k in REPEATS:
        body = request_body(endpoint, model, prompt(k), MAX_TOKENS)
        del body["max_tokens"]
        answer = sender.send(endpoint, body, path=COUNT_TOKENS_PATH)
        n = answer.body.get("input_tokens") if answer.ok and answer.body else None
        if not isinstance(n, int) or isinstance(n, bool):
            return None, f"count_tokens gave no count ({answer.error or 'no input_tokens'})"
        counted.append(n)
    line = fit(REPEATS, counted)
    if line.worst_residual > NONLINEAR_TOLERANCE:
        return None, f"count_tokens itself is not linear ({counted})"
    return line, f"the relay's count_tokens: {counted}"


def measure(sender: Sender, endpoint: str, model: str) -> dict[str, Any] | None:
    """The line for a stored baseline (``relaycheck fidelity --save-baseline``); None when the
    relay gave no usable counts or they are not linear."""
    counts = []
    for k in REPEATS:
        answer = sender.send(endpoint, request_body(endpoint, model, prompt(k), MAX_TOKENS))
        tin, _ = tokens_of(endpoint, answer.body) if answer.ok else (None, None)
        if tin is None:
            return None
        counts.append(tin)
    line = fit(REPEATS, counts)
    if line.worst_residual > NONLINEAR_TOLERANCE:
        return None
    return {**line.as_dict(), "input_tokens": counts}
