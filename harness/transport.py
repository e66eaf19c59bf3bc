"""The one HTTP seam. Every answer is read incrementally, chunk by chunk, with arrival times,
so TTFT and "is it really streaming" can be judged; failures become an Exchange with
``error`` set instead of an exception, so one broken answer never costs the other results."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from harness import decoding
from harness.gateways import DEFAULT_MAX_ANSWER_BYTES, Timeouts
from harness.model import Chunk, Exchange, WireRequest

# A compressed answer that inflates past the cap at least this many times its wire size is
# reported as a decompression bomb, not merely as a large answer.
BOMB_RATIO = 100


@dataclass
class _Seen:
    """What has arrived so far of one answer."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)  # decoded, at the arrival time of their bytes
    wire_bytes: int = 0
    decoded_from: int = 0  # wire bytes fed to the decoder so far
    first_byte: float | None = None


class Transport:
    """Sends WireRequests. Subclasses (cassette replay) override :meth:`send`."""

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.perf_counter,
        max_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        timeouts = timeouts or Timeouts()
        self.timeouts = timeouts
        self.max_bytes = max_bytes  # per answer, on the wire and decoded alike
        self._clock = clock
        # Made at the first request (its SSL context costs ~0.1 s): a replay never sends one.
        self._made: httpx.Client | None = client
        self._lock = threading.Lock()  # pool threads may send the first request together

    @property
    def _client(self) -> httpx.Client:
        if self._made is None:
            with self._lock:
                if self._made is None:
                    self._made = httpx.Client(
                        timeout=httpx.Timeout(self.timeouts.first_byte, connect=self.timeouts.connect),
                        follow_redirects=False,
                        trust_env=False,  # a proxy from the environment would change what we measure
                        # What the official SDKs' stack (httpx with brotli and zstandard) asks for,
                        # decoded below; a case may still send its own Accept-Encoding.
                        headers={"accept-encoding": decoding.ACCEPT_ENCODING},
                    )
        return self._made

    def close(self) -> None:
        if self._made is not None:
            self._made.close()

    def send(self, request: WireRequest) -> Exchange:
        start = self._clock()
        seen = _Seen()
        failure = self._read(request, start, seen)
        code, message = failure if failure is not None else (None, None)
        encoded = decoding.encodings(seen.headers.get("content-encoding"))
        return Exchange(
            request=request,
            status=seen.status,
            headers=seen.headers,
            chunks=tuple(seen.chunks),
            ttft_ms=seen.first_byte * 1000 if seen.first_byte is not None else None,
            latency_ms=(self._clock() - start) * 1000,
            error=message,
            error_code=code,
            wire_bytes=seen.wire_bytes if encoded else None,
        )

    def _read(self, request: WireRequest, start: float, seen: _Seen) -> tuple[str, str] | None:
        """Read the answer into ``seen``; the violation code and message when the transport failed.
        Whatever arrived before a failure stays in ``seen``, so it is reported too. Leaving the
        ``with`` early (a cap, a bad encoding) closes the connection: nothing more is read."""
        try:
            with self._client.stream(
                request.method, request.url, headers=dict(request.headers), content=request.body or None
            ) as resp:
                seen.status = resp.status_code
                seen.headers = {k.lower(): v for k, v in resp.headers.items()}
                return self._body(resp, start, seen)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                phase = "connecting"
            else:
                phase = "waiting for the next chunk" if seen.wire_bytes else "waiting for the first byte"
            return "transport.timeout", f"timed out {phase} ({type(exc).__name__})"
        except httpx.RemoteProtocolError as exc:
            if seen.status is None:
                return "transport.connect", f"the gateway closed the connection without answering: {exc}"
            return "transport.truncated", f"connection closed before the answer was complete: {exc}"
        except (httpx.ReadError, httpx.WriteError) as exc:
            # A reset: the gateway was reached, so "could not reach" would mislead.
            if seen.status is None:
                return "transport.reset", f"connection reset before the answer began: {type(exc).__name__}: {exc}"
            return "transport.reset", f"connection reset after {seen.wire_bytes} bytes of the answer: {exc}"
        except httpx.HTTPError as exc:
            return "transport.connect", f"could not reach the gateway at {request.url}: {type(exc).__name__}: {exc}"

    def _body(self, resp: httpx.Response, start: float, seen: _Seen) -> tuple[str, str] | None:
        """Raw chunks as they arrive, decoded one by one (so a stream stays a stream), both the
        wire size and the decoded size held to the cap."""
        cap = self.max_bytes
        try:
            decoder = decoding.decoder_for(seen.headers.get("content-encoding"), cap)
        except decoding.DecodeError as exc:
            return "transport.decompress", str(exc)
        now = 0.0
        try:
            for data in resp.iter_raw():
                now = self._clock() - start
                if data:
                    if seen.first_byte is None:
                        seen.first_byte = now
                    if seen.wire_bytes + len(data) > cap:
                        return "transport.too_large", (
                            f"the answer exceeds the size cap of {_size(cap)} on the wire; reading stopped "
                            f"(raise max_answer_bytes in gateways.yaml or --max-answer-bytes if it is legitimate)"
                        )
                    out = _decode(decoder, data, seen)
                    if out:
                        seen.chunks.append(Chunk(now, out))
                if now > self.timeouts.total:
                    return "transport.timeout", f"total time exceeded {self.timeouts.total:g} s"
            tail = decoder.flush()
            if tail:
                seen.chunks.append(Chunk(now, tail))
        except decoding.TooLarge as exc:
            if exc.kept:
                seen.chunks.append(Chunk(now, exc.kept))
            encoding = seen.headers.get("content-encoding", "")
            if seen.decoded_from * BOMB_RATIO <= cap:
                return "transport.decompress", (
                    f"decompression bomb: {seen.wire_bytes} bytes of {encoding} inflate past the size cap of "
                    f"{_size(cap)}; reading stopped"
                )
            return "transport.too_large", (
                f"the {encoding}-decoded answer exceeds the size cap of {_size(cap)} (after {seen.wire_bytes} "
                f"bytes on the wire); reading stopped (raise max_answer_bytes or --max-answer-bytes if legitimate)"
            )
        except decoding.DecodeError as exc:
            return "transport.decompress", f"content-encoding {seen.headers.get('content-encoding')}: {exc}"
        return None


_SLICE = 4096  # raw bytes fed to a decoder at once, so a bomb is caught near the bytes that made it


def _decode(decoder: decoding.Decoder, data: bytes, seen: _Seen) -> bytes:
    """One raw chunk through the decoder, a slice at a time (all pieces keep the chunk's time)."""
    seen.wire_bytes += len(data)
    if isinstance(decoder, decoding.Identity):
        seen.decoded_from += len(data)
        return data
    out: list[bytes] = []
    for i in range(0, len(data), _SLICE):
        piece = data[i : i + _SLICE]
        seen.decoded_from += len(piece)
        try:
            out.append(decoder.decode(piece))
        except decoding.TooLarge as exc:
            raise decoding.TooLarge(b"".join([*out, exc.kept])) from None
    return b"".join(out)


def _size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"
