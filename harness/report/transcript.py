"""Readable, redacted text of what went over the wire: the request, the response head and every
chunk with the time it arrived. Shared by the allure attachments, summary.json and matrix.html,
so all three show the same bytes (and none of them a key)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from harness.model import Exchange, WireRequest
from harness.redact import Redactor

BODY_LIMIT = 4096  # request bodies: enough to see the messages, not a whole image
# Answer bodies and chunk transcripts (allure attachments, summary.json): enough to see what broke,
# never the size of an endless stream (the transport stops at max_answer_bytes, this keeps less).
ANSWER_LIMIT = 256 * 1024
MARK = "…[{} more bytes]"


def _decode(data: bytes) -> str:
    # backslashreplace, not replace: an invalid byte must stay visible (\xff), it may be the defect.
    return data.decode("utf-8", "backslashreplace")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + MARK.format(len(text) - limit)


def _same_object(render: Callable[..., str]) -> Callable[..., str]:
    """The text of one (immutable) request or exchange is asked twice per item, for summary.json
    and for allure: the last few are kept, by identity of the object and the redactor."""
    memo: dict[tuple[int, int, tuple[Any, ...]], tuple[Any, Redactor, str]] = {}

    @functools.wraps(render)
    def cached(obj: Any, redactor: Redactor, *args: Any, **kwargs: Any) -> str:
        key = (id(obj), id(redactor), (*args, *sorted(kwargs.items())))
        hit = memo.get(key)
        if hit is not None and hit[0] is obj and hit[1] is redactor:
            return hit[2]
        text = render(obj, redactor, *args, **kwargs)
        if len(memo) >= 16:
            memo.clear()
        memo[key] = (obj, redactor, text)
        return text

    return cached


def _headers(headers: Mapping[str, str], redactor: Redactor) -> list[str]:
    return [f"{k}: {v}" for k, v in redactor.headers(dict(headers)).items()]


@_same_object
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


@_same_object
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
    if exchange.content_encoding and exchange.wire_bytes is not None:
        lines.append(
            f"(body {exchange.content_encoding}-decoded: {exchange.wire_bytes} bytes on the wire, "
            f"{len(exchange.body)} decoded)"
        )
    if exchange.error:
        lines.append(f"transport error [{exchange.error_code}]: {redactor.text(exchange.error)}")
    return "\n".join(lines)


def response_body(exchange: Exchange, redactor: Redactor, limit: int = ANSWER_LIMIT) -> str:
    """The body, pretty-printed when it is one JSON document, else as it came; at most ``limit``
    characters (and never more than that many bytes decoded for display)."""
    body = exchange.body
    if not exchange.is_sse and len(body) <= limit:
        try:  # the structure is cleaned, then printed: cleaning printed JSON could break it
            return _cut(json.dumps(redactor.value(json.loads(body)), indent=2, ensure_ascii=False), limit)
        except ValueError:
            pass
    text = _cut(redactor.wire(_decode(body[:limit])), limit)
    # Cleaned again with the mark: a key cut at the limit is masked as a piece before the "…".
    return redactor.text(text + MARK.format(len(body) - limit)) if len(body) > limit else text


@_same_object
def chunks_text(exchange: Exchange, redactor: Redactor, limit: int = ANSWER_LIMIT) -> str:
    """Every chunk as it arrived: ``[+  12.3 ms]`` before its first line, its other lines indented,
    so a buffered stream (everything at one offset) is visible at a glance. At most ``limit``
    characters: the chunks past it are counted, not rendered."""
    out: list[str] = []
    size = 0
    for n, chunk in enumerate(exchange.chunks):
        if size > limit:
            rest = sum(len(c.data) for c in exchange.chunks[n:])
            out.append(MARK.format(rest))
            break
        stamp = f"[+{chunk.offset * 1000:8.1f} ms] "
        pad = " " * len(stamp)
        lines = redactor.wire(_decode(chunk.data)).split("\n")
        if lines and lines[-1] == "" and len(lines) > 1:
            lines.pop()  # the chunk's own trailing newline; blank lines inside stay (SSE framing)
        rendered = [(stamp if i == 0 else pad) + line for i, line in enumerate(lines)]
        size += sum(len(line) + 1 for line in rendered)
        out += rendered
    text = "\n".join(out)
    return text if len(text) <= limit + 200 else _cut(text, limit)


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
