"""Context integrity: what the client sent reaches the model whole.

- ``context.truncated``: a code word near the start of a long prompt (a few thousand tokens of
  filler), and a question about it at the end. The answer must contain the code word, and the
  input tokens must be what the prompt's length predicts: the slope is measured on two short
  prompts of the same filler (0 and SHORT repetitions), then extrapolated to LONG. A relay that
  drops the start of long prompts loses the code word and bills fewer tokens than predicted.
- ``context.tool_result``: a tool call and its result sent as history, the result carrying a code
  word after its first words; the answer must contain it. A relay that cuts or rewrites tool
  results loses it.

A model that does not repeat the word where the counts agree is not evidence (inconclusive).
"""

from __future__ import annotations

import secrets
from typing import Any

from harness.fidelity.probe import Sender, Verdict, request_body, text_of, tokens_of
from harness.fidelity.tool_params import tools_param
from harness.model import Violation

FILLER = " The keeper logs the tide, the wind and the lamp every hour of the night."
SHORT, LONG = 8, 160  # repetitions: the long prompt is ~2,800 tokens on real tokenizers
QUESTION = " What is the code word given at the start? Reply with the code word only."
MAX_TOKENS = 64  # room for the reference gateway's echo; a real model answers in a few tokens
TOLERANCE = 0.02  # a long count may sit 2 % (at least 3 tokens) below the extrapolated line


def nonce() -> str:
    # Letters and digits that no tokenizer merges with the surrounding words (and no model guesses).
    return "QX" + secrets.token_hex(3).upper()


def long_prompt(word: str, k: int) -> str:
    return f"The code word is {word}. Remember it." + FILLER * k + QUESTION


def probe_truncated(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("context.truncated", endpoint, model)
    word = nonce()
    counts: dict[int, int | None] = {}
    texts: dict[int, str | None] = {}
    for k in (0, SHORT, LONG):
        answer = sender.send(endpoint, request_body(endpoint, model, long_prompt(word, k), MAX_TOKENS))
        if not answer.ok or answer.body is None:
            return done("inconclusive", f"no usable answer for {k} repetitions ({answer.error})", {"repeats": k})
        counts[k], _ = tokens_of(endpoint, answer.body)
        texts[k] = text_of(endpoint, answer.body)
    c0, c1, c2 = counts[0], counts[SHORT], counts[LONG]
    numbers: dict[str, Any] = {"code_word": word, "input_tokens": {str(k): v for k, v in counts.items()}}
    if None in (c0, c1, c2):
        return done("inconclusive", "an answer reports no input tokens", numbers)
    slope = (c1 - c0) / SHORT
    expected = c0 + slope * LONG
    numbers |= {"slope": round(slope, 3), "expected_long": round(expected, 1), "answer": (texts[LONG] or "")[:80]}
    found = []
    if c2 < expected - max(3.0, TOLERANCE * expected):
        found.append(
            Violation(
                "fidelity.context.truncated",
                "usage.input_tokens",
                f"the long prompt was billed {c2} input tokens where its length predicts {expected:.0f} "
                f"({slope:.2f} per repetition from the short ones): part of it did not reach the model",
                round(expected),
                c2,
            )
        )
    in_short = word in (texts[SHORT] or "")
    if word not in (texts[LONG] or "") and in_short:
        found.append(
            Violation(
                "fidelity.context.truncated",
                "text",
                f"the answer to the long prompt lacks the code word {word} given at its start, which the "
                "answer to the short prompt repeats: the start of the long prompt was dropped",
                word,
                (texts[LONG] or "")[:80],
            )
        )
    if found:
        return done("inconsistent", "; ".join(v.message for v in found), numbers, found)
    if not in_short:
        return done(
            "inconclusive",
            f"the model did not repeat the code word even for the short prompt; "
            f"counts {c2} vs {expected:.0f} predicted agree",
            numbers,
        )
    return done("consistent", f"code word repeated, {c2} input tokens for {expected:.0f} predicted", numbers)


TOOL_PROMPT = "What is the weather in Paris? Then tell me the station code the tool reports."
RESULT = "Weather station report for Paris, code {word}: 18 degrees, light wind."
CONTROL_ASK = " Reply with the station code only."


def tool_history(endpoint: str, model: str, word: str) -> dict[str, Any]:
    """A request whose history is one get_weather call and its result (carrying the code word)."""
    result = RESULT.format(word=word)
    args = '{"city":"Paris"}'
    if endpoint == "chat":
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": TOOL_PROMPT},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_fid01", "type": "function", "function": {"name": "get_weather", "arguments": args}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_fid01", "content": result},
        ]
        return request_body(endpoint, model, "", MAX_TOKENS, messages=messages, tools=tools_param(endpoint))
    if endpoint == "messages":
        messages = [
            {"role": "user", "content": TOOL_PROMPT},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_01Fid", "name": "get_weather", "input": {"city": "Paris"}}
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01Fid", "content": result}]},
        ]
        return request_body(endpoint, model, "", MAX_TOKENS, messages=messages, tools=tools_param(endpoint))
    items = [
        {"role": "user", "content": TOOL_PROMPT},
        {"type": "function_call", "call_id": "call_fid01", "name": "get_weather", "arguments": args},
        {"type": "function_call_output", "call_id": "call_fid01", "output": result},
    ]
    return request_body(endpoint, model, "", MAX_TOKENS, input=items, tools=tools_param(endpoint))


def probe_tool_result(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("context.tool_result", endpoint, model)
    word = nonce()
    # The control: the same report as a user message. A model that repeats the code from it but
    # not from the tool result saw a different tool result.
    control = sender.send(endpoint, request_body(endpoint, model, RESULT.format(word=word) + CONTROL_ASK, MAX_TOKENS))
    answer = sender.send(endpoint, tool_history(endpoint, model, word))
    if not answer.ok or answer.body is None or not control.ok or control.body is None:
        return done("inconclusive", f"no usable answer ({control.error or answer.error})", {"code_word": word})
    text = text_of(endpoint, answer.body) or ""
    control_text = text_of(endpoint, control.body) or ""
    numbers = {"code_word": word, "answer": text[:120], "control_answer": control_text[:120]}
    if word in text:
        return done("consistent", f"the answer repeats the code word {word} from the tool result", numbers)
    if word not in control_text:
        return done("inconclusive", f"the model did not repeat the code word {word} even from a user message", numbers)
    v = Violation(
        "fidelity.context.tool_result",
        "text",
        f"the answer does not repeat the code word {word} that the tool result carries, though the model "
        "repeats it from the same text sent as a user message: the tool result did not reach the model as sent",
        word,
        text[:80],
    )
    return done("inconsistent", v.message, numbers, (v,))
