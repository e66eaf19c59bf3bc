"""OpenAI Responses (POST /v1/responses): ``body`` (bodies, errors, the dialect object) and
``stream`` (the event grammar and accumulator)."""

from harness.dialects.responses.body import CODES, DIALECT, check_body, check_error, stop_reason, text, tool_calls

__all__ = ["CODES", "DIALECT", "check_body", "check_error", "stop_reason", "text", "tool_calls"]
