"""The one HTTP seam. Every answer is read incrementally, chunk by chunk, with arrival times,
so TTFT and "is it really streaming" can be judged; failures become an Exchange with
``error`` set instead of an exception, so one broken answer never costs the other results."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from harness.gateways import Timeouts
from harness.model import Chunk, Exchange, WireRequest


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
        chunks: list[Chunk] = []
        status: int | None = None
        headers: dict[str, str] = {}
        try:
            with self._client.stream(
                request.method, request.url, headers=dict(request.headers), content=request.body or None
            ) as resp:
                status = resp.status_code
                headers = {k.lower(): v for k, v in resp.headers.items()}
                for data in resp.iter_raw():
                    now = self._clock() - start
                    if data:
                        chunks.append(Chunk(now, data))
                    if now > self.timeouts.total:
                        return self._observed(
                            request,
                            status,
                            headers,
                            chunks,
                            start,
                            "transport.timeout",
                            f"total time exceeded {self.timeouts.total:g} s",
                        )
        except httpx.TimeoutException as exc:
            phase = (
                "connecting"
                if isinstance(exc, httpx.ConnectTimeout)
                else ("waiting for the first byte" if not chunks else "waiting for the next chunk")
            )
            return self._observed(
                request,
                status,
                headers,
                chunks,
                start,
                "transport.timeout",
                f"timed out {phase} ({type(exc).__name__})",
            )
        except httpx.RemoteProtocolError as exc:
            code = "transport.truncated" if status is not None else "transport.connect"
            return self._observed(
                request,
                status,
                headers,
                chunks,
                start,
                code,
                f"connection closed before the answer was complete: {exc}",
            )
        except httpx.HTTPError as exc:
            return self._observed(
                request,
                status,
                headers,
                chunks,
                start,
                "transport.connect",
                f"could not reach the gateway at {request.url}: {type(exc).__name__}: {exc}",
            )
        return self._observed(request, status, headers, chunks, start, None, None)

    def _observed(
        self,
        request: WireRequest,
        status: int | None,
        headers: dict[str, str],
        chunks: list[Chunk],
        start: float,
        code: str | None,
        message: str | None,
    ) -> Exchange:
        """The Exchange observed so far; ``code``/``message`` set when the transport failed."""
        end = self._clock() - start
        return Exchange(
            request=request,
            status=status,
            headers=headers,
            chunks=tuple(chunks),
            ttft_ms=chunks[0].offset * 1000 if chunks else None,
            latency_ms=end * 1000,
            error=message,
            error_code=code,
        )
