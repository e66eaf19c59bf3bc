"""The Messages stream: framing, per-event schemas, the grammar as a state machine, and the
accumulator that folds the events into the final message (then checked like a body).

Grammar (docs "Streaming Messages", SHAPES.md §3.1, and the official corpus):

    stream   := ping* message_start (ping | block)* message_delta+ message_stop
    block    := content_block_start(index = n) content_block_delta* content_block_stop(index = n)

with n = 0, 1, 2 ... (one block open at a time), deltas matching the block's type, a thinking
block signed before its stop, and an ``error`` event allowed to end the stream at any point.
Pings may appear anywhere, or not at all. Hot path: one ``json.loads`` and one ``is_valid`` per event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import validation
from harness.dialects.base import StreamVerdict
from harness.dialects.kit.rules import declare_grade, rule
from harness.dialects.kit.sse import event_name, payload
from harness.dialects.kit.text import clip as _clip
from harness.dialects.messages.body import check_error_body, check_message, schema_check, usage_fields
from harness.model import Violation
from harness.sse import SSEEvent

# Bytes after the end of the stream: the SDKs fold on (tests/test_sdk_grades.py
# test_sdk_on_gateway_faults), so on this dialect they fail only the strict level (in chat the
# openai SDK stops at [DONE] and loses what follows: an error there).
declare_grade("messages", "sse.after_end", "strict")

G = "grammar.messages."
EVENT_TYPES = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
    }
)
# Which delta types each block type takes (#8: text_delta on tool_use crashes the SDK).
DELTAS_FOR = {
    "text": frozenset({"text_delta", "citations_delta"}),
    "tool_use": frozenset({"input_json_delta"}),
    "server_tool_use": frozenset({"input_json_delta"}),
    "mcp_tool_use": frozenset({"input_json_delta"}),
    "thinking": frozenset({"thinking_delta", "signature_delta"}),
    "compaction": frozenset({"compaction_delta"}),
}
JSON_INPUT = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_STRICT_IDS = {t: f"messages/strict/event_{t}" for t in EVENT_TYPES}


# The field each block type's streamed deltas carry, for the fast path below.
_FAST_DELTA = {
    "text": ("text_delta", "text"),
    "thinking": ("thinking_delta", "thinking"),
    **{kind: ("input_json_delta", "partial_json") for kind in JSON_INPUT},
}
_STRICT_DELTA = _STRICT_IDS["content_block_delta"]
# tests/test_fast_paths.py turns this off to compare the verdicts of both paths.
FAST_PATHS = True


def _fast_delta(st: _State, ev: SSEEvent, data: dict[str, Any]) -> bool:
    """The common content_block_delta (73 % of the events are deltas): a text, thinking or
    input_json delta for the open block, named as such, mid-message, valid under its strict
    schema. Every rule the full path applies to it passes then (event name, after-end, start,
    block_after_delta, target, delta type), so only the fold is left: append the fragment.
    Anything else returns False and takes the full path, unchanged."""
    block = st.open
    if block is None or ev.event != "content_block_delta" or st.message is None:
        return False
    if st.stopped or st.errored or st.saw_delta:
        return False
    index, delta = data.get("index"), data.get("delta")
    # type() is int: 1.0 is an integer to JSON Schema, but the full path folds only a Python int
    if type(index) is not int or index != block.index or type(delta) is not dict:
        return False
    want = _FAST_DELTA.get(block.kind)
    if want is None or delta.get("type") != want[0] or not validation.is_valid(_STRICT_DELTA, data):
        return False
    block.deltas += 1
    block.parts.append(_str(delta.get(want[1])))
    return True


def _str(value: Any) -> str:
    """A text field for the fold; a wrong-typed one folds as empty (the event's schema check
    already reported it: the fold must not crash on it)."""
    return value if isinstance(value, str) else ""


@dataclass
class _Block:
    """One content block being folded."""

    index: int
    kind: str
    start: dict[str, Any]
    event: int  # index of its content_block_start among the SSE events
    parts: list[str] = field(default_factory=list)  # text / thinking / partial_json fragments
    citations: list[Any] = field(default_factory=list)
    signature: str | None = None
    deltas: int = 0

    def fold(self) -> tuple[dict[str, Any], str | None]:
        """The finished block, and why its joined input JSON is broken (None when fine)."""
        block = dict(self.start)
        joined = "".join(self.parts)
        if self.kind == "text":
            block["text"] = _str(block.get("text")) + joined
            if self.citations:
                earlier = block.get("citations")
                block["citations"] = (earlier if isinstance(earlier, list) else []) + self.citations
        elif self.kind == "thinking":
            block["thinking"] = _str(block.get("thinking")) + joined
            if self.signature is not None:
                block["signature"] = self.signature
        elif self.kind in JSON_INPUT and self.deltas:
            # the deltas are partial JSON; their join is the input (an empty join is {})
            if not joined.strip():
                block["input"] = {}
            else:
                try:
                    value = json.loads(joined)
                except ValueError as exc:
                    return block, f"joined input_json_delta fragments are not JSON: {exc}"
                if not isinstance(value, dict):
                    return block, "joined input_json_delta fragments are not a JSON object"
                block["input"] = value
        elif self.kind == "compaction" and self.parts:
            block["content"] = joined
        return block, None


@dataclass
class _State:
    out: list[Violation] = field(default_factory=list)
    message: dict[str, Any] | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    open: _Block | None = None
    started: set[int] = field(default_factory=set)
    prev_kind: str | None = None  # type of the block stopped last
    empty_text: list[tuple[int, str]] = field(default_factory=list)  # (event index, path) of empty text blocks
    saw_delta: bool = False
    stopped: bool = False
    errored: bool = False
    after_end_reported: bool = False
    no_start: bool = False  # message_start missing: the fold has no id/model/role of its own
    start_usage: dict[str, Any] | None = None  # message_start's usage as sent
    start_at: int = -1
    delta_usage: dict[str, Any] | None = None  # the last message_delta's usage as sent
    delta_at: int = -1

    def v(self, code: str, ev: SSEEvent, message: str, **kw: Any) -> None:
        self.out.append(Violation(code, f"events[{ev.index}]", message, **kw))


@rule("grammar.messages.empty_text_block", "error", "a text block without text beside other blocks (#1)")
@rule("grammar.messages.no_message_stop", "error", "the stream ends without message_stop (and without an error event)")
@rule("grammar.messages.start", "error", "the stream does not open with exactly one message_start (pings aside)")
@rule("grammar.messages.unclosed_block", "strict", "message_delta, message_stop or the end with a block still open")
@rule("grammar.messages.unknown_event", "note", "an event type the official API does not document (note only)")
def check_stream(events: Sequence[SSEEvent], request: Any) -> StreamVerdict:
    st = _State()
    for ev in events:
        if ev.data == "[DONE]":
            # strict: the Anthropic SDK skips it (tests/test_sdk_grades.py)
            st.v("sse.done", ev, "data: [DONE] in an Anthropic stream (it ends at message_stop)", severity="strict")
            continue
        data, found = payload(ev)
        if data is None and found:
            st.out.extend(found)
            continue
        st.out.extend(found)
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "content_block_delta" and FAST_PATHS and _fast_delta(st, ev, data):
            continue
        if not isinstance(kind, str):
            if isinstance(data, dict) and (data.get("object") or "choices" in data):
                st.v(
                    "object.kind",
                    ev,
                    f"another dialect's chunk ({data.get('object') or 'choices'}) in a Messages stream",
                    expected="Anthropic stream events",
                    actual=data.get("object"),
                )
            elif isinstance(data, dict) and isinstance(data.get("error"), dict):
                # An OpenAI-shaped {"error": {...}} line: the upstream failure a relay wrapped in
                # a 200 stream (RELAY_DEFECTS #14), not merely an event without a type.
                st.v("error.in_200", ev, "an error object in a 200 stream", actual=_clip(ev.data))
            else:
                st.v("schema", ev, "event data without a string type", actual=_clip(ev.data))
            continue
        if kind != "error":  # an error frame is named once, below (R32)
            named = event_name(ev, kind, missing="error", differs="error")
            if named is not None:
                st.out.append(named)
        if st.stopped or st.errored:
            if not st.after_end_reported:
                st.v("sse.after_end", ev, f"{kind} after the end of the stream")
                st.after_end_reported = True
            continue
        if kind == "error":
            named = "" if ev.event == "error" else f" (its event: line is {ev.event!r}, not 'error': R32)"
            st.v("error.in_200", ev, f"an error event in a 200 stream{named}", actual=_clip(ev.data))
            st.out.extend(check_error_body(data, None, f"events[{ev.index}].data"))
            st.errored = True
            continue
        if kind not in EVENT_TYPES:
            st.v(G + "unknown_event", ev, f"undocumented event type {kind!r}", severity="note")
            continue
        if not validation.is_valid(_STRICT_IDS[kind], data):
            st.out.extend(schema_check(f"event_{kind}", data, f"events[{ev.index}].data"))
        _STEP[kind](st, ev, data)
    if st.open is not None:
        # strict: the Anthropic SDK keeps a block that was never stopped (tests/test_sdk_grades.py);
        # a stream cut short is no_message_stop's (error).
        st.out.append(Violation(G + "unclosed_block", "$", f"block {st.open.index} never stopped", severity="strict"))
    if not st.stopped and not st.errored:
        st.out.append(Violation(G + "no_message_stop", "$", "the stream ends without message_stop"))
    if st.message is None:
        if not st.errored:
            st.out.append(Violation(G + "start", "$", "no message_start in the stream"))
        return StreamVerdict(tuple(st.out), None)
    final = dict(st.message)
    final["content"] = st.blocks
    if len(st.blocks) > 1:  # an empty text block stands alone only in an empty answer
        for where in st.empty_text:
            st.out.append(
                Violation(
                    G + "empty_text_block",
                    where,
                    "text block with no text_delta beside other blocks (its first text_delta lost?)",
                )
            )
    st.out.extend(_lost_text_after_thinking(st.blocks))
    st.out.extend(_usage_start(st))
    if st.stopped:
        # The events already named their unknown fields; the fold would name them again.
        # The events already named their unknown fields; the fold would name them again. Without
        # a message_start the fold lacks id/model/role: grammar.messages.start said so already.
        skip = {"schema.extra", "schema"} if st.no_start else {"schema.extra"}
        st.out.extend(v for v in check_message(final, request, "final") if v.code not in skip)
    return StreamVerdict(tuple(st.out), final)


@rule(
    "grammar.messages.lost_text_delta",
    "error",
    "the text after a thinking block starts mid-sentence: its first text_delta was lost (#1)",
)
def _lost_text_after_thinking(blocks: list[Any]) -> list[Violation]:
    """RELAY_DEFECTS #1 when the lost first text_delta leaves text behind: the answer that
    follows a thinking block then starts mid-sentence, on the whitespace that began the second
    delta. Official text after thinking never starts with whitespace (0 of the corpus's thinking
    -> text transitions); text after tool results can, so only that transition is judged."""
    out = []
    for i in range(1, len(blocks)):
        prev, block = blocks[i - 1], blocks[i]
        if not (isinstance(prev, dict) and isinstance(block, dict)):
            continue
        if prev.get("type") in ("thinking", "redacted_thinking") and block.get("type") == "text":
            text = block.get("text")
            if isinstance(text, str) and text[:1].isspace():
                out.append(
                    Violation(
                        G + "lost_text_delta",
                        f"$.content[{i}].text",
                        "the text after the thinking block starts mid-sentence: its first text_delta was lost",
                        expected="text starting with its first word",
                        actual=_clip(text),
                    )
                )
    return out


@rule(
    "grammar.messages.usage_start",
    "strict",
    ("message_start usage contradicts the final message_delta (input_tokens 0 at the start but > 0 at the end)"),
)
def _usage_start(st: _State) -> list[Violation]:
    """message_start's usage against the last message_delta's. Corpus (149 streams): 132 in the
    current format repeat input_tokens in message_delta, and their message_start always carries
    the same input count (never 0) and the cache counts; 17 older streams send only
    output_tokens in message_delta and are not judged on either."""
    start, end = st.start_usage, st.delta_usage
    if start is None or end is None or "input_tokens" not in end:
        return []
    out = [
        Violation(v.code, f"events[{st.start_at}].data.message.usage", v.message, v.expected, v.actual, v.severity)
        for v in usage_fields(start, "")
    ]
    before, after = start.get("input_tokens"), end.get("input_tokens")
    if before == 0 and isinstance(after, int) and after > 0:
        out.append(
            Violation(
                G + "usage_start",
                f"events[{st.start_at}].data.message.usage.input_tokens",
                f"message_start says 0 input tokens, the final message_delta (event {st.delta_at}) says {after}",
                expected=after,
                actual=before,
                severity="strict",
            )
        )
    return out


def _message_start(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    if st.message is not None:
        st.v(G + "start", ev, "a second message_start")
        return
    msg = data.get("message")
    st.message = dict(msg) if isinstance(msg, dict) else {}
    usage = st.message.get("usage")
    st.message["usage"] = dict(usage) if isinstance(usage, dict) else {}
    if isinstance(usage, dict):
        st.start_usage, st.start_at = usage, ev.index


@rule("grammar.messages.block_after_delta", "strict", "a content block event after message_delta")
def _need_start(st: _State, ev: SSEEvent, kind: str) -> None:
    if st.message is None:
        st.v(G + "start", ev, f"{kind} before message_start")
        st.message = {"usage": {}}  # fold on regardless, so later rules still speak
        st.no_start = True
    if st.saw_delta and kind.startswith("content_block"):
        st.v(G + "block_after_delta", ev, f"{kind} after message_delta")


@rule("grammar.messages.block_index", "error", "content_block_start index not the next one (0, 1, 2 ... without gaps)")
@rule("grammar.messages.block_overlap", "strict", "content_block_start while another content block is still open")
def _block_start(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    _need_start(st, ev, "content_block_start")
    index, block = data.get("index"), data.get("content_block")
    if not isinstance(index, int) or not isinstance(block, dict):
        return
    if st.open is not None:
        st.v(G + "block_overlap", ev, f"block {index} starts while block {st.open.index} is open")
        _close(st, ev)
    if index != len(st.blocks):
        st.v(
            G + "block_index",
            ev,
            "content_block_start index out of order",
            expected=len(st.blocks),
            actual=index,
        )
    st.started.add(index)
    st.open = _Block(index, str(block.get("type")), block, ev.index)


@rule("grammar.messages.block_closed", "strict", "content_block_delta/stop for a block already stopped")
@rule("grammar.messages.delta_without_start", "error", "content_block_delta/stop for an index never started (#9)")
def _target(st: _State, ev: SSEEvent, data: dict[str, Any], kind: str) -> _Block | None:
    _need_start(st, ev, kind)
    index = data.get("index")
    if not isinstance(index, int):
        return None  # the event's schema check named the wrong-typed index
    if st.open is not None and index == st.open.index:
        return st.open
    if index in st.started:
        st.v(G + "block_closed", ev, f"{kind} for block {index}, which is not open", actual=index)
    else:
        st.v(G + "delta_without_start", ev, f"{kind} for block {index}, never started", actual=index)
    return None


@rule("grammar.messages.delta_type", "error", "a delta type the open block cannot take (text_delta on tool_use, #8)")
def _block_delta(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    block = _target(st, ev, data, "content_block_delta")
    delta = data.get("delta")
    if block is None or not isinstance(delta, dict):
        return
    dtype = delta.get("type")
    if not isinstance(dtype, str):
        return  # the event's schema check named the wrong-typed delta type
    allowed = DELTAS_FOR.get(block.kind)
    if allowed is not None and dtype not in allowed:
        st.v(G + "delta_type", ev, f"{dtype} on a {block.kind} block", expected=sorted(allowed), actual=dtype)
        return
    block.deltas += 1
    if dtype == "text_delta":
        block.parts.append(_str(delta.get("text")))
    elif dtype == "input_json_delta":
        block.parts.append(_str(delta.get("partial_json")))
    elif dtype == "thinking_delta":
        block.parts.append(_str(delta.get("thinking")))
    elif dtype == "signature_delta":
        block.signature = delta.get("signature")
    elif dtype == "citations_delta":
        block.citations.append(delta.get("citation"))
    elif dtype == "compaction_delta" and isinstance(delta.get("content"), str):
        block.parts.append(delta["content"])


def _block_stop(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    if _target(st, ev, data, "content_block_stop") is not None:
        _close(st, ev)


def _close(st: _State, ev: SSEEvent) -> None:
    block = st.open
    assert block is not None
    st.open = None
    folded, broken = block.fold()
    where = f"events[{block.event}]"
    if broken:
        st.out.append(
            Violation(
                "tool.args",
                where,
                f"{block.kind} {folded.get('name')!r}: {broken}",
                actual=_clip("".join(block.parts)),
            )
        )
    if block.kind == "thinking" and not folded.get("signature"):
        st.out.append(Violation(G + "thinking_signature", where, "thinking block stopped without a signature_delta"))
    if block.kind == "text" and not folded.get("text") and not block.citations:
        st.empty_text.append(where)
    st.prev_kind = block.kind
    st.blocks.append(folded)


def _message_delta(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    _need_start(st, ev, "message_delta")
    if st.open is not None:
        st.v(G + "unclosed_block", ev, f"message_delta while block {st.open.index} is open", severity="strict")
        _close(st, ev)
    st.saw_delta = True
    msg = st.message
    assert msg is not None
    delta = data.get("delta")
    if isinstance(delta, dict):
        msg.update(delta)
    usage = data.get("usage")
    if isinstance(usage, dict):
        st.delta_usage, st.delta_at = usage, ev.index
        before = msg["usage"].get("output_tokens")
        after = usage.get("output_tokens")
        if isinstance(before, int) and isinstance(after, int) and after < before:
            st.v(
                "usage",
                ev,
                "message_delta output_tokens below message_start's (counts are cumulative)",
                expected=f">= {before}",
                actual=after,
            )
        # the SDK overwrites with every non-null count
        msg["usage"].update({k: v for k, v in usage.items() if v is not None})
    if "context_management" in data:
        msg["context_management"] = data["context_management"]


@rule("grammar.messages.no_message_delta", "error", "message_stop without a message_delta carrying the stop_reason")
def _message_stop(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    _need_start(st, ev, "message_stop")
    if st.open is not None:
        st.v(G + "unclosed_block", ev, f"message_stop while block {st.open.index} is open", severity="strict")
        _close(st, ev)
    if not st.saw_delta:
        st.v(G + "no_message_delta", ev, "message_stop without a message_delta before it")
    st.stopped = True


def _ping(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    return None  # allowed anywhere, any number of times (missing or late pings are official)


_STEP = {
    "message_start": _message_start,
    "content_block_start": _block_start,
    "content_block_delta": _block_delta,
    "content_block_stop": _block_stop,
    "message_delta": _message_delta,
    "message_stop": _message_stop,
    "ping": _ping,
}
