"""Parameters honoured, part two: what a relay that rebuilds requests drops most often (the tool
parameters: harness/fidelity/tool_params.py).

- ``param.response_format`` (chat ``response_format``, Responses ``text.format``): a json_schema
  the answer must follow. The text must parse as JSON and validate against the schema. A relay
  that drops the parameter returns prose.
- ``param.include_usage`` (chat streams): ``stream_options.include_usage`` asks for a last chunk
  with ``choices: []`` and the usage. A relay that drops stream_options sends none, and a client
  that bills by it sees nothing.
- ``param.n`` (chat): ``n: 2`` must give two choices, indexed 0 and 1.
- ``param.logprobs`` (chat ``logprobs``/``top_logprobs``, Responses ``include:
  ["message.output_text.logprobs"]``/``top_logprobs``): token entries must come back, each with
  exactly ``top_logprobs`` alternatives.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from harness.fidelity.probe import Sender, Verdict, request_body, stopped_at_limit, text_of
from harness.model import Violation

# ---------------------------------------------------------------- response_format

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
FORMAT_PROMPT = "Name the largest city of France and its population."
FORMAT_MAX_TOKENS = 64


def format_param(endpoint: str) -> dict[str, Any]:
    if endpoint == "chat":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "city", "strict": True, "schema": SCHEMA},
            }
        }
    return {"text": {"format": {"type": "json_schema", "name": "city", "strict": True, "schema": SCHEMA}}}


def probe_response_format(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.response_format", endpoint, model)
    answer = sender.send(
        endpoint, request_body(endpoint, model, FORMAT_PROMPT, FORMAT_MAX_TOKENS, **format_param(endpoint))
    )
    if not answer.ok or answer.body is None:
        return done("inconclusive", f"no usable answer ({answer.error})", {})
    text = text_of(endpoint, answer.body)
    numbers: dict[str, Any] = {"text": (text or "")[:200]}
    if endpoint == "chat" and _refusal(answer.body):
        return done("inconclusive", "the model refused (message.refusal): no output to check", numbers)
    if not text:
        return done("inconclusive", "the answer has no text", numbers)
    if stopped_at_limit(endpoint, answer.body):
        return done(
            "inconclusive", f"the answer hit the {FORMAT_MAX_TOKENS}-token limit: a cut JSON proves nothing", numbers
        )
    try:
        value = json.loads(text)
    except ValueError:
        v = Violation(
            "fidelity.param.response_format",
            "text",
            "the answer to a json_schema response format is not JSON: the format was not applied",
            "JSON following the schema",
            text[:120],
        )
        return done("inconsistent", v.message, numbers, (v,))
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(value)]
    numbers["schema_errors"] = errors[:5]
    if errors:
        v = Violation(
            "fidelity.param.response_format",
            "text",
            f"the JSON answer does not follow the requested schema: {errors[0]}",
            "JSON following the schema",
            text[:120],
        )
        return done("inconsistent", v.message, numbers, (v,))
    return done("consistent", "the answer is JSON that validates against the requested schema", numbers)


def _refusal(body: dict[str, Any]) -> bool:
    try:
        return bool(body["choices"][0]["message"].get("refusal"))
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


# ---------------------------------------------------------------- include_usage


def probe_include_usage(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.include_usage", endpoint, model)
    body = request_body(endpoint, model, "Reply with the single word OK.", 16, stream_options={"include_usage": True})
    answer, payloads = sender.stream(endpoint, body)
    if not answer.ok:
        # No stream, or one cut short or broken (the suite names that): no evidence about the option.
        return done("inconclusive", f"no complete stream ({answer.error})", {})
    chunks = [p for p in payloads if p.get("object") == "chat.completion.chunk"]
    with_usage = [p for p in chunks if isinstance(p.get("usage"), dict)]
    numbers = {"chunks": len(chunks), "usage_chunks": len(with_usage)}
    if with_usage:
        u = with_usage[-1]["usage"]
        numbers |= {"prompt_tokens": u.get("prompt_tokens"), "completion_tokens": u.get("completion_tokens")}
        return done("consistent", f"a usage chunk came last of {len(chunks)} chunks", numbers)
    v = Violation(
        "fidelity.param.include_usage",
        "stream",
        f"stream_options.include_usage was sent, but none of the {len(chunks)} chunks carries the usage: "
        "the option was not forwarded",
        "a final chunk with usage",
        None,
    )
    return done("inconsistent", v.message, numbers, (v,))


# ---------------------------------------------------------------- n and logprobs

SHORT_PROMPT = "Reply with the single word OK."
N = 2
TOP = 3


def probe_n(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.n", endpoint, model)
    answer = sender.send(endpoint, request_body(endpoint, model, SHORT_PROMPT, 16, n=N))
    if not answer.ok or answer.body is None:
        return done("inconclusive", f"no usable answer ({answer.error})", {"n": N})
    choices = answer.body.get("choices")
    if not isinstance(choices, list):
        return done("inconclusive", "the answer has no choices list", {"n": N})
    indexes = sorted(c.get("index") for c in choices if isinstance(c, dict) and isinstance(c.get("index"), int))
    numbers = {"n": N, "choices": len(choices), "indexes": indexes}
    if indexes == list(range(N)) and len(choices) == N:
        return done("consistent", f"{N} choices for n={N}, indexed 0 to {N - 1}", numbers)
    v = Violation(
        "fidelity.param.n",
        "choices",
        f"{len(choices)} choice(s) (indexes {indexes}) for n={N}: the parameter was not applied",
        N,
        len(choices),
    )
    return done("inconsistent", v.message, numbers, (v,))


def logprobs_param(endpoint: str) -> dict[str, Any]:
    if endpoint == "chat":
        return {"logprobs": True, "top_logprobs": TOP}
    return {"include": ["message.output_text.logprobs"], "top_logprobs": TOP}


def _logprob_entries(endpoint: str, body: dict[str, Any]) -> list[Any] | None:
    """The answer's token entries (None: the dialect's place for them is empty or absent)."""
    try:
        if endpoint == "chat":
            lp = body["choices"][0].get("logprobs")
            content = lp.get("content") if isinstance(lp, dict) else None
            return content if isinstance(content, list) and content else None
        entries = [
            e
            for item in body["output"]
            if isinstance(item, dict) and item.get("type") == "message"
            for part in item.get("content") or ()
            if isinstance(part, dict) and part.get("type") == "output_text"
            for e in part.get("logprobs") or ()
        ]
        return entries or None
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def probe_logprobs(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.logprobs", endpoint, model)
    answer = sender.send(endpoint, request_body(endpoint, model, SHORT_PROMPT, 16, **logprobs_param(endpoint)))
    if not answer.ok or answer.body is None:
        return done("inconclusive", f"no usable answer ({answer.error}): the model may not give logprobs", {})
    text = text_of(endpoint, answer.body)
    if not text:
        return done("inconclusive", "the answer has no text to give logprobs for", {})
    entries = _logprob_entries(endpoint, answer.body)
    if entries is None:
        v = Violation(
            "fidelity.param.logprobs",
            "logprobs",
            "logprobs were asked for and none came back: the parameter was not forwarded",
            f"token entries with {TOP} alternatives",
            None,
        )
        return done("inconsistent", v.message, {"top_logprobs": TOP}, (v,))
    counts = [len(e.get("top_logprobs") or ()) if isinstance(e, dict) else 0 for e in entries]
    numbers = {"top_logprobs": TOP, "entries": len(entries), "alternatives": sorted(set(counts))}
    if any(c != TOP for c in counts):
        v = Violation(
            "fidelity.param.logprobs",
            "logprobs.top_logprobs",
            f"top_logprobs {TOP} asked, entries carry {sorted(set(counts))} alternatives",
            TOP,
            sorted(set(counts)),
        )
        return done("inconsistent", v.message, numbers, (v,))
    return done("consistent", f"{len(entries)} token entries, each with {TOP} alternatives", numbers)
