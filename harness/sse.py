"""An incremental server-sent-events parser, exact to the WHATWG rules (specs/SSE.md).

Fed bytes in any split (one byte at a time included), it yields the same events. It never
drops input: bytes after the last blank line are reported as an unterminated tail rather
than silently discarded, so a checker can tell a truncated stream from a finished one.

Departures from what a browser does, all deliberate and reported rather than hidden:
- invalid UTF-8 is decoded with U+FFFD as the spec says, and also recorded in ``problems``;
- events carry the raw field lines and byte offsets, so framing checks can see *how* an event
  was written (for instance two ``data:`` lines where one JSON object was expected).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event. ``event`` is None when no ``event:`` field was given."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    data_lines: int = 1
    index: int = 0  # position among dispatched events
    start: int = 0  # byte offset of the event's first line in the stream
    end: int = 0  # byte offset just past its terminating blank line

    @property
    def type(self) -> str:
        return self.event if self.event else "message"


@dataclass
class SSEParser:
    """Feed bytes with :meth:`feed`; call :meth:`close` at end of stream."""

    problems: list[str] = field(default_factory=list)
    comments: int = 0
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace")
    )
    _pending: str = ""  # decoded text not yet split into lines
    _first: bool = True
    _pos: int = 0  # byte offset of the start of _pending's first line
    _data: list[str] = field(default_factory=list)
    _event: str | None = None
    _id: str | None = None
    _last_id: str | None = None
    _retry: int | None = None
    _event_start: int | None = None
    _count: int = 0
    _saw_cr_lf_split: bool = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        text = self._decoder.decode(chunk)
        if "\ufffd" in text and b"\xef\xbf\xbd" not in chunk:
            self.problems.append(f"invalid UTF-8 near byte {self._pos + len(self._pending)}")
        if self._first and text:
            self._first = False
            if text.startswith("\ufeff"):
                text = text[1:]
                self._pos += 3
        self._pending += text
        return self._drain(final=False)

    def close(self) -> list[SSEEvent]:
        """End of stream. Events not terminated by a blank line are not dispatched (the spec
        discards them); their presence is recorded in ``problems``."""
        self._pending += self._decoder.decode(b"", final=True)
        events = self._drain(final=True)
        if self._data or self._event is not None or self._pending:
            self.problems.append("stream ended inside an event (no blank line after the last event)")
        return events

    @property
    def unterminated(self) -> str:
        """Data of an event that was never terminated (only meaningful after close())."""
        return "\n".join(self._data)

    def _drain(self, final: bool) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        text = self._pending
        start = 0
        n = len(text)
        while start < n:
            cr = text.find("\r", start)
            lf = text.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr != -1 and (lf == -1 or cr < lf):
                # A CR at the very end may be the first half of a CRLF split across chunks.
                if cr == n - 1 and not final:
                    break
                end, nxt = cr, cr + 2 if cr + 1 < n and text[cr + 1] == "\n" else cr + 1
            else:
                end, nxt = lf, lf + 1
            line = text[start:end]
            line_bytes = len(text[start:nxt].encode("utf-8", "surrogatepass"))
            ev = self._line(line, self._pos, self._pos + line_bytes)
            self._pos += line_bytes
            if ev is not None:
                out.append(ev)
            start = nxt
        if final and start < n:
            # A last line with no line ending at all: process it as a field, but it can never
            # be followed by the blank line that dispatches, so it stays pending.
            self._line(text[start:], self._pos, self._pos)
            start = n
        self._pending = text[start:]
        return out

    def _line(self, line: str, begin: int, end: int) -> SSEEvent | None:
        if line == "":
            return self._dispatch(end)
        if self._event_start is None:
            self._event_start = begin
        if line.startswith(":"):
            self.comments += 1
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        return None

    def _dispatch(self, end: int) -> SSEEvent | None:
        start = self._event_start if self._event_start is not None else end
        if self._id is not None:
            self._last_id = self._id
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._id, self._retry, self._event_start = [], None, None, None, None
        if not data:
            return None
        ev = SSEEvent(
            data="\n".join(data),
            event=event or None,
            id=self._last_id,
            retry=retry,
            data_lines=len(data),
            index=self._count,
            start=start,
            end=end,
        )
        self._count += 1
        return ev


def parse(body: bytes | str) -> tuple[list[SSEEvent], SSEParser]:
    """Parse a whole stream; returns the events and the parser (for ``problems``).

    A whole body in the common shape (valid UTF-8, LF line endings, no BOM) is cut at its blank
    lines in one pass (``_parse_blocks``); anything else, and the tail after the last blank line,
    goes through the incremental parser. Both give the same events, offsets and problems
    (tests/test_sse_fast.py compares them on mutated streams)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    parser = SSEParser()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""  # the incremental parser reports where the bytes are broken
    if text and "\r" not in text and not text.startswith("\ufeff"):
        events = _parse_blocks(text, raw, parser)
    else:
        events = parser.feed(raw)
    events += parser.close()
    return events, parser


_new = object.__new__


def _make_event(
    data: str, event: str | None, id: str | None, retry: int | None, lines: int, index: int, start: int, end: int
) -> SSEEvent:
    """An SSEEvent without the frozen dataclass's ``__init__``, which sets each of the eight fields
    through ``object.__setattr__``: a third of the cost, on the hot path of every stream."""
    ev = _new(SSEEvent)
    ev.__dict__.update(data=data, event=event, id=id, retry=retry, data_lines=lines, index=index, start=start, end=end)
    return ev


def _parse_blocks(text: str, raw: bytes, parser: SSEParser) -> list[SSEEvent]:
    """The events of every block that ends in a blank line, for a decoded body with LF line
    endings only. Each block is cut at ``\n\n``, so it is one event's lines (a block may start with
    one ``\n``: an empty line that dispatches nothing). Between blocks the parser's state is only
    the last event id, the event count, the byte offset and the comment count; those are handed
    to ``parser``, which then takes the tail (bytes after the last blank line)."""
    blocks = text.split("\n\n")
    tail = blocks.pop()
    # Byte sizes: the same cut of the raw bytes (UTF-8 never hides "\n\n" inside a character).
    sizes = None if text.isascii() else [len(b) + 2 for b in raw.split(b"\n\n")]
    out: list[SSEEvent] = []
    pos = 0  # byte offset of the current block
    last_id: str | None = None
    comments = 0
    count = 0
    for i, block in enumerate(blocks):
        size = len(block) + 2 if sizes is None else sizes[i]
        if block[:1] == "\n":  # an empty line first: dispatches nothing, state is clear already
            block = block[1:]
            begin = pos + 1
        else:
            begin = pos
        pos += size
        if not block:
            continue
        # The two shapes official streams use, without a per-line loop: one data line (Chat
        # Completions), or an event line then one data line (Messages, Responses).
        if block[:6] == "data: " and "\n" not in block:
            out.append(_make_event(block[6:], None, last_id, None, 1, count, begin, pos))
            count += 1
            continue
        if block[:7] == "event: ":
            nl = block.find("\n")
            if nl > 7 and block[nl + 1 : nl + 7] == "data: " and block.find("\n", nl + 1) < 0:
                out.append(_make_event(block[nl + 7 :], block[7:nl], last_id, None, 1, count, begin, pos))
                count += 1
                continue
        data: list[str] = []
        event = ident = retry = None
        for line in block.split("\n"):
            if line[:1] == ":":
                comments += 1
                continue
            name, sep, value = line.partition(":")
            if sep and value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id":
                if "\0" not in value:
                    ident = value
            elif name == "retry":
                if value.isascii() and value.isdigit():
                    retry = int(value)
        if ident is not None:
            last_id = ident
        if data:
            out.append(_make_event("\n".join(data), event or None, last_id, retry, len(data), count, begin, pos))
            count += 1
    parser._first = False  # a BOM can only come first, and the text did not start with one
    parser._pos, parser._last_id, parser._count, parser.comments = pos, last_id, count, comments
    if tail:
        out += parser.feed(raw[pos:])
    return out
