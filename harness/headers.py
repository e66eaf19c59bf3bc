"""Response headers: the official request-id header, and the headers a relay adds of its own.

Judged only on answers whose headers were seen as sent (a live run, or a cassette relaycheck
recorded itself): recorders of other projects scrub request ids and drop headers wholesale (the
shared corpus keeps header *names* for 1,399 answers, of which 354 of 503 chat and 215 of 413
messages answers still list their request id), so a missing header there proves nothing.
"""

from __future__ import annotations

from harness.model import Exchange, Violation

CODES: dict[str, str] = {
    "header.request_id": "the official request-id header is missing (x-request-id for OpenAI, request-id"
    " for Anthropic)",
    "header.relay": "headers the official API does not send, listed (a note: they name the relay)",
}

REQUEST_ID = {"chat": "x-request-id", "responses": "x-request-id", "messages": "request-id"}

# Header names of official answers in the shared corpus, by vendor, plus what any HTTP server or
# CDN in front of them sends. Anything else is the relay's own.
_HTTP = frozenset(
    {
        "cache-control",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "date",
        "keep-alive",
        "retry-after",
        "server",
        "set-cookie",
        "strict-transport-security",
        "transfer-encoding",
        "vary",
        "via",
        "alt-svc",
        "cf-cache-status",
        "cf-ray",
        "x-envoy-upstream-service-time",
        "x-content-type-options",
        "access-control-expose-headers",
        "www-authenticate",
    }
)
_OPENAI = frozenset(
    {"x-request-id", "openai-organization", "openai-processing-ms", "openai-project", "openai-version"}
    | {"x-openai-proxy-wasm"}
)
_ANTHROPIC = frozenset(
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
)


def _official(name: str, endpoint: str) -> bool:
    if name in _HTTP:
        return True
    if endpoint == "messages":
        return name in _ANTHROPIC or name.startswith("anthropic-ratelimit-")
    return name in _OPENAI or name.startswith("x-ratelimit-")


def check_headers(exchange: Exchange, endpoint: str) -> list[Violation]:
    if exchange.status is None or endpoint not in REQUEST_ID:
        return []
    names = {k.lower() for k in exchange.headers}
    if "date" not in names:
        # Every HTTP server sends Date (RFC 9110 §6.6.1): without it these are not the headers as
        # sent (a test double, a hand-made exchange), and a missing request id proves nothing.
        return []
    out: list[Violation] = []
    want = REQUEST_ID[endpoint]
    if want not in names:
        out.append(
            Violation(
                "header.request_id",
                f"headers.{want}",
                f"no {want} header: the official API names every answer with one (clients log it for support)",
                expected=want,
                actual=sorted(names),
                severity="strict",
            )
        )
    own = sorted(n for n in names if not _official(n, endpoint))
    if own:
        out.append(
            Violation(
                "header.relay",
                "headers",
                f"headers the official API does not send: {', '.join(own)}",
                actual=own,
                severity="note",
            )
        )
    return out
