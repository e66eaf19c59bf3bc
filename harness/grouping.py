"""One line per rule per item: the same violation on many events (a relay that drops every
``event:`` line breaks 300 events the same way) is reported once, with a count and the first and
last event it was seen on, so a vendor reads one finding instead of scrolling through copies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.model import Violation

_EVENT = re.compile(r"events\[(\d+)\]")


@dataclass(frozen=True)
class Group:
    """Violations with one code, severity and path shape (event indexes aside)."""

    first: Violation
    count: int
    first_event: int | None
    last_event: int | None

    @property
    def where(self) -> str:
        """The first violation's path, widened to the event range when there are several."""
        if self.count == 1 or self.first_event is None or self.last_event == self.first_event:
            return self.first.path
        return _EVENT.sub(f"events[{self.first_event}..{self.last_event}]", self.first.path, count=1)

    def suffix(self) -> str:
        if self.count == 1:
            return ""
        if self.first_event is None:
            return f" (x{self.count})"
        return f" (x{self.count}, events {self.first_event} to {self.last_event})"


def _key(v: Violation) -> tuple[str, str, str]:
    return v.code, v.severity, _EVENT.sub("events[*]", v.path)


def _event(v: Violation) -> int | None:
    m = _EVENT.search(v.path)
    return int(m.group(1)) if m else None


def group(violations: Sequence[Violation]) -> list[Group]:
    """Groups in order of first appearance."""
    order: list[tuple[str, str, str]] = []
    members: dict[tuple[str, str, str], list[Violation]] = {}
    for v in violations:
        k = _key(v)
        if k not in members:
            order.append(k)
            members[k] = []
        members[k].append(v)
    out = []
    for k in order:
        vs = members[k]
        events = [e for e in (_event(v) for v in vs) if e is not None]
        out.append(Group(vs[0], len(vs), min(events) if events else None, max(events) if events else None))
    return out


__all__ = ["Group", "group"]
