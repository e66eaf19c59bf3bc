"""Pieces shared by the three dialects: deterministic ids, the answer text, token counting,
limits, JSON dumping and SSE framing (with the framing faults applied in one place).

Determinism: everything a response contains is derived from a SHA-256 of the raw request body,
so the same request always gets the same bytes (ids, timestamps, obfuscation strings).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response, StreamingResponse

from harness.refgateway import tokenizer

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"
# 2026-01-01T00:00:00Z; created timestamps are this plus a hash-derived offset.
EPOCH = 1767225600
SSE_TYPE = "text/event-stream; charset=utf-8"
BUFFER_DELAY = 1.2  # seconds the buffered-stream fault holds the stream back (above MIN_JUDGEABLE_MS)
# Fault bad-id-prefix: what sloppy relays put where the official prefix belongs.
BAD_PREFIX = {
    "chatcmpl-": "gen-",
    "call_": "tool_",
    "msg_": "msg-",
    "toolu_": "call_",
    "resp_": "resp-",
    "fc_": "fc-",
    "rs_": "rs-",
}


def chars(seed: bytes, label: str, n: int, alphabet: str = B62) -> str:
    """n characters from ``alphabet``, a pure function of seed and label."""
    out: list[str] = []
    counter = 0
    while len(out) < n:
        block = hashlib.sha256(seed + label.encode() + counter.to_bytes(4, "big")).digest()
        out.extend(alphabet[b % len(alphabet)] for b in block)
        counter += 1
    return "".join(out[:n])


@dataclass
class Ctx:
    """One request: its parsed body, switched-on faults and stream pacing."""

    body: dict[str, Any]
    raw: bytes
    faults: frozenset[str] = frozenset()
    chunk_delay: float = 0.0
    seed: bytes = b""
    _ids: int = field(default=0)

    def __post_init__(self) -> None:
        self.seed = hashlib.sha256(self.raw).digest()

    def has(self, fault: str) -> bool:
        return fault in self.faults

    @property
    def family(self) -> tokenizer.Family:
        """The tokenizer family of the model that really answers: the claimed model's, unless
        the substituted-family fault serves the other family under the claimed name."""
        claimed = tokenizer.family_of(str(self.body.get("model", "")))
        return tokenizer.other(claimed) if self.has("substituted-family") else claimed

    def ident(self, prefix: str, n: int, alphabet: str = B62, label: str = "") -> str:
        """A fresh id for this request; calls in the same order give the same ids."""
        self._ids += 1
        label = label or prefix
        if self.has("bad-id-prefix"):
            for official, bad in BAD_PREFIX.items():
                if prefix.startswith(official):
                    prefix = bad + prefix[len(official) :]
                    break
        return prefix + chars(self.seed, f"{label}#{self._ids}", n, alphabet)

    @property
    def created(self) -> int:
        return EPOCH + int.from_bytes(self.seed[:4], "big") % 10_000_000

    def obfuscation(self, i: int) -> str:
        # Official OpenAI chunks carry a random-length padding string; ours is hash-derived.
        n = self.seed[i % 32] % 16
        return chars(self.seed, f"obf{i}", n)

    def extra(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Fault extra-fields: add a non-standard field to a body or event."""
        if self.has("extra-fields"):
            return {**obj, "x_relay_trace": "rc-" + chars(self.seed, "trace", 8)}
        return obj


# ---------------------------------------------------------------- text and tokens


def words(text: str) -> list[str]:
    return text.split()


# Fidelity faults: what a dishonest relay does to the counts it bills (harness/fidelity/).
INJECTED_PROMPT_TOKENS = 40  # injected-system-prompt: a hidden system prompt of this many tokens
INFLATION = 1.5  # usage-inflated: every count billed times this


def billed_input(ctx: Ctx, *parts: Any) -> int:
    """usage's input tokens for the prompt parts, in the serving model's tokenizer, with the
    billing faults applied (count_tokens is answered without them: messages.input_tokens)."""
    n = tokenizer.count_prompt(ctx.family, *parts)
    if ctx.has("injected-system-prompt"):
        n += INJECTED_PROMPT_TOKENS
    return inflate(ctx, n)


def billed_output(ctx: Ctx, text: str | None, extra: int = 0) -> int:
    """usage's output tokens: the answer text in the serving model's tokenizer, plus ``extra``
    (tool-call arguments, reasoning), with the billing faults applied."""
    n = inflate(ctx, tokenizer.count_text(text or "", ctx.family) + extra)
    return round(n * INFLATION) if ctx.has("output-usage-inflated") else n


def stream_estimate(ctx: Ctx, text: str | None, reasoning: int = 0) -> int | None:
    """Fault stream-usage-estimated: the output tokens a relay reports for a stream when it counts
    the streamed text itself, with one tokenizer for every model (here: the other family's), instead
    of forwarding the upstream's usage. Reasoning tokens are passed through."""
    if not ctx.has("stream-usage-estimated"):
        return None
    return tokenizer.count_text(text or "", tokenizer.other(ctx.family)) + reasoning


def inflate(ctx: Ctx, n: int) -> int:
    return round(n * INFLATION) if ctx.has("usage-inflated") else n


def text_of(content: Any) -> str:
    """Plain text of a message content: a string, or the text of its text-like blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                if block.get("type") in (None, "text", "input_text", "output_text"):
                    out.append(block["text"])
        return "\n".join(out)
    return ""


def answer_text(prompt: str) -> str:
    """The deterministic answer: a fixed greeting plus an echo of the prompt's first words.

    The echo lets case writers steer stop sequences and max_tokens cuts from the prompt.
    """
    echo = " ".join(words(prompt)[:12])
    base = "Hello! This is the relaycheck reference gateway."
    return f"{base} You said: {echo}" if echo else base


def tool_result_answer(result: str) -> str:
    snippet = " ".join(words(result)[:20]) or "(empty)"
    return f"The tool returned: {snippet}"


def limit_text(
    text: str, max_tokens: int | None, stops: Sequence[str] = (), family: tokenizer.Family = "openai"
) -> tuple[str, str, str | None]:
    """Apply stop sequences, then the token limit (in ``family``'s tokenizer, whole words kept).

    Returns (text, reason, matched stop sequence), reason one of "end", "stop", "length".
    """
    cut, matched = len(text), None
    for s in stops:
        if s and (i := text.find(s)) != -1 and i < cut:
            cut, matched = i, s
    reason = "end"
    if matched is not None:
        text, reason = text[:cut], "stop"
    if max_tokens is not None and tokenizer.count_text(text, family) > max_tokens:
        # The official APIs stop at exactly max_tokens output tokens, inside a word if need be.
        text, reason, matched = tokenizer.prefix_within(text, max(max_tokens, 0), family), "length", None
    return text, reason, matched


def pieces(text: str) -> list[str]:
    """Stream deltas: one word per delta, the separating space kept at the front."""
    return re.findall(r"\s*\S+", text) or ([text] if text else [])


def json_pieces(s: str, size: int = 7) -> list[str]:
    return [s[i : i + size] for i in range(0, len(s), size)] or [""]


# ---------------------------------------------------------------- JSON and responses


def dump(obj: Any, *, indent: int | None = None, ascii: bool = False) -> str:
    if indent is None:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii)
    return json.dumps(obj, indent=indent, ensure_ascii=ascii)


def break_utf8(data: bytes) -> bytes:
    """Fault invalid-utf8: put a lone 0xFF byte inside the first non-empty text value."""
    m = re.search(rb'"(?:text|delta|content|thinking|partial_json)":\s*"(?=[^"])', data)
    at = m.end() if m else len(data) // 2
    return data[:at] + b"\xff" + data[at:]


def json_response(text: str, status: int, ctx: Ctx | None, content_type: str = "application/json") -> Response:
    data = text.encode()
    if ctx is not None and ctx.has("invalid-utf8") and status == 200:
        data = break_utf8(data)
    if ctx is not None and ctx.has("wrong-content-type"):
        content_type = "text/plain"
    return Response(data, status_code=status, headers={"content-type": content_type})


# ---------------------------------------------------------------- SSE framing

Event = tuple[str | None, str]  # (event: name or None, data: text)


def frame(events: list[Event], ctx: Ctx, *, named: bool) -> list[bytes]:
    """Serialise events into SSE frames, applying the framing faults."""
    if ctx.has("truncated-stream"):
        events = events[: max(1, len(events) // 2)]
    mismatch_at = len(events) // 2 if ctx.has("event-name-mismatch") and named else -1
    out: list[bytes] = []
    for i, (name, data) in enumerate(events):
        if i == mismatch_at and name is not None:
            # Label the event with the first event's name: a real name, but not this data's type.
            first = events[0][0]
            name = first if first and first != name else name + ".renamed"
        head = f"event: {name}\n" if name is not None and not ctx.has("no-event-lines") else ""
        if ctx.has("multiline-data") and data.startswith("{") and "," in data:
            # RELAY_DEFECTS #13: one payload over two data: lines, cut after its first field (no
            # string spans the cut, so a client that joins the lines with "\n" gets the JSON back).
            cut = data.index(",") + 1
            data = data[:cut] + "\ndata: " + data[cut:]
        out.append(f"{head}data: {data}\n\n".encode())
    if ctx.has("no-blank-line") and len(out) > 2:
        out[1] = out[1][:-1]  # the second event runs straight into the third
    if ctx.has("invalid-utf8"):
        for i, chunk in enumerate(out):
            if re.search(rb'"(?:text|delta|content|thinking)":"[^"]', chunk):
                out[i] = break_utf8(chunk)
                break
    return out


async def _paced(frames: list[bytes], ctx: Ctx) -> AsyncIterator[bytes]:
    if ctx.has("buffered-stream"):
        # Hold everything back, then one write: TTFT equals total time.
        await asyncio.sleep(BUFFER_DELAY + ctx.chunk_delay * len(frames))
        yield b"".join(frames)
        return
    for i, chunk in enumerate(frames):
        if i and ctx.chunk_delay:
            await asyncio.sleep(ctx.chunk_delay)
        yield chunk


def sse_response(frames: list[bytes], ctx: Ctx) -> StreamingResponse:
    media = "application/json" if ctx.has("wrong-content-type") else SSE_TYPE
    return StreamingResponse(
        _paced(frames, ctx),
        status_code=200,
        headers={"content-type": media, "cache-control": "no-cache"},
    )


class RequestError(Exception):
    """A 4xx answer in the dialect's own error shape, raised from deep in a handler."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind
