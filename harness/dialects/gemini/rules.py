"""Every code the Gemini dialect emits beyond the cross-format ones (codes.CORE_CODES), with its
severity and one line of meaning. The code table is generated from here; severities are set at
the rule (``gemini_rule`` registers each with ``@rule`` on the function that emits it), so a
table and a check cannot disagree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from harness.dialects.kit.rules import rule

F = TypeVar("F", bound=Callable[..., Any])
G = "grammar.gemini."

# code -> (severity, meaning). "error": no usable answer arrived; "strict": the bytes differ from
# what the official API sends (no SDK test proves google-genai breaks: it is not a dependency, so
# by the project's rule a finding without that evidence fails only the strict level).
RULES: dict[str, tuple[str, str]] = {
    "gemini.usage_fields": (
        "strict",
        "usageMetadata missing, or without promptTokenCount / totalTokenCount",
    ),
    "gemini.function_args": ("strict", "functionCall.args is not a JSON object (e.g. the arguments as a JSON string)"),
    "gemini.finish_reason": ("strict", "a finishReason value the API does not document"),
    "gemini.thoughts_dropped": (
        "strict",
        "includeThoughts asked for thought summaries and usageMetadata counts thoughts, but no part is a thought",
    ),
    "gemini.thoughts_unrequested": (
        "strict",
        "thought parts in the answer to a request that did not set thinkingConfig.includeThoughts",
    ),
    "gemini.error_status": ("strict", "error.status is not the canonical status of the HTTP code"),
    "gemini.error_code": ("strict", "error.code differs from the HTTP status of the answer"),
    G + "empty": ("error", "a 200 stream without a single chunk"),
    G + "no_finish": ("error", "the stream ends without a chunk carrying finishReason (cut short)"),
    G + "after_finish": ("strict", "a chunk for a candidate after the chunk that carried its finishReason"),
    G + "event_name": ("strict", "an `event:` line in a Gemini stream (the API sends bare `data:` lines)"),
    G + "response_id": ("strict", "responseId changes between the chunks of one stream"),
}

CODES: dict[str, str] = {code: meaning for code, (_, meaning) in RULES.items()}
SEVERITY: dict[str, str] = {code: severity for code, (severity, _) in RULES.items()}


def gemini_rule(*codes: str) -> Callable[[F], F]:
    """``@rule`` (harness.dialects.kit.rules) for each code, with its severity and title from
    RULES: the decorated function is the one that emits them."""

    def decorate(fn: F) -> F:
        for code in codes:
            severity, title = RULES[code]
            fn = rule(code, severity, title)(fn)  # type: ignore[arg-type]
        return fn

    return decorate
