"""Anthropic Messages (POST /v1/messages): ``body`` (bodies, errors, the dialect object) and
``stream`` (the event grammar and accumulator)."""

from harness.dialects.messages.body import CODES, DIALECT, MessagesDialect

__all__ = ["CODES", "DIALECT", "MessagesDialect"]
