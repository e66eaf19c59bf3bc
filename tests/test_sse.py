"""The SSE parser against the WHATWG examples, fed at every split point."""

from __future__ import annotations

import pytest

from harness.sse import SSEParser, parse


def feed_split(raw: bytes, at: int) -> list[tuple[str | None, str]]:
    p = SSEParser()
    events = p.feed(raw[:at]) + p.feed(raw[at:]) + p.close()
    return [(e.event, e.data) for e in events]


def feed_bytewise(raw: bytes) -> list[tuple[str | None, str]]:
    p = SSEParser()
    events = []
    for i in range(len(raw)):
        events += p.feed(raw[i : i + 1])
    events += p.close()
    return [(e.event, e.data) for e in events]


STREAMS = {
    "lf": b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n",
    "crlf": b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n",
    "cr": b"event: a\rdata: 1\r\revent: b\rdata: 2\r\r",
    "multiline": b"data: YHOO\ndata: +2\ndata: 10\n\n",
    "comments": b": keepalive\n\ndata: x\n: note\n\n",
    "bom": "\ufeffdata: bom\n\n".encode(),
    "utf8": 'data: {"t": "数据 ü 🚀"}\n\n'.encode(),
    "no-space": b"data:test\n\ndata:  two\n\n",
    "id-retry": b"id: 7\nretry: 1500\ndata: x\n\nid\ndata: y\n\n",
}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_every_split_point_gives_the_same_events(name: str) -> None:
    raw = STREAMS[name]
    whole, _ = parse(raw)
    expected = [(e.event, e.data) for e in whole]
    assert expected, "fixture stream must produce events"
    for at in range(len(raw) + 1):
        assert feed_split(raw, at) == expected, f"split at byte {at}"
    assert feed_bytewise(raw) == expected


def test_whatwg_examples() -> None:
    events, _ = parse(STREAMS["multiline"])
    assert [e.data for e in events] == ["YHOO\n+2\n10"]
    events, _ = parse(STREAMS["no-space"])
    assert [e.data for e in events] == ["test", " two"]
    events, _ = parse(b"data\n\ndata\ndata\n\ndata:\n")
    assert [e.data for e in events] == ["", "\n"]  # the last, unterminated event is not dispatched


def test_bom_is_stripped_once() -> None:
    events, _ = parse("\ufeff\ufeffdata: x\n\n".encode())
    # Only one BOM is stripped; the second becomes part of a field name, so no data field.
    assert events == []


def test_id_and_retry() -> None:
    events, _ = parse(STREAMS["id-retry"])
    assert (events[0].id, events[0].retry) == ("7", 1500)
    assert events[1].id == ""  # a bare `id` resets the last event id


def test_comments_are_counted_not_dispatched() -> None:
    events, parser = parse(STREAMS["comments"])
    assert [e.data for e in events] == ["x"]
    assert parser.comments == 2


def test_unterminated_last_event_is_a_problem_not_lost() -> None:
    events, parser = parse(b"data: 1\n\ndata: 2\n")
    assert [e.data for e in events] == ["1"]
    assert parser.problems and "ended inside an event" in parser.problems[0]


def test_invalid_utf8_is_reported() -> None:
    events, parser = parse(b"data: \xff\xfe\n\n")
    assert events[0].data == "\ufffd\ufffd"
    assert any("UTF-8" in p for p in parser.problems)


def test_event_offsets_cover_the_stream() -> None:
    raw = STREAMS["crlf"]
    events, _ = parse(raw)
    assert events[0].start == 0
    assert events[-1].end == len(raw)
    assert events[0].end == events[1].start


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    p = SSEParser()
    out = p.feed(b"data: a\r") + p.feed(b"\n\r\n") + p.close()
    assert [e.data for e in out] == ["a"]
    assert p.problems == []
