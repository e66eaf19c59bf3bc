"""Mutation operators for the Responses dialect: each breaks official traffic the way a real relay
did (RELAY_DEFECTS.md rows) or breaks one grammar rule, and names the code that must catch it.

Streams are edited as a list of decoded events and written back in the official framing
(``event: <type>`` + one ``data:`` line + blank line), with sequence numbers renumbered, so each
mutant breaks exactly the rule it is about and nothing else by accident.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from harness.model import Exchange
from harness.sse import parse
from harness.traffic import RecordedInteraction
from tests.truth.mutation import Mutation, body_text, with_body

Events = list[dict[str, Any]]


def _events(it: RecordedInteraction) -> Events | None:
    if it.exchange.status != 200:
        return None
    events, _ = parse(it.exchange.body)
    try:
        return [json.loads(e.data) for e in events]
    except ValueError:
        return None


def _write(events: Events, renumber: bool = True) -> str:
    out = []
    seq = None
    for d in events:
        if renumber and "sequence_number" in d:
            seq = d["sequence_number"] if seq is None else seq + 1
            d["sequence_number"] = seq
        out.append(f"event: {d.get('type')}\ndata: {json.dumps(d, ensure_ascii=False, separators=(',', ':'))}\n\n")
    return "".join(out)


def _stream_op(
    edit: Callable[[Events], Events | str | None],
) -> Callable[[RecordedInteraction], Exchange | None]:
    def apply(it: RecordedInteraction) -> Exchange | None:
        events = _events(it)
        if not events:
            return None
        result = edit(copy.deepcopy(events))
        if result is None:
            return None
        return with_body(it, result if isinstance(result, str) else _write(result))

    return apply


def _first(events: Events, pred: Callable[[dict[str, Any]], bool]) -> int | None:
    return next((i for i, d in enumerate(events) if pred(d)), None)


def _type_is(t: str) -> Callable[[dict[str, Any]], bool]:
    return lambda d: d.get("type") == t


# ---- stream operators -------------------------------------------------------------------------------


def args_lost(events: Events) -> Events | None:  # #2
    i = _first(events, _type_is("response.function_call_arguments.done"))
    if i is None or events[i].get("arguments") in ("{}", ""):
        return None
    events[i]["arguments"] = "{}"
    return events


def done_never_added(events: Events) -> Events | None:  # #3
    i = _first(events, lambda d: d.get("type") == "response.output_item.added" and d["item"].get("type") == "message")
    if i is None:
        return None
    oi = events[i]["output_index"]
    # Drop the item's whole opening (added + its parts and deltas) but keep its output_item.done.
    return [
        d
        for j, d in enumerate(events)
        if not (j >= i and d.get("output_index") == oi and d.get("type") != "response.output_item.done")
    ]


def item_done_dropped(events: Events) -> Events | None:  # #4
    i = _first(
        events,
        lambda d: d.get("type") == "response.output_item.done" and d["item"].get("type") == "function_call",
    )
    return None if i is None else events[:i] + events[i + 1 :]


def text_done_dropped(events: Events) -> Events | None:  # #5
    i = _first(events, _type_is("response.output_text.done"))
    return None if i is None else events[:i] + events[i + 1 :]


def completed_without_id(events: Events) -> Events | None:  # #6
    i = _first(events, _type_is("response.completed"))
    if i is None:
        return None
    for k in ("id", "object", "model"):
        events[i]["response"].pop(k, None)
    return events


def delta_before_added(events: Events) -> Events | None:  # #6
    i = _first(events, _type_is("response.output_item.added"))
    j = _first(events, lambda d: d.get("type", "").endswith(".delta") and "output_index" in d)
    if i is None or j is None or j < i:
        return None
    delta = events.pop(j)
    events.insert(i, delta)
    return events


def no_sequence_number(events: Events) -> Events | None:  # #15
    if not any("sequence_number" in d for d in events):
        return None
    for d in events:
        d.pop("sequence_number", None)
    return events


def error_event(events: Events) -> Events | None:  # #14
    i = _first(events, lambda d: d.get("type") in ("response.completed", "response.incomplete"))
    if i is None:
        return None
    err = {
        "type": "error",
        "code": "server_error",
        "message": "upstream failed",
        "param": None,
        "sequence_number": 0,
    }
    return [*events[:i], err, *events[i:]]


def done_sentinel(events: Events) -> str:
    return _write(events) + "data: [DONE]\n\n"


def event_name_differs(events: Events) -> str | None:
    text = _write(events)
    if "event: response.in_progress\n" not in text:
        return None
    return text.replace("event: response.in_progress\n", "event: response.created\n", 1)


def terminal_dropped(events: Events) -> Events | None:
    return events[:-1] if events[-1].get("type") in ("response.completed", "response.incomplete") else None


def event_after_terminal(events: Events) -> Events | None:
    i = _first(events, _type_is("response.in_progress"))
    return None if i is None else [*events, copy.deepcopy(events[i])]


def terminal_output_differs(events: Events) -> Events | None:
    i = _first(events, _type_is("response.completed"))
    if i is None:
        return None
    for item in events[i]["response"].get("output") or ():
        if item.get("type") == "function_call":
            item["arguments"] = item["arguments"].replace('"', "'") + " "
            return events
        if item.get("type") == "message":
            for part in item.get("content") or ():
                if part.get("type") == "output_text" and part.get("text"):
                    part["text"] = part["text"][:-1] + "#"
                    return events
    return None


def text_delta_lost(events: Events) -> Events | None:  # the messages #1 shape, on Responses
    i = _first(events, lambda d: d.get("type") == "response.output_text.delta" and d.get("delta"))
    return None if i is None else events[:i] + events[i + 1 :]


def no_blank_line(events: Events) -> str | None:  # #12
    if len(events) < 3:
        return None
    text = _write(events)
    return text.replace("\n\nevent: response.in_progress\n", "\nevent: response.in_progress\n", 1)


# ---- body operators -------------------------------------------------------------------------------


def _body_op(
    edit: Callable[[dict[str, Any], RecordedInteraction], Any],
) -> Callable[[RecordedInteraction], Exchange | None]:
    def apply(it: RecordedInteraction) -> Exchange | None:
        if it.exchange.status != 200:
            return None
        try:
            body = json.loads(body_text(it))
        except ValueError:
            return None
        result = edit(body, it)
        return None if result is None else with_body(it, json.dumps(result, indent=2))

    return apply


def chat_completion(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:  # #20 on Responses
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": body.get("created_at"),
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    }


def id_prefix(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:
    body["id"] = "chatcmpl-" + str(body.get("id", ""))[5:]
    return body


def call_id_prefix(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:
    for item in body.get("output") or ():
        if item.get("type") == "function_call":
            item["call_id"] = "toolu_" + item["call_id"][5:]
            return body
    return None


def usage_total(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:
    if not isinstance(body.get("usage"), dict):
        return None
    body["usage"]["total_tokens"] += 7
    return body


def error_in_200(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:  # #14
    return {"error": {"message": "upstream error", "type": "server_error", "param": None, "code": None}}


def args_truncated(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:  # #10-like
    for item in body.get("output") or ():
        if item.get("type") == "function_call" and len(item.get("arguments") or "") > 2:
            item["arguments"] = item["arguments"][:-2]
            return body
    return None


def tool_as_text(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any] | None:  # #16
    req = it.exchange.request.json
    fmt = ((req or {}).get("text") or {}).get("format") or {} if isinstance(req, dict) else {}
    if not isinstance(req, dict) or fmt.get("type") in ("json_schema", "json_object"):
        return None
    calls = [i for i in body.get("output") or () if i.get("type") == "function_call"]
    if not calls:
        return None
    call = calls[0]
    text = json.dumps({"name": call["name"], "arguments": json.loads(call["arguments"] or "{}")})
    body["output"] = [
        {
            "id": "msg_" + call["id"][3:],
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
        }
    ]
    return body


def nullable_dropped(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:  # #15
    body.pop("previous_response_id", None)
    body.pop("user", None)
    return body


def incomplete_without_reason(body: dict[str, Any], it: RecordedInteraction) -> dict[str, Any]:
    body["status"] = "incomplete"
    body["incomplete_details"] = None
    return body


def anthropic_error(it: RecordedInteraction) -> Exchange | None:  # #19, the other way round
    if (it.exchange.status or 0) < 400:
        return None
    body = json.loads(body_text(it))
    err = body.get("error") or {}
    return with_body(
        it, json.dumps({"type": "error", "error": {"type": err.get("type"), "message": err.get("message")}})
    )


def _s(name: str, code: str, edit: Callable[[Events], Events | str | None], defect: str) -> Mutation:
    return Mutation(f"responses.{name}", "responses", True, code, _stream_op(edit), defect)


def _b(name: str, code: str, edit: Callable[[dict[str, Any], RecordedInteraction], Any], defect: str) -> Mutation:
    return Mutation(f"responses.{name}", "responses", False, code, _body_op(edit), defect)


G = "grammar.responses."
MUTATIONS: list[Mutation] = [
    _s("args-lost", G + "args_mismatch", args_lost, "#2"),
    _s("done-never-added", G + "item_not_added", done_never_added, "#3"),
    _s("item-done-dropped", G + "item_not_done", item_done_dropped, "#4"),
    _s("text-done-dropped", G + "text_done_missing", text_done_dropped, "#5"),
    _s("completed-without-id", G + "terminal_fields", completed_without_id, "#6"),
    _s("delta-before-added", G + "delta_before_added", delta_before_added, "#6"),
    _s("no-sequence-number", G + "sequence_number", no_sequence_number, "#15"),
    _s("error-event", "error.in_200", error_event, "#14"),
    _s("done-sentinel", "sse.done", done_sentinel, "grammar: no [DONE] in the official profile"),
    _s("event-name-differs", "sse.event_name", event_name_differs, "grammar: event line equals data.type"),
    _s("terminal-dropped", G + "terminal_missing", terminal_dropped, "grammar: one terminal event"),
    _s("event-after-terminal", "sse.after_end", event_after_terminal, "grammar: nothing after the terminal"),
    _s(
        "terminal-output-differs",
        "stream.accumulate",
        terminal_output_differs,
        "grammar: fold == terminal copy",
    ),
    _s("text-delta-lost", G + "text_mismatch", text_delta_lost, "#1 shape"),
    _s("no-blank-line", "sse.framing", no_blank_line, "#12"),
    _b("chat-completion", "object.kind", chat_completion, "#20 shape"),
    _b("id-prefix", "id.prefix", id_prefix, "ids"),
    _b("call-id-prefix", "id.prefix", call_id_prefix, "ids"),
    _b("usage-total", "usage", usage_total, "usage arithmetic"),
    _b("error-in-200", "error.in_200", error_in_200, "#14"),
    _b("args-truncated", "tool.args", args_truncated, "#10 shape"),
    _b("tool-as-text", "tool.as_text", tool_as_text, "#16"),
    _b("nullable-dropped", "schema", nullable_dropped, "#15"),
    _b(
        "incomplete-without-reason",
        G + "status_details",
        incomplete_without_reason,
        "status vs incomplete_details",
    ),
    Mutation("responses.anthropic-error", "responses", False, "error.shape", anthropic_error, "#19 reversed"),
]
