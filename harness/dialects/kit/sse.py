"""The SSE preamble every dialect's stream check starts with: one event's JSON payload, or the
framing fault that explains why it is not JSON. Hot path: called once per event."""

from __future__ import annotations

import json
from typing import Any

from harness.dialects.kit.text import clip as _clip
from harness.model import Violation
from harness.sse import SSEEvent


def decode_event(event: SSEEvent) -> tuple[Any, Violation | None]:
    """The JSON payload of one event, or a violation saying why it is not JSON.

    Two events written with no blank line between them arrive as one event with several
    ``data:`` lines, each a JSON object: that is a framing fault (RELAY_DEFECTS #12), not bad
    JSON, and is named so.
    """
    try:
        return json.loads(event.data), None
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
