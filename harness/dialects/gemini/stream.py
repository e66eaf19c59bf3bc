"""``:streamGenerateContent?alt=sse``: framing, per-chunk checks, the grammar, and the fold.

Grammar (API reference "Streaming", and the 67 official streams of the truth set):

    stream := chunk+          each chunk one ``data: <GenerateContentResponse>`` line, then a blank line
    chunk  := {candidates: [{content: {parts, role: "model"}, index, finishReason?}], usageMetadata,
               modelVersion, responseId}

No ``event:`` lines, no ``[DONE]``: the stream ends with the chunk whose candidate carries
``finishReason`` (a stream without one was cut short). Every chunk repeats the same responseId
and a whole usageMetadata (so the last one is the answer's). The parts of a candidate's chunks,
in order, are its answer; adjacent text parts of the same kind (thought or not) join into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.dialects.base import StreamVerdict
from harness.dialects.gemini.body import check_response, error_or_foreign, v
from harness.dialects.gemini.errors import check_error_body
from harness.dialects.gemini.rules import G, gemini_rule
from harness.dialects.kit.sse import decode_event
from harness.dialects.kit.text import clip
from harness.model import Violation
from harness.sse import SSEEvent


@dataclass
class _Candidate:
    parts: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # finishReason, safetyRatings, groundingMetadata ...
    role: str | None = None
    finished_at: int | None = None  # event index of the chunk that carried finishReason

    def add(self, part: dict[str, Any]) -> None:
        last = self.parts[-1] if self.parts else None
        joinable = (
            last is not None
            and isinstance(last.get("text"), str)
            and isinstance(part.get("text"), str)
            and set(part) <= {"text", "thought", "thoughtSignature"}
            and set(last) <= {"text", "thought", "thoughtSignature"}
            and bool(last.get("thought")) == bool(part.get("thought"))
            and "thoughtSignature" not in last
        )
        if joinable and last is not None:
            last["text"] += part["text"]
            if "thoughtSignature" in part:
                last["thoughtSignature"] = part["thoughtSignature"]
        else:
            self.parts.append(dict(part))

    def fold(self, index: int) -> dict[str, Any]:
        content: dict[str, Any] = {"parts": self.parts}
        if self.role is not None:
            content["role"] = self.role
        return {"content": content, **self.extra, "index": index}


@dataclass
class _State:
    out: list[Violation] = field(default_factory=list)
    top: dict[str, Any] = field(default_factory=dict)  # usageMetadata, modelVersion, responseId ... (last wins)
    cands: dict[int, _Candidate] = field(default_factory=dict)
    response_id: str | None = None
    chunks: int = 0
    errored: bool = False
    named: bool = False
    after_reported: bool = False


@gemini_rule(G + "event_name", G + "empty", G + "no_finish")
def check_stream(events: Sequence[SSEEvent], request: Any) -> StreamVerdict:
    st = _State()
    for ev in events:
        where = f"events[{ev.index}]"
        if ev.event is not None and not st.named:
            st.named = True
            st.out.append(
                v(G + "event_name", where, f"an `event: {ev.event}` line in a Gemini stream", actual=ev.event)
            )
        if ev.data.strip() == "[DONE]":
            # Strict: no official Gemini stream has one (0 of 67); that google-genai, which parses
            # every data: line as JSON, raises on it is not proven by an SDK test here.
            st.out.append(
                Violation(
                    "sse.done",
                    where,
                    "data: [DONE] in a Gemini stream (it ends with the finishReason chunk)",
                    severity="strict",
                )
            )
            continue
        data, bad = decode_event(ev)
        if bad is not None:
            st.out.append(bad)
            continue
        if ev.data_lines > 1:  # one JSON object over several data: lines (RELAY_DEFECTS #13)
            st.out.append(
                Violation("sse.framing", where, "one JSON object written over several data: lines", severity="strict")
            )
        if not isinstance(data, dict):
            st.out.append(Violation("schema", f"{where}.data", "chunk is not a JSON object", actual=clip(ev.data)))
            continue
        early = error_or_foreign(data, f"{where}.data", "a 200 stream")
        if early is not None:
            st.out.append(early)
            if early.code == "error.in_200":
                st.out.extend(check_error_body(data, None, f"{where}.data"))
                st.errored = True
            continue
        st.chunks += 1
        st.out.extend(check_response(data, request, f"{where}.data", final=False))
        _fold(st, ev, data)
    if not events or (st.chunks == 0 and not st.errored and not st.out):
        st.out.append(v(G + "empty", "$", "the stream carries no chunk"))
        return StreamVerdict(tuple(st.out), None)
    if st.chunks == 0:
        return StreamVerdict(tuple(st.out), None)
    if not st.errored and not any(c.finished_at is not None for c in st.cands.values()):
        st.out.append(v(G + "no_finish", "$", "no chunk carries a finishReason: the stream was cut short"))
    final = dict(st.top)
    if st.cands:
        final["candidates"] = [st.cands[i].fold(i) for i in sorted(st.cands)]
    # The chunks already named their unknown fields and were schema-checked one by one.
    skip = {"schema.extra", "schema"}
    st.out.extend(x for x in check_response(final, request, "final") if x.code not in skip and not _chunk_rule(x))
    return StreamVerdict(tuple(st.out), final)


def _chunk_rule(x: Violation) -> bool:
    """Rules the chunks were judged on already (each chunk carries a whole usageMetadata)."""
    return x.code in ("usage", "gemini.function_args", "tool.args", "tool.name")


@gemini_rule(G + "response_id", G + "after_finish")
def _fold(st: _State, ev: SSEEvent, data: dict[str, Any]) -> None:
    where = f"events[{ev.index}]"
    rid = data.get("responseId")
    if isinstance(rid, str):
        if st.response_id is None:
            st.response_id = rid
        elif rid != st.response_id:
            st.out.append(
                v(
                    G + "response_id",
                    f"{where}.data.responseId",
                    "responseId changed mid-stream",
                    expected=st.response_id,
                    actual=rid,
                )
            )
    for key, value in data.items():
        if key != "candidates":
            st.top[key] = value
    cands = data.get("candidates")
    for pos, cand in enumerate(cands if isinstance(cands, list) else ()):
        if not isinstance(cand, dict):
            continue
        index = cand.get("index", pos)
        index = index if isinstance(index, int) else pos
        state = st.cands.setdefault(index, _Candidate())
        content = cand.get("content")
        ps = content.get("parts") if isinstance(content, dict) else None
        if state.finished_at is not None and (ps or cand.get("finishReason")) and not st.after_reported:
            st.after_reported = True
            st.out.append(
                v(
                    G + "after_finish",
                    where,
                    f"candidate {index} goes on after its finishReason (event {state.finished_at})",
                )
            )
        if isinstance(content, dict) and isinstance(content.get("role"), str):
            state.role = content["role"]
        for part in ps if isinstance(ps, list) else ():
            if isinstance(part, dict):
                state.add(part)
        for key, value in cand.items():
            if key not in ("content", "index"):
                state.extra[key] = value
        if cand.get("finishReason") and state.finished_at is None:
            state.finished_at = ev.index
