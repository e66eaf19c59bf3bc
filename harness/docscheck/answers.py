"""Documented answers and SSE transcripts, judged like live traffic: each becomes an
:class:`~harness.model.Exchange` (its request is the documented request it answers) and goes
through :func:`harness.engine.evaluate_exchange` at the chosen level. Plus the claim an answer makes
about its request (a tool call that request's tool_choice cannot produce)."""

from __future__ import annotations

import json
import re
from typing import Any

from harness import dialects
from harness.docscheck.extract import Block, Transcript
from harness.docscheck.finding import DIALECT_NAME, Finding, endpoint_of
from harness.engine import evaluate_exchange
from harness.model import Chunk, Exchange, Level, Severity, Violation, WireRequest

_EVENT = re.compile(r"events\[(\d+)\]")


def _is_missing(v: Violation) -> bool:
    """Violations that only say something is absent: what an excerpt leaves out on purpose."""
    if v.code in ("schema", "error.shape") and "is a required property" in v.message:
        return True
    if v.code == "tool.stop_reason" and v.actual is None:
        return True
    return v.code in ("grammar.messages.thinking_signature", "usage")


def _missing_name(v: Violation) -> str:
    m = re.match(r'"?\'?([^"\']+)"?\'? is a required property', v.message)
    field = m.group(1) if m else "signature" if v.code.endswith("thinking_signature") else v.code
    return f"{v.path}.{field}" if v.path != "$" else field


def _exchange(request: Any, status: int, content_type: str, body: bytes, endpoint: str) -> Exchange:
    sent = json.dumps(request, ensure_ascii=False).encode() if request is not None else b""
    wire = WireRequest("POST", f"https://docs.invalid{dialects.get(endpoint).path}", {}, sent)
    return Exchange(wire, status, {"content-type": content_type}, (Chunk(0.0, body),))


def _evaluate(exchange: Exchange, endpoint: str, level: Level, **kw: Any) -> tuple[Any, list[Violation]]:
    """evaluate_exchange, except that a documented request whose tool schema is not a JSON Schema
    cannot have arguments checked against it: that is said (at the request), not raised."""
    import jsonschema

    try:
        ev = evaluate_exchange(exchange, endpoint, level=level, **kw)
    except (jsonschema.exceptions.UnknownType, jsonschema.exceptions.SchemaError, re.error) as exc:
        why = str(exc).splitlines()[0]
        return None, [Violation("docs.unparseable", "$", f"not judged: the paired request's tool schema: {why}")]
    return ev.final, list(ev.violations)


def check_answer(page: str, block: Block, level: Level, rejected: set[int]) -> list[Finding]:
    value = block.value
    piece = f"answer@{block.line}"
    endpoint, out = endpoint_of(page, block, value, "answer")
    if endpoint is None:
        return out
    request = block.request.value if block.request is not None else None
    echoed = _echoed_request(value, request) if endpoint == "responses" else None
    if echoed is not None and block.request is not None:
        out.append(
            Finding(
                page,
                block.line,
                "docs.pairing",
                f"this answer echoes the tools {sorted(_function_names(echoed))}, the request it follows (line "
                f"{block.request.line}) declares {sorted(_function_names(request))}: the example answers another "
                "request; judged against the one it echoes",
                "note",
                piece,
            )
        )
        request = echoed
    status = block.status or 200
    if block.role == "error" and status < 400:
        status = 400
    body = json.dumps(value, ensure_ascii=False).encode()
    final, violations = _evaluate(_exchange(request, status, "application/json", body, endpoint), endpoint, level)
    # Fields an example leaves out: one finding per code and severity, not one per field. In an
    # example the page presents as partial (or with "..." placeholders) they are notes.
    left_out: dict[tuple[str, Severity], list[str]] = {}
    for v in violations:
        if (
            v.code == "grammar.messages.request_accepted"
            and block.request is not None
            and block.request.line in rejected
        ):
            continue  # the request's own finding says it; this is the same contradiction
        if _is_missing(v):
            severity: Severity = "note" if block.excerpt else v.severity
            left_out.setdefault((v.code, severity), []).append(_missing_name(v))
            continue
        message = v.message + (f" (expected {v.expected!r}, documented {v.actual!r})" if v.expected is not None else "")
        out.append(Finding(page, block.line_of(v.path), v.code, message, v.severity, piece, v.path))
    for (code, severity), names in left_out.items():
        what = "an example the page presents as partial" if block.excerpt else "the example"
        always = "the official API always sends" if severity == "strict" else "the official format requires"
        out.append(
            Finding(
                page,
                block.line,
                code,
                f"{what} leaves out what {always}: {', '.join(dict.fromkeys(names))}",
                severity,
                piece,
            )
        )
    if status < 300:
        out += _stop_reason_claim(page, block, endpoint, request, final if final is not None else value)
    return out


def _function_names(request: Any) -> set[str]:
    tools = request.get("tools") if isinstance(request, dict) else None
    return {t["name"] for t in tools or () if isinstance(t, dict) and isinstance(t.get("name"), str)}


def _echoed_request(answer: Any, request: Any) -> dict[str, Any] | None:
    """A Responses answer repeats its request's tools and tool_choice. When they are not the tools of
    the documented request before it, the example was made with another request: that echo, not
    the page's request, is what the answer must agree with."""
    if not isinstance(answer, dict) or not isinstance(answer.get("tools"), list) or not isinstance(request, dict):
        return None
    if _function_names(answer) == _function_names(request):
        return None
    return {
        "model": answer.get("model"),
        "input": "",
        "tools": answer["tools"],
        "tool_choice": answer.get("tool_choice"),
    }


def _tool_choice_kind(endpoint: str, request: Any) -> str:
    """none | forced | auto | no-tools, from the documented request."""
    if not isinstance(request, dict):
        return "auto"
    tools = request.get("tools")
    if not isinstance(tools, list) or not tools:
        return "no-tools"
    choice = request.get("tool_choice")
    kind = choice.get("type") if isinstance(choice, dict) else choice
    if kind == "none":
        return "none"
    if kind in ("any", "tool", "required", "function", "allowed_tools") and not (
        isinstance(choice, dict) and choice.get("mode") == "auto"
    ):
        return "forced"
    return "auto"


def _stop_reason_claim(page: str, block: Block, endpoint: str, request: Any, final: Any) -> list[Finding]:
    if block.request is None or not isinstance(final, dict):
        return []
    dialect = dialects.get(endpoint)
    calls = dialect.tool_calls(final)
    stop = dialect.stop_reason(final)
    tool_stop = {"messages": "tool_use", "chat": "tool_calls"}.get(endpoint)
    claims_tool = bool(calls) or (tool_stop is not None and stop == tool_stop)
    kind = _tool_choice_kind(endpoint, request)
    path = {"messages": "$.stop_reason", "chat": "$.choices[0].finish_reason", "responses": "$.output"}[endpoint]
    where = block.line_of(path)
    req_line = block.request.line
    if claims_tool and kind in ("none", "no-tools"):
        why = "tool_choice none" if kind == "none" else "no tools"
        return [
            Finding(
                page,
                where,
                "docs.claim.stop_reason",
                f"the answer shows a tool call ({stop or 'function_call'}) but the request it answers (line {req_line})"
                f" has {why}: the official API cannot answer it so",
                piece=f"answer@{block.line}",
                path=path,
            )
        ]
    if kind == "forced" and not calls and stop is not None and stop not in ("max_tokens", "length", "incomplete"):
        return [
            Finding(
                page,
                where,
                "docs.claim.stop_reason",
                f"the request (line {req_line}) forces a tool call with tool_choice, but the answer shows none"
                f" (stop: {stop})",
                piece=f"answer@{block.line}",
                path=path,
            )
        ]
    return []


def check_transcript(page: str, t: Transcript, level: Level) -> list[Finding]:
    piece = f"stream@{t.line}"
    endpoint = t.endpoint
    out: list[Finding] = []
    if endpoint is None:
        first = re.search(r"data:\s*(\{.*)", t.text)
        kind = None
        if first:
            try:
                kind = json.loads(first.group(1)).get("type") or json.loads(first.group(1)).get("object")
            except (ValueError, AttributeError):
                kind = None
        endpoint = {"message_start": "messages", "chat.completion.chunk": "chat"}.get(str(kind))
        if endpoint is None and isinstance(kind, str) and kind.startswith("response."):
            endpoint = "responses"
        if endpoint is None:
            return [
                Finding(
                    page, t.line, "docs.endpoint", "an SSE transcript of no known dialect; not judged", "note", piece
                )
            ]
        out.append(
            Finding(
                page,
                t.line,
                "docs.endpoint",
                f"judged as a {DIALECT_NAME[endpoint]} stream by its events",
                "note",
                piece,
            )
        )
    request = t.request.value if t.request is not None else None
    ex = _exchange(request, 200, "text/event-stream", t.text.encode(), endpoint)
    _, violations = _evaluate(ex, endpoint, level, stream_requested=None if request is not None else True)
    for v in violations:
        m = _EVENT.search(v.path)
        line = t.event_lines[int(m.group(1))] if m and int(m.group(1)) < len(t.event_lines) else t.line
        if t.abbreviated:  # what is wrong may be what the page left out
            out.append(Finding(page, line, v.code, f"{v.message} (in a stream the page abbreviates)", "note", piece))
        else:
            out.append(Finding(page, line, v.code, v.message, v.severity, piece, v.path))
    return out
