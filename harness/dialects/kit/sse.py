"""The SSE preamble every dialect's stream check starts with: one event's JSON payload and its
framing findings (``payload``), the ``event:`` line against the data's type (``event_name``, or
``data_only`` for chat). Hot path: called once per event."""

from __future__ import annotations

import json
from typing import Any

from harness import fastjson
from harness.dialects.kit.text import clip as _clip
from harness.model import Severity, Violation
from harness.sse import SSEEvent


def decode_event(event: SSEEvent) -> tuple[Any, Violation | None]:
    """The JSON payload of one event, or a violation saying why it is not JSON.

    Two events written with no blank line between them arrive as one event with several
    ``data:`` lines, each a JSON object: that is a framing fault (RELAY_DEFECTS #12), not bad
    JSON, and is named so.
    """
    try:
        return fastjson.loads(event.data), None  # json.loads, faster (harness/fastjson.py)
    except ValueError:
        pass
    path = f"events[{event.index}].data"
    if event.data_lines > 1:
        lines = event.data.split("\n")
        if all(_is_json(line) for line in lines):
            return None, Violation(
                "sse.framing",
                path,
                f"{len(lines)} JSON payloads in one event: events written without a blank line between them",
                expected="one JSON object per event, events separated by a blank line",
                actual=_clip(event.data),
            )
    return None, Violation("sse.json", path, "data is not JSON", actual=_clip(event.data))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def payload(ev: SSEEvent) -> tuple[Any, list[Violation]]:
    """The preamble of every dialect's stream check, for one event that is not a ``[DONE]``: its
    JSON payload (None when it has none) and the framing findings: not JSON (``sse.json``), two
    events merged (``sse.framing``), or one object spread over several ``data:`` lines, which
    SSE allows and clients join, but the official APIs never write (``sse.framing``, strict)."""
    try:  # decode_event's first step inline: one call less per event on the hot path
        data = fastjson.loads(ev.data)
    except ValueError:
        return None, [decode_event(ev)[1]]  # type: ignore[list-item]  # it fails again, the same way
    if ev.data_lines > 1:
        spread = Violation(
            "sse.framing",
            f"events[{ev.index}].data",
            f"one JSON object written over {ev.data_lines} data: lines (the official API writes one)",
            severity="strict",
        )
        return data, [spread]
    return data, []


def event_name(ev: SSEEvent, kind: Any, *, missing: Severity, differs: Severity) -> Violation | None:
    """For dialects that name every event (``event: <data.type>``): a missing or different
    ``event:`` line, graded per dialect (the Anthropic SDK dispatches on the name, openai's on the
    data's type)."""
    if ev.event == kind:
        return None
    if ev.event is None:
        return Violation(
            "sse.event_name",
            f"events[{ev.index}]",
            "no event: line (the official API names every event)",
            expected=kind,
            severity=missing,
        )
    return Violation(
        "sse.event_name",
        f"events[{ev.index}]",
        "event: line differs from the data's type",
        expected=kind,
        actual=ev.event,
        severity=differs,
    )


def data_only(ev: SSEEvent) -> Violation | None:
    """For data-only dialects (chat): an ``event:`` line is a deviation the SDKs ignore."""
    if ev.event is None:
        return None
    return Violation(
        "sse.event_name",
        f"events[{ev.index}].event",
        "this stream is data-only: no event: line",
        expected=None,
        actual=ev.event,
        severity="strict",
    )
