"""Judge what a page documents with the rules that judge live traffic.

A documented answer becomes an :class:`~harness.model.Exchange` (its request is the documented
request it answers) and goes through :func:`harness.engine.evaluate_exchange`, the same call as a
live answer, at the same level. A documented request is checked against the official request
schemas (the ones the dialects use for ``grammar.messages.request_accepted``) plus the rules the
official APIs enforce that a schema cannot say. Field tables are checked against the dialects'
vocabularies; claims (headings, stop reasons) against the examples under them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from harness import dialects, validation
from harness.docscheck import vocab
from harness.docscheck.extract import Block, Extracted, Transcript, endpoint_near
from harness.engine import evaluate_exchange
from harness.model import Chunk, Exchange, Level, Severity, Violation, WireRequest

DIALECT_NAME = {"chat": "Chat Completions", "messages": "Anthropic Messages", "responses": "Responses"}
_REQUEST_SCHEMA = {
    "chat": "chat/request",
    "messages": "messages/compatible/request",
    "responses": "responses/compatible/request",
}
_STREAM_CLAIM = re.compile(r"stream|流式|\bSSE\b|server-sent", re.I)
_NOT_STREAM = re.compile(r"non-?stream|非流式|无流式|不流式", re.I)
_EVENT = re.compile(r"events\[(\d+)\]")
_TITLE_MAX = 60
_MINIMUM_BUDGET = 1024


@dataclass(frozen=True)
class Finding:
    page: str
    line: int
    code: str
    message: str
    severity: Severity = "error"
    piece: str = "page"  # which summary item it belongs to
    path: str = "$"

    def fails(self, level: Level) -> bool:
        return Violation(self.code, self.path, self.message, severity=self.severity).fails(level)

    def render(self) -> str:
        mark = "" if self.severity == "error" else f"({self.severity}) "
        return f"{self.page}:{self.line}: {self.code}: {mark}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "path": self.path, "message": self.message, "line": self.line}
        if self.severity != "error":
            out["severity"] = self.severity
        return out


def guess_endpoint(value: Any, role: str) -> str | None:
    """The dialect a body belongs to by its fields alone (when the page names no endpoint)."""
    if not isinstance(value, dict):
        return None
    if role == "request":
        tools = value.get("tools") if isinstance(value.get("tools"), list) else []
        if "input" in value:
            return "responses"
        if "thinking" in value or "system" in value or any(isinstance(t, dict) and "input_schema" in t for t in tools):
            return "messages"
        return "chat" if "messages" in value else None
    if "choices" in value or str(value.get("object", "")).startswith("chat.completion"):
        return "chat"
    if "output" in value or value.get("object") == "response":
        return "responses"
    if value.get("type") in ("message", "error") or "stop_reason" in value or "content" in value:
        return "messages"
    return None


def judge(ex: Extracted, level: Level = "compatible") -> list[Finding]:
    page = ex.page.name
    out = [
        Finding(page, p.line, "docs.unparseable", p.message, "note" if p.severity == "note" else "error")
        for p in ex.problems
    ]
    rejected: set[int] = set()  # lines of requests the official API rejects
    for block in ex.requests:
        found = check_request(page, block)
        if any(f.code == "docs.request.rejected" for f in found):
            rejected.add(block.line)
        out += found
    for block in ex.answers:
        out += check_answer(page, block, level, rejected)
    for t in ex.transcripts:
        out += check_transcript(page, t, level)
    out += check_tables(ex)
    out += check_auth(ex)
    out += check_stream_claims(ex)
    if not (ex.requests or ex.answers or ex.transcripts or ex.rows or ex.problems):
        out.append(
            Finding(
                page,
                1,
                "docs.empty",
                "found no request body, answer, SSE transcript or field table on this page",
                severity="note",
            )
        )
    seen: set[tuple[int, str, str]] = set()
    unique = []
    for f in sorted(out, key=lambda f: (f.line, f.code)):
        key = (f.line, f.code, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


# ---- requests --------------------------------------------------------------------------------------


def _endpoint_of(page: str, block: Block | Transcript, value: Any, role: str) -> tuple[str | None, list[Finding]]:
    if block.endpoint:
        return block.endpoint, []
    guess = guess_endpoint(value, role)
    if guess is None:
        return None, [
            Finding(
                page,
                block.line,
                "docs.endpoint",
                f"the page names no endpoint for this {role} and its fields do not say; not judged",
                severity="note",
                piece=f"{role}@{block.line}",
            )
        ]
    return guess, [
        Finding(
            page,
            block.line,
            "docs.endpoint",
            f"the page names no endpoint for this {role}; judged as {DIALECT_NAME[guess]} by its fields",
            severity="note",
            piece=f"{role}@{block.line}",
        )
    ]


def check_request(page: str, block: Block) -> list[Finding]:
    body = block.value
    piece = f"request@{block.line}"
    endpoint, out = _endpoint_of(page, block, body, "request")
    if endpoint is None or not isinstance(body, dict):
        return out
    name = DIALECT_NAME[endpoint]

    def add(code: str, path: str, message: str, severity: Severity = "error") -> None:
        out.append(Finding(page, block.line_of(path), code, message, severity, piece, path))

    bad_tools = _tool_shapes(body, endpoint, add)
    for err in validation.validate(_REQUEST_SCHEMA[endpoint], body):
        if any(err.path == p or err.path.startswith(p + ".") or err.path.startswith(p + "[") for p in bad_tools):
            continue  # the tool-shape finding already says what is wrong there
        if err.path == "$.thinking.budget_tokens" and "minimum" in err.message:
            add(
                "docs.request.rejected",
                err.path,
                f"thinking.budget_tokens {body['thinking'].get('budget_tokens')} is under {_MINIMUM_BUDGET}: the "
                f"official {name} API rejects it with 400 invalid_request_error",
            )
            continue
        add(
            "docs.request.rejected",
            err.path,
            f"the official {name} API rejects this request: {err.message} at {err.path}",
        )
    if endpoint == "messages":
        _messages_rules(body, add)
    for key in body:
        if key in vocab.request_params(endpoint):
            continue
        owners = [DIALECT_NAME[e] for e in dialects.ENDPOINTS if e != endpoint and key in vocab.request_params(e)]
        if owners:
            add(
                "docs.request.field",
                f"$.{key}",
                f"{key!r} is a parameter of {' / '.join(owners)}; the official {name} API rejects it as unknown",
            )
        else:
            add(
                "docs.request.field",
                f"$.{key}",
                f"{key!r} is not a parameter of {name} that relaycheck knows (the official API rejects unknown ones)",
                "note",
            )
    return out


def _tool_shapes(body: dict[str, Any], endpoint: str, add: Any) -> list[str]:
    """Tools written in another dialect's shape; returns their paths."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    bad = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            continue
        path = f"$.tools[{i}]"
        nested = isinstance(tool.get("function"), dict)
        why = None
        if endpoint == "messages" and (nested or tool.get("type") == "function"):
            why = "an OpenAI function tool; Messages tools are {name, description, input_schema}"
        elif endpoint == "messages" and "type" not in tool and "input_schema" not in tool:
            why = "a custom tool without input_schema" + (
                " (parameters is the OpenAI name; Messages calls it input_schema)" if "parameters" in tool else ""
            )
        elif endpoint == "chat" and "input_schema" in tool:
            why = "an Anthropic tool; Chat Completions tools are {type: function, function: {name, parameters}}"
        elif endpoint == "chat" and tool.get("type") == "function" and not nested and "name" in tool:
            why = "a Responses (flat) function tool; Chat Completions nests it: {type: function, function: {...}}"
        elif endpoint == "responses" and "input_schema" in tool:
            why = "an Anthropic tool; Responses function tools are {type: function, name, parameters}"
        elif endpoint == "responses" and nested:
            why = "a Chat Completions (nested) function tool; Responses tools are flat: {type, name, parameters}"
        if why:
            add("docs.request.tool_shape", path, f"tools[{i}] is {why}; the official API rejects it")
            bad.append(path)
            continue
        fn = tool.get("function") if nested else tool
        key = "input_schema" if endpoint == "messages" else "parameters"
        problem = _schema_problem(fn.get(key)) if isinstance(fn, dict) and key in fn else None
        if problem:
            add("docs.request.rejected", f"{path}", f"tools[{i}] {key} is not a valid JSON Schema: {problem}")
            bad.append(path)
    return bad


def _schema_problem(schema: Any) -> str | None:
    """Why a tool's declared schema is not a JSON Schema (the official APIs reject such tools)."""
    import jsonschema

    if not isinstance(schema, dict):
        return f"a {type(schema).__name__}, not an object"
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return exc.message
    return None


def _messages_rules(body: dict[str, Any], add: Any) -> None:
    """What the official Messages API enforces beyond its request schema."""
    thinking, max_tokens = body.get("thinking"), body.get("max_tokens")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, int) and isinstance(max_tokens, int) and budget >= max_tokens:
            add(
                "docs.request.rejected",
                "$.thinking.budget_tokens",
                f"thinking.budget_tokens {budget} is not below max_tokens {max_tokens}: the official API rejects it",
            )
    for i, msg in enumerate(body.get("messages") or ()):
        if isinstance(msg, dict) and msg.get("role") not in ("user", "assistant", None):
            add(
                "docs.request.rejected",
                f"$.messages[{i}].role",
                f"messages[{i}].role {msg.get('role')!r}: Messages takes user and assistant turns only"
                + (" (the system prompt is the top-level system parameter)" if msg.get("role") == "system" else ""),
            )
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool" and not choice.get("name"):
        add("docs.request.rejected", "$.tool_choice", "tool_choice {type: tool} without the tool's name")


# ---- answers -----------------------------------------------------------------------------------------


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
    endpoint, out = _endpoint_of(page, block, value, "answer")
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


# ---- tables, auth, claims ------------------------------------------------------------------------------


def check_tables(ex: Extracted) -> list[Finding]:
    out = []
    for row in ex.rows:
        if row.role == "header":
            continue
        endpoint = endpoint_near(ex.endpoints, row.line, row.line)[0]
        if endpoint is None:
            continue
        for seg in (s for s in re.split(r"[.\[\]]+", row.name) if s):
            if seg in vocab.field_names(endpoint):
                continue
            owners = [DIALECT_NAME[e] for e in dialects.ENDPOINTS if e != endpoint and seg in vocab.field_names(e)]
            what = "an answer" if row.role == "answer" else "a request"
            if owners:
                out.append(
                    Finding(
                        ex.page.name,
                        row.line,
                        "docs.table.field",
                        f"the table lists {seg!r}, a field of {' / '.join(owners)}: {what} of the "
                        f"{DIALECT_NAME[endpoint]} API has no such field",
                        piece="fields",
                    )
                )
            else:
                out.append(
                    Finding(
                        ex.page.name,
                        row.line,
                        "docs.table.field",
                        f"the table lists {seg!r}, a name relaycheck knows in no dialect",
                        severity="note",
                        piece="fields",
                    )
                )
            break
    return out


def check_auth(ex: Extracted) -> list[Finding]:
    def by_endpoint(lines: tuple[int, ...]) -> dict[str | None, list[int]]:
        out: dict[str | None, list[int]] = {}
        for n in lines:
            out.setdefault(endpoint_near(ex.endpoints, n, n)[0], []).append(n)
        return out

    bearer = by_endpoint(ex.auth_lines["bearer"])
    xkey = by_endpoint(ex.auth_lines["x-api-key"])
    version = ex.auth_lines["anthropic-version"]
    out = []
    page = ex.page.name
    if bearer.get("messages"):
        lines = bearer["messages"]
        shown = ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines[:6]))
        shown += " ..." if len(lines) > 6 else ""
        if xkey.get("messages"):
            text = (
                f"the page offers Authorization: Bearer for /v1/messages besides x-api-key ({shown}); the "
                "official Anthropic API authenticates API keys with x-api-key"
            )
        else:
            text = (
                f"the page authenticates /v1/messages with Authorization: Bearer ({shown}); the official "
                "Anthropic API takes x-api-key plus anthropic-version, which is what an Anthropic SDK sends"
            )
        if not version:
            text += "; the page never mentions the anthropic-version header the official API requires"
        out.append(Finding(page, lines[0], "docs.auth", text, "note", "page"))
    for endpoint in ("chat", "responses"):
        if xkey.get(endpoint) and not bearer.get(endpoint):
            out.append(
                Finding(
                    page,
                    xkey[endpoint][0],
                    "docs.auth",
                    f"the page authenticates {dialects.get(endpoint).path} with x-api-key; the official OpenAI API "
                    "takes Authorization: Bearer, which is what an OpenAI SDK sends",
                    "note",
                    "page",
                )
            )
    return out


def _titles(ex: Extracted) -> list[tuple[int, int, int]]:
    """(line, first line, last line) of each heading's scope. Without Markdown/HTML headings, the short
    lines above the first documented thing are the page's title, and the whole page its scope."""
    total = len(ex.page.lines)
    if ex.headings:
        out = []
        for i, h in enumerate(ex.headings):
            end = next((g.line - 1 for g in ex.headings[i + 1 :] if g.level <= h.level), total)
            out.append((h.line, h.line, end))
        return [t for t in out if _claims_stream(ex.page.lines[t[0] - 1])]
    first = min([b.line for b in ex.blocks] + [e[0] for e in ex.endpoints] + [r.line for r in ex.rows] + [total])
    return [
        (n + 1, 1, total)
        for n, line in enumerate(ex.page.lines[: first - 1])
        if line.strip() and len(line.strip()) <= _TITLE_MAX and _claims_stream(line)
    ][:1]


def _claims_stream(text: str) -> bool:
    return bool(_STREAM_CLAIM.search(text)) and not _NOT_STREAM.search(text)


def check_stream_claims(ex: Extracted) -> list[Finding]:
    out = []
    for line, first, last in _titles(ex):
        requests = [b for b in ex.requests if first <= b.line <= last and isinstance(b.value, dict)]
        if not requests or any(b.value.get("stream") is True for b in requests):
            continue
        shown = ("line " if len(requests) == 1 else "lines ") + ", ".join(str(b.line) for b in requests[:6])
        shown += " ..." if len(requests) > 6 else ""
        out.append(
            Finding(
                ex.page.name,
                line,
                "docs.claim.stream",
                f"the heading says streaming, but none of the {len(requests)} request(s) under it ({shown}) "
                'sends "stream": true: copied as shown, they get one JSON answer, not a stream',
                piece="page",
            )
        )
    return out
