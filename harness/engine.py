"""From an Exchange to a verdict, the same for live traffic, cassettes and recorded logs.

``evaluate_exchange`` applies everything the wire format alone promises (framing, schemas,
stream grammar, error shapes). Case-specific expectations live in ``harness.expect``.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import dialects, history, sse
from harness.dialects.base import Profile
from harness.dialects.kit import rules
from harness.grades import regrade
from harness.model import Exchange, Level, Violation

# A body starting like this is a web page (a proxy's error page, a login wall), not an API answer.
_HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml")


@dataclass(frozen=True)
class Evaluation:
    """Violations of one exchange and the final object (body or folded stream)."""

    violations: tuple[Violation, ...]
    final: Any = None
    events: tuple[sse.SSEEvent, ...] = field(default=(), repr=False)

    def failing(self, level: Level) -> list[Violation]:
        return [v for v in self.violations if v.fails(level)]


def evaluate_exchange(
    exchange: Exchange,
    endpoint: str,
    *,
    level: Level = "strict",
    profile: Profile = "official",
    stream_requested: bool | None = None,
    body_schema: str | None = None,
    recorded: bool = False,
    recorded_on: date | None = None,
    check_headers: bool = False,
) -> Evaluation:
    """See ``_evaluate``. Then the history of the official API applies (harness/history.py): a
    live answer is held to today's API; a ``recorded`` one (lint-traffic) to the API of its
    date (its own ``created``/``created_at``, else ``recorded_on``)."""
    ev = _evaluate(
        exchange,
        endpoint,
        level=level,
        profile=profile,
        stream_requested=stream_requested,
        body_schema=body_schema,
        check_headers=check_headers,
    )
    if body_schema is not None or ev.final is None:
        return ev
    body = not exchange.is_sse and 200 <= (exchange.status or 0) < 300
    try:
        violations = history.adjust(
            ev.violations,
            endpoint,
            ev.final,
            live=not recorded,
            answered_on=history.answer_date(ev.final, recorded_on) if recorded else None,
            body=body,
        )
        if recorded:
            violations = _undated_usage_fields(violations, history.answer_date(ev.final, recorded_on), ev.final)
    except Exception as exc:  # the safety net: see _unjudgeable
        violations = [*ev.violations, _unjudgeable(endpoint, "answer's date", exc)]
    return Evaluation(tuple(violations), ev.final, ev.events)


# Anthropic usage carries the cache counts since prompt caching (2024-08-14). A Messages answer
# has no date of its own; a recording that does not say when it was made is dated by its usage:
# fields the API added later (service_tier, cache_creation, server_tool_use, inference_geo: 253 of
# the corpus's 254 bodies carry one) prove it is newer. Streams are dated in the dialect (a
# message_delta that repeats input_tokens is the current format).
_CACHE_COUNTS_SINCE = date(2024, 8, 14)
_LATER_USAGE_FIELDS = ("service_tier", "cache_creation", "server_tool_use", "inference_geo")


def _undated_usage_fields(violations: Any, answered_on: date | None, final: Any) -> list[Violation]:
    usage = final.get("usage") if isinstance(final, dict) else None
    newer = isinstance(usage, dict) and any(k in usage for k in _LATER_USAGE_FIELDS)
    if newer or (answered_on is not None and answered_on >= _CACHE_COUNTS_SINCE):
        return list(violations)
    return [
        replace(v, severity="note", message=f"{v.message} (a recording of unknown or earlier date: not judged)")
        if v.code == "usage.fields" and not v.path.startswith("events[")
        else v
        for v in violations
    ]


def _graded(violations: Any, endpoint: str) -> list[Violation]:
    """A dialect's findings at their graded severity: the cross-format grades (harness/grades.py),
    then the dialect's own (each rule's severity, and the dialect's grades of shared codes)."""
    return rules.apply(regrade(violations), endpoint)


def _evaluate(
    exchange: Exchange,
    endpoint: str,
    *,
    level: Level = "strict",
    profile: Profile = "official",
    stream_requested: bool | None = None,
    body_schema: str | None = None,
    check_headers: bool = False,
) -> Evaluation:
    """Check one exchange against the wire format of ``endpoint`` (chat | messages | responses).

    ``stream_requested`` None means "ask the dialect" (the body's ``"stream": true``, or the path).
    ``body_schema`` (a schema id) replaces the dialect's checks of a 2xx JSON body, for paths that
    answer something else than the dialect's main object (GET /v1/models, count_tokens); error
    bodies are still judged by the dialect.
    """
    if exchange.error is not None:
        return Evaluation((Violation(exchange.error_code or "transport.connect", "$", exchange.error),))
    dialect = dialects.get(endpoint)
    request_json = exchange.request.json
    if stream_requested is None:
        url = urlsplit(exchange.request.url)
        stream_requested = dialect.stream_requested(url.path, url.query, request_json)
    body = exchange.body
    out: list[Violation] = []
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.append(
            Violation(
                "transport.utf8",
                "$",
                f"body is not valid UTF-8: {exc.reason} at byte {exc.start}",
                actual=repr(body[max(0, exc.start - 20) : exc.start + 20]),
            )
        )
        return Evaluation(tuple(out))

    status = exchange.status or 0
    if check_headers:
        from harness.headers import check_headers as judge_headers

        out.extend(judge_headers(exchange, endpoint))
    error_as_stream = exchange.is_sse and status >= 400 and _json_error_body(body)
    if exchange.is_sse and not error_as_stream:
        if not stream_requested:
            out.append(
                Violation(
                    "sse.not_stream",
                    "$",
                    "an SSE stream answered a request that did not ask for one",
                    expected="application/json",
                    actual=exchange.content_type,
                )
            )
        if exchange.content_encoding:
            out.append(
                Violation(
                    "stream.compressed",
                    "$",
                    f"the stream came {exchange.content_encoding}-encoded: many proxies and clients buffer a "
                    "compressed stream until it ends (the official APIs send streams uncompressed)",
                    actual=exchange.content_encoding,
                    severity="note",
                )
            )
        events, parser = sse.parse(body)
        for problem in parser.problems:
            out.append(Violation("sse.framing", "$", problem))
        events, merged = _split_merged(events)
        out.extend(merged)
        try:
            verdict = dialect.check_stream(events, request_json, level, profile)
        except Exception as exc:  # the safety net: see _unjudgeable
            out.append(_unjudgeable(endpoint, "stream", exc))
            return Evaluation(tuple(out), None, tuple(events))
        out.extend(_graded(verdict.violations, endpoint))
        return Evaluation(tuple(out), verdict.final, tuple(events))

    if stream_requested and 200 <= status < 300:
        out.append(
            Violation(
                "sse.not_stream",
                "$",
                "stream requested but the answer is not an SSE stream",
                expected="text/event-stream",
                actual=exchange.content_type or "(none)",
            )
        )
    obj, bad = _parse_json(body, exchange.content_type)
    if bad is not None:
        out.append(bad)
        return Evaluation(tuple(out))
    ctype = exchange.content_type.split(";")[0].strip().lower()
    if error_as_stream:
        # A failed stream request answered with its JSON error under the stream's media type:
        # the official Gemini API does so (tests/truth/gemini/, 3 of 3 failed streams). The
        # error is judged as an error body; the media type is only noted.
        out.append(
            Violation(
                "content_type",
                "$",
                "a JSON error body served as text/event-stream (the answer to a failed stream request)",
                expected="application/json",
                actual=exchange.content_type,
                severity="note",
            )
        )
    elif ctype != "application/json":
        out.append(
            Violation(
                "content_type",
                "$",
                "a JSON body must be served as application/json",
                expected="application/json",
                actual=exchange.content_type or "(none)",
                severity="strict",  # the SDKs parse JSON under any media type (tests/test_sdk_grades.py)
            )
        )
    try:
        if status >= 400:
            out.extend(_graded(dialect.check_error(obj, status, level), endpoint))
        elif body_schema is not None:
            out.extend(_check_other_body(obj, body_schema))
        else:
            out.extend(_graded(dialect.check_body(obj, request_json, level), endpoint))
    except Exception as exc:  # the safety net: see _unjudgeable
        out.append(_unjudgeable(endpoint, "error body" if status >= 400 else "body", exc))
    return Evaluation(tuple(out), obj)


def _unjudgeable(endpoint: str, what: str, exc: Exception) -> Violation:
    """A dialect check that raised on an answer. The checks guard every field they read (a wrong
    type is reported as ``schema`` by the schema check), so this is a value of a type no guard
    expected: the item fails with that said, and the violations found before it are kept. Bad
    input must never crash a run (README, standards); the innermost harness frame is named so the
    missing guard can be found."""
    where = ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "harness" in Path(f.filename).parts]
    if frames:
        parts = Path(frames[-1].filename).parts
        inner = parts[len(parts) - parts[::-1].index("harness") :]
        where = f" at {'/'.join(inner)}:{frames[-1].lineno}"
    return Violation(
        "schema",
        "$",
        f"the {endpoint} dialect could not check this {what}: its check raised {type(exc).__name__}{where} "
        f"({str(exc)[:120]}); the answer holds a value of an unexpected type",
    )


def _split_merged(events: list[sse.SSEEvent]) -> tuple[list[sse.SSEEvent], list[Violation]]:
    """Events written with no blank line between them (RELAY_DEFECTS #12) arrive as one event
    whose data lines are each a JSON object. That is one fault, named here once; the payloads
    are then judged as the events they were meant to be, so the lost blank line does not also
    surface as a missing role, a tool call without a name, or a block never started."""
    if not any(ev.data_lines > 1 for ev in events):
        return events, []
    out: list[sse.SSEEvent] = []
    found: list[Violation] = []
    for ev in events:
        lines = ev.data.split("\n") if ev.data_lines > 1 else []
        payloads = [{} if line == "[DONE]" else _json_or_none(line) for line in lines]
        if len(lines) < 2 or any(p is None for p in payloads) or _json_or_none(ev.data) is not None:
            out.append(ev)
            continue
        found.append(
            Violation(
                "sse.framing",
                f"events[{ev.index}].data",
                f"{len(lines)} JSON payloads in one event: events written without a blank line between them",
                expected="one JSON object per event, events separated by a blank line",
                actual=_snippet(ev.data.encode(), 160),
            )
        )
        for line, payload in zip(lines, payloads, strict=True):
            kind = payload.get("type") if isinstance(payload, dict) else None
            # the event: lines were merged too (the last one wins): each part gets its own type back
            name = kind if ev.event is not None and isinstance(kind, str) else ev.event
            out.append(replace(ev, data=line, event=name, data_lines=1))
    return out, found


def _json_error_body(body: bytes) -> bool:
    """A body that is one JSON object and no SSE at all (no ``data:`` line)."""
    text = body.decode("utf-8", "replace").lstrip()
    return text.startswith("{") and "\ndata:" not in text and _json_or_none(text) is not None


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _check_other_body(obj: Any, schema_id: str) -> list[Violation]:
    """A 2xx body that is not the dialect's main object, against its own schema. An error object
    here is reported as such (not only as a schema mismatch): that is what a relay got wrong."""
    from harness import validation

    if isinstance(obj, dict) and (("error" in obj and "data" not in obj) or obj.get("type") == "error"):
        return [
            Violation(
                "error.in_200",
                "$",
                "an error object inside an HTTP 200 answer",
                actual=_snippet(json.dumps(obj).encode()),
            )
        ]
    return [
        Violation("schema", e.path, f"{e.message} (schema {schema_id})") for e in validation.validate(schema_id, obj)
    ]


def _parse_json(body: bytes, content_type: str) -> tuple[Any, Violation | None]:
    if not body.strip():
        return None, Violation(
            "body.json",
            "$",
            "empty body where a JSON object was expected",
            actual=content_type or "(no content-type)",
        )
    head = body.lstrip()[:64].lower()
    if head.startswith(_HTML_STARTS):
        return None, Violation(
            "body.json",
            "$",
            "the gateway answered an HTML page, not JSON",
            expected="application/json",
            actual=_snippet(body),
        )
    try:
        return json.loads(body), None
    except ValueError as exc:
        return None, Violation("body.json", "$", f"body is not JSON: {exc}", actual=_snippet(body))


def _snippet(body: bytes, n: int = 200) -> str:
    text = body.decode("utf-8", "replace").strip()
    return text if len(text) <= n else text[:n] + "…"
