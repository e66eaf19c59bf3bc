"""A run never lies about the wire (issue 11): compressed answers are decoded for every verdict,
bombs and unbounded answers are stopped at the size cap, resets and 429s say what they are. Each
test runs the real Transport against a misbehaving relay on loopback."""

from __future__ import annotations

import gzip
import json
import socket
import time
import zlib
from pathlib import Path

import pytest

from harness.engine import evaluate_exchange
from harness.model import WireRequest
from harness.recording import CassetteTransport, RecordOptions
from harness.redact import Redactor
from harness.transport import Transport
from tests.conftest import TEST_KEY
from tests.relays import chunked, compressed_refgateway, head, raw_relay

ENCODINGS = ("gzip", "deflate", "br", "zstd")
ITEM = "cases/chat/x.yaml::hello[gw-gpt-4o-stream]"


def _chat(base: str, stream: bool) -> WireRequest:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}], "stream": stream}
    headers = {"authorization": f"Bearer {TEST_KEY}", "content-type": "application/json"}
    return WireRequest("POST", f"{base}/v1/chat/completions", headers, json.dumps(body).encode())


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_compressed_answers_are_decoded_and_judged(encoding: str) -> None:
    with compressed_refgateway(TEST_KEY, encoding) as base:
        t = Transport()
        try:
            sync = t.send(_chat(base, False))
            stream = t.send(_chat(base, True))
        finally:
            t.close()
    for ex in (sync, stream):
        assert ex.error is None and ex.status == 200
        assert ex.content_encoding == encoding and ex.wire_bytes and ex.wire_bytes != len(ex.body)
    sync_ev = evaluate_exchange(sync, "chat")
    assert sync_ev.failing("strict") == [] and sync_ev.final["object"] == "chat.completion"
    stream_ev = evaluate_exchange(stream, "chat")
    assert stream_ev.failing("strict") == []
    assert [v.code for v in stream_ev.violations if v.severity == "note"].count("stream.compressed") == 1
    # Decoded chunk by chunk: the stream is still many pieces with their own arrival times.
    assert len(stream.chunks) > 2 and stream.chunks[-1].offset >= stream.chunks[0].offset


def test_a_gzip_answer_round_trips_through_a_cassette(tmp_path: Path) -> None:
    with compressed_refgateway(TEST_KEY, "gzip") as base:
        live = Transport()
        options = RecordOptions(mode="once", cassette_dir=tmp_path)
        t = CassetteTransport(live, options, "gw", Redactor([TEST_KEY]))
        with t.item(ITEM):
            recorded = t.send(_chat(base, True))
        t.close()
    stored = next(p for p in tmp_path.rglob("*.yaml") if p.is_file()).read_text()
    assert "content_encoding: gzip" in stored and "data: {" in stored  # decoded text, encoding kept
    for pacing in ("fast", "real"):
        t = CassetteTransport(
            Transport(), RecordOptions(mode="none", cassette_dir=tmp_path, pacing=pacing), "gw", Redactor([TEST_KEY])
        )
        with t.item(ITEM):
            replayed = t.send(_chat(base, True))
        t.close()
        assert replayed.error is None, replayed.error
        assert replayed.body == recorded.body and replayed.content_encoding == "gzip"
        assert evaluate_exchange(replayed, "chat").failing("strict") == []


def _send(base: str, **kw: object) -> object:
    t = Transport(**kw)  # type: ignore[arg-type]
    try:
        return t.send(_chat(base, False))
    finally:
        t.close()


JSON = {"content_type": "application/json"}


def test_gzip_bomb_is_a_decompress_violation_within_the_cap() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB of zeros in ~64 KB

    def answer(conn: socket.socket, _: bytes) -> None:
        conn.sendall(head(**JSON, content_encoding="gzip", content_length=str(len(bomb))) + bomb)

    with raw_relay(answer) as base:
        ex = _send(base, max_bytes=1024 * 1024)
    assert ex.error_code == "transport.decompress" and "decompression bomb" in ex.error  # type: ignore[attr-defined]
    assert len(ex.body) <= 1024 * 1024  # type: ignore[attr-defined]
    codes = [v.code for v in evaluate_exchange(ex, "chat").violations]  # type: ignore[arg-type]
    assert codes == ["transport.decompress"]  # never transport.utf8


def test_bad_and_unasked_encodings_are_decompress_violations() -> None:
    for encoding, body in (
        ("gzip", b"\x1f\x8b\x08\x00garbage-not-gzip"),
        ("compress", b"xyz"),
        ("gzip", gzip.compress(b'{"a": 1}')[:-6]),
    ):

        def answer(conn: socket.socket, _: bytes, e: str = encoding, b: bytes = body) -> None:
            conn.sendall(head(**JSON, content_encoding=e, content_length=str(len(b))) + b)

        with raw_relay(answer) as base:
            ex = _send(base)
        assert ex.error_code == "transport.decompress", (encoding, ex.error)  # type: ignore[attr-defined]


def test_deflate_without_zlib_wrapper_is_accepted() -> None:
    obj = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = obj.compress(b'{"ok": true}') + obj.flush()

    def answer(conn: socket.socket, _: bytes) -> None:
        conn.sendall(head(**JSON, content_encoding="deflate", content_length=str(len(body))) + body)

    with raw_relay(answer) as base:
        ex = _send(base)
    assert ex.error is None and ex.body == b'{"ok": true}'  # type: ignore[attr-defined]


def test_a_big_body_and_an_endless_stream_stop_at_the_cap() -> None:
    size = 3 * 1024 * 1024

    def big(conn: socket.socket, _: bytes) -> None:
        conn.sendall(head(**JSON, content_length=str(size)))
        for _ in range(size // 65536):
            conn.sendall(b" " * 65536)

    def endless(conn: socket.socket, _: bytes) -> None:
        conn.sendall(head(content_type="text/event-stream", transfer_encoding="chunked"))
        while True:
            conn.sendall(chunked(b'data: {"x": "' + b"y" * 4000 + b'"}\n\n'))

    for handler in (big, endless):
        with raw_relay(handler) as base:
            started = time.monotonic()
            ex = _send(base, max_bytes=1024 * 1024)
        assert ex.error_code == "transport.too_large", ex.error  # type: ignore[attr-defined]
        assert "size cap of 1 MiB" in ex.error and len(ex.body) <= 1024 * 1024  # type: ignore[attr-defined]
        assert time.monotonic() - started < 10


def test_a_reset_mid_answer_says_so_with_the_byte_count() -> None:
    def reset(conn: socket.socket, _: bytes) -> None:
        conn.sendall(head(**JSON, content_length="1000") + b'{"id": "chatcmpl-1", ')
        time.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        conn.close()

    with raw_relay(reset) as base:
        ex = _send(base)
    assert ex.error_code == "transport.reset", ex.error  # type: ignore[attr-defined]
    assert "connection reset after 21 bytes" in ex.error  # type: ignore[attr-defined]
    assert "could not reach" not in ex.error  # type: ignore[attr-defined]


def test_decoders_chain_and_refuse_huge_zstd_windows() -> None:
    import brotli
    import zstandard

    from harness import decoding

    inner = gzip.compress(b'{"ok": true}')
    body = brotli.compress(inner)  # Content-Encoding: gzip, br (gzip applied first)
    d = decoding.decoder_for("gzip, br", 1024)
    assert b"".join(d.decode(body[i : i + 3]) for i in range(0, len(body), 3)) + d.flush() == b'{"ok": true}'
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=26)  # a 64 MiB window
    cobj = zstandard.ZstdCompressor(compression_params=params).compressobj()
    wide = cobj.compress(b"x" * 1000) + cobj.flush()
    with pytest.raises(decoding.DecodeError, match="zstd"):
        z = decoding.decoder_for("zstd", 1 << 30)
        z.decode(wide)
        z.flush()
