"""The typed records every report of a run is written from: one ItemRecord per item, one
RunRecord per run. No pytest here: the pytest layer makes an item's record (identity at
collection, the measured part from the runner's ItemResult, the outcome from each phase's
report) and keeps it in the item's stash; at the end of the session the writers
(``harness/report/writers.py``) serialize the RunRecord once (``RunRecord.summary``).

``ItemRecord.entry()`` is the item's summary.json entry (the keys are listed in
``harness/report/summary.py``); ``as_data``/``from_data`` carry a record between xdist processes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from harness.redact import Redactor
from harness.report.completeness import UNFINISHED, run_record
from harness.report.metrics import generation_ms, step_usage, tokens_per_second
from harness.report.summary import TRANSCRIPT_LIMIT, build_summary, ctx_redact
from harness.report.transcript import item_transcript

if TYPE_CHECKING:  # the runner's types, for the annotations only (reports never run the runner)
    from harness.runner import Context, ItemResult, Variant

Outcome = Literal["passed", "failed", "skipped", "error"]
Phase = Literal["passed", "failed", "skipped"]
ERROR_CHARS = 2000  # the tail of a harness error's report kept in the entry


@dataclass(frozen=True)
class Measurement:
    """What one run of the item measured, redacted with the session's redactor (which also knows
    the built-in gateway's per-session key). Violations and notes as summary.json writes them."""

    violations: tuple[dict[str, Any], ...]
    notes: tuple[dict[str, Any], ...]
    status: int | None
    content_encoding: str | None
    ttft_ms: float | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    output_tps: float | None
    attempts: int
    source: str  # live | replayed | recorded | replayed+recorded
    transcript: str
    reproduce: str | None = None  # a curl for the first failing step (key as $VAR)

    def fields(self, transcript: bool = True) -> dict[str, Any]:
        """The measured keys of the summary entry (JUnit's properties leave the transcript out)."""
        out: dict[str, Any] = {} if self.reproduce is None else {"reproduce": self.reproduce}
        out.update(
            violations=[dict(v) for v in self.violations],
            notes=[dict(n) for n in self.notes],
            status=self.status,
            content_encoding=self.content_encoding,  # the answer was decoded from it
            ttft_ms=self.ttft_ms,
            latency_ms=self.latency_ms,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            output_tps=self.output_tps,
            attempts=self.attempts,
        )
        if transcript:
            out["transcript"] = self.transcript
        out["source"] = self.source
        return out


def measure(result: ItemResult, ctx: Context, source: str) -> Measurement:
    """The measured part of an item's record, from the runner's result."""
    first = result.first_exchange
    last = next((s.exchange for s in reversed(result.steps) if s.exchange is not None), None)
    level = ctx.level
    stream = result.variant.stream
    sent = [s for s in result.steps if s.exchange is not None]
    tokens_in, tokens_out = step_usage((s.step.endpoint, s.evaluation.final if s.evaluation else None) for s in sent)
    gen = [generation_ms(s.exchange.latency_ms, s.exchange.ttft_ms, stream) for s in sent]
    gen_total = sum(g for g in gen if g is not None) if any(g is not None for g in gen) else None
    limit = TRANSCRIPT_LIMIT["failed" if result.failing(level) else "passed"]
    reproduce = None
    bad = next((s for s in sent if any(v.fails(level) for v in s.violations)), None)
    if bad is not None:  # the digest's "what to do next": a curl that asks the same (key as $VAR)
        from harness.failure import curl_command

        curl = curl_command(bad.exchange.request, ctx.gateway.api_key_env, ctx.redactor)
        reproduce = ctx.redactor.text(curl)  # the URL too (a key in a query string)
    return Measurement(
        violations=tuple(ctx_redact(v.as_dict(), ctx.redactor) for v in result.violations if v.fails(level)),
        notes=tuple(ctx_redact(v.as_dict(), ctx.redactor) for v in result.violations if not v.fails(level)),
        status=last.status if last else None,
        content_encoding=last.content_encoding if last else None,
        ttft_ms=round(first.ttft_ms, 2) if first and first.ttft_ms is not None else None,
        latency_ms=round(sum(s.exchange.latency_ms or 0 for s in sent), 2) if first else None,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        output_tps=tokens_per_second(tokens_out, gen_total),
        attempts=result.attempts,
        source=source,
        transcript=item_transcript(((s.step.name, s.exchange) for s in result.steps), ctx.redactor, limit),
        reproduce=reproduce,
    )


@dataclass(frozen=True)
class ItemRecord:
    """One item of a run. Until its call has reported, an item has not finished: an interrupt
    mid-item leaves it an error (UNFINISHED), never a pass."""

    id: str
    case: str
    file: str
    line: int
    endpoint: str
    model: str | None
    stream: bool
    gateway: str
    features: tuple[str, ...]
    outcome: Outcome = "error"
    error: str | None = UNFINISHED
    skip_reason: str | None = None
    measured: Measurement | None = None

    @classmethod
    def begin(cls, item_id: str, variant: Variant) -> ItemRecord:
        case = variant.case
        return cls(
            item_id,
            case.id,
            case.file,
            case.location.line,
            case.endpoint,
            variant.model,
            variant.stream,
            variant.gateway,
            tuple(case.features),
        )

    def with_measurement(self, measured: Measurement) -> ItemRecord:
        return replace(self, measured=measured)

    def after(self, when: str, phase: Phase, text: str) -> ItemRecord:
        """The record once a phase (setup, call, teardown) has reported ``phase``; ``text`` is
        the skip reason or the failure report."""
        if phase == "skipped":
            return replace(self, outcome="skipped", error=None, skip_reason=text.removeprefix("Skipped: "))
        if phase == "passed":
            if when == "call" and self.error == UNFINISHED:
                return replace(self, outcome="passed", error=None)
            return self
        # Failed: violations raised by the call are a conformance failure, anything else an error.
        if when == "call" and self.measured is not None and self.measured.violations:
            return replace(self, outcome="failed", error=None if self.error == UNFINISHED else self.error)
        error = text[-ERROR_CHARS:] if self.error in (None, UNFINISHED) else self.error
        return replace(self, outcome="error", error=error)

    def meta(self) -> dict[str, Any]:
        """Who the item is (allure labels, JUnit's relaycheck.meta property)."""
        return {
            "case": self.case,
            "file": self.file,
            "line": self.line,
            "endpoint": self.endpoint,
            "model": self.model,
            "stream": self.stream,
            "gateway": self.gateway,
            "features": list(self.features),
        }

    def entry(self) -> dict[str, Any]:
        """The item's summary.json entry."""
        out: dict[str, Any] = {"id": self.id, **self.meta(), "outcome": self.outcome}
        if self.error is not None:
            out["error"] = self.error
        if self.measured is None:
            out.update(violations=[], ttft_ms=None, latency_ms=None)
        else:
            out.update(self.measured.fields())
        if self.skip_reason is not None:
            out["skip_reason"] = self.skip_reason
        return out

    def as_data(self) -> dict[str, Any]:
        """Plain data (dicts, lists, strings, numbers), for xdist's report serialization."""
        data: dict[str, Any] = _plain(asdict(self))
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ItemRecord:
        measured = data.get("measured")
        return cls(
            **{
                **data,
                "features": tuple(data["features"]),
                "measured": None
                if measured is None
                else Measurement(
                    **{
                        **measured,
                        "violations": tuple(measured["violations"]),
                        "notes": tuple(measured["notes"]),
                    }
                ),
            }
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class RunRecord:
    """One run, what every report of it is written from. ``summary`` is the run serialized once
    (summary.json's document, redacted by value); every writer reads that."""

    items: tuple[ItemRecord, ...]
    gateway: str | None
    level: str
    started: float
    selected: int | None  # None: collection never finished
    interrupted: bool = False
    collection_errors: tuple[dict[str, Any], ...] = ()
    shard: dict[str, Any] | None = None  # --shard K/N: which part, which ids (harness/pytest/shard.py)
    matrix: str | None = None  # where matrix.html goes, for the digest's next steps (None: not written)
    builtin: bool = False
    faults: tuple[str, ...] = ()
    redactor: Redactor = field(default_factory=Redactor, compare=False, repr=False)

    @cached_property
    def summary(self) -> dict[str, Any]:
        from harness.report.digest import build_digest

        entries = [item.entry() for item in self.items]
        summary = build_summary(entries, gateway=self.gateway, level=self.level, started=self.started)
        summary.update(run_record(self.selected, entries, self.interrupted, list(self.collection_errors)))
        if self.shard is not None:
            summary["shard"] = self.shard
        summary["digest"] = build_digest(summary, matrix=self.matrix, builtin=self.builtin, faults=self.faults)
        redacted: dict[str, Any] = self.redactor.value(summary)  # each string value: redacting JSON text can break it
        return redacted
