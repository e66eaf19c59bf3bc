"""Named misbehaviours the reference gateway can be told to show.

Every fault reproduces a defect a real relay shipped (see RELAY_DEFECTS.md), so that each check
of the harness can be shown to fail. Faults are off by default; they are switched on for a whole
app with ``create_app(faults=...)`` or for one request with the header
``x-relaycheck-fault: name1,name2``. Unknown names are ignored on the header (a test typo must not
take the gateway down) but rejected by ``create_app`` (a configuration typo should be loud).
"""

from __future__ import annotations

from collections.abc import Iterable

FAULT_HEADER = "x-relaycheck-fault"

FAULTS: dict[str, str] = {
    # errors and status codes
    "openai-error-on-messages": "/v1/messages errors (401/400/404) use the OpenAI {'error': {...}} shape",
    "chat-completion-on-messages": "/v1/messages (non-stream) answers with an OpenAI chat.completion object",
    "html-error": "every endpoint answers 502 with an nginx HTML page (content-type text/html)",
    "error-in-200": "HTTP 200 whose body (or only SSE data: line) is an error object",
    "status-400-for-401": "a missing or wrong API key gets 400 instead of 401",
    # tool calling
    "tool-call-as-text": "tool calls are written as JSON text in the message content",
    "wrong-finish-reason": "finish_reason 'stop' / stop_reason 'end_turn' although tools were called",
    "parallel-index-zero": "chat stream: every parallel tool call is streamed with index 0",
    "stream-args-differ": "chat stream: tool arguments differ from the non-stream ones (emptied to {})",
    "ignore-tool-choice-none": "tool_choice none is ignored: a declared tool is called anyway",
    # stream framing
    "chat-no-done": "chat stream ends without 'data: [DONE]'",
    "responses-done": "a 'data: [DONE]' line is appended to Responses streams",
    "messages-done": "a 'data: [DONE]' line is appended to Messages streams",
    "no-event-lines": "messages/responses streams are sent without 'event:' lines",
    "event-name-mismatch": "one event's 'event:' name differs from its data type",
    "no-blank-line": "two events are written with no blank line between them",
    "buffered-stream": "the whole stream is held back (1.2 s) and sent in one write",
    "truncated-stream": "the stream stops after half of its events, without its terminator",
    "invalid-utf8": "a body or stream contains invalid UTF-8 bytes inside a text value",
    "wrong-content-type": "streams are labelled application/json, JSON bodies text/plain",
    "extra-fields": "a non-standard field is added to every body and event",
    "no-request-id": "answers lack the official request-id header (x-request-id / request-id)",
    "bad-id-prefix": "ids lose their official prefixes (chatcmpl-, msg_, toolu_, resp_, call_, fc_)",
    "usage-inconsistent": "usage totals do not add up (total != input + output)",
    # responses stream grammar
    "no-sequence-number": "Responses events carry no sequence_number",
    "item-done-never-added": "Responses: output_item.done for an item whose output_item.added was never sent",
    "missing-item-done": "Responses: output_item.done events are never sent",
    "missing-text-done": "Responses: output_text.done events are never sent",
    "args-done-differ": "Responses: function_call_arguments.done differs from the joined deltas ('{}')",
    "completed-missing-fields": "Responses: response.completed's response lacks id, object and model",
    # messages stream grammar
    "delta-before-start": "Messages: a content_block_delta comes before its content_block_start",
    "text-delta-on-tool-use": "Messages: a text_delta is sent on an open tool_use block",
    "lost-first-text-delta": "Messages: the first text_delta after a thinking block is dropped",
    "signature-dropped": "Messages: thinking blocks carry no signature (and no signature_delta)",
    # request validation
    "budget-under-1024-accepted": "Messages: thinking.budget_tokens < 1024 is accepted instead of 400",
    "budget-not-below-max-accepted": "Messages: thinking.budget_tokens >= max_tokens is accepted (no 400)",
    "thinking-signature-not-checked": "Messages: history thinking blocks are accepted with any signature",
    "ignore-max-tokens": "max_tokens / max_completion_tokens / max_output_tokens are not applied",
    # RELAY_DEFECTS rows the faults above leave out
    "reserialize-thinking": "Messages: history thinking text is altered on the way upstream, so the signature "
    "check answers 400 (#11)",
    "multiline-data": "every JSON event is written over two data: lines (legal SSE, not the official framing; #13)",
    "delta-before-added": "Responses: the first delta comes before its output_item.added (#6)",
    "responses-nulls-omitted": "Responses: required-but-null fields (error, incomplete_details, ...) are left out"
    " (#15)",
    # chat stream grammar
    "chat-role-repeated": "chat stream: every delta repeats role assistant",
    "chat-id-changes": "chat stream: each chunk gets its own id (a relay re-ids upstream chunks)",
    "chat-no-finish-reason": "chat stream: no chunk carries a finish_reason",
    "chat-delta-after-finish": "chat stream: a content delta follows the finish_reason chunk",
    "chat-usage-unasked": "chat stream: a usage chunk is sent without stream_options.include_usage",
    # messages stream grammar
    "messages-unclosed-block": "Messages: the last content block gets no content_block_stop",
    "messages-no-message-delta": "Messages: no message_delta (the stop_reason is never sent)",
    "messages-block-index-gap": "Messages: content block indices start at 1",
    "messages-blocks-overlap": "Messages: the second block starts before the first is stopped",
    "messages-delta-after-stop": "Messages: the first block's last delta comes after its content_block_stop",
    "messages-no-message-start": "Messages: the stream has no message_start",
    # responses stream grammar
    "responses-no-created": "Responses: the stream does not start with response.created",
    "responses-no-part-done": "Responses: content_part.done events are never sent",
    "responses-no-args-done": "Responses: function_call_arguments.done events are never sent",
    "responses-text-done-differs": "Responses: output_text.done carries half of the streamed text",
    "responses-terminal-status": "Responses: response.completed says status in_progress",
    "responses-output-index-gap": "Responses: output_index counted from 1",
    "responses-wrong-item-id": "Responses: the first delta names an item_id no item has",
    # fidelity: well-formed answers from a dishonest relay (harness/fidelity/, docs/fidelity.md)
    "substituted-family": "usage is counted by the other family's tokenizer (another family's model answers"
    " under the claimed name); count_tokens still answers for the claimed model",
    "injected-system-prompt": "a hidden system prompt of 40 tokens is added to every request and billed",
    "stop-ignored": "stop / stop_sequences are not applied",
    "usage-inflated": "every usage count is billed 1.5 times (count_tokens stays honest)",
    "previous-response-ignored": "Responses: an unknown previous_response_id is accepted (a new conversation"
    " starts) instead of 400 previous_response_not_found",
    "cache-control-stripped": "Messages: cache_control is dropped on the way upstream: nothing is ever written"
    " to or read from the prompt cache",
}

# Faults no wire-format check can see (every byte is well-formed): the bundled suite is not
# expected to fail under them; the fidelity probes are (harness/fidelity/, `relaycheck fidelity`).
FIDELITY_ONLY: frozenset[str] = frozenset(
    {"substituted-family", "injected-system-prompt", "usage-inflated", "cache-control-stripped"}
)


def parse_fault_header(value: str | None) -> frozenset[str]:
    """Known fault names from a comma-separated header value."""
    if not value:
        return frozenset()
    return frozenset(n.strip() for n in value.split(",") if n.strip() in FAULTS)


def check_faults(names: Iterable[str]) -> frozenset[str]:
    names = frozenset(names)
    unknown = sorted(names - FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown relaycheck fault(s): {', '.join(unknown)}")
    return names
