"""Error bodies: which dialect's error shape a body has, and Anthropic's error types.

Plain data and stdlib only: the reference gateway renders its Anthropic errors from the same
table (the one exception to "the gateway imports nothing of harness", ARCHITECTURE.md), so the
checker and the gateway cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# HTTP status -> the error.type the official Anthropic API sends with it (errors page; 413 comes
# from Cloudflare).
ANTHROPIC_ERROR_TYPE: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_shape(body: Any) -> str:
    """What an error body looks like, for a message: another dialect's error shape only when it
    is one, otherwise its keys, so a vendor sees what was sent instead of a wrong guess."""
    if not isinstance(body, Mapping):
        return f"not an error object but a JSON {type(body).__name__.replace('dict', 'object')}"
    err = body.get("error")
    if body.get("type") == "error" and isinstance(err, Mapping) and "type" in err and "message" in err:
        return "an Anthropic-shaped error"
    if "type" not in body and isinstance(err, Mapping) and isinstance(err.get("message"), str) and "type" in err:
        return "an OpenAI-shaped error"
    inner = f", error keys {sorted(err)}" if isinstance(err, Mapping) else ""
    return f"an error body of unknown shape (keys {sorted(body)}{inner})"
