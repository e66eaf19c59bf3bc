"""A mutation operator: takes an official interaction, returns a broken copy (or None when it
does not apply), and names the violation code that must catch it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from harness.model import Chunk, Exchange
from harness.traffic import RecordedInteraction


@dataclass(frozen=True)
class Mutation:
    name: str  # e.g. "messages.lost-first-text-delta"
    endpoint: str  # chat | messages | responses
    stream: bool  # applies to streams (True) or non-streamed bodies (False)
    code: str  # the violation code that must be reported (exact, or a prefix ending in '.')
    apply: Callable[[RecordedInteraction], Exchange | None]
    defect: str = ""  # RELAY_DEFECTS.md row number or grammar rule it models


def with_body(it: RecordedInteraction, body: bytes | str, **changes: object) -> Exchange:
    """A copy of the interaction's exchange with another body (and optionally headers/status)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return replace(it.exchange, chunks=(Chunk(0.0, raw),), **changes)  # type: ignore[arg-type]


def body_text(it: RecordedInteraction) -> str:
    return it.exchange.body.decode("utf-8")
