"""Named misbehaviours the reference gateway can be told to show.

Every fault reproduces a defect a real relay shipped (see RELAY_DEFECTS.md), so that each check
of the harness can be shown to fail. Faults are off by default; they are switched on for a whole
app with ``create_app(faults=...)`` or for one request with the header
``x-relaycheck-fault: name1,name2``. Unknown names are ignored on the header (a test typo must not
take the gateway down) but rejected by ``create_app`` (a configuration typo should be loud).

One record per fault (``FAULT_RECORDS``): what it does, the violation codes that must catch it, the
RELAY_DEFECTS.md row it stands for. The reference gateway, ``relaycheck faults``, the detection
matrix (harness/detection.py, docs/detection.md) and the tests all read it; nothing else lists
faults. Plain data (no Starlette): importing it does not start the gateway's dependencies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FAULT_HEADER = "x-relaycheck-fault"


@dataclass(frozen=True)
class Fault:
    name: str
    does: str  # what the gateway does wrong, as `relaycheck faults` and docs/detection.md say it
    codes: frozenset[str]  # a failing item under the fault must carry at least one of these
    defect: int | None = None  # its row in ../shared/RELAY_DEFECTS.md; None: it reproduces a grammar rule
    # Well-formed answers from a dishonest relay: no wire-format check can see it, the bundled
    # suite is not expected to fail; the fidelity probes are (harness/fidelity/, `relaycheck fidelity`).
    fidelity_only: bool = False


def _fault(name: str, does: str, codes: str, *, defect: int | None = None, fidelity_only: bool = False) -> Fault:
    return Fault(name, does, frozenset(codes.split()), defect, fidelity_only)


FAULT_RECORDS: tuple[Fault, ...] = (
    # errors and status codes
    _fault(
        "openai-error-on-messages",
        "/v1/messages errors (401/400/404) use the OpenAI {'error': {...}} shape",
        "error.shape",
        defect=19,
    ),
    _fault(
        "chat-completion-on-messages",
        "/v1/messages (non-stream) answers with an OpenAI chat.completion object",
        "object.kind",
        defect=20,
    ),
    _fault("html-error", "every endpoint answers 502 with an nginx HTML page (content-type text/html)", "body.json"),
    _fault(
        "error-in-200",
        "HTTP 200 whose body (or only SSE data: line) is an error object",
        "error.in_200",
        defect=14,
    ),
    _fault("status-400-for-401", "a missing or wrong API key gets 400 instead of 401", "status"),
    # tool calling
    _fault(
        "tool-call-as-text",
        "tool calls are written as JSON text in the message content",
        "tool.as_text",
        defect=16,
    ),
    # With a forced named tool the official chat API itself answers finish_reason "stop", so
    # the dialect check exempts it; the case's own stop_reason expectation catches the fault.
    _fault(
        "wrong-finish-reason",
        "finish_reason 'stop' / stop_reason 'end_turn' although tools were called",
        "expect.equals tool.stop_reason",
        defect=17,
    ),
    _fault(
        "parallel-index-zero",
        "chat stream: every parallel tool call is streamed with index 0",
        "grammar.chat.tool_index",
        defect=7,
    ),
    _fault(
        "stream-args-differ",
        "chat stream: tool arguments differ from the non-stream ones (emptied to {})",
        "tool.args",
        defect=10,
    ),
    _fault(
        "ignore-tool-choice-none",
        "tool_choice none is ignored: a declared tool is called anyway",
        "tool.count fidelity.param.tool_choice",
    ),
    # stream framing
    _fault("chat-no-done", "chat stream ends without 'data: [DONE]'", "sse.done"),
    _fault("responses-done", "a 'data: [DONE]' line is appended to Responses streams", "sse.done"),
    _fault("messages-done", "a 'data: [DONE]' line is appended to Messages streams", "sse.done"),
    _fault("no-event-lines", "messages/responses streams are sent without 'event:' lines", "sse.event_name"),
    _fault("event-name-mismatch", "one event's 'event:' name differs from its data type", "sse.event_name"),
    _fault("no-blank-line", "two events are written with no blank line between them", "sse.framing", defect=12),
    _fault(
        "buffered-stream",
        "the whole stream is held back (1.2 s) and sent in one write",
        "stream.buffered",
        defect=18,
    ),
    _fault(
        "truncated-stream",
        "the stream stops after half of its events, without its terminator",
        "grammar.messages.no_message_stop grammar.responses.terminal_missing sse.done grammar.gemini.no_finish",
    ),
    _fault("invalid-utf8", "a body or stream contains invalid UTF-8 bytes inside a text value", "transport.utf8"),
    _fault(
        "wrong-content-type",
        "streams are labelled application/json, JSON bodies text/plain",
        "content_type sse.not_stream",
    ),
    _fault("extra-fields", "a non-standard field is added to every body and event", "schema.extra"),
    _fault(
        "no-request-id",
        "answers lack the official request-id header (x-request-id / request-id)",
        "header.request_id",
    ),
    _fault(
        "bad-id-prefix",
        "ids lose their official prefixes (chatcmpl-, msg_, toolu_, resp_, call_, fc_)",
        "id.prefix",
    ),
    # Messages reports 0 output tokens for a text answer: the output usage probe names it too, and
    # so does the max_tokens probe (an answer stopped at the limit with fewer tokens than it).
    _fault(
        "usage-inconsistent",
        "usage totals do not add up (total != input + output)",
        "usage fidelity.usage.output fidelity.usage.stream_mismatch fidelity.param.max_tokens",
    ),
    # responses stream grammar
    _fault(
        "no-sequence-number",
        "Responses events carry no sequence_number",
        "grammar.responses.sequence_number",
        defect=15,
    ),
    _fault(
        "item-done-never-added",
        "Responses: output_item.done for an item whose output_item.added was never sent",
        "grammar.responses.item_not_added",
        defect=3,
    ),
    _fault(
        "missing-item-done",
        "Responses: output_item.done events are never sent",
        "grammar.responses.item_not_done",
        defect=4,
    ),
    _fault(
        "missing-text-done",
        "Responses: output_text.done events are never sent",
        "grammar.responses.text_done_missing",
        defect=5,
    ),
    _fault(
        "args-done-differ",
        "Responses: function_call_arguments.done differs from the joined deltas ('{}')",
        "grammar.responses.args_mismatch",
        defect=2,
    ),
    _fault(
        "completed-missing-fields",
        "Responses: response.completed's response lacks id, object and model",
        "grammar.responses.terminal_fields",
        defect=6,
    ),
    # messages stream grammar
    _fault(
        "delta-before-start",
        "Messages: a content_block_delta comes before its content_block_start",
        "grammar.messages.delta_without_start",
        defect=9,
    ),
    _fault(
        "text-delta-on-tool-use",
        "Messages: a text_delta is sent on an open tool_use block",
        "grammar.messages.delta_type",
        defect=8,
    ),
    _fault(
        "lost-first-text-delta",
        "Messages: the first text_delta after a thinking block is dropped",
        "grammar.messages.lost_text_delta",
        defect=1,
    ),
    _fault(
        "signature-dropped",
        "Messages: thinking blocks carry no signature (and no signature_delta)",
        "grammar.messages.thinking_signature",
    ),
    # request validation
    _fault(
        "budget-under-1024-accepted",
        "Messages: thinking.budget_tokens < 1024 is accepted instead of 400",
        "grammar.messages.request_accepted",
        defect=21,
    ),
    _fault(
        "budget-not-below-max-accepted",
        "Messages: thinking.budget_tokens >= max_tokens is accepted (no 400)",
        "grammar.messages.request_accepted",
        defect=21,
    ),
    _fault(
        "thinking-signature-not-checked",
        "Messages: history thinking blocks are accepted with any signature",
        "fidelity.control.signature status",
        defect=11,
    ),
    _fault(
        "ignore-max-tokens",
        "max_tokens / max_completion_tokens / max_output_tokens are not applied",
        "expect.equals fidelity.param.max_tokens",
    ),
    # RELAY_DEFECTS rows the faults above leave out
    _fault(
        "reserialize-thinking",
        "Messages: history thinking text is altered on the way upstream, so the signature check answers 400 (#11)",
        "status",
        defect=11,
    ),
    _fault(
        "multiline-data",
        "every JSON event is written over two data: lines (legal SSE, not the official framing; #13)",
        "sse.framing",
        defect=13,
    ),
    _fault(
        "delta-before-added",
        "Responses: the first delta comes before its output_item.added (#6)",
        "grammar.responses.delta_before_added",
        defect=6,
    ),
    _fault(
        "responses-nulls-omitted",
        "Responses: required-but-null fields (error, incomplete_details, ...) are left out (#15)",
        "schema",
        defect=15,
    ),
    # chat stream grammar
    _fault("chat-role-repeated", "chat stream: every delta repeats role assistant", "grammar.chat.role"),
    _fault(
        "chat-id-changes",
        "chat stream: each chunk gets its own id (a relay re-ids upstream chunks)",
        "grammar.chat.consistent",
    ),
    _fault("chat-no-finish-reason", "chat stream: no chunk carries a finish_reason", "grammar.chat.finish"),
    _fault(
        "chat-delta-after-finish",
        "chat stream: a content delta follows the finish_reason chunk",
        "grammar.chat.after_finish",
    ),
    _fault(
        "chat-usage-unasked",
        "chat stream: a usage chunk is sent without stream_options.include_usage",
        "grammar.chat.usage",
    ),
    # messages stream grammar
    _fault(
        "messages-unclosed-block",
        "Messages: the last content block gets no content_block_stop",
        "grammar.messages.unclosed_block",
    ),
    _fault(
        "messages-no-message-delta",
        "Messages: no message_delta (the stop_reason is never sent)",
        "grammar.messages.no_message_delta",
    ),
    _fault("messages-block-index-gap", "Messages: content block indices start at 1", "grammar.messages.block_index"),
    _fault(
        "messages-blocks-overlap",
        "Messages: the second block starts before the first is stopped",
        "grammar.messages.block_overlap",
    ),
    _fault(
        "messages-delta-after-stop",
        "Messages: the first block's last delta comes after its content_block_stop",
        "grammar.messages.block_closed",
    ),
    _fault("messages-no-message-start", "Messages: the stream has no message_start", "grammar.messages.start"),
    # responses stream grammar
    _fault(
        "responses-no-created",
        "Responses: the stream does not start with response.created",
        "grammar.responses.first_event",
    ),
    _fault(
        "responses-no-part-done",
        "Responses: content_part.done events are never sent",
        "grammar.responses.part_unpaired",
    ),
    _fault(
        "responses-no-args-done",
        "Responses: function_call_arguments.done events are never sent",
        "grammar.responses.args_done_missing",
    ),
    _fault(
        "responses-text-done-differs",
        "Responses: output_text.done carries half of the streamed text",
        "grammar.responses.text_mismatch",
    ),
    _fault(
        "responses-terminal-status",
        "Responses: response.completed says status in_progress",
        "grammar.responses.terminal_status",
    ),
    _fault("responses-output-index-gap", "Responses: output_index counted from 1", "grammar.responses.output_index"),
    _fault(
        "responses-wrong-item-id",
        "Responses: the first delta names an item_id no item has",
        "grammar.responses.item_id",
    ),
    # fidelity: well-formed answers from a dishonest relay (harness/fidelity/, docs/fidelity.md)
    _fault(
        "substituted-family",
        "usage is counted by the other family's tokenizer (another family's model answers"
        " under the claimed name); count_tokens still answers for the claimed model",
        "fidelity.usage.tokenizer",
        fidelity_only=True,
    ),
    _fault(
        "injected-system-prompt",
        "a hidden system prompt of 40 tokens is added to every request and billed",
        "fidelity.usage.injected_prompt",
        fidelity_only=True,
    ),
    _fault("stop-ignored", "stop / stop_sequences are not applied", "expect.equals expect.regex fidelity.param.stop"),
    # an inflated output count also exceeds max_tokens, though the text was cut at the limit
    _fault(
        "usage-inflated",
        "every usage count is billed 1.5 times (count_tokens stays honest)",
        "fidelity.param.max_tokens fidelity.usage.inflated",
        fidelity_only=True,
    ),
    # The suite's stored.yaml names it too: it sends an unknown id and expects the official 400.
    _fault(
        "previous-response-ignored",
        "Responses: an unknown previous_response_id is accepted (a new conversation starts) instead of 400"
        " previous_response_not_found",
        "expect.equals fidelity.control.previous_response status",
    ),
    _fault(
        "cache-control-stripped",
        "Messages: cache_control is dropped on the way upstream: nothing is ever written to or read from the"
        " prompt cache",
        "fidelity.cache.not_honoured",
        fidelity_only=True,
    ),
    # fidelity, issue 16 part 3: parameters, context integrity, output usage, encrypted reasoning
    _fault(
        "response-format-dropped",
        "response_format / text.format is dropped: a json_schema request gets prose",
        "fidelity.param.response_format",
        fidelity_only=True,
    ),
    _fault(
        "include-usage-dropped",
        "chat: stream_options is dropped: no usage chunk although include_usage was asked",
        "fidelity.param.include_usage grammar.chat.usage expect.type",
    ),
    _fault(
        "max-tokens-capped",
        "output is capped at 12 tokens whatever max_tokens asks (a relay's own ceiling), and reported as"
        " stopped at the limit",
        "expect.equals fidelity.param.max_tokens",
    ),
    _fault("n-ignored", "chat: n is dropped: one choice whatever n asks", "fidelity.param.n", fidelity_only=True),
    _fault(
        "logprobs-dropped",
        "logprobs / top_logprobs and the Responses logprobs include are dropped: no token logprobs come back",
        "fidelity.param.logprobs",
        fidelity_only=True,
    ),
    _fault(
        "parallel-tool-calls-ignored",
        "parallel_tool_calls false / disable_parallel_tool_use is dropped: several tools are called at once",
        "fidelity.param.parallel_tool_calls tool.count",
    ),
    _fault(
        "tool-choice-ignored",
        "tool_choice is dropped: the model decides (auto) whatever was forced or forbidden",
        "fidelity.param.tool_choice tool.count tool.missing tool.name",
    ),
    _fault(
        "context-truncated",
        "prompts over 2,048 tokens of message text lose the start of their first user message until they fit"
        " (count_tokens untouched)",
        "fidelity.context.truncated",
        fidelity_only=True,
    ),
    _fault(
        "tool-result-altered",
        "every tool result is cut to its first 24 characters on the way upstream",
        "fidelity.context.tool_result",
        fidelity_only=True,
    ),
    _fault(
        "output-usage-inflated",
        "output tokens are billed 1.5 times (input tokens honest)",
        "fidelity.usage.output fidelity.usage.stream_mismatch fidelity.param.max_tokens",
        fidelity_only=True,
    ),
    _fault(
        "stream-usage-estimated",
        "streamed usage counts the streamed text with the relay's own tokenizer (the other family's; tool"
        " arguments not counted) instead of forwarding the upstream's",
        "fidelity.usage.stream_mismatch usage",
    ),
    _fault(
        "encrypted-content-not-verified",
        "Responses: reasoning items are accepted with any encrypted_content (no 400 invalid_encrypted_content)",
        "fidelity.control.encrypted_content",
        fidelity_only=True,
    ),
    # Gemini (refgateway/gemini.py): what translating relays get wrong on generateContent
    _fault(
        "gemini-openai-error",
        "Gemini errors (bad key, unknown model, bad body) use the OpenAI {'error': {message, type, param, code}} shape",
        "error.shape",
        defect=19,
    ),
    _fault(
        "gemini-usage-total",
        "Gemini: usageMetadata.totalTokenCount leaves thoughtsTokenCount out of the sum",
        "usage",
    ),
    _fault(
        "gemini-args-string",
        "Gemini: functionCall.args is sent as a JSON string instead of an object",
        "gemini.function_args",
    ),
    _fault("gemini-done", "a 'data: [DONE]' line is appended to Gemini streams", "sse.done"),
    _fault(
        "gemini-thoughts-dropped",
        "Gemini: thought parts are dropped although includeThoughts asked for them (thoughtsTokenCount kept)",
        "gemini.thoughts_dropped",
    ),
)

BY_NAME: dict[str, Fault] = {f.name: f for f in FAULT_RECORDS}
FAULTS: dict[str, str] = {f.name: f.does for f in FAULT_RECORDS}  # name -> what it does
FIDELITY_ONLY: frozenset[str] = frozenset(f.name for f in FAULT_RECORDS if f.fidelity_only)


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
