"""Response headers: the official request-id header, and the headers a relay adds of its own.

Judged only on answers whose headers were seen as sent (a live run, or a cassette relaycheck
recorded itself): recorders of other projects scrub request ids and drop headers wholesale (the
shared corpus keeps header *names* for 1,399 answers, of which 354 of 503 chat and 215 of 413
messages answers still list their request id), so a missing header there proves nothing.
"""

from __future__ import annotations

from harness import dialects
from harness.dialects.base import HeaderProfile
from harness.model import Exchange, Violation

CODES: dict[str, str] = {
    "header.request_id": "the official request-id header is missing (x-request-id for OpenAI, request-id"
    " for Anthropic)",
    "header.relay": "headers the official API does not send, listed (a note: they name the relay)",
}

# What any HTTP server or CDN in front of an official API sends; each vendor's own header names
# are its dialects' ``response_headers`` (harness/dialects/kit/headers.py). Anything else is the
# relay's own.
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


def _official(name: str, profile: HeaderProfile) -> bool:
    return name in _HTTP or name in profile.names or name.startswith(profile.prefixes)


def check_headers(exchange: Exchange, endpoint: str) -> list[Violation]:
    """The dialect's ``response_headers`` (its vendor's request-id header and header names) against
    the answer's headers; a dialect without a profile has its headers not judged."""
    profile = getattr(dialects.get(endpoint), "response_headers", None)
    if exchange.status is None or profile is None:
        return []
    names = {k.lower() for k in exchange.headers}
    if "date" not in names:
        # Every HTTP server sends Date (RFC 9110 §6.6.1): without it these are not the headers as
        # sent (a test double, a hand-made exchange), and a missing request id proves nothing.
        return []
    out: list[Violation] = []
    want = profile.request_id
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
    own = sorted(n for n in names if not _official(n, profile))
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
