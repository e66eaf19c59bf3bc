"""Anthropic Messages (POST /v1/messages): ``body`` (bodies, errors, the dialect object) and
``stream`` (the event grammar and accumulator)."""

from harness.dialects.kit.rules import owned_by
from harness.dialects.messages import stream  # noqa: F401  (its rules register on import)
from harness.dialects.messages.body import DIALECT, MessagesDialect

# code -> title of every rule this dialect declares (the code table is built from the rules).
CODES: dict[str, str] = owned_by(__name__)

__all__ = ["CODES", "DIALECT", "MessagesDialect"]
