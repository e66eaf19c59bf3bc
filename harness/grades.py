"""Why each violation code has the severity it has, and what the grade rests on. docs/codes.md
is generated from here (``relaycheck codes --grades``) and a test keeps it current and checks
that every SDK test cited exists.

Kinds of evidence:

- ``sdk``: tests/test_sdk_grades.py feeds a mutated answer to the pinned official SDK; the test
  named shows it break (``error``) or cope (``strict``).
- ``unusable``: no answer a client could use arrived (no bytes, not JSON, another dialect's object).
- ``case``: the case file's own expectation; it fails because the case says so.
- ``corpus``: a strict rule measured on the shared corpus of official recordings (counts in the
  code's comments, harness/dialects/kit/official.py and the dialect modules).
- ``note``: reported, never fails.
- ``docs``: a finding on a vendor's documentation page (``relaycheck docs``), not on an answer.
- ``fidelity``: a fidelity probe's finding (harness/fidelity): the relay did or billed something else
  than asked; no SDK can see it, the data itself is wrong.
- ``unproven``: graded ``error`` before issue 13 and not yet backed by an SDK test: to be proven
  with one, or regraded ``strict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grade:
    severity: str  # error | strict | note, or "error / strict" when it depends on the finding
    kind: str  # sdk | unusable | case | corpus | note | unproven
    why: str  # for error: how a client breaks; for strict: what differs from the official bytes
    tests: tuple[str, ...] = ()  # tests/test_sdk_grades.py tests cited (kind sdk)


def _g(severity: str, kind: str, why: str, *tests: str) -> Grade:
    return Grade(severity, kind, why, tests)


_U = "unusable"
_DOCS_NOTES = frozenset({"docs.auth", "docs.empty", "docs.endpoint", "docs.live_shape", "docs.pairing"})
GRADES: dict[str, Grade] = {
    # transport and HTTP
    "transport.connect": _g("error", _U, "no answer at all"),
    "transport.timeout": _g("error", _U, "no answer (or no next byte) in time: the client times out"),
    "transport.truncated": _g("error", _U, "the body ends early: the SDK's JSON/SSE parse fails or the fold is cut"),
    "transport.utf8": _g("error", _U, "the SDKs decode UTF-8 strictly (httpx .text / json.loads raise or replace)"),
    "transport.retry": _g("note", "note", "a retried 429/5xx; the final answer is judged"),
    "transport.rate_limited": _g("error", _U, "still 429 after the allowed retries: no answer"),
    "transport.reset": _g("error", _U, "the connection was reset: no complete answer"),
    "transport.too_large": _g("error", _U, "past the size cap: reading stopped, the answer is incomplete"),
    "transport.unreachable": _g("error", _U, "not sent: the gateway stopped answering"),
    "transport.decompress": _g("error", _U, "an encoding not asked for or not decodable: the body cannot be read"),
    "stream.compressed": _g("note", "note", "a compressed stream (proxies often buffer it)"),
    "content_type.not_recorded": _g("note", "note", "a recording without Content-Type: inferred from the body"),
    "schema.since": _g("strict", "corpus", "a field the official API sends on every answer since a known date"),
    "schema.predates": _g("note", "note", "a field missing from an answer made before the API sent it"),
    "status": _g("error", "case", "the SDKs raise on 4xx/5xx and return on 2xx: another status flips the outcome"),
    "content_type": _g(
        "strict",
        "sdk",
        "a JSON body under another media type: the SDKs parse it anyway",
        "test_content_type_is_not_read_by_the_sdks",
    ),
    "body.json": _g("error", _U, "not JSON: the SDK's json parse raises"),
    "schema": _g(
        "error / strict",
        "sdk",
        "error: breaks the compatible schema (fields the SDKs read); strict: only the strict schema"
        " (always-sent fields, exact types), e.g. store: null parses",
        "test_openai_sdk_parses_store_null",
    ),
    "schema.extra": _g("note", "note", "an undocumented field (fails only with --extras fail)"),
    "error.shape": _g(
        "strict",
        "sdk",
        "an error body in another shape: the Anthropic SDK still raises the status's class and keeps message/type",
        "test_sdk_copes",
    ),
    "error.in_200": _g(
        "error", _U, "a failure with HTTP 200: the SDK returns it as a success with no content, the error is lost"
    ),
    "error.fields": _g("strict", "corpus", "param/code typed like no official error (the string 'None', a status)"),
    "object.kind": _g(
        "error",
        "sdk",
        "another dialect's object: the SDK parses it with no content",
        "test_anthropic_sdk_loses_the_content_of_a_chat_completion",
    ),
    "id.prefix": _g(
        "strict",
        "sdk",
        "an id without the official prefix; the SDKs take any string",
        "test_anthropic_sdk_accepts_foreign_id_prefixes",
    ),
    "id.shape": _g(
        "strict",
        "sdk",
        "an id of the right prefix but not the official length/alphabet; the SDKs take any string",
        "test_anthropic_sdk_accepts_foreign_id_prefixes",
    ),
    "model.rewritten": _g("strict", "corpus", "the answer names another model than asked (R39)"),
    "stop.truncated_as_complete": _g("strict", "corpus", "a cut-off answer reported as complete (R34)"),
    "text.replacement_char": _g("strict", "corpus", "U+FFFD in text: characters lost by the relay (R37)"),
    "content.not_enabled": _g("strict", "corpus", "server-tool blocks the request never enabled"),
    "usage.fields": _g("strict", "corpus", "usage counts the official API always sends are missing"),
    "usage": _g(
        "strict", "sdk", "token counts that contradict each other: the SDKs pass them through", "test_sdk_copes"
    ),
    "header.request_id": _g("strict", "corpus", "no request-id header (clients log it for support)"),
    "header.relay": _g("note", "note", "headers of the relay's own"),
    # SSE framing
    "sse.framing": _g(
        "error / strict",
        "sdk",
        "events merged (no blank line): the SDKs' SSE decoders join them and json.loads raises",
        "test_sdk_on_stream_faults",
    ),
    "sse.json": _g("error", _U, "a data payload that is not JSON: the SDK's json.loads raises"),
    "sse.event_name": _g(
        "error / strict",
        "sdk",
        "error on Messages (the Anthropic SDK dispatches on the event name and raises); strict on"
        " Responses and chat (the openai SDK reads the data's type)",
        "test_sdk_on_stream_faults",
    ),
    "sse.done": _g(
        "error / strict",
        "sdk",
        "strict: a [DONE] in a Messages/Responses stream or none in chat (the SDKs cope); error: a malformed"
        " terminator, or none under the Open Responses profile",
        "test_sdk_on_stream_faults",
    ),
    "sse.after_end": _g(
        "error / strict",
        "sdk",
        "error in chat: the openai SDK stops at [DONE] and drops what follows (a late usage chunk is lost);"
        " strict on Messages/Responses (the SDKs fold on)",
        "test_sdk_on_gateway_faults",
    ),
    "sse.not_stream": _g("error", _U, "stream asked, JSON answered (or the reverse): the SDK's stream reader fails"),
    "stream.buffered": _g("error", _U, "no streaming: the first byte comes with the last (time to first token lost)"),
    "sdk.break": _g(
        "error",
        "sdk",
        "--sdk-check: the pinned official SDK itself raised or folded other text / tool calls",
        "test_sdk_check_names_the_sdk_that_breaks",
    ),
    "stream.accumulate": _g(
        "error",
        "sdk",
        "the streamed text differs from the terminal copy: the SDK's delta snapshots (what a streaming client"
        " showed) and get_final_response() disagree",
        "test_sdk_on_gateway_faults",
    ),
    # tools
    "tool.args": _g(
        "error",
        "sdk",
        "arguments that are not a JSON string of the declared shape: json.loads in the client raises",
        "test_openai_sdk_hands_on_object_arguments_that_json_loads_rejects",
    ),
    "tool.as_text": _g("error", _U, "a tool call written as text: the client sees no tool call"),
    "tool.missing": _g("error", "case", "the case expected a tool call"),
    "tool.name": _g("error", "case", "a tool the request did not declare, or not the expected one"),
    "tool.count": _g("error", "case", "the case expected another number of tool calls"),
    "tool.stop_reason": _g(
        "strict",
        "sdk",
        "finish_reason/stop_reason contradicts the tool call: the SDKs pass both through, the call is kept",
        "test_sdk_copes",
    ),
    # case expectations and replay
    **{
        code: _g("error", "case", "the case's expectation")
        for code in (
            "expect.equals",
            "expect.contains",
            "expect.regex",
            "expect.one_of",
            "expect.type",
            "expect.present",
            "expect.absent",
            "expect.save",
            "case.request",
        )
    },
    "replay.unmatched": _g("error", "case", "no recorded answer for the request"),
    "replay.unused": _g("note", "note", "a recorded interaction nobody asked for"),
    "replay.stale": _g("note", "note", "an old cassette"),
    # chat stream grammar
    "grammar.chat.empty": _g("error", _U, "no chunk: the SDK's accumulator has nothing to return"),
    "grammar.chat.consistent": _g("strict", "corpus", "id/model/created change within one stream"),
    "grammar.chat.role": _g("strict", "corpus", "role missing on the first delta or repeated"),
    "grammar.chat.tool_delta": _g(
        "error / strict",
        "sdk",
        "error: a repeated id/name is concatenated by the accumulator (the call changes);"
        " strict: a repeated type is skipped",
        "test_openai_accumulator_skips_a_repeated_type",
        "test_sdk_on_stream_faults",
    ),
    "grammar.chat.tool_index": _g(
        "error",
        "sdk",
        "calls sharing an index are merged into one call with glued arguments",
        "test_openai_accumulator_merges_calls_sharing_an_index",
    ),
    "grammar.chat.tool_delta_content": _g("strict", "corpus", 'content "" beside tool_calls (official: null)'),
    "grammar.chat.empty_fragment": _g("strict", "corpus", 'an empty "" arguments fragment after the first delta'),
    "grammar.chat.finish": _g(
        "error",
        "sdk",
        "no finish_reason: the SDK's completion has none, agent loops cannot tell why it stopped",
        "test_sdk_on_stream_faults",
    ),
    "grammar.chat.after_finish": _g(
        "strict",
        "sdk",
        "content after finish_reason: the openai accumulator appends it, nothing is lost",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.chat.usage": _g(
        "error / strict",
        "sdk",
        "error: usage missing though asked (the SDK's completion has none); strict: unasked, not last,"
        " or on a content chunk (the SDK takes it)",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.chat.choice_index": _g(
        "error",
        "sdk",
        "a choice index outside n: the openai accumulator indexes past its list and raises",
        "test_sdk_on_stream_faults",
    ),
    # messages stream grammar
    "grammar.messages.start": _g(
        "error", "sdk", "no message_start: the Anthropic SDK's accumulator raises", "test_sdk_on_stream_faults"
    ),
    "grammar.messages.block_index": _g(
        "error",
        "sdk",
        "block indexes with gaps: the Anthropic SDK looks up a missing block and raises",
        "test_sdk_on_stream_faults",
    ),
    "grammar.messages.block_overlap": _g(
        "strict",
        "sdk",
        "two blocks open at once: the SDK folds by index, nothing is lost",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.messages.delta_without_start": _g(
        "error",
        "sdk",
        "a delta for a block never started: the SDK's accumulator raises",
        "test_anthropic_stream_raises_on_delta_without_start",
    ),
    "grammar.messages.block_closed": _g(
        "strict",
        "sdk",
        "a delta for a stopped block: the SDK folds it into the block by index",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.messages.delta_type": _g(
        "error",
        "sdk",
        "a delta the open block cannot take: the SDK drops it silently (data lost)",
        "test_anthropic_stream_drops_text_delta_in_tool_use",
    ),
    "grammar.messages.unclosed_block": _g(
        "strict",
        "sdk",
        "a block never stopped: the Anthropic SDK keeps it as it is (a cut stream is no_message_stop)",
        "test_sdk_on_stream_faults",
    ),
    "grammar.messages.thinking_signature": _g(
        "error",
        "sdk",
        "a thinking block without signature: the SDK's message has signature None, the next turn is rejected"
        " upstream (#11)",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.messages.empty_text_block": _g(
        "error", "sdk", "a text block without its text: the SDK's message lost the text", "test_sdk_on_gateway_faults"
    ),
    "grammar.messages.lost_text_delta": _g(
        "error",
        "sdk",
        "a lost first text_delta (#1): the SDK's message lost the text's start",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.messages.block_after_delta": _g(
        "strict",
        "sdk",
        "content after message_delta: the SDK folds it in, nothing is lost",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.messages.no_message_delta": _g(
        "error",
        "sdk",
        "no message_delta: the SDK's message has no stop_reason and no output count",
        "test_sdk_on_stream_faults",
    ),
    "grammar.messages.no_message_stop": _g(
        "error",
        "sdk",
        "a stream cut short: the SDK returns the cut message without raising (tool input {}, no stop_reason)",
        "test_sdk_on_gateway_faults",
    ),
    "grammar.messages.unknown_event": _g("note", "note", "an undocumented event type"),
    "grammar.messages.request_accepted": _g(
        "error",
        "sdk",
        "a request the official API rejects was answered: the SDK returns where it raises upstream",
        "test_anthropic_sdk_returns_where_the_official_api_rejects",
    ),
    "grammar.messages.error_type": _g("strict", "corpus", "error.type not the one of its HTTP status"),
    "grammar.messages.usage_start": _g("strict", "corpus", "message_start usage contradicts message_delta"),
    # responses stream grammar
    "grammar.responses.item_not_added": _g(
        "error", "sdk", "an item done that was never added (#3): the openai SDK raises", "test_sdk_on_gateway_faults"
    ),
    "grammar.responses.terminal_fields": _g(
        "error",
        "sdk",
        "the terminal response lacks id/object/model (#6): the openai SDK raises",
        "test_sdk_on_gateway_faults",
    ),
    **{
        f"grammar.responses.{rule}": _g("strict", "sdk", why + ": the openai SDK's response is unchanged", test)
        for rule, why, test in (
            ("after_item_done", "events after an item's done", "test_sdk_on_gateway_faults"),
            ("part_unpaired", "content parts unpaired", "test_sdk_on_gateway_faults"),
            ("text_mismatch", "the .done text differs from the joined deltas", "test_sdk_on_gateway_faults"),
            ("args_mismatch", "the .done arguments differ from the joined deltas (#2)", "test_sdk_on_gateway_faults"),
            ("args_done_missing", "no function_call_arguments.done", "test_sdk_on_gateway_faults"),
            ("item_id", "item_id of another item", "test_sdk_on_gateway_faults"),
            ("status_details", "status and incomplete_details/error disagree", "test_sdk_copes"),
        )
    },
    "grammar.responses.sequence_number": _g(
        "strict",
        "sdk",
        "sequence numbers missing or out of step: the openai SDK does not read them",
        "test_sdk_on_stream_faults",
    ),
    "grammar.responses.first_event": _g(
        "error", "sdk", "no response.created: the openai SDK's stream state raises", "test_sdk_on_stream_faults"
    ),
    "grammar.responses.delta_before_added": _g(
        "error",
        "sdk",
        "a delta before its item: the openai SDK raises (no output item at that index)",
        "test_sdk_on_stream_faults",
    ),
    "grammar.responses.terminal_missing": _g(
        "error", "sdk", "no response.completed: get_final_response raises", "test_sdk_on_stream_faults"
    ),
    "grammar.responses.text_done_missing": _g(
        "strict",
        "sdk",
        "no output_text.done (#5): the openai SDK folds the deltas without it",
        "test_sdk_on_stream_faults",
    ),
    "grammar.responses.item_not_done": _g(
        "error / strict",
        "sdk",
        "strict when the terminal response lists the item (the SDK takes it from there); error when"
        " it does not: the item, often a tool call, is dropped (#4)",
        "test_sdk_on_stream_faults",
    ),
    "grammar.responses.output_index": _g(
        "strict",
        "sdk",
        "output indexes with a gap: the openai SDK keys items by the index given",
        "test_sdk_on_stream_faults",
    ),
    "grammar.responses.terminal_status": _g(
        "error",
        "sdk",
        "the terminal status contradicts its event: the client reads the wrong status",
        "test_sdk_on_stream_faults",
    ),
    # relaycheck compare (harness/fidelity/compare.py): the relay differs from an official recording
    **{
        code: _g("error", "fidelity", why)
        for code, why in (
            (
                "fidelity.compare.cache",
                "prompt caching lost: the client pays full price for what the official API caches",
            ),
            ("fidelity.compare.input_tokens", "the same request billed another count: another prompt or tokenizer"),
            ("fidelity.compare.shape", "another answer structure than the official API's for the same request"),
            ("fidelity.compare.status", "accepted what the official API refuses, or refused what it accepts"),
            ("fidelity.compare.stop_reason", "another stop reason: a parameter ignored or another model answering"),
            ("fidelity.compare.thinking", "thinking dropped or unsigned: the client cannot send the history back"),
            ("fidelity.compare.tool_calls", "other tools or arguments called: the client's tool loop breaks"),
        )
    },
    # fidelity probes (harness/fidelity): what was asked is not what was done or billed
    **{
        code: _g("error", "fidelity", why)
        for code, why in (
            (
                "fidelity.cache.not_honoured",
                "cache_control not honoured: the client pays full price for a cached prefix",
            ),
            ("fidelity.control.previous_response", "previous_response_id ignored: the conversation state is lost"),
            (
                "fidelity.control.signature",
                "thinking signatures not verified: not an Anthropic backend, or history rebuilt",
            ),
            ("fidelity.param.max_tokens", "more output than max_tokens allows: the limit ignored or usage overstated"),
            ("fidelity.param.stop", "the text runs past a stop sequence: the client gets what it asked to cut"),
            ("fidelity.usage.inflated", "usage inflated by a factor: the client is overbilled"),
            ("fidelity.usage.injected_prompt", "a hidden prompt billed on every request"),
            ("fidelity.usage.nonlinear", "input counts that do not follow the prompt: usage not measured"),
            ("fidelity.usage.overhead", "part of the request not counted or not sent"),
            ("fidelity.usage.tokenizer", "another tokenizer family answers: another model than claimed"),
            ("fidelity.usage.output", "output tokens billed that the text returned does not hold"),
            ("fidelity.usage.stream_mismatch", "streamed usage is not what the upstream counted: billed by estimate"),
            ("fidelity.param.response_format", "structured output not applied: the client's JSON parse fails"),
            ("fidelity.param.include_usage", "no usage chunk: the client cannot account a streamed request"),
            ("fidelity.param.n", "fewer choices than asked for: the client pays for n and reads one"),
            ("fidelity.param.logprobs", "logprobs missing or short: the client's scoring reads nothing"),
            ("fidelity.param.parallel_tool_calls", "several tool calls where the client allowed one"),
            ("fidelity.param.tool_choice", "tool_choice not applied: the client's forced or forbidden call differs"),
            ("fidelity.context.truncated", "the start of the prompt never reached the model"),
            ("fidelity.context.tool_result", "the tool result the model saw is not the one sent"),
            (
                "fidelity.control.encrypted_content",
                "encrypted reasoning not verified: not an OpenAI backend, or reasoning dropped",
            ),
        )
    },
    # vendor documentation pages (relaycheck docs): findings on the page, not on an answer
    **{
        code: _g("note" if code in _DOCS_NOTES else "error / note", "docs", "a documentation page's finding")
        for code in (
            "docs.auth",
            "docs.claim.stop_reason",
            "docs.claim.stream",
            "docs.empty",
            "docs.endpoint",
            "docs.live_shape",
            "docs.pairing",
            "docs.request.field",
            "docs.request.rejected",
            "docs.request.tool_shape",
            "docs.table.field",
            "docs.unparseable",
        )
    },
    "grammar.responses.unknown_event": _g("note", "note", "an event type not known to be official"),
    "grammar.responses.consistent": _g("strict", "corpus", "snapshots of one stream disagree on id/model/created_at"),
    # gemini (harness/dialects/gemini/rules.py; "corpus" there is the truth set tests/truth/gemini/)
    "gemini.usage_fields": _g("strict", "corpus", "usageMetadata counts every official answer carries"),
    "gemini.function_args": _g("strict", "corpus", "args not an object (82 of 82 official function calls: objects)"),
    "gemini.finish_reason": _g("strict", "corpus", "a finishReason the API does not document"),
    "gemini.thoughts_dropped": _g("strict", "corpus", "thought summaries asked for and counted, but not sent"),
    "gemini.thoughts_unrequested": _g("strict", "corpus", "thought parts nobody asked for"),
    "gemini.error_status": _g("strict", "corpus", "error.status not the canonical one of the HTTP code"),
    "gemini.error_code": _g("strict", "corpus", "error.code not the HTTP status"),
    "grammar.gemini.empty": _g("error", _U, "a 200 stream without a chunk: no answer"),
    "grammar.gemini.no_finish": _g("error", _U, "a stream cut short: the answer is incomplete and nothing says so"),
    "grammar.gemini.after_finish": _g("strict", "corpus", "chunks after the finishReason chunk (0 of 67 official)"),
    "grammar.gemini.event_name": _g("strict", "corpus", "event: lines (0 of 67 official streams have one)"),
    "grammar.gemini.response_id": _g("strict", "corpus", "responseId changes mid-stream (0 of 67 official)"),
}


# Cross-format codes graded error before issue 13; the SDK tests cited above show the SDKs cope, so
# these fail only the strict level on every dialect. A dialect's own codes carry their severity
# in their ``@rule`` (harness/dialects/kit/rules.py), and a dialect lowers a shared code on its own
# answers with ``declare_grade`` (sse.after_end on messages and responses): both applied by
# ``rules.apply`` in the engine, right after ``regrade``.
REGRADED_STRICT: frozenset[str] = frozenset({"error.shape", "usage", "tool.stop_reason"})


def regrade(violations: Any) -> list[Any]:
    """Cross-format findings with the severities above (error -> strict where the SDKs cope)."""
    from dataclasses import replace

    return [
        replace(v, severity="strict") if v.severity == "error" and v.code in REGRADED_STRICT else v for v in violations
    ]


def markdown() -> str:
    from harness.codes import all_codes

    codes = all_codes()
    lines = [
        "# Violation codes: severity and evidence",
        "",
        "Generated by `relaycheck codes --grades` from harness/grades.py (tests/test_codes_doc.py keeps it"
        " current). `error` fails both levels (`compatible` and `strict`), `strict` only the strict level,"
        " `note` never. Evidence: `sdk` = tests/test_sdk_grades.py feeds a mutated answer to the pinned"
        " official SDK (the test named); `unusable` = no usable answer; `case` = the case's own"
        " expectation; `corpus` = measured on official recordings (0 of them break the rule); `docs` = a"
        " finding on a documentation page; `fidelity` = a fidelity probe's finding (not what was asked);"
        " `unproven` = graded `error` without an SDK test yet (to be proven or regraded `strict`).",
        "",
        "| code | severity | evidence | why | meaning |",
        "|---|---|---|---|---|",
    ]
    for code, meaning in codes.items():
        g = GRADES[code]
        evidence = g.kind + "".join(f"<br>`{t}`" for t in g.tests)
        lines.append(f"| `{code}` | {g.severity} | {evidence} | {g.why} | {meaning} |")
    unproven = sorted(c for c in codes if GRADES[c].kind == "unproven")
    lines += ["", f"{len(unproven)} of {len(codes)} codes are `unproven`."]
    return "\n".join(lines) + "\n"
