"""sse.parse's one-pass path for whole bodies against the incremental parser: the same events
(every field, offsets included), problems, comment count and unterminated tail, on hand-written
edge cases, on the official streams and on thousands of mutated streams."""

from __future__ import annotations

import random

import pytest

from harness import sse
from harness.sse import SSEParser
from tests.truth import corpus


def _incremental(raw: bytes) -> tuple:
    p = SSEParser()
    events = p.feed(raw) + p.close()
    return events, p.problems, p.comments, p.unterminated


def _whole(raw: bytes) -> tuple:
    events, p = sse.parse(raw)
    return events, p.problems, p.comments, p.unterminated


def _same(raw: bytes) -> None:
    assert _whole(raw) == _incremental(raw), raw[:300]


EDGES = [
    b"",
    b"\n",
    b"\n\n\n\n",
    b"data: x",
    b"data: x\n",
    b"data: x\n\n",
    b"\ndata: x\n\n\n\ndata: y\n\n\n",
    b"event: a\ndata: 1\n\n: c\n\nid: 3\n\ndata: 2\n\nid\ndata: 3\n\n",
    b"id: a\0b\ndata: 1\n\nretry: 12\nretry: x1\ndata: 2\n\nretry: \n\n",
    b"event:\ndata:\n\ndata\n\ndata\ndata\n\nevent: e\n\n",
    b": only a comment\n\n: tail comment\n",
    b"data: 1\n\ndata: 2\nevent: e\n",
    "data: é\n\nevent: ü\ndata: 🚀\n\n: ☃\n\ndata: z\n".encode(),
    "\ufeffdata: bom\n\n".encode(),
    b"data: a\r\n\r\ndata: b\n\n",
    b"data: \xff\n\ndata: b\n\n",
    "data: \ufffd literal\n\n".encode(),
    b"field without colon\ndata:  two spaces\n\n",
    b"event: e\ndata: 1\ndata: 2\n\nevent: \ndata: x\n\nevent:e\ndata: y\n\nevent: f\ndata:z\n\n",
    b"data: a:b\n\nevent: a:b\ndata: c: d\n\nevent: g\n: c\ndata: h\n\ndata: i\nid: 9\n\ndata: j\n\n",
]


@pytest.mark.parametrize("raw", EDGES, ids=range(len(EDGES)))
def test_edge_cases(raw: bytes) -> None:
    _same(raw)


def test_a_str_body_too() -> None:
    assert _whole(b"data: \xc3\xa9\n\n") == (lambda e, p: (e, p.problems, p.comments, p.unterminated))(
        *sse.parse("data: é\n\n")
    )


@pytest.mark.skipif(corpus.corpus_path() is None, reason=corpus.SKIP_REASON)
def test_official_streams() -> None:
    streams = [it.exchange.body for it in corpus.interactions() if it.exchange.is_sse]
    assert len(streams) > 100
    for raw in streams:
        _same(raw)


PIECES = [
    b"\n",
    b"\n\n",
    b"\r",
    b"\r\n",
    b":",
    b": ",
    b"data: ",
    b"data:",
    b"event: x\n",
    b"id: 1\n",
    b"id\n",
    b"retry: 5\n",
    b"\0",
    "é".encode(),
    "🚀".encode(),
    b"\xff",
    b"\xc3",
    "\ufeff".encode(),
    b"data: {}\n\n",
]


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(raw) + 1)
        roll = rng.random()
        if roll < 0.5:
            raw = raw[:at] + rng.choice(PIECES) + raw[at:]
        elif roll < 0.8:
            raw = raw[:at] + raw[at + rng.randint(1, 8) :]
        else:
            raw = raw[:at]
    return raw


def test_mutated_streams() -> None:
    """Mutations that break UTF-8, add CR, BOM, NUL, comments, ids, stray blank lines or cut the
    stream: the one-pass path must give exactly what the incremental parser gives."""
    rng = random.Random(17)
    seeds = [e for e in EDGES if e] + [
        b'event: message_start\ndata: {"type":"message_start"}\n\nevent: ping\ndata: {}\n\n',
        b'data: {"id":"c","choices":[]}\n\ndata: [DONE]\n\n',
    ]
    fast_path = 0
    for _ in range(4000):
        raw = _mutate(rng, rng.choice(seeds))
        _same(raw)
        fast_path += b"\r" not in raw and b"\n\n" in raw
    assert fast_path > 1000  # most mutations still take the one-pass path
