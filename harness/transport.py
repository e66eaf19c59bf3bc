"""The one HTTP seam. Every answer is read incrementally, chunk by chunk, with arrival times,
so TTFT and "is it really streaming" can be judged; failures become an Exchange with
``error`` set instead of an exception, so one broken answer never costs the other results."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from harness.gateways import Timeouts
from harness.model import Chunk, Exchange, WireRequest


@dataclass
class _Seen:
    """What has arrived so far of one answer."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)


class Transport:
    """Sends WireRequests. Subclasses (cassette replay) override :meth:`send`."""

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        timeouts = timeouts or Timeouts()
        self.timeouts = timeouts
        self._clock = clock
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeouts.first_byte, connect=timeouts.connect),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would change what we measure
        )

    def close(self) -> None:
        self._client.close()

    def send(self, request: WireRequest) -> Exchange:
        start = self._clock()
        seen = _Seen()
        failure = self._read(request, start, seen)
        code, message = failure if failure is not None else (None, None)
        chunks = seen.chunks
        return Exchange(
            request=request,
            status=seen.status,
            headers=seen.headers,
            chunks=tuple(chunks),
            ttft_ms=chunks[0].offset * 1000 if chunks else None,
            latency_ms=(self._clock() - start) * 1000,
            error=message,
            error_code=code,
        )

    def _read(self, request: WireRequest, start: float, seen: _Seen) -> tuple[str, str] | None:
        """Read the answer into ``seen``; the violation code and message when the transport failed.
        Whatever arrived before a failure stays in ``seen``, so it is reported too."""
        try:
            with self._client.stream(
                request.method, request.url, headers=dict(request.headers), content=request.body or None
            ) as resp:
                seen.status = resp.status_code
                seen.headers = {k.lower(): v for k, v in resp.headers.items()}
                for data in resp.iter_raw():
                    now = self._clock() - start
                    if data:
                        seen.chunks.append(Chunk(now, data))
                    if now > self.timeouts.total:
                        return "transport.timeout", f"total time exceeded {self.timeouts.total:g} s"
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                phase = "connecting"
            else:
                phase = "waiting for the next chunk" if seen.chunks else "waiting for the first byte"
            return "transport.timeout", f"timed out {phase} ({type(exc).__name__})"
        except httpx.RemoteProtocolError as exc:
            code = "transport.truncated" if seen.status is not None else "transport.connect"
            return code, f"connection closed before the answer was complete: {exc}"
        except httpx.HTTPError as exc:
            return "transport.connect", f"could not reach the gateway at {request.url}: {type(exc).__name__}: {exc}"
        return None
