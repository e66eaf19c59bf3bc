"""Record and replay at relaycheck's own Transport seam.

Recording: the live Transport sends and measures (chunk by chunk, TTFT true), the Exchange is
appended to the item's vcrpy Cassette. Replay: the recorded chunks are re-emitted; with real
pacing they go through this Transport's own httpx reading code from a stream that sleeps to
each recorded offset, so TTFT and the "is it streaming" check are measured, not copied.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from vcr.cassette import Cassette
from vcr.matchers import get_matchers_results

from harness.model import Exchange, Violation, WireRequest
from harness.recording.cassette import MATCH_ON, RELAY_MATCH_ON, open_cassette, vcr_request
from harness.recording.offline import offline
from harness.recording.options import RecordOptions
from harness.recording.stored import EXTENSION, exchange_from, response_dict
from harness.redact import Redactor
from harness.transport import Transport

FAST_REASON = (
    "replayed from a cassette at full speed (--replay-pacing fast); --replay-pacing real re-emits "
    "the chunks at their recorded offsets and judges streaming"
)


class _PacedStream(httpx.SyncByteStream):
    def __init__(
        self, exchange: Exchange, start: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.exchange, self.start, self.clock, self.sleep = exchange, start, clock, sleep

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.exchange.chunks:
            _sleep_until(self.start + chunk.offset, self.clock, self.sleep)
            yield chunk.data
        if self.exchange.latency_ms is not None:  # the recorded end of the answer
            _sleep_until(self.start + self.exchange.latency_ms / 1000, self.clock, self.sleep)


def _sleep_until(deadline: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
    wait = deadline - clock()
    if wait > 0:
        sleep(wait)


class _ReplayHTTP(httpx.BaseTransport):
    """An httpx transport that answers with the recorded Exchange set in ``pending``."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.clock, self.sleep = clock, sleep
        self.pending: Exchange | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        ex = self.pending
        if ex is None or ex.status is None:
            raise RuntimeError("relaycheck: the replay transport was used without a recorded answer")
        stream = _PacedStream(ex, self.clock(), self.clock, self.sleep)
        # The recorded chunks are already decoded: the wire headers would make them decoded twice.
        headers = [(k, v) for k, v in ex.headers.items() if k not in ("content-encoding", "content-length")]
        return httpx.Response(ex.status, headers=headers, stream=stream)


@dataclass
class ItemReplay:
    """What the cassette of one item tells whoever runs the item (the collector): why streaming
    cannot be judged in this item (None: it can), and, once the item's block is left, the
    cassette's notes (replay.unused, replay.stale). The recording layer decides nothing about how
    the item is judged; it only says what it knows (so it imports nothing of the runner)."""

    unjudged_streaming: str | None = None
    notes: list[Violation] = field(default_factory=list)


@dataclass
class _Item:
    cassette: Cassette
    path: Path
    mode: str
    loaded: int  # interactions read from disk; later ones were recorded in this run


class CassetteTransport(Transport):
    """A Transport that records to and replays from one vcrpy cassette per item."""

    def __init__(
        self,
        live: Transport,
        options: RecordOptions,
        gateway: str,
        redactor: Redactor,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._replay_http = _ReplayHTTP(clock, sleep)
        super().__init__(
            live.timeouts, client=httpx.Client(transport=self._replay_http), clock=clock, max_bytes=live.max_bytes
        )
        self.live, self.options, self.gateway, self.redactor = live, options, gateway, redactor
        self._sleep = sleep
        self._item: _Item | None = None
        self._match_on = MATCH_ON if options.builtin else RELAY_MATCH_ON

    def close(self) -> None:
        super().close()
        self.live.close()

    @contextmanager
    def item(self, item_id: str) -> Iterator[ItemReplay]:
        """The cassette of one item for the duration of the block; yields its ItemReplay (the
        notes are filled in once the block is left)."""
        path = self.options.cassette(self.gateway, item_id)
        mode = self.options.item_mode(path)
        if mode is None:
            yield ItemReplay()
            return
        cassette = open_cassette(path, mode, self.redactor, self._match_on)
        replaying = cassette.rewound and mode != "all"
        # Replayed at full speed, the chunks arrive all at once: "is it streaming" cannot be told.
        replay = ItemReplay(FAST_REASON if replaying and self.options.pacing == "fast" else None)
        state = self._item = _Item(cassette, path, mode, len(cassette))
        # Only replay-only cassettes go offline: new_episodes may still need the relay.
        # The reason is worked out only if something tries (display() resolves the path).
        guard = offline(lambda: f"cassette {display(path)}") if cassette.write_protected else nullcontext()
        try:
            with guard:
                yield replay
        finally:
            self._item = None
            cassette._save()  # what vcrpy's own use_cassette does on exit; writes only if dirty
        if replaying:
            replay.notes.extend(self._notes(state))

    def send(self, request: WireRequest) -> Exchange:
        state = self._item
        if state is None:
            return self.live.send(request)
        vreq = vcr_request(request)
        cassette = state.cassette
        if cassette.can_play_response_for(vreq):
            return self._replay(request, cassette.play_response(vreq))
        if cassette.write_protected:
            return self._unmatched(request, vreq, state)
        exchange = self.live.send(request)
        cassette.append(vreq, response_dict(exchange))
        return exchange

    def _replay(self, request: WireRequest, response: dict[str, Any]) -> Exchange:
        recorded = exchange_from(request, response)
        if self.options.pacing == "fast":
            return recorded
        if recorded.error is not None or recorded.status is None:
            # A transport failure is replayed as recorded, after the time it took.
            _sleep_until(self._clock() + (recorded.latency_ms or 0) / 1000, self._clock, self._sleep)
            return recorded
        self._replay_http.pending = recorded
        try:
            replayed = super().send(request)
            return replace(replayed, headers=recorded.headers, wire_bytes=recorded.wire_bytes)
        finally:
            self._replay_http.pending = None

    def _unmatched(self, request: WireRequest, vreq: Any, state: _Item) -> Exchange:
        where = display(state.path)
        what = f"{request.method} {request.path}"
        if not len(state.cassette):
            message = (
                f"no recorded interaction for {what}: no cassette at {where} (record mode "
                f"{state.mode}); record it with `relaycheck record` or --record-mode once"
            )
        else:
            best = state.cassette.find_requests_with_most_matches(vreq)
            if not best:  # nothing shares even one matcher: show how the first recording differs
                first = state.cassette.data[0][0]
                best = [(first, *get_matchers_results(state.cassette.filter_request(vreq), first, self._match_on))]
            stored, _, fails = best[0]
            index = next(i for i, (r, _) in enumerate(state.cassette.data) if r is stored)
            if not fails:
                message = (
                    f"no recorded interaction left for {what} in {where}: interaction #{index} matches "
                    "but was already played (this run sends the request more often than the recording)"
                )
            else:
                lines = [
                    f"no recorded interaction for {what} in {where} (record mode {state.mode})",
                    f"closest recorded request: interaction #{index}, {stored.method} {stored.path}; "
                    f"differs in {', '.join(name for name, _ in fails)}:",
                ]
                lines += [f"  {line}" for _, text in fails for line in (text or "").splitlines()]
                if {"scheme", "host", "port"} & {name for name, _ in fails}:
                    lines.append(
                        f"recorded against {stored.scheme}://{stored.host}:{stored.port}, another relay: "
                        "a cassette replays only for the base URL it was recorded from"
                    )
                lines.append("re-record with `relaycheck record` (or --record-mode new_episodes to add it)")
                # Continuation lines indented to sit under the violation in a failure report.
                message = "\n      ".join(lines)
        return Exchange(request=request, status=None, error=self.redactor.text(message), error_code="replay.unmatched")

    def _notes(self, state: _Item) -> list[Violation]:
        cassette = state.cassette
        out = []
        for i in range(state.loaded):
            if cassette.play_counts[i] == 0:
                req, where = cassette.data[i][0], display(state.path)
                out.append(
                    Violation(
                        "replay.unused",
                        f"interactions[{i}]",
                        f"recorded interaction #{i} ({req.method} {req.path}) in {where} was not requested in this run",
                        severity="note",
                    )
                )
        ages = [_age_days(cassette.data[i][1]) for i in range(state.loaded) if cassette.play_counts[i]]
        oldest = max((a for a in ages if a is not None), default=None)
        if oldest is not None and oldest > self.options.max_age_days:
            out.append(
                Violation(
                    "replay.stale",
                    "$",
                    f"{display(state.path)} was recorded {oldest:.0f} days ago (more than "
                    f"{self.options.max_age_days:g}); re-record with `relaycheck record`",
                    severity="note",
                )
            )
        return out


def _age_days(response: dict[str, Any]) -> float | None:
    stamp = (response.get(EXTENSION) or {}).get("recorded_at")
    if not stamp:
        return None
    try:
        recorded = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None
    return (time.time() - recorded) / 86400


def display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


@contextmanager
def item_scope(transport: Transport, item_id: str) -> Iterator[ItemReplay]:
    """Run one item inside its cassette (a no-op for a plain live Transport)."""
    if isinstance(transport, CassetteTransport):
        with transport.item(item_id) as replay:
            yield replay
    else:
        yield ItemReplay()


def session_transport(live: Transport, options: RecordOptions, gateway: str, redactor: Redactor) -> Transport:
    """The transport of a session: the live one itself when cassettes are off."""
    return live if options.effective_mode == "off" else CassetteTransport(live, options, gateway, redactor)
