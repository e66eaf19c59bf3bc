"""Content-Encoding decoders that work chunk by chunk and never produce more than a cap.

The official SDKs (httpx underneath) ask for ``gzip, deflate, br, zstd`` and decode what comes;
relays behind nginx, Cloudflare or a gzip middleware do compress. Every decoder here is fed the
raw chunks as they arrive (so a stream stays a stream, each decoded piece keeping its chunk's
arrival time) and stops with :class:`TooLarge` as soon as its output would pass ``cap``: a
decompression bomb costs at most the cap in memory, never what it would inflate to.
"""

from __future__ import annotations

import zlib
from typing import Protocol

ACCEPT_ENCODING = "gzip, deflate, br, zstd"
SUPPORTED = ("gzip", "x-gzip", "deflate", "br", "zstd")
_PIECE = 64 * 1024  # the most one decoding step produces before the cap is checked again
# RFC 9659: a zstd content-coding decoder need not accept windows over 8 MiB; a bigger window is
# itself a memory bomb (the decoder allocates it), so it is refused.
_ZSTD_MAX_WINDOW = 8 * 1024 * 1024


class DecodeError(ValueError):
    """The body is not valid for its Content-Encoding (or the encoding is unknown)."""


class TooLarge(Exception):
    """Decoding would produce more than the cap; ``kept`` holds the output up to the cap."""

    def __init__(self, kept: bytes) -> None:
        super().__init__("decoded size over the cap")
        self.kept = kept


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Budget:
    """Output produced so far by one decoder; raises TooLarge past the cap."""

    def __init__(self, cap: int) -> None:
        self.cap, self.used = cap, 0

    def take(self, out: bytes, pieces: list[bytes]) -> None:
        if self.used + len(out) > self.cap:
            pieces.append(out[: self.cap - self.used])
            raise TooLarge(b"".join(pieces))
        self.used += len(out)
        pieces.append(out)


class Identity:
    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Zlib:
    """gzip (several members allowed, as zcat does) and deflate (zlib-wrapped, or raw deflate as
    some servers send it; httpx accepts both)."""

    def __init__(self, gzip: bool, cap: int) -> None:
        self.gzip, self.budget = gzip, _Budget(cap)
        self.obj: zlib._Decompress | None = None
        self.started = False
        self.head = b""

    def _new(self, data: bytes) -> None:
        if self.gzip:
            self.obj = zlib.decompressobj(zlib.MAX_WBITS | 16)
        else:
            # zlib-wrapped when the first two bytes form a valid zlib header, else raw deflate.
            wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self.obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def decode(self, data: bytes) -> bytes:
        pieces: list[bytes] = []
        if self.obj is None:
            self.head += data
            if not self.gzip and len(self.head) < 2:
                return b""
            data, self.head = self.head, b""
            self._new(data)
        assert self.obj is not None
        try:
            while data:
                out = self.obj.decompress(data, _PIECE)
                self.budget.take(out, pieces)
                data = self.obj.unconsumed_tail
                if self.obj.eof:
                    rest = self.obj.unused_data
                    if self.gzip and rest.strip(b"\0"):
                        self.obj = zlib.decompressobj(zlib.MAX_WBITS | 16)  # the next gzip member
                        data = rest
                    elif rest.strip(b"\0"):
                        raise DecodeError(f"{len(rest)} bytes after the end of the compressed data")
                    else:
                        break
        except zlib.error as exc:
            raise DecodeError(f"invalid {'gzip' if self.gzip else 'deflate'} data: {exc}") from None
        return b"".join(pieces)

    def flush(self) -> bytes:
        if self.head:
            self._new(self.head)
            self.head = b""
            return self.decode(b"") + self.flush()
        if self.obj is not None and not self.obj.eof:
            raise DecodeError(f"the {'gzip' if self.gzip else 'deflate'} data ends before its end marker")
        return b""


class _Brotli:
    def __init__(self, cap: int) -> None:
        import brotli

        self.brotli, self.budget = brotli, _Budget(cap)
        self.obj = brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        pieces: list[bytes] = []
        try:
            out = self.obj.process(data, output_buffer_limit=_PIECE)
            self.budget.take(out, pieces)
            while not self.obj.can_accept_more_data():
                out = self.obj.process(b"", output_buffer_limit=_PIECE)
                self.budget.take(out, pieces)
        except self.brotli.error as exc:
            raise DecodeError(f"invalid br data: {exc}") from None
        return b"".join(pieces)

    def flush(self) -> bytes:
        if not self.obj.is_finished():
            raise DecodeError("the br data ends before its end marker")
        return b""


class _Sink:
    """Where zstandard's stream writer puts decoded pieces (at most ``write_size`` each)."""

    def __init__(self, cap: int) -> None:
        self.budget, self.pieces = _Budget(cap), []  # type: ignore[var-annotated]

    def write(self, data: bytes) -> int:
        self.budget.take(bytes(data), self.pieces)
        return len(data)


class _Zstd:
    def __init__(self, cap: int) -> None:
        import zstandard

        self.zstd, self.sink = zstandard, _Sink(cap)
        dctx = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self.writer = dctx.stream_writer(self.sink, write_size=_PIECE, closefd=False)
        self.fed = False

    def decode(self, data: bytes) -> bytes:
        self.fed = self.fed or bool(data)
        try:
            self.writer.write(data)
        except self.zstd.ZstdError as exc:
            raise DecodeError(f"invalid zstd data: {exc}") from None
        out, self.sink.pieces = b"".join(self.sink.pieces), []
        return out

    def flush(self) -> bytes:
        try:
            self.writer.flush()
        except self.zstd.ZstdError as exc:
            raise DecodeError(f"invalid zstd data: {exc}") from None
        out, self.sink.pieces = b"".join(self.sink.pieces), []
        return out


class _Chain:
    """Several encodings (``Content-Encoding: gzip, br``): undone in reverse order."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self.decoders = decoders

    def decode(self, data: bytes) -> bytes:
        for d in self.decoders:
            data = d.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for d in self.decoders:
            data = d.decode(data) + d.flush() if data else d.flush()
        return data


def encodings(header: str | None) -> list[str]:
    """The codings named by a Content-Encoding header, in the order they were applied."""
    return [c.strip().lower() for c in (header or "").split(",") if c.strip() and c.strip().lower() != "identity"]


def decoder_for(header: str | None, cap: int) -> Decoder:
    """A decoder for a Content-Encoding header whose output stops at ``cap`` bytes.
    Raises DecodeError for an encoding relaycheck did not ask for."""
    names = encodings(header)
    unknown = [n for n in names if n not in SUPPORTED]
    if unknown:
        asked = f"Accept-Encoding: {ACCEPT_ENCODING}"
        raise DecodeError(f"content-encoding {', '.join(unknown)} was not asked for ({asked})")
    chain: list[Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip", "deflate"):
            chain.append(_Zlib(name != "deflate", cap))
        elif name == "br":
            chain.append(_Brotli(cap))
        else:
            chain.append(_Zstd(cap))
    if not chain:
        return Identity()
    return chain[0] if len(chain) == 1 else _Chain(chain)
