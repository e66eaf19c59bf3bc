"""Misbehaving relays on loopback for the harness's own tests: the reference gateway behind a
compressing middleware (as nginx, Cloudflare or LiteLLM put it), and a raw socket server whose
answers are written byte by byte by the test (bombs, endless streams, resets, 429s)."""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from harness.refgateway.app import create_app


def compressor(encoding: str) -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
    """(compress-and-flush one piece, finish) for a Content-Encoding: every piece is flushed at
    once, as a streaming-aware gzip middleware does, so a stream stays a stream."""
    if encoding in ("gzip", "deflate"):
        obj = zlib.compressobj(6, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
        return (lambda d: obj.compress(d) + obj.flush(zlib.Z_SYNC_FLUSH)), obj.flush
    if encoding == "br":
        import brotli

        br = brotli.Compressor()
        return (lambda d: br.process(d) + br.flush()), br.finish
    import zstandard

    z = zstandard.ZstdCompressor().compressobj()
    return (lambda d: z.compress(d) + z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)), z.flush


def compressing(app: Any, encoding: str) -> Any:
    """ASGI middleware: every answer ``encoding``-compressed, chunk by chunk."""

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        piece, finish = compressor(encoding)

        async def send_compressed(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
                message = {**message, "headers": [*headers, (b"content-encoding", encoding.encode())]}
            elif message["type"] == "http.response.body":
                more = message.get("more_body", False)
                data = piece(message.get("body", b""))
                message = {**message, "body": data if more else data + finish()}
            await send(message)

        await app(scope, receive, send_compressed)

    return wrapped


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "test relay did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@contextmanager
def compressed_refgateway(key: str, encoding: str) -> Iterator[str]:
    with serve_app(compressing(create_app(key), encoding)) as url:
        yield url


Handler = Callable[[socket.socket, bytes], None]


@contextmanager
def raw_relay(handler: Handler) -> Iterator[str]:
    """A socket server: ``handler(conn, request_head)`` writes whatever bytes it likes. Each
    connection in its own thread; a client that hangs up ends the handler (BrokenPipe etc.)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        with conn:
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = conn.recv(65536)
                    if not data:
                        return
                    head += data
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = head.split(b"\r\n\r\n", 1)[1]
                while len(body) < length:
                    body += conn.recv(65536)
                handler(conn, head)
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"
