"""Every violation code the harness can emit, with one line each. The README table is generated
from here (``relaycheck codes --markdown``) and a test keeps the two in step.

Dialects declare their own codes (``grammar.<dialect>.*`` and the shared official-API rules of
``harness/dialects/kit/official.py``) with ``@rule(code, severity, title)``
(``harness/dialects/kit/rules.py``); ``all_codes`` joins them to the core codes below.
"""

from __future__ import annotations

CORE_CODES: dict[str, str] = {
    # transport: the answer could not be read at all
    "transport.connect": "the gateway could not be reached (connection refused, DNS, TLS)",
    "transport.timeout": "no answer (or no next byte) within the configured timeout",
    "transport.truncated": "the connection closed before the body was complete",
    "transport.utf8": "the body is not valid UTF-8 (after undoing its Content-Encoding)",
    "transport.decompress": "a Content-Encoding relaycheck did not ask for, compressed data that does not decode,"
    " or a decompression bomb (a small body inflating past the size cap)",
    "transport.too_large": "the answer is bigger than the size cap (max_answer_bytes, default 8 MiB), on the wire"
    " or decoded; reading stopped there",
    "transport.reset": "the connection was reset by the gateway (before the answer, or after N bytes of it)",
    "transport.unreachable": "not sent: the gateway failed several requests in a row without answering (refused,"
    " timed out); the remaining items fail at once, naming since when and why",
    "transport.rate_limited": "the gateway still answered 429 (rate limited) after the allowed retries",
    "transport.retry": "a 429 / 5xx / overloaded answer was retried (a note; the final answer is judged)",
    # HTTP level
    "status": "the HTTP status differs from the expected one",
    "content_type": "the Content-Type differs from what the dialect sends for this answer",
    "body.json": "the body is not JSON (an HTML error page, plain text, an empty body)",
    "schema": "a body, chunk or event does not match the dialect's JSON Schema",
    "schema.extra": "a field the official API does not send (listed; fails only with --extras fail)",
    "schema.predates": "a required field missing from a recorded answer made before the official API sent it"
    " (a note; harness/history.py)",
    "schema.since": "a field the official API sends on every answer since a known date is missing from a later"
    " (or live) answer (harness/history.py)",
    "content_type.not_recorded": "the recording kept no Content-Type: SSE or JSON inferred from the body (a note)",
    "error.shape": "an error body not in the dialect's own error shape",
    "error.in_200": "an error reported inside an HTTP 200 body or stream",
    "object.kind": "the body is another dialect's object (e.g. a chat.completion from /v1/messages)",
    "id.prefix": "an id without the official prefix (chatcmpl-, msg_, toolu_, resp_, call_, fc_)",
    "usage": "token usage missing or inconsistent (total != input + output, negative counts)",
    # SSE framing, common to all dialects
    "sse.framing": "the byte stream breaks SSE framing (no blank line between events, bad line endings,"
    " a last event without a blank line)",
    "sse.json": "an SSE data payload that is not JSON where the dialect sends JSON",
    "sse.event_name": "the `event:` name differs from the data's `type`, or is missing where the dialect sends one",
    "sse.done": "a `data: [DONE]` missing where the dialect sends one, or present where it does not",
    "sse.after_end": "bytes or events after the stream's terminator",
    "sse.not_stream": "stream requested but the answer is not text/event-stream (or vice versa)",
    # streaming behaviour
    "stream.buffered": "the stream arrived all at once: the first byte came with the last",
    "stream.compressed": "a stream sent with a Content-Encoding (gzip, br, ...): proxies often buffer it (a note)",
    "stream.accumulate": "the folded stream differs from the terminal event's own copy",
    "sdk.break": "--sdk-check: the official SDK raises on the answer or folds it differently from relaycheck",
    # tools
    "tool.args": "tool-call arguments that are not JSON or do not match the declared input schema",
    "tool.as_text": "a tool call written as JSON text in the content instead of a tool call",
    "tool.missing": "an expected tool call is absent",
    "tool.name": "a tool call names a tool the request did not declare, or not the expected one",
    "tool.count": "fewer or more tool calls than expected",
    "tool.stop_reason": "finish_reason / stop_reason not tool_calls / tool_use although a tool was called",
    # case expectations (JSON-path matchers)
    "expect.equals": "a value differs from the expected one",
    "expect.contains": "a value does not contain the expected item or substring",
    "expect.regex": "a value does not match the expected pattern",
    "expect.one_of": "a value is none of the allowed ones",
    "expect.type": "a value has another JSON type than expected",
    "expect.present": "an expected value is absent",
    "expect.absent": "a value that must be absent is present",
    "expect.save": "a value to save for a later step is absent",
    "case.request": "the case's request could not be built (a saved value from an earlier step is missing)",
    # `relaycheck compare` (docs/fidelity.md): the relay differs from a recording of the official API
    "fidelity.compare.status": "the relay answered another HTTP status than the official API did to the same item",
    "fidelity.compare.input_tokens": "the same request was billed another input token count than on the official API",
    "fidelity.compare.cache": "the official API wrote or read prompt cache for the item, the relay reports none",
    "fidelity.compare.stop_reason": "another stop reason (or stop sequence) than the official API gave the same item",
    "fidelity.compare.tool_calls": "other tool names or argument keys than the official API called for the same item",
    "fidelity.compare.shape": "other content blocks, output items, stream events or request count than the official"
    " API's for the same item",
    "fidelity.compare.thinking": "the official API thought (and signed it) for the item, the relay's answer did not",
    # fidelity probes (`relaycheck fidelity`, docs/fidelity.md): well-formed answers, dishonest relay
    "fidelity.usage.nonlinear": "input tokens do not grow linearly with the prompt (k repetitions of a fixed unit)",
    "fidelity.usage.tokenizer": "the tokens per prompt unit differ from the claimed model's baseline: another"
    " tokenizer family answers",
    "fidelity.usage.injected_prompt": "a fixed overhead above the baseline's at the same slope: a hidden prompt is"
    " added to every request and billed",
    "fidelity.usage.inflated": "every input count is the baseline's times one factor > 1: usage is inflated",
    "fidelity.usage.overhead": "a fixed overhead below the baseline's at the same slope: part of the request is not"
    " counted or not sent",
    "fidelity.param.max_tokens": "more output tokens than max_tokens allows (the limit ignored, or output usage"
    " overstated)",
    "fidelity.param.stop": "the text runs past a stop sequence, or the reported stop sequence is not the one sent",
    "fidelity.control.signature": "a thinking signature with one character changed was accepted: the official"
    " API verifies it and answers 400",
    "fidelity.control.previous_response": "a made-up previous_response_id was accepted: the official API answers"
    " 400 previous_response_not_found",
    "fidelity.cache.not_honoured": "the repeat of a cache_control prefix read nothing from the prompt cache",
    "fidelity.usage.output": "the output tokens billed are not the count of the text returned (read back as input)",
    "fidelity.usage.stream_mismatch": "a streamed request bills other input tokens than the same request not"
    " streamed, or output tokens that are not its text's count",
    "fidelity.param.response_format": "the answer to a json_schema response_format / text.format is not JSON"
    " following the schema",
    "fidelity.param.include_usage": "a chat stream with stream_options.include_usage has no usage chunk",
    "fidelity.param.n": "another number of choices than n asked for",
    "fidelity.param.logprobs": "logprobs asked for and absent, or entries without top_logprobs alternatives each",
    "fidelity.param.parallel_tool_calls": "more than one tool call although parallel tool calls were disabled",
    "fidelity.param.tool_choice": "tool_choice required / a named tool / none was not applied",
    "fidelity.context.truncated": "the start of a long prompt did not reach the model (code word lost, fewer input"
    " tokens than its length predicts)",
    "fidelity.context.tool_result": "a code word in a tool result is not in the answer, though the model repeats it"
    " from a user message: the tool result was altered",
    "fidelity.control.encrypted_content": "a reasoning item's tampered encrypted_content was accepted: the official"
    " API answers 400 invalid_encrypted_content",
    # record and replay (cassettes)
    "replay.unmatched": "replay: no recorded interaction matches the request (the closest one and how it differs)",
    "replay.unused": "replay: a recorded interaction was not requested in this run (a note)",
    "replay.stale": "replay: the cassette is older than --max-cassette-age days (a note)",
}


def all_codes() -> dict[str, str]:
    """Core codes, header codes, every registered dialect's rules (``@rule``) and the docs codes."""
    from harness.dialects import registry
    from harness.dialects.kit import rules
    from harness.headers import CODES as HEADER_CODES

    registry.all_dialects()  # loading a dialect registers its rules
    codes = dict(CORE_CODES) | HEADER_CODES
    codes.update({code: r.title for code, r in rules.registered().items()})
    from harness.docscheck.codes import CODES as DOCS_CODES

    codes.update(DOCS_CODES)
    return dict(sorted(codes.items()))


def markdown_table() -> str:
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {text} |" for code, text in all_codes().items()]
    return "\n".join(rows)
