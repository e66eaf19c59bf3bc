"""Readable, redacted text of what went over the wire: the request, the response head and every
chunk with the time it arrived. Shared by the allure attachments, summary.json and matrix.html,
so all three show the same bytes (and none of them a key)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from harness.model import Exchange, WireRequest
from harness.redact import Redactor

BODY_LIMIT = 4096  # request bodies: enough to see the messages, not a whole image
MARK = "…[{} more bytes]"


def _decode(data: bytes) -> str:
    # backslashreplace, not replace: an invalid byte must stay visible (\xff), it may be the defect.
    return data.decode("utf-8", "backslashreplace")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + MARK.format(len(text) - limit)


def _headers(headers: Mapping[str, str], redactor: Redactor) -> list[str]:
    return [f"{k}: {v}" for k, v in redactor.headers(dict(headers)).items()]


def request_text(request: WireRequest, redactor: Redactor, limit: int = BODY_LIMIT) -> str:
    """Request line, headers (secrets masked) and body, pretty-printed when it is JSON."""
    lines = [f"{request.method} {redactor.text(request.url)}", *_headers(request.headers, redactor)]
    if request.body:
        parsed = request.json
        if parsed is not None:  # the structure is cleaned, then printed: the JSON stays whole
            body = json.dumps(redactor.value(parsed), indent=2, ensure_ascii=False)
        else:
            body = redactor.wire(_decode(request.body))
        lines += ["", _cut(body, limit)]
    return "\n".join(lines)


def response_head(exchange: Exchange, redactor: Redactor) -> str:
    if exchange.status is None:
        head = "no response"
    else:
        head = f"HTTP {exchange.status}"
    timing = [
        f"{name} {value:.1f} ms"
        for name, value in (("ttft", exchange.ttft_ms), ("total", exchange.latency_ms))
        if value is not None
    ]
    if timing:
        head += f"  ({', '.join(timing)})"
    lines = [head, *_headers(exchange.headers, redactor)]
    if exchange.error:
        lines.append(f"transport error [{exchange.error_code}]: {redactor.text(exchange.error)}")
    return "\n".join(lines)


def response_body(exchange: Exchange, redactor: Redactor) -> str:
    """The body, pretty-printed when it is one JSON document, else as it came."""
    if not exchange.is_sse:
        try:
            return json.dumps(redactor.value(json.loads(exchange.body)), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return redactor.wire(_decode(exchange.body))


def chunks_text(exchange: Exchange, redactor: Redactor) -> str:
    """Every chunk as it arrived: ``[+  12.3 ms]`` before its first line, its other lines indented,
    so a buffered stream (everything at one offset) is visible at a glance."""
    out: list[str] = []
    for chunk in exchange.chunks:
        stamp = f"[+{chunk.offset * 1000:8.1f} ms] "
        pad = " " * len(stamp)
        lines = redactor.wire(_decode(chunk.data)).split("\n")
        if lines and lines[-1] == "" and len(lines) > 1:
            lines.pop()  # the chunk's own trailing newline; blank lines inside stay (SSE framing)
        out += [(stamp if i == 0 else pad) + line for i, line in enumerate(lines)]
    return "\n".join(out)


def exchange_text(exchange: Exchange, redactor: Redactor) -> str:
    return "\n".join(
        ["> " + line for line in request_text(exchange.request, redactor).split("\n")]
        + ["", "< " + response_head(exchange, redactor).replace("\n", "\n< "), "", chunks_text(exchange, redactor)]
    )


def item_transcript(steps: Iterable[tuple[str, Exchange | None]], redactor: Redactor, limit: int) -> str:
    """All steps of an item, capped at ``limit`` characters (the summary must stay loadable)."""
    parts = []
    for name, exchange in steps:
        parts.append(f"=== step {name} ===")
        parts.append(exchange_text(exchange, redactor) if exchange is not None else "(not sent)")
    return _cut("\n".join(parts), limit)
