"""What a documentation page documents, with line numbers (1-based, in the page as published).

From the text of a :class:`~harness.docscheck.page.Page`: endpoints (``POST .../v1/messages``, curl
URLs, SDK calls), auth descriptions, JSON request bodies (bare, curl ``-d``, SDK snippets with
literal JSON or literal Python keyword arguments), answers (JSON under a response/200/返回/响应
label or shaped like one), SSE transcripts, field tables, headings. Each answer is paired with
the request before it. Nothing is guessed: a fragment that does not parse becomes a Problem.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from harness.docscheck import jsonpos
from harness.docscheck.page import Page

ENDPOINT_BY_PATH = {"chat/completions": "chat", "messages": "messages", "responses": "responses"}
_ENDPOINT = re.compile(r"/v1/(chat/completions|messages|responses)(?![\w/])")
_SDK_CALL = re.compile(r"\.(chat\.completions|messages|responses)\.create\(")
_SDK_ENDPOINT = {"chat.completions": "chat", "messages": "messages", "responses": "responses"}
# Section labels: short lines (or headings) that say what follows. Checked in this order.
_HEADER_LABEL = re.compile(r"^(#+\s*)?(header|headers|请求头|header\s*参数|header parameters)\b", re.I)
_ANSWER_LABEL = re.compile(
    r"response|响应|返回|出参|输出|returns?\b|\b200\b|\boutput\b|result|结果|answer|\b[45]\d\d\b|error|错误", re.I
)
_REQUEST_LABEL = re.compile(r"request|请求|入参|body|payload|参数|parameters|\bcurl\b|example|示例|调用|call", re.I)
_EXCERPT = re.compile(
    r"关键|节选|部分|摘录|简化|省略|excerpt|abridged|truncated|simplified|partial|key fields|omitted|trimmed", re.I
)
_STATUS = re.compile(r"(?<![\w.])([2-5]\d\d)(?![\d.])")  # "200 OK", "🟢200OK", not an id's digits
_TYPE_WORDS = r"string|integer|number|boolean|object|array|null|enum|int|float|bool|map|dict|list"
_TEXT_ROW = re.compile(rf"^\s*([A-Za-z_][\w.\-\[\]]*)\s+({_TYPE_WORDS})\b", re.I)
_NAME = re.compile(r"^[A-Za-z_][\w.\[\]]*$")
_TABLE_HEAD = re.compile(r"^(name|field|parameter|param|key|参数|字段|名称|参数名|字段名)$", re.I)
_SSE_LINE = re.compile(r"^\s*(event|data|id|retry)\s*:|^:")
_ELIDED = re.compile(r"^\s*(\.\.\.|…|//.*|\[\.\.\.\]|\(\.\.\.\))\s*$")  # "events left out here"
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_LABEL_MAX = 60  # longer lines are prose, not section labels


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    severity: str = "error"  # "note" for what the page means as shorthand (elisions, SDK variables)


@dataclass(frozen=True)
class Block:
    """A JSON object the page documents. ``role``: request | answer | error | other."""

    line: int
    end_line: int
    value: Any
    role: str
    source: str  # json | escaped | sdk
    lines: dict[str, int] = field(default_factory=dict)
    label: str = ""
    excerpt: bool = False
    status: int | None = None
    endpoint: str | None = None
    endpoint_line: int | None = None
    request: Block | None = None  # for answers: the request they answer

    def line_of(self, path: str) -> int:
        return self.line + jsonpos.line_of(self.lines, path)


@dataclass(frozen=True)
class Transcript:
    line: int
    end_line: int
    text: str
    event_lines: tuple[int, ...]  # line of each event, in order
    endpoint: str | None = None
    request: Block | None = None
    abbreviated: bool = False  # the page leaves events out ("..." lines, data: {...})


@dataclass(frozen=True)
class TableRow:
    line: int
    name: str
    role: str  # header | request | answer


@dataclass(frozen=True)
class Heading:
    line: int
    level: int
    text: str


@dataclass(frozen=True)
class Extracted:
    page: Page
    blocks: tuple[Block, ...]
    transcripts: tuple[Transcript, ...]
    rows: tuple[TableRow, ...]
    headings: tuple[Heading, ...]
    problems: tuple[Problem, ...]
    endpoints: tuple[tuple[int, str], ...]  # (line, endpoint) of every mention
    auth_lines: dict[str, tuple[int, ...]]  # bearer | x-api-key | anthropic-version -> lines

    @property
    def requests(self) -> list[Block]:
        return [b for b in self.blocks if b.role == "request"]

    @property
    def answers(self) -> list[Block]:
        return [b for b in self.blocks if b.role in ("answer", "error")]


class _Lines:
    """Offsets <-> 1-based line numbers, and the section each line is in."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self.all = text.split("\n")
        self.section: list[str] = []
        current = ""
        for line in self.all:
            s = line.strip()
            heading = _MD_HEADING.match(line)
            if s and (len(s) <= _LABEL_MAX or heading) and not s.startswith(("{", "}", '"', "-", "curl", "|")):
                kind = _label_kind(s)
                if kind or heading:  # a heading starts a new section even when it says nothing
                    current = kind
            self.section.append(current)

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def before(self, line: int, n: int = 3) -> str:
        """The nearest non-empty lines above ``line`` (for labels like "200 OK 示例")."""
        out = []
        i = line - 2
        while i >= 0 and len(out) < n:
            s = self.all[i].strip()
            if s:
                out.append(s)
            i -= 1
        return " ".join(reversed(out))


def _label_kind(s: str) -> str:
    if _HEADER_LABEL.search(s):
        return "header"
    if _ANSWER_LABEL.search(s):
        return "answer"
    if _REQUEST_LABEL.search(s):
        return "request"
    return ""


def _role(value: Any, section: str) -> str:
    if not isinstance(value, dict):
        return "other"
    if value.get("type") == "error" or (isinstance(value.get("error"), dict) and "choices" not in value):
        return "error"
    # Shaped like a whole answer. (Not a lone assistant message or a function_call_output item:
    # pages show those as parts of a conversation.)
    if (
        isinstance(value.get("choices"), list)
        or isinstance(value.get("output"), list)
        or "stop_reason" in value
        or value.get("object") in ("chat.completion", "response", "chat.completion.chunk")
        or value.get("type") == "message"
    ):
        return "answer"
    asks = "model" in value or "tools" in value or "instructions" in value
    if (
        "messages" in value
        or ("input" in value and asks)
        or ("model" in value and ("max_tokens" in value or "tools" in value))
    ):
        return "request"
    # Under a response label, an object shaped like a whole answer (not a lone content block, event or
    # tool definition, which a page shows to explain one part).
    ident = value.get("id")
    if section == "answer" and (
        isinstance(value.get("content"), list)
        or "usage" in value
        or "object" in value
        or (isinstance(ident, str) and ident.startswith(("msg_", "chatcmpl-", "resp_")))
    ):
        return "answer"
    return "other"


def _is_excerpt(value: Any, label: str) -> bool:
    if _EXCERPT.search(label):
        return True

    def walk(v: Any) -> bool:
        if isinstance(v, str):
            return v.strip() in ("...", "…", "……")
        if isinstance(v, dict):
            return any(walk(x) for x in v.values())
        if isinstance(v, list):
            return any(walk(x) for x in v)
        return False

    return walk(value)


def _sse_runs(lines: list[str]) -> list[tuple[int, int]]:
    """0-based [start, end) line runs that are an SSE transcript (at least one data: line and two
    field lines; blank lines inside are event separators, "..." lines elisions)."""
    n = len(lines)

    def inside(j: int) -> bool:
        if _SSE_LINE.match(lines[j]):
            return True
        k = j
        while k < n and (not lines[k].strip() or _ELIDED.match(lines[k])):
            k += 1
        return k > j and k < n and bool(_SSE_LINE.match(lines[k]))

    runs = []
    i = 0
    while i < n:
        if not _SSE_LINE.match(lines[i]):
            i += 1
            continue
        j, fields, data = i, 0, 0
        while j < n and inside(j):
            if _SSE_LINE.match(lines[j]):
                fields += 1
                data += lines[j].lstrip().startswith("data")
            j += 1
        if fields >= 2 and data:
            runs.append((i, j))
        i = max(j, i + 1)
    return runs


def _transcript_body(lines: list[str]) -> tuple[str, tuple[int, ...], bool]:
    """The stream's text (indentation and elisions taken out, one line per page line), the offset of
    each event's first line, and whether the page abbreviates the stream."""
    out: list[str] = []
    starts: list[int] = []
    abbreviated = False
    fresh = True
    for k, line in enumerate(lines):
        if _ELIDED.match(line):
            abbreviated = True
            line = ""
        line = line.strip()
        if not line:
            fresh = True
        elif fresh:
            starts.append(k)
            fresh = False
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload != "[DONE]" and ("..." in payload or "…" in payload):
                try:
                    json.loads(payload)
                except ValueError:
                    abbreviated = True
        out.append(line)
    return "\n".join(out).strip("\n") + "\n\n", tuple(starts), abbreviated


def _sdk_calls(text: str) -> list[tuple[int, int, str, Any, str | None]]:
    """(start, end, endpoint, body, problem) of SDK calls: ``client.messages.create(model="...", ...)``
    with literal keyword arguments (body), with other arguments (problem), or with a JSON literal
    ``client.chat.completions.create({...})`` (neither: start is the ``{``, an endpoint hint)."""
    out = []
    for m in _SDK_CALL.finditer(text):
        open_at = m.end() - 1
        depth, i, quote = 0, open_at, ""
        while i < len(text):
            c = text[i]
            if quote:
                if c == "\\":
                    i += 2
                    continue
                if c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        args = text[open_at + 1 : i]
        endpoint = _SDK_ENDPOINT[m.group(1)]
        if args.strip().startswith("{"):
            # A JSON literal (JavaScript SDKs): the JSON scan finds it; the call says its endpoint.
            brace = open_at + 1 + args.index("{")
            out.append((brace, brace, endpoint, None, None))
            continue
        try:
            call = ast.parse(f"f({args})", mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            why = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
            out.append((m.start(), i + 1, endpoint, None, f"an SDK call that is not Python ({why}): not checked"))
            continue
        body: dict[str, Any] = {}
        opaque: list[str] = []
        for kw in call.keywords if isinstance(call, ast.Call) else ():
            try:
                body[str(kw.arg)] = ast.literal_eval(kw.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                opaque.append(f"{kw.arg}=" if kw.arg else "**")
        if not isinstance(call, ast.Call) or call.args or opaque or any(kw.arg is None for kw in call.keywords):
            what = ", ".join(opaque) or "positional arguments"
            out.append(
                (
                    m.start(),
                    i + 1,
                    endpoint,
                    None,
                    f"an SDK call with arguments that are not literal ({what}): not checked",
                )
            )
            continue
        out.append((m.start(), i + 1, endpoint, body, None))
    return out


def extract(page: Page) -> Extracted:
    text = page.text
    idx = _Lines(text)
    lines = idx.all
    problems: list[Problem] = []
    if page.decode_problem:
        problems.append(Problem(1, page.decode_problem))

    endpoints = tuple(
        (n + 1, ENDPOINT_BY_PATH[m.group(1)]) for n, line in enumerate(lines) for m in _ENDPOINT.finditer(line)
    )
    auth: dict[str, list[int]] = {"bearer": [], "x-api-key": [], "anthropic-version": []}
    for n, line in enumerate(lines):
        low = line.lower()
        if "bearer" in low:
            auth["bearer"].append(n + 1)
        if "x-api-key" in low:
            auth["x-api-key"].append(n + 1)
        if "anthropic-version" in low:
            auth["anthropic-version"].append(n + 1)

    headings = _headings(page, lines)

    sse_runs = _sse_runs(lines)
    in_sse = set()
    for a, b in sse_runs:
        in_sse.update(range(a + 1, b + 1))

    sdk = _sdk_calls(text)
    raw_blocks: list[Block] = []
    for f in jsonpos.find_objects(text):
        line = idx.line(f.start)
        if line in in_sse or any(a < f.start < b for a, b, _, body, _ in sdk if body is not None):
            continue  # part of an SSE transcript or of an SDK call's (literal) arguments
        hint = next((ep for a, _, ep, body, problem in sdk if a == f.start and body is None and not problem), None)
        end_line = idx.line(max(f.end - 1, f.start))
        if f.problem:
            problems.append(Problem(line, f.problem, "note" if f.abbreviated else "error"))
            continue
        label = idx.before(line)
        section = idx.section[line - 1]
        role = _role(f.value, section)
        status_m = _STATUS.search(label) if role in ("answer", "error") else None
        raw_blocks.append(
            Block(
                line,
                end_line,
                f.value,
                role,
                "escaped" if f.escaped else "json",
                f.lines,
                label,
                _is_excerpt(f.value, label),
                int(status_m.group(1)) if status_m else None,
                endpoint=hint,
                endpoint_line=line if hint else None,
            )
        )
    for start, end, endpoint, body, problem in sdk:
        line = idx.line(start)
        if body is None and problem is None:
            continue  # an endpoint hint for a JSON block
        if problem:
            problems.append(Problem(line, problem, "note"))
            continue
        raw_blocks.append(
            Block(
                line, idx.line(end), body, "request", "sdk", {}, idx.before(line), endpoint=endpoint, endpoint_line=line
            )
        )
    raw_blocks.sort(key=lambda b: b.line)

    blocks: list[Block] = []
    last_request: Block | None = None
    for b in raw_blocks:
        ep, ep_line = (b.endpoint, b.endpoint_line) if b.endpoint else endpoint_near(endpoints, b.line, b.end_line)
        if b.role == "request":
            b = _with(b, endpoint=ep, endpoint_line=ep_line)
            last_request = b
        elif b.role in ("answer", "error"):
            paired = last_request
            if paired is not None and ep and ep_line and ep_line > paired.line and ep != paired.endpoint:
                paired = None  # another endpoint is named between them: a new section, not its answer
            ep2 = paired.endpoint if paired is not None and paired.endpoint else ep
            b = _with(b, endpoint=ep2, endpoint_line=paired.endpoint_line if paired else ep_line, request=paired)
        blocks.append(b)

    transcripts = []
    for a, b in sse_runs:
        body, starts, abbreviated = _transcript_body(lines[a:b])
        paired = next((r for r in reversed(blocks) if r.role == "request" and r.line < a + 1), None)
        ep = paired.endpoint if paired is not None else endpoint_near(endpoints, a + 1, b)[0]
        event_lines = tuple(a + 1 + k for k in starts)
        transcripts.append(Transcript(a + 1, b, body, event_lines, ep, paired, abbreviated))

    rows = _table_rows(idx)
    return Extracted(
        page,
        tuple(blocks),
        tuple(transcripts),
        tuple(rows),
        tuple(headings),
        tuple(problems),
        endpoints,
        {k: tuple(v) for k, v in auth.items()},
    )


def _headings(page: Page, lines: list[str]) -> list[Heading]:
    """HTML: the <h1>..<h6> lines. Markdown and text: ``#`` lines outside code fences (a ``# comment``
    in a shell or Python snippet is not a heading)."""
    if page.kind == "html":
        return [Heading(n, level, lines[n - 1].lstrip("# ").strip()) for n, level in page.html_headings]
    out = []
    fenced = False
    for n, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        m = _MD_HEADING.match(line)
        if m and not fenced and m.group(2).strip():
            out.append(Heading(n + 1, len(m.group(1)), m.group(2).strip()))
    return out


def _with(b: Block, **kw: Any) -> Block:
    from dataclasses import replace

    return replace(b, **kw)


def endpoint_near(endpoints: tuple[tuple[int, str], ...], line: int, end_line: int) -> tuple[str | None, int | None]:
    """The endpoint a block at ``line`` belongs to: the last one named before it, else the first
    one named after it inside the same snippet (fetch(...) and conn.request(...) come after the
    body), else the page's first."""
    before = [e for e in endpoints if e[0] <= line]
    if before:
        return before[-1][1], before[-1][0]
    after = [e for e in endpoints if e[0] > end_line]
    if after:
        return after[0][1], after[0][0]
    return None, None


def _table_rows(idx: _Lines) -> list[TableRow]:
    rows = []
    for n, line in enumerate(idx.all):
        section = idx.section[n]
        name = None
        s = line.strip()
        if s.startswith("|") or s.count("|") >= 2:
            cells = [c.strip().strip("`*").strip() for c in s.strip("|").split("|")]
            if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: "):
                candidate = cells[0]
                if _NAME.match(candidate) and not _TABLE_HEAD.match(candidate):
                    name = candidate
        else:
            m = _TEXT_ROW.match(line)
            if m and line.strip() == line.strip()[: len(m.group(0).strip()) + 40]:
                name = m.group(1)
        if name is None or section not in ("request", "answer", "header"):
            continue
        if "-" in name or name.lower() in ("authorization", "accept"):
            section = "header"  # Content-Type, x-api-key, anthropic-version: headers, not fields
        rows.append(TableRow(n + 1, name, section))
    return rows
