"""The Gemini truth set (tests/truth/gemini/, official recordings from public projects' cassettes,
see SOURCES.md): every generateContent / streamGenerateContent interaction passes with 0 failing
violations at the strict level, lint-traffic recognises them through the registry, no key is
stored, and mutations of them (a relay's typical mistakes) are caught with the code that names
them. Offline: the recordings are part of the repository."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness.cassettes import TrafficError, read_file
from harness.engine import evaluate_exchange
from harness.model import Chunk, Exchange
from harness.traffic import RecordedInteraction

TRUTH = Path(__file__).resolve().parent / "gemini"
REPO = TRUTH.parents[2]


@cache
def recordings() -> tuple[RecordedInteraction, ...]:
    out = []
    for path in sorted(TRUTH.rglob("*.yaml")):
        for record in read_file(path):
            assert not isinstance(record, TrafficError), f"{record.id}: {record.message}"
            out.append(record)
    return tuple(out)


def gemini(*, stream: bool | None = None, ok: bool | None = None) -> list[RecordedInteraction]:
    out = []
    for it in recordings():
        if it.endpoint != "gemini":
            continue
        sse = ":streamGenerateContent" in it.exchange.request.path
        good = it.exchange.status == 200
        if (stream is None or sse == stream) and (ok is None or good == ok):
            out.append(it)
    return out


def judge(it: RecordedInteraction, exchange: Exchange | None = None) -> list[Any]:
    ev = evaluate_exchange(exchange or it.exchange, "gemini", level="strict", recorded=True, recorded_on=it.recorded_on)
    return [v for v in ev.violations if v.fails("strict")]


# ---------------------------------------------------------------------------------------------
# the official recordings


def test_the_truth_set_is_read_and_recognised() -> None:
    """Every interaction to a generate path is claimed by the gemini dialect (registry.for_path),
    the others (file uploads, countTokens, DELETE) by none."""
    assert len(recordings()) >= 280
    assert len(gemini()) >= 260
    assert len(gemini(stream=True, ok=True)) >= 60
    assert len(gemini(ok=False)) >= 6
    for it in recordings():
        generate = re.search(r":(stream)?[gG]enerateContent$", it.exchange.request.path) is not None
        assert (it.endpoint == "gemini") == generate, (it.id, it.exchange.request.path, it.endpoint)


def test_every_official_recording_passes_strict() -> None:
    failing = {it.id: [f"{v.code} {v.path}: {v.message}" for v in judge(it)] for it in gemini()}
    failing = {k: v for k, v in failing.items() if v}
    assert failing == {}, f"{len(failing)} false alarm(s) on official Gemini recordings"


def test_no_key_is_stored() -> None:
    for path in TRUTH.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        assert re.search(r"AIza[0-9A-Za-z_\-]{30,}", text) is None, path
        assert re.search(r"[?&]key=[^&\s'\"<]", text) is None, path
        for value in re.findall(r"x-goog-api-key:\s*\n\s*- (.*)", text, re.I):
            assert value.strip() == "<filtered>", path


def test_lint_traffic_recognises_the_truth_set(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "harness.cli", "lint-traffic", str(TRUTH), "--quiet", "--report-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    judged = [e for e in summary["items"] if e.get("endpoint") == "gemini"]
    assert len(judged) == len(gemini())
    assert all(e["outcome"] == "passed" for e in judged)


# ---------------------------------------------------------------------------------------------
# mutations: what translating relays get wrong, applied to the official recordings


def _body(exchange: Exchange, text: str) -> Exchange:
    return replace(exchange, chunks=(Chunk(0.0, text.encode("utf-8")),))


def _chunks(it: RecordedInteraction) -> list[Any]:
    out = []
    for line in it.exchange.body.decode("utf-8").splitlines():
        if line.startswith("data:"):
            out.append(json.loads(line[5:]))
    return out


def _stream(objs: list[Any], *, raw: list[str] | None = None, named: bool = False) -> str:
    lines = raw if raw is not None else [json.dumps(o) for o in objs]
    head = "event: message\r\n" if named else ""
    return "".join(f"{head}data: {line}\r\n\r\n" for line in lines)


def _calls(obj: Any) -> list[dict[str, Any]]:
    return [
        p["functionCall"]
        for c in obj.get("candidates") or ()
        for p in (c.get("content") or {}).get("parts") or ()
        if isinstance(p.get("functionCall"), dict)
    ]


Op = Callable[[RecordedInteraction], Exchange | None]


@dataclass(frozen=True)
class GeminiMutation:
    name: str
    stream: bool | None  # applies to streams, bodies, or (None) error answers
    code: str
    apply: Op


def _usage_total(it: RecordedInteraction) -> Exchange | None:
    if it.exchange.is_sse:
        chunks = _chunks(it)
        last = chunks[-1].get("usageMetadata")
        if not isinstance(last, dict):
            return None
        last["totalTokenCount"] += 7
        return _body(it.exchange, _stream(chunks))
    body = json.loads(it.exchange.body)
    body["usageMetadata"]["totalTokenCount"] += 7
    return _body(it.exchange, json.dumps(body))


def _usage_dropped(it: RecordedInteraction) -> Exchange | None:
    body = json.loads(it.exchange.body)
    body["usageMetadata"].pop("totalTokenCount")
    body["usageMetadata"].pop("promptTokenCount")
    return _body(it.exchange, json.dumps(body))


def _openai_error(it: RecordedInteraction) -> Exchange | None:
    err = json.loads(it.exchange.body)["error"]
    obj = {"error": {"message": err["message"], "type": "invalid_request_error", "param": None, "code": None}}
    return _body(it.exchange, json.dumps(obj))


def _error_status(it: RecordedInteraction) -> Exchange | None:
    obj = json.loads(it.exchange.body)
    obj["error"]["status"] = "INTERNAL"
    return _body(it.exchange, json.dumps(obj))


def _done(it: RecordedInteraction) -> Exchange | None:
    return _body(it.exchange, it.exchange.body.decode("utf-8") + "data: [DONE]\r\n\r\n")


def _args_string(it: RecordedInteraction) -> Exchange | None:
    if it.exchange.is_sse:
        chunks = _chunks(it)
        calls = [c for chunk in chunks for c in _calls(chunk)]
        if not calls:
            return None
        for call in calls:
            call["args"] = json.dumps(call.get("args", {}))
        return _body(it.exchange, _stream(chunks))
    body = json.loads(it.exchange.body)
    if not _calls(body):
        return None
    for call in _calls(body):
        call["args"] = json.dumps(call.get("args", {}))
    return _body(it.exchange, json.dumps(body))


def _undeclared(it: RecordedInteraction) -> Exchange | None:
    body = json.loads(it.exchange.body)
    if not _calls(body) or not isinstance(it.exchange.request.json, dict):
        return None
    _calls(body)[0]["name"] = "relay_invented_function"
    return _body(it.exchange, json.dumps(body))


def _bad_json_chunk(it: RecordedInteraction) -> Exchange | None:
    raw = [json.dumps(o) for o in _chunks(it)]
    raw[0] = raw[0][: len(raw[0]) // 2]
    return _body(it.exchange, _stream([], raw=raw))


def _no_finish(it: RecordedInteraction) -> Exchange | None:
    chunks = [c for c in _chunks(it) if not any(x.get("finishReason") for x in c.get("candidates") or ())]
    if not chunks:
        return None
    return _body(it.exchange, _stream(chunks))


def _event_lines(it: RecordedInteraction) -> Exchange | None:
    return _body(it.exchange, _stream(_chunks(it), named=True))


def _chat_chunks(it: RecordedInteraction) -> Exchange | None:
    objs = [
        {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gemini", "choices": []}
        for _ in _chunks(it)
    ]
    return _body(it.exchange, _stream(objs))


def _chat_completion(it: RecordedInteraction) -> Exchange | None:
    obj = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gemini-2.5-flash",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    }
    return _body(it.exchange, json.dumps(obj))


def _error_in_200(it: RecordedInteraction) -> Exchange | None:
    obj = {"error": {"code": 500, "message": "upstream error", "status": "INTERNAL"}}
    return _body(it.exchange, json.dumps(obj))


def _thoughts_dropped(it: RecordedInteraction) -> Exchange | None:
    """Remove every thought part (and the chunks left empty) where thoughts were asked for."""
    cfg = ((it.exchange.request.json or {}).get("generationConfig") or {}).get("thinkingConfig") or {}
    if cfg.get("includeThoughts", cfg.get("include_thoughts")) is not True:
        return None
    objs = _chunks(it) if it.exchange.is_sse else [json.loads(it.exchange.body)]
    found = False
    for obj in objs:
        for cand in obj.get("candidates") or ():
            parts = (cand.get("content") or {}).get("parts") or []
            kept = [p for p in parts if p.get("thought") is not True]
            found |= len(kept) != len(parts)
            if "content" in cand and "parts" in cand["content"]:
                cand["content"]["parts"] = kept
    if not found:
        return None
    if it.exchange.is_sse:
        return _body(it.exchange, _stream(objs))
    return _body(it.exchange, json.dumps(objs[0]))


def _finish_reason(it: RecordedInteraction) -> Exchange | None:
    body = json.loads(it.exchange.body)
    if not body.get("candidates"):
        return None
    body["candidates"][0]["finishReason"] = "tool_calls"
    return _body(it.exchange, json.dumps(body))


MUTATIONS = (
    GeminiMutation("usage-total-wrong", False, "usage", _usage_total),
    GeminiMutation("stream-usage-total-wrong", True, "usage", _usage_total),
    GeminiMutation("usage-fields-dropped", False, "gemini.usage_fields", _usage_dropped),
    GeminiMutation("error-openai-shaped", None, "error.shape", _openai_error),
    GeminiMutation("error-status-wrong", None, "gemini.error_status", _error_status),
    GeminiMutation("done-appended", True, "sse.done", _done),
    GeminiMutation("args-stringified", False, "gemini.function_args", _args_string),
    GeminiMutation("stream-args-stringified", True, "gemini.function_args", _args_string),
    GeminiMutation("function-undeclared", False, "tool.name", _undeclared),
    GeminiMutation("chunk-invalid-json", True, "sse.json", _bad_json_chunk),
    GeminiMutation("finish-chunk-lost", True, "grammar.gemini.no_finish", _no_finish),
    GeminiMutation("event-lines", True, "grammar.gemini.event_name", _event_lines),
    GeminiMutation("chat-chunks", True, "object.kind", _chat_chunks),
    GeminiMutation("chat-completion", False, "object.kind", _chat_completion),
    GeminiMutation("error-in-200", False, "error.in_200", _error_in_200),
    GeminiMutation("thoughts-dropped", False, "gemini.thoughts_dropped", _thoughts_dropped),
    GeminiMutation("stream-thoughts-dropped", True, "gemini.thoughts_dropped", _thoughts_dropped),
    GeminiMutation("finish-reason-foreign", False, "gemini.finish_reason", _finish_reason),
)


def _targets(m: GeminiMutation) -> list[RecordedInteraction]:
    if m.stream is None:
        return gemini(ok=False)
    return gemini(stream=m.stream, ok=True)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_mutant_is_caught(mutation: GeminiMutation) -> None:
    applied, missed = 0, []
    for it in _targets(mutation):
        mutant = mutation.apply(it)
        if mutant is None:
            continue
        applied += 1
        codes = {v.code for v in judge(it, mutant)}
        if mutation.code not in codes:
            missed.append((it.id, sorted(codes)))
    assert applied > 0, f"{mutation.name} applied to no recording"
    assert missed == [], f"{mutation.name}: {len(missed)} of {applied} mutants not caught with {mutation.code}"
