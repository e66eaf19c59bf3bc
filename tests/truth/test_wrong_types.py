"""Wrong-typed values in otherwise official answers: a gateway that sends ``"text": 5`` in a
text_delta, a list as a block index or a dict as an event type gets a failed item with a clear
violation, never a crash (standards: bad input never crashes a run).

Mutants are official answers (the shared corpus and the Gemini truth set) with one JSON value
replaced by a value of another type, as a relay's serialisation bug would. The random part uses a
fixed seed and a sample, so it is deterministic and fast; the hand-picked part holds one mutant per
place a check once raised on such a value (typefuzz). Every mutant is judged without an exception,
without the engine's safety net (harness/engine.py ``_unjudgeable``: a check that raised), and a
mutant the dialect's strict schema rejects fails the item at the strict level."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pytest

from harness import dialects, sdkcheck, validation
from harness.cases import Expect, Location, Matcher, ToolCallsExpectation
from harness.engine import evaluate_exchange
from harness.expect import check_expect, check_tool_calls
from harness.model import Chunk, Exchange, Violation, WireRequest
from harness.report import metrics
from harness.traffic import RecordedInteraction
from tests.truth import corpus
from tests.truth.test_gemini_truth import recordings

BAD: tuple[Any, ...] = (5, -1, 1.5, "x", None, [], [1], {}, {"a": 1}, True, "\ud800")
SEED = 20261202
SAMPLE_EVERY = 6  # every 6th corpus interaction (~240), every 3rd Gemini one (~90)
PER_ANSWER = 3
NET = "could not check"  # the safety net's message (harness/engine.py _unjudgeable)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutant:
    label: str
    endpoint: str
    exchange: Exchange
    breaks_schema: bool


def _paths(value: Any, at: Path_ = ()) -> Iterator[Path_]:
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*at, i))


def _set(value: Any, at: Path_, new: Any) -> Any:
    if not at:
        return new
    copy = json.loads(json.dumps(value))
    cur = copy
    for k in at[:-1]:
        cur = cur[k]
    cur[at[-1]] = new
    return copy


def _dump(value: Any) -> str:
    return json.dumps(value)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # "\ud800" arrives as the escape json.dumps writes


def _schema_id(endpoint: str, status: int, payload: Any, stream: bool) -> str | None:
    """The dialect's strict schema for one body or stream event (None: no schema to ask)."""
    if status >= 400:
        return f"{endpoint}/strict/error"
    if not stream:
        return {
            "chat": "chat/strict/response",
            "messages": "messages/strict/message",
            "responses": "responses/strict/response",
            "gemini": "gemini/strict/response",
        }.get(endpoint)
    kind = payload.get("type") if isinstance(payload, dict) else None
    if endpoint == "chat":
        return "chat/strict/chunk"
    if endpoint == "gemini":
        return "gemini/strict/response"
    if endpoint == "messages" and isinstance(kind, str):
        sid = f"messages/strict/event_{kind}"
    elif endpoint == "responses" and isinstance(kind, str):
        sid = f"responses/strict/events/{kind}"
    else:
        return None
    return sid if (validation.SCHEMA_DIR / f"{sid}.json").is_file() else None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def _breaks(schema_id: str | None, before: Any, after: Any, old: Any, new: Any) -> bool:
    """The mutant puts a value of another JSON type where the official one was, and the strict
    schema rejects it while it took the official payload. (A same-typed change, {"a": 1} for an
    object, is a matter of fields, not of types: judged by no crash only.)"""
    return (
        schema_id is not None
        and _json_type(old) != _json_type(new)
        and validation.is_valid(schema_id, before)
        and not validation.is_valid(schema_id, after)
    )


def _data_lines(text: str) -> list[tuple[int, int, Any]]:
    """(block, line, payload) of every JSON data line of an SSE body."""
    out = []
    for bi, block in enumerate(text.split("\n\n")):
        for li, line in enumerate(block.split("\n")):
            if line.startswith("data: ") and line[6:7] in "{[":
                try:
                    out.append((bi, li, json.loads(line[6:])))
                except ValueError:
                    continue
    return out


def _with_line(text: str, bi: int, li: int, payload: Any) -> bytes:
    blocks = text.split("\n\n")
    lines = blocks[bi].split("\n")
    lines[li] = "data: " + _dump(payload)
    blocks[bi] = "\n".join(lines)
    return _encode("\n\n".join(blocks))


def _mutate(it: RecordedInteraction, at: tuple[int, int] | None, path: Path_, new: Any, label: str) -> Mutant:
    """One mutant of ``it``: ``path`` set to ``new`` in its body (``at`` None) or in the data line
    ``at`` = (block, line) of its stream."""
    ex = it.exchange
    assert it.endpoint is not None and ex.status is not None
    if at is None:
        before = json.loads(ex.body)
        after = _set(before, path, new)
        body = _encode(_dump(after))
    else:
        text = ex.body.decode("utf-8")
        bi, li = at
        before = json.loads(text.split("\n\n")[bi].split("\n")[li][6:])
        after = _set(before, path, new)
        body = _with_line(text, bi, li, after)
    sid = _schema_id(it.endpoint, ex.status, before, at is not None)
    breaks = _breaks(sid, before, after, _at(before, path), new)
    return Mutant(label, it.endpoint, replace(ex, chunks=(Chunk(0.0, body),)), breaks)


def _at(value: Any, path: Path_) -> Any:
    """The value at ``path`` (None where a mutant adds a field)."""
    for k in path:
        value = value.get(k) if isinstance(value, dict) else value[k]
    return value


def _random_mutants(it: RecordedInteraction, rng: random.Random) -> list[Mutant]:
    ex = it.exchange
    out = []
    if ex.is_sse:
        lines = _data_lines(ex.body.decode("utf-8"))
        for _ in range(PER_ANSWER if lines else 0):
            bi, li, payload = rng.choice(lines)
            path = rng.choice(list(_paths(payload)))
            new = rng.choice(BAD)
            out.append(_mutate(it, (bi, li), path, new, f"{it.id} events {bi} {list(path)} = {new!r}"))
        return out
    try:
        body = json.loads(ex.body)
    except ValueError:
        return []
    paths = list(_paths(body))
    for _ in range(PER_ANSWER):
        path, new = rng.choice(paths), rng.choice(BAD)
        out.append(_mutate(it, None, path, new, f"{it.id} body {list(path)} = {new!r}"))
    return out


@cache
def _sample() -> tuple[RecordedInteraction, ...]:
    official = [it for it in corpus.interactions() if it.endpoint and it.exchange.status][::SAMPLE_EVERY]
    gemini = [it for it in recordings() if it.endpoint == "gemini" and it.exchange.status][::3]
    return (*official, *gemini)


def _judge(m: Mutant, *, sdk: bool = False) -> list[Violation]:
    """Everything that reads fields of an answer, as a run does: the checks, then the readers of
    the final object (expectations, the report's token numbers, and with ``sdk`` --sdk-check)."""
    ev = evaluate_exchange(m.exchange, m.endpoint, level="strict")
    dialect = dialects.get(m.endpoint)
    found = list(ev.violations)
    if ev.final is not None:
        dialect.text(ev.final)
        dialect.stop_reason(ev.final)
        dialect.usage(ev.final)
        metrics.usage(m.endpoint, ev.final)
        calls = dialect.tool_calls(ev.final)
        found += check_tool_calls(ToolCallsExpectation(names=("a tool",), args=(_ARG,)), calls)
        found += check_expect(_EXPECT, m.exchange, ev.final, dialect, m.exchange.is_sse)
    if sdk:
        found += sdkcheck.check(m.exchange, m.endpoint, m.exchange.request.json, ev.final)
    return found


# Expectations a case file may hold, read against the mutant's final object.
_HERE = Location("test_wrong_types.py", 0, 0)
_ARG = Matcher("$.a", "equals", 1, _HERE)
_EXPECT = Expect(
    stop_reason=("stop",),
    text=(Matcher("$", "contains", "a", _HERE),),
    json=(Matcher("$.usage.output_tokens", "type", "integer", _HERE),),
)


def _problems(mutants: list[Mutant]) -> list[str]:
    out = []
    for m in mutants:
        try:
            found = _judge(m)
        except Exception as exc:  # the very thing this test is about
            out.append(f"{m.label}: raised {type(exc).__name__}: {exc}")
            continue
        net = [v.message for v in found if NET in v.message]
        if net:
            out.append(f"{m.label}: a check raised (safety net): {net[0]}")
        elif m.breaks_schema and not any(v.fails("strict") for v in found):
            out.append(f"{m.label}: breaks the strict schema, yet no failing violation")
    return out


def test_random_wrong_types_never_crash_and_always_fail() -> None:
    if corpus.corpus_path() is None:
        pytest.skip(corpus.SKIP_REASON)
    rng = random.Random(SEED)
    mutants = [m for it in _sample() for m in _random_mutants(it, rng)]
    assert len(mutants) > 600
    assert sum(m.breaks_schema for m in mutants) > 200  # the assertion below has teeth
    problems = _problems(mutants)
    assert not problems, f"{len(problems)} of {len(mutants)} mutants, first 20:\n" + "\n".join(problems[:20])


# ---------------------------------------------------------------------------------------------
# one mutant per place a check once raised (typefuzz seeds 1-3)


def _events_of(it: RecordedInteraction) -> list[tuple[int, int, Any]]:
    return _data_lines(it.exchange.body.decode("utf-8")) if it.exchange.is_sse else []


@dataclass(frozen=True)
class Site:
    """``where`` (the module:line that raised), and how to make its mutant: the first answer of
    ``endpoint`` (stream or body) for which ``pick`` returns a path (in the body, or in the event
    it returns (block, line) for)."""

    where: str
    endpoint: str
    stream: bool
    pick: Callable[[RecordedInteraction], tuple[tuple[int, int] | None, Path_] | None]
    value: Any


def _body(find: Callable[[Any], Path_ | None]) -> Callable[[RecordedInteraction], Any]:
    def pick(it: RecordedInteraction) -> Any:
        try:
            body = json.loads(it.exchange.body)
        except ValueError:
            return None
        path = find(body) if isinstance(body, dict) else None
        return None if path is None else (None, path)

    return pick


def _event(
    find: Callable[[Any, RecordedInteraction], Path_ | None],
    only: Callable[[RecordedInteraction], bool] = lambda it: True,
) -> Callable[[RecordedInteraction], Any]:
    def pick(it: RecordedInteraction) -> Any:
        if not only(it):
            return None
        for bi, li, payload in _events_of(it):
            path = find(payload, it) if isinstance(payload, dict) else None
            if path is not None:
                return (bi, li), path
        return None

    return pick


def _get(value: Any, *path: str | int) -> Any:
    for k in path:
        if isinstance(value, dict) and isinstance(k, str):
            value = value.get(k)
        elif isinstance(value, list) and isinstance(k, int) and k < len(value):
            value = value[k]
        else:
            return None
    return value


def _typed(payload: Any, kind: str) -> bool:
    return _get(payload, "type") == kind


def _first_message_output(body: Any) -> Path_ | None:
    for i, item in enumerate(_get(body, "output") or []):
        if _get(item, "type") == "message":
            return ("output", i, "content")
    return None


def _cited(it: RecordedInteraction) -> set[int]:
    """Indexes of the blocks a citations_delta went to."""
    return {e["index"] for _, _, e in _events_of(it) if _get(e, "delta", "type") == "citations_delta"}


def _resumed(it: RecordedInteraction) -> bool:
    events = _events_of(it)
    return bool(events) and _get(events[0][2], "type") != "response.created"


SITES = (
    Site("messages/body.py content block type", "messages", False, _body(lambda b: ("content", 0, "type")), {}),
    Site("responses/body.py output", "responses", False, _body(lambda b: ("output",)), 1.5),
    Site("responses/body.py message content", "responses", False, _body(_first_message_output), 5),
    Site("responses/body.py item type", "responses", False, _body(lambda b: ("output", 0, "type")), []),
    Site("history.py object", "chat", False, _body(lambda b: ("object",)), {}),
    Site(
        "messages/stream.py text_delta text",
        "messages",
        True,
        _event(lambda e, it: ("delta", "text") if _get(e, "delta", "type") == "text_delta" else None),
        5,
    ),
    Site(
        "messages/stream.py partial_json",
        "messages",
        True,
        _event(lambda e, it: ("delta", "partial_json") if _get(e, "delta", "type") == "input_json_delta" else None),
        {"a": 1},
    ),
    Site(
        "messages/stream.py start text",
        "messages",
        True,
        _event(lambda e, it: ("content_block", "text") if _get(e, "content_block", "type") == "text" else None),
        1.5,
    ),
    Site(
        "messages/stream.py start thinking",
        "messages",
        True,
        _event(lambda e, it: ("content_block", "thinking") if _get(e, "content_block", "type") == "thinking" else None),
        5,
    ),
    Site(
        "messages/stream.py start citations",
        "messages",
        True,
        _event(
            lambda e, it: (
                ("content_block", "citations")
                if _get(e, "content_block", "type") == "text" and _get(e, "index") in _cited(it)
                else None
            ),
            lambda it: b"citations_delta" in it.exchange.body,
        ),
        5,
    ),
    Site(
        "messages/stream.py delta index",
        "messages",
        True,
        _event(lambda e, it: ("index",) if _typed(e, "content_block_delta") else None),
        [],
    ),
    Site(
        "messages/stream.py delta type",
        "messages",
        True,
        _event(lambda e, it: ("delta", "type") if _typed(e, "content_block_delta") else None),
        {},
    ),
    Site(
        "chat/body.py tool_calls",
        "chat",
        False,
        _body(
            lambda b: (
                ("choices", 0, "message", "tool_calls") if _get(b, "choices", 0, "message", "tool_calls") else None
            )
        ),
        True,
    ),
    Site(
        "chat/body.py finish_reason",
        "chat",
        False,
        _body(lambda b: ("choices", 0, "finish_reason") if _get(b, "choices", 0, "message", "tool_calls") else None),
        [],
    ),
    Site("responses/stream.py event type", "responses", True, _event(lambda e, it: ("type",)), []),
    Site(
        "responses/stream.py terminal output",
        "responses",
        True,
        _event(lambda e, it: ("response", "output") if _typed(e, "response.completed") else None),
        True,
    ),
    Site(
        "responses/stream.py resumed content_index",
        "responses",
        True,
        _event(
            lambda e, it: (
                ("content_index",)
                if "content_index" in e and _get(e, "type") != "response.content_part.added"
                else None
            ),
            _resumed,
        ),
        {},
    ),
    Site(
        "kit/official.py stop reason at the limit",
        "responses",
        False,
        _body(lambda b: ("status",) if _get(b, "status") == "incomplete" else None),
        [],
    ),
    Site(
        "model.ToolCall id (expect distinct_ids)",
        "chat",
        False,
        _body(
            lambda b: (
                ("choices", 0, "message", "tool_calls", 0, "id")
                if _get(b, "choices", 0, "message", "tool_calls", 1)
                else None
            )
        ),
        {"a": 1},  # a truthy id: the distinct-ids check hashed it
    ),
    Site(
        "sdkcheck.py message content",
        "responses",
        True,
        _event(
            lambda e, it: (
                ("item", "content", 0)
                if _typed(e, "response.output_item.done") and _get(e, "item", "type") == "message"
                else None
            )
        ),
        1.5,
    ),
    Site(
        "chat/stream.py delta tool_calls",
        "chat",
        True,
        _event(
            lambda e, it: (
                ("choices", 0, "delta", "tool_calls") if _get(e, "choices", 0, "delta", "tool_calls") else None
            )
        ),
        5,
    ),
)


def _site_mutant(site: Site) -> Mutant:
    for it in corpus.by_endpoint(site.endpoint, stream=site.stream):
        if it.exchange.status != 200:
            continue
        picked = site.pick(it)
        if picked is not None:
            at, path = picked
            return _mutate(it, at, path, site.value, f"{site.where}: {it.id} {list(path)} = {site.value!r}")
    raise AssertionError(f"{site.where}: no official answer to mutate")


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # the SDK on a broken answer
@pytest.mark.parametrize("site", SITES, ids=[s.where for s in SITES])
def test_each_former_crash_site_reports_a_schema_violation(site: Site) -> None:
    if corpus.corpus_path() is None:
        pytest.skip(corpus.SKIP_REASON)
    m = _site_mutant(site)
    assert m.breaks_schema, f"{m.label}: the mutant should break the schema"
    found = _judge(m, sdk=sdkcheck.available() is None)  # raised here before the fix
    assert not [v for v in found if NET in v.message], found
    assert [v for v in found if v.code == "schema" and v.fails("strict")], found


# ---------------------------------------------------------------------------------------------
# the safety net


class _Raising:
    """A dialect whose checks raise, as one with a guard still missing would."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _raise(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("unhashable type: 'dict'")

    check_body = check_stream = check_error = _raise


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise TypeError("unhashable type: 'list'")


@pytest.mark.parametrize("kind", ["body", "stream", "error", "history"])
def test_a_check_that_raises_fails_the_item_and_keeps_other_violations(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "history":  # the answer's date and the API's history, after the dialect
        monkeypatch.setattr("harness.engine.history.adjust", _raise)
    else:
        real = dialects.get
        monkeypatch.setattr("harness.engine.dialects.get", lambda name: _Raising(real(name)))
    # A request without "stream": true, so a stream answer is also sse.not_stream; a body under
    # text/plain is also content_type: those violations must survive the raise.
    request = WireRequest("POST", "http://127.0.0.1/v1/chat/completions", {}, b'{"model": "m", "messages": []}')
    if kind == "stream":
        ctype, status, body = "text/event-stream", 200, b'data: {"id": 1}\n\n'
    else:
        ctype, status, body = "text/plain", 400 if kind == "error" else 200, b'{"id": 1}'
    ex = Exchange(request, status, {"content-type": ctype}, (Chunk(0.0, body),))
    ev = evaluate_exchange(ex, "chat", level="strict")
    net = [v for v in ev.violations if NET in v.message]
    assert len(net) == 1, ev.violations
    v = net[0]
    assert (v.code, v.path, v.severity) == ("schema", "$", "error")
    assert "chat dialect" in v.message and "TypeError" in v.message and "unexpected type" in v.message
    others = {x.code for x in ev.violations} - {"schema"}
    assert others, "the other checks' violations must be kept"


# ---------------------------------------------------------------------------------------------
# discover: the capability probe reads the answer too


@pytest.mark.parametrize("question", ["thinking", "reasoning", "count_tokens", "tools"])
@pytest.mark.parametrize("final", [{"content": 5, "output": 1.5, "input_tokens": []}, [1], "x", 5, None])
def test_discover_reads_a_wrong_typed_answer_as_not_showing_the_capability(question: str, final: Any) -> None:
    from harness.discover import _answer

    endpoint = {"thinking": "messages", "reasoning": "responses", "count_tokens": "messages"}.get(question, "chat")
    request = WireRequest("POST", "http://127.0.0.1/v1/x", {}, b"{}")
    ex = Exchange(request, 200, {"content-type": "application/json"}, (Chunk(0.0, b"{}"),))
    shows, _ = _answer(endpoint, question, ex, final)  # raised TypeError / AttributeError before
    assert shows is False
