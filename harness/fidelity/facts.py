"""What `relaycheck compare` reads from one recorded answer: the parts the official API keeps
deterministic for a given request and model. Never the text itself, which sampling changes.

- ``input_tokens``: what the request was billed, cache included (Messages counts cached tokens
  apart from ``input_tokens``; the sum is what the prompt cost, whoever wrote the cache);
- ``cache``: Messages' cache creation and read counts (OpenAI's automatic caching is best effort:
  not read);
- ``stop``: the stop reason (and, on Messages, the stop sequence that matched);
- ``tools``: each tool call's name and its argument keys, in order;
- ``blocks``: the answer's content block / output item / message part types, in order;
- ``events``: a stream's event types in order, consecutive repeats folded into one and keepalive
  pings left out (how often a long answer is pinged or how many deltas the text takes varies);
- ``thinking``: whether the answer thinks (a thinking block or reasoning item) and signs it.
No pytest here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness import dialects, sse
from harness.engine import evaluate_exchange
from harness.model import Exchange
from harness.report.metrics import usage


@dataclass(frozen=True)
class Facts:
    status: int | None
    request: Any  # the request body as JSON (input tokens compare only for equal requests)
    input_tokens: int | None = None
    cache: tuple[int, int] | None = None  # (creation, read), Messages only
    stop: tuple[str | None, str | None] | None = None  # (reason, matched stop sequence)
    tools: tuple[tuple[str, tuple[str, ...]], ...] = ()
    blocks: tuple[str, ...] = ()
    events: tuple[str, ...] | None = None  # None: not a stream
    thinking: tuple[bool, bool] | None = None  # (thinks, every thinking part signed); None: n/a
    error: str | None = None  # no answer, or not one a dialect could read

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


def facts(exchange: Exchange, endpoint: str | None, path: str) -> Facts:
    """The comparable facts of one answer; ``endpoint`` None for other paths (count_tokens keeps
    its ``input_tokens``, anything else only its status)."""
    request = exchange.request.json
    if exchange.error is not None:
        return Facts(exchange.status, request, error=f"no answer ({exchange.error_code or exchange.error})")
    status = exchange.status
    if status is None or not 200 <= status < 300:
        return Facts(status, request)
    if endpoint is None:
        count = None
        if path.rstrip("/").endswith("/count_tokens"):
            try:
                value = json.loads(exchange.body)
            except ValueError:
                value = None
            count = value.get("input_tokens") if isinstance(value, dict) else None
        return Facts(status, request, input_tokens=count if isinstance(count, int) else None)
    final = evaluate_exchange(exchange, endpoint, recorded=True).final
    if not isinstance(final, dict):
        return Facts(status, request, error="no answer object could be read")
    dialect = dialects.get(endpoint)
    tin, _ = usage(endpoint, final)  # Messages: the cached tokens added back (harness/report/metrics.py)
    cache = _cache(final) if endpoint == "messages" else None
    sequence = final.get("stop_sequence") if endpoint == "messages" else None
    return Facts(
        status,
        request,
        input_tokens=tin,
        cache=cache,
        stop=(dialect.stop_reason(final), sequence if isinstance(sequence, str) else None),
        tools=tuple((c.name, _keys(c.arguments)) for c in dialect.tool_calls(final)),
        blocks=_blocks(endpoint, final),
        events=_events(endpoint, exchange.body) if exchange.is_sse else None,
        thinking=_thinking(endpoint, final),
    )


# Tool types billed by what the server fetches or runs (web search results, a PDF at a URL): the
# same request then costs another input count each time. Measured on the shared corpus: every
# official pair of identical requests that billed differently used one of these.
_CLIENT_TOOLS = {None, "function", "custom"}


def server_side_input(request: Any) -> bool:
    """Whether the request makes the server add content of its own (a server tool such as web
    search, a document it parses, an image or file fetched from a URL): its input count is then
    not deterministic."""
    if not isinstance(request, dict):
        return False
    return server_tools(request) or _fetches(request.get("messages")) or _fetches(request.get("input"))


def server_tools(request: Any) -> bool:
    """Whether the request offers a tool the server runs itself (web search, code execution): how
    often it runs, and so the answer's blocks, is the server's choice."""
    tools = request.get("tools") if isinstance(request, dict) else None
    return isinstance(tools, list) and any(isinstance(t, dict) and t.get("type") not in _CLIENT_TOOLS for t in tools)


_DOCUMENTS = {"file", "input_file", "document"}  # parsed by the server (a PDF's count moved by 1 in the corpus)


def _fetches(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get("type") in _DOCUMENTS:
            return True
        for key, inner in value.items():
            if key in ("url", "image_url", "file_url") and isinstance(inner, str) and inner.startswith("http"):
                return True
            if _fetches(inner):
                return True
    elif isinstance(value, list):
        return any(_fetches(v) for v in value)
    return False


def _cache(final: dict[str, Any]) -> tuple[int, int] | None:
    u = final.get("usage")
    if not isinstance(u, dict):
        return None
    made, read = u.get("cache_creation_input_tokens"), u.get("cache_read_input_tokens")
    if not isinstance(made, int) and not isinstance(read, int):
        return None
    return (made if isinstance(made, int) else 0, read if isinstance(read, int) else 0)


def _keys(arguments: str) -> tuple[str, ...]:
    try:
        value = json.loads(arguments)
    except ValueError:
        return ("(arguments not JSON)",)
    return tuple(sorted(value)) if isinstance(value, dict) else ("(arguments not an object)",)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _blocks(endpoint: str, final: dict[str, Any]) -> tuple[str, ...]:
    if endpoint == "messages":
        return tuple(str(b.get("type")) for b in _dicts(final.get("content")))
    if endpoint == "responses":
        out = []
        for item in _dicts(final.get("output")):
            parts = [str(p.get("type")) for p in _dicts(item.get("content"))] if item.get("type") == "message" else []
            out.append(f"{item.get('type')}({','.join(parts)})" if parts else str(item.get("type")))
        return tuple(out)
    out = []
    choices = _dicts(final.get("choices"))
    for choice in choices:
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        kinds = [k for k in ("content", "refusal", "tool_calls") if message.get(k)]
        out.append("+".join(kinds) or "empty")
    return tuple(out)


def _events(endpoint: str, body: bytes) -> tuple[str, ...]:
    events, _ = sse.parse(body)
    return _folded(_kind(endpoint, ev) for ev in events)


def _kind(endpoint: str, ev: sse.SSEEvent) -> str | None:
    if ev.data.strip() == "[DONE]":
        return "[DONE]"
    try:
        data = json.loads(ev.data)
    except ValueError:
        return "(not JSON)"
    if not isinstance(data, dict):
        return "(not an object)"
    if endpoint != "chat":
        kind = str(data.get("type") or ev.event)
        if kind in ("ping", "keepalive"):
            return None  # the official APIs ping long answers at their own pace
        delta = data.get("delta")
        if kind == "content_block_delta" and isinstance(delta, dict):
            return f"{kind}:{delta.get('type')}"
        if kind == "content_block_start" and isinstance(data.get("content_block"), dict):
            return f"{kind}:{data['content_block'].get('type')}"
        return kind
    # A chat chunk has no type: name it by what it carries.
    choices = _dicts(data.get("choices"))
    if not choices:
        return "usage" if data.get("usage") else "empty"
    delta = choices[0].get("delta") if isinstance(choices[0].get("delta"), dict) else {}
    for key in ("tool_calls", "content", "refusal", "role"):
        if delta.get(key):
            return key
    return "finish" if choices[0].get("finish_reason") else "empty"


def _folded(kinds: Iterable[str | None]) -> tuple[str, ...]:
    out: list[str] = []
    for kind in kinds:
        if kind is not None and (not out or out[-1] != kind):
            out.append(kind)
    return tuple(out)


def _thinking(endpoint: str, final: dict[str, Any]) -> tuple[bool, bool] | None:
    if endpoint == "messages":
        parts = [b for b in _dicts(final.get("content")) if b.get("type") in ("thinking", "redacted_thinking")]
        signed = all(bool(b.get("signature") if b.get("type") == "thinking" else b.get("data")) for b in parts)
    elif endpoint == "responses":
        parts = [i for i in _dicts(final.get("output")) if i.get("type") == "reasoning"]
        signed = all(bool(i.get("encrypted_content")) for i in parts)
    else:
        return None
    return (bool(parts), bool(parts) and signed)
