"""OpenAI Responses (POST /v1/responses): ``body`` (bodies, errors, the dialect object) and
``stream`` (the event grammar and accumulator)."""

from harness.dialects.kit.rules import owned_by
from harness.dialects.responses import stream  # noqa: F401  (its rules register on import)
from harness.dialects.responses.body import DIALECT, check_body, check_error, stop_reason, text, tool_calls

# code -> title of every rule this dialect declares (the code table is built from the rules).
CODES: dict[str, str] = owned_by(__name__)

__all__ = ["CODES", "DIALECT", "check_body", "check_error", "stop_reason", "text", "tool_calls"]
