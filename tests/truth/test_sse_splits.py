"""The SSE parser on real official streams, split at every byte position (and fed one byte at
a time), in their own LF framing and re-framed with CRLF and CR: the events never change."""

from __future__ import annotations

import pytest

from harness.sse import SSEParser, parse
from tests.truth import corpus

pytestmark = pytest.mark.skipif(corpus.corpus_path() is None, reason=corpus.SKIP_REASON)


def _pick(endpoint: str, feature: str | None = None, limit: int = 6000) -> bytes:
    """The longest official stream of an endpoint under ``limit`` bytes (with a feature)."""
    best = b""
    for it in corpus.by_endpoint(endpoint, stream=True):
        body = it.exchange.body
        if len(body) > limit or (feature and feature.encode() not in body):
            continue
        if len(body) > len(best):
            best = body
    assert best, f"no {endpoint} stream under {limit} bytes"
    return best


def _events(p: SSEParser, parts: list[bytes]) -> list[tuple[str | None, str]]:
    out = []
    for part in parts:
        out += p.feed(part)
    out += p.close()
    return [(e.event, e.data) for e in out]


STREAMS = {
    "chat-tools": lambda: _pick("chat", "tool_calls"),
    "messages-thinking": lambda: _pick("messages", "thinking_delta"),
    "responses-function": lambda: _pick("responses", "function_call_arguments.delta"),
    "responses-crlf": lambda: _pick("responses", limit=12000).replace(b"\n", b"\r\n"),
    "messages-cr": lambda: _pick("messages", limit=3000).replace(b"\n", b"\r"),
}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_real_stream_at_every_split_point(name: str) -> None:
    raw = STREAMS[name]()
    whole, parser = parse(raw)
    expected = [(e.event, e.data) for e in whole]
    assert len(expected) > 5 and not parser.problems
    for at in range(len(raw) + 1):
        assert _events(SSEParser(), [raw[:at], raw[at:]]) == expected, f"split at byte {at}"
    assert _events(SSEParser(), [raw[i : i + 1] for i in range(len(raw))]) == expected
