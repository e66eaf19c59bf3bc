"""Case expectations: what one case demands beyond the wire format (status, JSON-path
matchers, tool calls, stop reason, streaming behaviour). Plain functions returning Violations."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from harness import jsonpath
from harness.cases import Expect, Matcher, ToolCallsExpectation
from harness.dialects.base import Dialect
from harness.model import Exchange, ToolCall, Violation

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def _short(value: Any, n: int = 120) -> Any:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return value if len(text) <= n else text[:n] + "…"


def check_matcher(m: Matcher, doc: Any, prefix: str = "") -> Violation | None:
    """One matcher against ``doc``; None when it holds."""
    value = jsonpath.resolve(doc, m.path)
    missing = value is jsonpath.MISSING or (jsonpath.is_multi(m.path) and value == [])
    where = f"{prefix}{m.path[1:]}" if prefix else m.path  # text.x, not text$.x
    if m.op == "absent":
        if m.value and not missing:
            return Violation("expect.absent", where, "must be absent", expected="(absent)", actual=_short(value))
        return None
    if m.op == "present":
        if m.value and missing:
            return Violation("expect.present", where, "must be present", expected="(present)", actual="(absent)")
        if not m.value and not missing:
            return Violation("expect.absent", where, "must be absent", expected="(absent)", actual=_short(value))
        return None
    if missing:
        return Violation(f"expect.{m.op}", where, "value is absent", expected=m.value, actual="(absent)")
    ok = True
    if m.op == "equals":
        ok = (value == m.value and type(value) is type(m.value)) or (
            isinstance(value, int | float)
            and isinstance(m.value, int | float)
            and not isinstance(value, bool)
            and value == m.value
        )
    elif m.op == "contains":
        ok = (m.value in value) if isinstance(value, str | list) else (isinstance(value, dict) and m.value in value)
    elif m.op == "regex":
        ok = isinstance(value, str) and re.search(m.value, value) is not None
    elif m.op == "one_of":
        ok = value in m.value
    elif m.op == "type":
        ok = isinstance(value, _TYPES[m.value]) and not (m.value in ("number", "integer") and isinstance(value, bool))
    if ok:
        return None
    return Violation(
        f"expect.{m.op}",
        where,
        f"{m.op} {_short(m.value)!s} does not hold",
        expected=m.value,
        actual=_short(value),
    )


def check_tool_calls(exp: ToolCallsExpectation, calls: Sequence[ToolCall]) -> list[Violation]:
    out: list[Violation] = []
    if exp.count is not None and len(calls) != exp.count:
        code = "tool.missing" if not calls else "tool.count"
        out.append(
            Violation(
                code,
                "tool_calls",
                f"expected {exp.count} tool call(s), got {len(calls)}",
                expected=exp.count,
                actual=len(calls),
            )
        )
    if exp.min is not None and len(calls) < exp.min:
        code = "tool.missing" if not calls else "tool.count"
        out.append(
            Violation(
                code,
                "tool_calls",
                f"expected at least {exp.min} tool call(s), got {len(calls)}",
                expected=f">= {exp.min}",
                actual=len(calls),
            )
        )
    names = [c.name for c in calls]
    for want in exp.names:
        if want not in names:
            out.append(
                Violation(
                    "tool.missing" if not calls else "tool.name",
                    "tool_calls",
                    f"no call of tool {want!r}",
                    expected=want,
                    actual=names,
                )
            )
    if exp.distinct_ids:
        ids = [c.id for c in calls if c.id]
        if len(ids) != len(set(ids)):
            out.append(Violation("tool.count", "tool_calls[*].id", "tool-call ids are not distinct", actual=ids))
    for i, call in enumerate(calls):
        try:
            args = call.parsed_arguments()
        except ValueError:
            continue  # the dialect already reported tool.args
        for m in exp.args:
            v = check_matcher(m, args, prefix=f"tool_calls[{i}].arguments")
            if v is not None:
                out.append(v)
    return out


def check_expect(exp: Expect, exchange: Exchange, final: Any, dialect: Dialect, stream: bool) -> list[Violation]:
    """Every expectation of one step. Matchers are skipped when the status is already wrong:
    they would only repeat that failure."""
    out: list[Violation] = []
    if exchange.status not in exp.status:
        want = exp.status[0] if len(exp.status) == 1 else list(exp.status)
        out.append(
            Violation(
                "status",
                "status",
                f"HTTP {exchange.status}, expected {want}",
                expected=want,
                actual=exchange.status,
            )
        )
        return out
    if exp.content_type and not exchange.content_type.lower().startswith(exp.content_type.lower()):
        out.append(
            Violation(
                "content_type",
                "headers.content-type",
                "unexpected content type",
                expected=exp.content_type,
                actual=exchange.content_type or "(none)",
            )
        )
    if final is None:
        return out
    if exp.error_type is not None:
        actual = jsonpath.resolve(final, "$.error.type")
        if actual != exp.error_type:
            out.append(
                Violation(
                    "expect.equals",
                    "$.error.type",
                    "wrong error type",
                    expected=exp.error_type,
                    actual=None if actual is jsonpath.MISSING else actual,
                )
            )
    if exp.stop_reason:
        reason = dialect.stop_reason(final)
        if reason not in exp.stop_reason:
            want = exp.stop_reason[0] if len(exp.stop_reason) == 1 else list(exp.stop_reason)
            out.append(
                Violation(
                    "expect.one_of" if len(exp.stop_reason) > 1 else "expect.equals",
                    "stop_reason",
                    "unexpected stop reason",
                    expected=want,
                    actual=reason,
                )
            )
    if exp.text:
        text = dialect.text(final)
        out += [v for m in exp.text if (v := check_matcher(m, text, prefix="text")) is not None]
    out += [v for m in exp.json if (v := check_matcher(m, final)) is not None]
    if exp.tool_calls is not None:
        out += check_tool_calls(exp.tool_calls, dialect.tool_calls(final))
    return out


# A stream counts as buffered when everything arrived within this share of the total time...
BUFFERED_SHARE = 0.05
# ...and the answer took long enough for the difference to be measurable. A loaded machine can
# hold a fast local stream back a few hundred milliseconds and then deliver it in one read, which
# looks exactly like buffering; real models take seconds, so one second separates the two.
MIN_JUDGEABLE_MS = 1000.0


def check_streaming(exchange: Exchange, events: int) -> list[Violation]:
    """RELAY_DEFECTS #18: a relay that buffers the whole answer and replays it at the end.

    Judged only when it can be: an answer that is complete in under MIN_JUDGEABLE_MS gives no
    signal, and that is reported as a note rather than passed silently."""
    if not exchange.chunks or exchange.latency_ms is None:
        return []
    first = exchange.chunks[0].offset * 1000
    last = exchange.chunks[-1].offset * 1000
    total = exchange.latency_ms
    if total < MIN_JUDGEABLE_MS or events < 3:
        return [
            Violation(
                "stream.buffered",
                "$",
                f"not judged: {events} events in {total:.0f} ms is too short to tell streaming from buffering",
                severity="note",
            )
        ]
    if last - first <= BUFFERED_SHARE * total:
        return [
            Violation(
                "stream.buffered",
                "$",
                f"all {events} events arrived within {last - first:.0f} ms, {first:.0f} ms after the "
                f"request (total {total:.0f} ms): the relay buffered the stream",
                expected="events spread over the generation time",
                actual=f"TTFT {first:.0f} ms",
            )
        ]
    return []
