"""Each vendor's response headers, for the dialects that speak its API (``Dialect.response_headers``,
judged by harness/headers.py): header names of official answers in the shared corpus."""

from __future__ import annotations

from harness.dialects.base import HeaderProfile

OPENAI = HeaderProfile(
    request_id="x-request-id",
    names=frozenset(
        {"x-request-id", "openai-organization", "openai-processing-ms", "openai-project", "openai-version"}
        | {"x-openai-proxy-wasm"}
    ),
    prefixes=("x-ratelimit-",),
)
ANTHROPIC = HeaderProfile(
    request_id="request-id",
    names=frozenset(
        {
            "request-id",
            "anthropic-organization-id",
            "content-security-policy",
            "server-timing",
            "traceresponse",
            "x-response-tracked",
            "x-robots-tag",
            "x-should-retry",
        }
    ),
    prefixes=("anthropic-ratelimit-",),
)
