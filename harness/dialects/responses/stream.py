"""The Responses stream: framing, per-event schemas, the grammar as a state machine, and the
accumulator that folds the events into the final response object.

One pass over the events. Each event's JSON is decoded once and validated against the small
schema of its own ``type`` (``schemas/responses/{strict,compatible}/events/<type>.json``), never
a union of all 60 event types. Each grammar rule has its own ``grammar.responses.*`` code.

Official shapes this must accept (all in the shared corpus): ``keepalive`` events with a
sequence number, ``response.queued`` (background mode), a background resume that starts at
``starting_after + 1`` without ``response.created``, ``obfuscation`` on delta events,
``function_call_arguments.done`` without ``name``, ``mcp_list_tools`` items that are listed in
the terminal response but never get ``output_item.done``, and streams recorded before the
API had ``sequence_number`` (March 2025).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from harness import validation
from harness.dialects.base import Profile, StreamVerdict
from harness.dialects.kit.rules import declare_grade, rule
from harness.dialects.kit.schema import schema_violations
from harness.dialects.kit.sse import event_name, payload
from harness.dialects.kit.text import clip as _clip
from harness.dialects.responses import body as R
from harness.model import Level, Severity, Violation
from harness.sse import SSEEvent

# Bytes after the end of the stream: the SDKs fold on (tests/test_sdk_grades.py
# test_sdk_on_gateway_faults), so on this dialect they fail only the strict level (in chat the
# openai SDK stops at [DONE] and loses what follows: an error there).
declare_grade("responses", "sse.after_end", "strict")

TERMINAL = {
    "response.completed": "completed",
    "response.failed": "failed",
    "response.incomplete": "incomplete",
}
# The official API added `sequence_number` (and `logprobs` on text events) around May 2025.
# Streams whose response was created before that are the official format of their day: they
# are held to the compatible schemas and their missing sequence numbers are a note.
SEQUENCE_NUMBER_SINCE = 1746057600  # 2025-05-01T00:00:00Z
# Item types the official API lists in the terminal response without an output_item.done.
UNCLOSED_OK = frozenset({"mcp_list_tools"})
G = "grammar.responses."


@cache
def _event_types() -> frozenset[str]:
    folder = validation.SCHEMA_DIR / "responses" / "strict" / "events"
    return frozenset(p.name[: -len(".json")] for p in folder.glob("*.json"))


@cache
def _strict_ids() -> dict[str, str]:
    """event type -> its strict schema id, for the per-event is_valid without building the id."""
    return {t: f"responses/strict/events/{t}" for t in _event_types()}


@cache
def _known_fields(t: str) -> frozenset[str]:
    return frozenset(validation.load_schema(f"responses/strict/events/{t}")["properties"])


@dataclass
class _Part:
    kind: str
    deltas: list[str] = field(default_factory=list)
    done_text: str | None = None  # from output_text.done / refusal.done
    closed: bool = False  # content_part.done seen


@dataclass
class _Item:
    added: dict[str, Any]
    index: int  # events[] index of the output_item.added
    done: dict[str, Any] | None = None
    parts: dict[int, _Part] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    args_done: str | None = None

    @property
    def id(self) -> Any:
        return self.added.get("id")

    @property
    def type(self) -> Any:
        return self.added.get("type")


@dataclass
class _State:
    profile: Profile
    out: list[Violation] = field(default_factory=list)
    items: dict[int, _Item] = field(default_factory=dict)
    next_index: int = 0
    expected_seq: int | None = None
    legacy: bool = False
    resume: bool = False
    first_seen: bool = False
    snapshot: dict[str, Any] | None = None
    terminal: dict[str, Any] | None = None
    terminal_at: int = -1
    done_at: int = -1
    head: tuple[int, dict[str, Any]] | None = None  # (event index, response) of the first snapshot
    # A POST /v1/responses body (model, input) creates the response: its stream cannot be a
    # resume (GET …?stream=true&starting_after=N, which has no body) and must start with created.
    created_by_request: bool = False

    def v(self, code: str, path: str, message: str, severity: Severity = "error", **kw: Any) -> None:
        self.out.append(Violation(code, path, message, severity=severity, **kw))


def check_stream(
    events: Sequence[SSEEvent], request: Any, level: Level, profile: Profile = "official"
) -> StreamVerdict:
    st = _State(profile)
    st.created_by_request = isinstance(request, dict) and ("input" in request or "model" in request)
    for ev in events:
        _event(st, ev)
    _finish(st, events)
    final = _fold(st)
    if final is not None:
        st.out += R.check_body(final, request, level, path="$.final", schema=False)
        st.out += _compare(st, final)
    return StreamVerdict(tuple(st.out), final)


# The delta events (73 % of the corpus's events are deltas) and the field their fragment is in.
_FAST_TYPES = frozenset(
    {"response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta"}
)
# tests/test_fast_paths.py turns this off to compare the verdicts of both paths.
FAST_PATHS = True


def _fast_delta(st: _State, ev: SSEEvent, d: dict[str, Any], t: str) -> bool:
    """A text, refusal or arguments delta for an open item (and open content part), named as
    such, next in sequence, mid-stream, valid under its strict schema with no unknown field:
    every rule ``_event`` and its handler apply to it passes then (event name, after-end,
    first event, sequence_number, schema, schema.extra, item open, item_id, part open, after
    .done), so only the fold is left. Nothing is changed before every condition holds; anything
    else returns False and takes the full path."""
    if ev.event != t or st.terminal is not None or st.done_at >= 0 or not st.first_seen or st.legacy:
        return False
    seq, oi, delta = d.get("sequence_number"), d.get("output_index"), d.get("delta")
    # type() is int: the full path refuses bool, and folds no float (1.0 is an integer to JSON Schema)
    if type(seq) is not int or seq != st.expected_seq or type(oi) is not int or type(delta) is not str:
        return False
    it = st.items.get(oi)
    if it is None or it.done is not None:
        return False
    item_id = d.get("item_id")
    if item_id is not None and it.id is not None and item_id != it.id:
        return False
    if t == "response.function_call_arguments.delta":
        if it.args_done is not None:
            return False
        target = it.args
    else:
        ci = d.get("content_index")
        p = it.parts.get(ci) if type(ci) is int else None
        if p is None or p.closed or p.done_text is not None:
            return False
        target = p.deltas
    if not validation.is_valid(_strict_ids()[t], d) or not _known_fields(t).issuperset(d):
        return False
    st.expected_seq = seq + 1
    target.append(delta)
    return True


@rule("grammar.responses.unknown_event", "note", "an event type the official API is not known to send (note)")
def _event(st: _State, ev: SSEEvent) -> None:
    path = f"events[{ev.index}]"
    if ev.data == "[DONE]":
        if st.profile == "official":
            st.v("sse.done", path, "data: [DONE] is not sent by the official Responses API", severity="strict")
        elif st.done_at >= 0:
            st.v("sse.after_end", path, "a second data: [DONE]")
        st.done_at = ev.index
        return
    if st.done_at >= 0:
        st.v("sse.after_end", path, "an event after data: [DONE]")
    d, found = payload(ev)
    if d is None and found:
        st.out.extend(found)
        return
    if not isinstance(d, dict):
        st.v("sse.json", f"{path}.data", "an event payload must be a JSON object", actual=type(d).__name__)
        return
    st.out.extend(found)
    t = d.get("type")
    if t is not None and not isinstance(t, str):
        st.v("schema", f"{path}.data.type", "event type must be a string", actual=_clip(t))
        return
    if t in _FAST_TYPES and FAST_PATHS and _fast_delta(st, ev, d, t):
        return
    if t is None and isinstance(d.get("error"), dict):
        # An OpenAI-shaped {"error": {...}} line: an upstream failure a relay wrapped in a 200
        # stream (RELAY_DEFECTS #14), named so rather than only as a broken event sequence.
        st.v("error.in_200", f"{path}.data", "an error object inside a 200 stream", actual=_clip(d))
    if t != "error":  # an error frame with another event: line is named once, below (R32)
        named = event_name(ev, t, missing="strict", differs="error")
        if named is not None:
            st.out.append(named)
    if st.terminal is not None:
        st.v("sse.after_end", path, f"{t!r} after the terminal event", actual=t)
    if not st.first_seen:
        _first(st, d, path)
    _sequence(st, d, path)
    strict_id = _strict_ids().get(t)  # type: ignore[arg-type]
    if strict_id is not None:
        kind = f"events/{t}"
        if st.legacy:
            st.out += schema_violations(f"responses/compatible/{kind}", d, f"{path}.data")
        elif not validation.is_valid(strict_id, d):  # leveled's own first step: [] when valid
            st.out += R.leveled(kind, d, f"{path}.data")
        known = _known_fields(t)
        if not known.issuperset(d):  # the common case (no unknown field) needs no loop
            for k in d:
                if k not in known:
                    st.v(
                        "schema.extra",
                        f"{path}.data.{k}",
                        f"{t} field {k!r} is not one the official API sends",
                        severity="note",
                    )
    else:
        st.v(
            G + "unknown_event",
            f"{path}.data.type",
            f"event type {t!r} is not known",
            severity="note",
            actual=t,
        )
    if t == "error":
        named = "" if ev.event == "error" else f" (its event: line is {ev.event!r}, not 'error': R32)"
        st.v("error.in_200", f"{path}.data", f"an error event inside a 200 stream{named}", actual=_clip(d))
        return
    handler = _HANDLERS.get(t) if isinstance(t, str) else None
    if handler is not None:
        handler(st, d, path, ev.index)
    elif isinstance(d.get("output_index"), int):
        _open_item(st, d, path, t)


@rule("grammar.responses.first_event", "error", "the stream does not start with response.created (and is no resume)")
@rule("grammar.responses.sequence_number", "strict", "sequence_number missing, or not the previous one plus one")
def _first(st: _State, d: dict[str, Any], path: str) -> None:
    if d.get("type") == "keepalive":
        return
    st.first_seen = True
    seq = d.get("sequence_number")
    created = d.get("response", {}).get("created_at") if isinstance(d.get("response"), dict) else None
    if seq is None and isinstance(created, (int, float)) and created < SEQUENCE_NUMBER_SINCE:
        st.legacy = True
        st.v(
            G + "sequence_number",
            path,
            "stream recorded before the API sent sequence_number",
            severity="note",
        )
    if d.get("type") != "response.created":
        if isinstance(seq, int) and seq > 0 and not st.created_by_request:
            st.resume = True  # GET /v1/responses/{id}?stream=true&starting_after=N starts at N+1
        else:
            st.v(G + "first_event", path, "the stream must start with response.created", actual=d.get("type"))


def _sequence(st: _State, d: dict[str, Any], path: str) -> None:
    seq = d.get("sequence_number")
    if not isinstance(seq, int) or isinstance(seq, bool):
        if not st.legacy:
            # strict: the openai SDK's stream accumulator does not read it (tests/test_sdk_grades.py)
            st.v(
                G + "sequence_number",
                f"{path}.data.sequence_number",
                "sequence_number missing",
                severity="strict",
                actual=seq,
            )
        return
    if st.expected_seq is not None and seq != st.expected_seq:
        st.v(
            G + "sequence_number",
            f"{path}.data.sequence_number",
            "sequence_number not previous + 1",
            severity="strict",
            expected=st.expected_seq,
            actual=seq,
        )
    elif st.expected_seq is None and not st.resume and seq != 0 and d.get("type") == "response.created":
        st.v(
            G + "sequence_number",
            f"{path}.data.sequence_number",
            "the first event's sequence_number is not 0",
            severity="strict",
            expected=0,
            actual=seq,
        )
    st.expected_seq = seq + 1


# ---- per-type handlers -----------------------------------------------------------------------------


_SAME = ("id", "model", "created_at")


@rule(
    "grammar.responses.consistent",
    "strict",
    "response.created / in_progress / the terminal event disagree on id, model or created_at",
)
def _consistent(st: _State, resp: dict[str, Any], path: str, index: int) -> None:
    """Every response snapshot of one stream names the same response. Corpus: 157 of 157
    official streams agree on id, model and created_at across created / in_progress / the end."""
    if st.head is None:
        st.head = (index, resp)
        return
    first_at, first = st.head
    for key in _SAME:
        if key in resp and key in first and resp[key] != first[key]:
            st.v(
                G + "consistent",
                f"{path}.data.response.{key}",
                f"response.{key} differs from the one in event {first_at}",
                severity="strict",
                expected=first[key],
                actual=resp[key],
            )


def _response(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    if isinstance(d.get("response"), dict):
        st.snapshot = d["response"]
        _consistent(st, d["response"], path, index)


@rule("grammar.responses.terminal_fields", "error", "the terminal response lacks id / object / model")
@rule("grammar.responses.terminal_status", "error", "the terminal event's response.status does not match its type")
def _terminal(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    resp = d.get("response")
    if st.terminal is None:
        st.terminal, st.terminal_at = (resp if isinstance(resp, dict) else {}), index
    if not isinstance(resp, dict):
        return
    _consistent(st, resp, path, index)
    missing = [k for k in ("id", "object", "model") if k not in resp]
    if missing:
        st.v(
            G + "terminal_fields",
            f"{path}.data.response",
            f"terminal response lacks {', '.join(missing)}",
            expected=["id", "object", "model"],
            actual=sorted(resp),
        )
    want = TERMINAL[d["type"]]
    if resp.get("status") != want:
        st.v(
            G + "terminal_status",
            f"{path}.data.response.status",
            f"{d['type']} with another status",
            expected=want,
            actual=resp.get("status"),
        )


@rule("grammar.responses.output_index", "strict", "output_item.added with an output_index other than the next free one")
def _added(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    oi, item = d.get("output_index"), d.get("item")
    if not isinstance(oi, int) or not isinstance(item, dict):
        return  # the schema names it
    if oi in st.items:
        st.v(G + "output_index", f"{path}.data.output_index", "output_index already used", actual=oi)
    elif oi != st.next_index and not st.resume:
        st.v(  # strict: the openai SDK keys items by the index it is given (tests/test_sdk_grades.py)
            G + "output_index",
            f"{path}.data.output_index",
            "output_index is not the next free index",
            severity="strict",
            expected=st.next_index,
            actual=oi,
        )
    st.items[oi] = _Item(item, index)
    st.next_index = max(st.next_index, oi + 1)


@rule("grammar.responses.after_item_done", "strict", "an event for an output item or part after its .done")
@rule("grammar.responses.delta_before_added", "error", "a delta/part event for an item or content part not (yet) open")
@rule("grammar.responses.item_id", "strict", "an event's item_id is not the id of the item at its output_index")
def _open_item(st: _State, d: dict[str, Any], path: str, t: Any) -> _Item | None:
    """The open item an event refers to, or None (after naming why)."""
    oi = d.get("output_index")
    it = st.items.get(oi) if isinstance(oi, int) else None
    if it is None:
        if st.resume and isinstance(oi, int):  # the item was added before starting_after
            it = st.items[oi] = _Item({"id": d.get("item_id")}, -1)
            return it
        st.v(
            G + "delta_before_added",
            f"{path}.data.output_index",
            f"{t} for an item that was never added",
            actual=oi,
        )
        return None
    if it.done is not None:
        st.v(G + "after_item_done", f"{path}.data", f"{t} after the item's output_item.done", actual=oi)
        return None
    item_id = d.get("item_id")
    if item_id is not None and it.id is not None and item_id != it.id:
        st.v(
            G + "item_id",
            f"{path}.data.item_id",
            "item_id is not the id of the item at output_index",
            expected=it.id,
            actual=item_id,
        )
    return it


@rule("grammar.responses.args_mismatch", "strict", "joined function_call_arguments deltas differ from .done (or lost)")
@rule("grammar.responses.item_not_added", "error", "output_item.done for an item that was never added")
@rule("grammar.responses.text_mismatch", "strict", "joined output_text / refusal deltas differ from the .done text")
def _item_done(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    oi, item = d.get("output_index"), d.get("item")
    it = st.items.get(oi) if isinstance(oi, int) else None
    if it is None and not st.resume:
        st.v(
            G + "item_not_added",
            f"{path}.data",
            "output_item.done for an item that was never added",
            actual=oi,
        )
        return
    if it is None:
        it = st.items[oi] = _Item(item if isinstance(item, dict) else {}, -1)
    if it.done is not None:
        st.v(G + "after_item_done", f"{path}.data", "a second output_item.done for this item", actual=oi)
        return
    if not isinstance(item, dict):
        return
    it.done = item
    if (it.id is not None and item.get("id") != it.id) or (it.type is not None and item.get("type") != it.type):
        st.v(
            G + "item_id",
            f"{path}.data.item",
            "output_item.done is not the item that was added",
            expected=[it.id, it.type],
            actual=[item.get("id"), item.get("type")],
        )
    if item.get("type") == "function_call":
        streamed = it.args_done if it.args_done is not None else ("".join(it.args) if it.args else None)
        if streamed is not None and item.get("arguments") != streamed:
            st.v(
                G + "args_mismatch",
                f"{path}.data.item.arguments",
                "item arguments differ from the streamed ones",
                expected=streamed,
                actual=item.get("arguments"),
            )
    elif item.get("type") == "message" and isinstance(item.get("content"), list):
        for ci, part in enumerate(item["content"]):
            p = it.parts.get(ci)
            if p is None or not isinstance(part, dict):
                continue
            streamed = p.done_text if p.done_text is not None else "".join(p.deltas)
            got = part.get("refusal") if part.get("type") == "refusal" else part.get("text")
            if got != streamed:
                st.v(
                    G + "text_mismatch",
                    f"{path}.data.item.content[{ci}]",
                    "item text differs from the streamed text",
                    expected=_clip(streamed),
                    actual=_clip(str(got)),
                )


@rule("grammar.responses.part_unpaired", "strict", "content_part.added without content_part.done, or the reverse")
def _part_added(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    it = _open_item(st, d, path, d["type"])
    ci, part = d.get("content_index"), d.get("part")
    if it is None or not isinstance(ci, int):
        return
    if ci in it.parts:
        st.v(G + "part_unpaired", f"{path}.data.content_index", "content_part.added twice", actual=ci)
    it.parts[ci] = _Part(part.get("type") if isinstance(part, dict) else "?")


def _part(st: _State, d: dict[str, Any], path: str) -> _Part | None:
    it = _open_item(st, d, path, d["type"])
    ci = d.get("content_index")
    if it is None:
        return None
    p = it.parts.get(ci) if isinstance(ci, int) else None
    if p is None and st.resume and isinstance(ci, int):
        p = it.parts[ci] = _Part("?")
    if p is None:
        st.v(
            G + "delta_before_added",
            f"{path}.data.content_index",
            f"{d['type']} before its content_part.added",
            actual=ci,
        )
    elif p.closed:
        st.v(
            G + "after_item_done",
            f"{path}.data.content_index",
            f"{d['type']} after content_part.done",
            actual=ci,
        )
        return None
    return p


def _part_done(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    it = _open_item(st, d, path, d["type"])
    ci, part = d.get("content_index"), d.get("part")
    if it is None:
        return
    p = it.parts.get(ci) if isinstance(ci, int) else None
    if p is None:
        if not st.resume:
            st.v(G + "part_unpaired", f"{path}.data", "content_part.done without content_part.added", actual=ci)
        return
    if p.closed:
        st.v(G + "part_unpaired", f"{path}.data", "content_part.done twice", actual=ci)
    p.closed = True
    if isinstance(part, dict):
        got = part.get("refusal") if part.get("type") == "refusal" else part.get("text")
        streamed = p.done_text if p.done_text is not None else "".join(p.deltas)
        if got != streamed and (p.deltas or p.done_text is not None):
            st.v(
                G + "text_mismatch",
                f"{path}.data.part",
                "part text differs from the streamed text",
                expected=_clip(streamed),
                actual=_clip(str(got)),
            )


def _text_delta(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    p = _part(st, d, path)
    if p is not None and isinstance(d.get("delta"), str):
        if p.done_text is not None:
            st.v(G + "after_item_done", f"{path}.data", "a delta after the part's .done event")
        p.deltas.append(d["delta"])


def _text_done(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    p = _part(st, d, path)
    key = "refusal" if d["type"] == "response.refusal.done" else "text"
    if p is None or not isinstance(d.get(key), str):
        return
    if p.done_text is not None:
        st.v(G + "text_mismatch", f"{path}.data", f"a second {d['type']}")
    p.done_text = d[key]
    # Unlike function arguments, the official API streams every text it sends as deltas: a
    # non-empty .done with none before it means the deltas were lost on the way.
    if "".join(p.deltas) != p.done_text:
        st.v(
            G + "text_mismatch",
            f"{path}.data.{key}",
            f"joined deltas differ from {d['type']}",
            expected=_clip("".join(p.deltas)),
            actual=_clip(p.done_text),
        )


def _args_delta(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    it = _open_item(st, d, path, d["type"])
    if it is not None and isinstance(d.get("delta"), str):
        if it.args_done is not None:
            st.v(G + "after_item_done", f"{path}.data", "an arguments delta after function_call_arguments.done")
        it.args.append(d["delta"])


def _args_done(st: _State, d: dict[str, Any], path: str, index: int) -> None:
    it = _open_item(st, d, path, d["type"])
    args = d.get("arguments")
    if it is None or not isinstance(args, str):
        return
    it.args_done = args
    joined = "".join(it.args)
    # No deltas before the done is legal (the done carries the whole arguments): judge those.
    if it.args and joined != args:
        lost = args.strip() in ("", "{}") and joined.strip() not in ("", "{}")
        st.v(
            G + "args_mismatch",
            f"{path}.data.arguments",
            "arguments lost: done carries {} after non-empty deltas" if lost else "joined deltas differ from done",
            expected=_clip(joined),
            actual=_clip(args),
        )


_HANDLERS = {
    "response.created": _response,
    "response.in_progress": _response,
    "response.queued": _response,
    "response.completed": _terminal,
    "response.failed": _terminal,
    "response.incomplete": _terminal,
    "keepalive": lambda st, d, path, index: None,
    "response.output_item.added": _added,
    "response.output_item.done": _item_done,
    "response.content_part.added": _part_added,
    "response.content_part.done": _part_done,
    "response.output_text.delta": _text_delta,
    "response.refusal.delta": _text_delta,
    "response.output_text.done": _text_done,
    "response.refusal.done": _text_done,
    "response.output_text.annotation.added": lambda st, d, path, index: _part(st, d, path) and None,
    "response.function_call_arguments.delta": _args_delta,
    "response.function_call_arguments.done": _args_done,
}


# ---- end of stream, folding, comparison -------------------------------------------------------------


@rule("grammar.responses.args_done_missing", "strict", "a function_call item with no function_call_arguments.done")
@rule("grammar.responses.item_not_done", "error", "an added output item never got its output_item.done (item dropped)")
@rule("grammar.responses.terminal_missing", "error", "the stream ends without response.completed / failed / incomplete")
@rule("grammar.responses.text_done_missing", "strict", "an output_text part with no response.output_text.done")
def _finish(st: _State, events: Sequence[SSEEvent]) -> None:
    end = f"events[{len(events)}]"
    if st.profile == "open-responses" and st.done_at < 0:
        st.v("sse.done", end, "the Open Responses profile requires a final data: [DONE]")
    if st.terminal is None:
        st.v(G + "terminal_missing", end, "stream ended without response.completed / failed / incomplete")
    output = (st.terminal or {}).get("output")
    # ids only: a wrong-typed output or id is the terminal event's schema check's to name
    items = output if isinstance(output, list) else []
    listed = {i.get("id") for i in items if isinstance(i, dict) and not isinstance(i.get("id"), (dict, list))}
    for oi, it in sorted(st.items.items()):
        where = f"events[{it.index}]" if it.index >= 0 else end
        if it.done is None:
            if it.type in UNCLOSED_OK and it.id in listed:
                st.v(
                    G + "item_not_done",
                    where,
                    f"{it.type} item closed only by the terminal response",
                    severity="note",
                )
            else:
                # The openai SDK takes the final output from the terminal event: an item listed
                # there reaches the client (strict); one missing there too is dropped (#4, error).
                st.v(
                    G + "item_not_done",
                    where,
                    f"{it.type} item {oi} was added but never done"
                    + (
                        " (the terminal response lists it)"
                        if it.id in listed
                        else " nor listed by the terminal response"
                    ),
                    severity="strict" if it.id in listed and it.id is not None else "error",
                    actual=it.id,
                )
        if it.type == "function_call" and it.args_done is None and (it.args or not st.resume):
            st.v(
                G + "args_done_missing",
                where,
                "function_call without function_call_arguments.done",
                actual=it.id,
            )
        for ci, p in sorted(it.parts.items()):
            if not p.closed and it.done is None and st.terminal is None:
                continue  # already named by item_not_done / terminal_missing
            if not p.closed:
                st.v(G + "part_unpaired", where, f"content part {ci} added but never done")
            if p.kind == "output_text" and p.done_text is None:
                st.v(  # strict: the openai SDK folds the deltas without it (tests/test_sdk_grades.py)
                    G + "text_done_missing",
                    where,
                    f"no response.output_text.done for content part {ci}",
                    severity="strict",
                )


def _folded_item(it: _Item) -> dict[str, Any]:
    if it.done is not None:
        return it.done
    item = dict(it.added)
    if item.get("type") == "function_call":
        item["arguments"] = it.args_done if it.args_done is not None else "".join(it.args)
    elif item.get("type") == "message":
        content = []
        for _, p in sorted(it.parts.items()):
            txt = p.done_text if p.done_text is not None else "".join(p.deltas)
            content.append({"type": p.kind, "refusal" if p.kind == "refusal" else "text": txt})
        item["content"] = content
    return item


def _fold(st: _State) -> dict[str, Any] | None:
    base = st.terminal if st.terminal is not None else st.snapshot
    if base is None and not st.items:
        return None
    final = dict(base or {})
    final["output"] = [_folded_item(it) for _, it in sorted(st.items.items())]
    return final


_COMPARED = ("type", "id", "name", "call_id", "arguments", "status")


def _compare(st: _State, final: dict[str, Any]) -> list[Violation]:
    """The terminal event's own output against the folded items (reasoning's encrypted_content is
    re-encrypted by the API between the two and is not compared)."""
    if st.terminal is None or not isinstance(st.terminal.get("output"), list):
        return []
    theirs, ours = st.terminal["output"], final["output"]
    where = f"events[{st.terminal_at}].data.response.output"
    if st.resume:
        return []  # items before starting_after were not streamed to us
    if len(theirs) != len(ours):
        return [
            Violation(
                "stream.accumulate",
                where,
                "terminal output has another number of items than streamed",
                expected=len(ours),
                actual=len(theirs),
            )
        ]
    out = []
    # An item never done keeps its in_progress status in the fold: item_not_done already says so.
    undone = [it.done is None for _, it in sorted(st.items.items())]
    for i, (a, b) in enumerate(zip(theirs, ours, strict=True)):
        if not isinstance(a, dict) or not isinstance(b, dict):
            continue
        diff = [k for k in _COMPARED if a.get(k) != b.get(k) and not (k == "status" and undone[i])]
        if a.get("type") == "message" and R.text({"output": [a]}) != R.text({"output": [b]}):
            diff.append("content")
        if diff:
            out.append(
                Violation(
                    "stream.accumulate",
                    f"{where}[{i}]",
                    f"terminal item differs from the streamed one in {', '.join(diff)}",
                    expected=_brief(b, diff),
                    actual=_brief(a, diff),
                )
            )
    return out


def _brief(item: dict[str, Any], keys: list[str]) -> str:
    return _clip(json.dumps({k: item.get(k) if k != "content" else R.text({"output": [item]}) for k in keys}))
