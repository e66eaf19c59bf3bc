"""``--sdk-check``: the answer's bytes, as received, go through the official SDK (openai or anthropic,
``pip install relaycheck[sdk]``): its parser, and for a stream its accumulator. An SDK that raises,
or folds the answer into other text / tool calls / stop reason than relaycheck's own fold, is one
``sdk.break`` violation naming the SDK and its version. The SDK never touches the network: its
HTTP client is a mock transport that answers with the recorded bytes."""

from __future__ import annotations

import importlib
import json
from typing import Any

from harness.model import Exchange, Violation

_SDK = {"chat": "openai", "responses": "openai", "messages": "anthropic"}


def available() -> str | None:
    """None when both SDKs import, else what to install."""
    for name in ("openai", "anthropic"):
        try:
            importlib.import_module(name)
        except ImportError:
            return f"--sdk-check needs the official SDKs: pip install 'relaycheck[sdk]' ({name} is missing)"
    return None


def check(exchange: Exchange, endpoint: str, request_json: Any, final: Any) -> list[Violation]:
    """One ``sdk.break`` at most; nothing for answers the SDK is not asked to read (errors, other paths)."""
    if endpoint not in _SDK or exchange.status != 200 or not isinstance(request_json, dict):
        return []
    sdk = importlib.import_module(_SDK[endpoint])
    name = f"{sdk.__name__} {sdk.__version__}"
    try:
        folded = _fold(sdk, endpoint, exchange, request_json)
    except Exception as exc:
        return [Violation("sdk.break", "$", f"{name} raised {type(exc).__name__}: {str(exc)[:300]}")]
    ours = _essence(endpoint, final) if isinstance(final, dict) else None
    if ours is not None and folded != ours:
        return [
            Violation(
                "sdk.break",
                "$",
                f"{name} reads this answer differently from relaycheck's fold",
                expected=_clip(ours),
                actual=_clip(folded),
            )
        ]
    return []


def _clip(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 600 else text[:600] + "..."


def _client(sdk: Any, exchange: Exchange) -> Any:
    import httpx

    hx = getattr(importlib.import_module(sdk.__name__ + "._base_client"), "httpx2", httpx)
    headers = {
        k: v for k, v in dict(exchange.headers).items() if k.lower() not in ("content-encoding", "content-length")
    }
    transport = hx.MockTransport(
        lambda request: hx.Response(exchange.status or 0, headers=headers, content=exchange.body)
    )
    http = hx.Client(transport=transport)
    if sdk.__name__ == "anthropic":
        return sdk.Anthropic(base_url="http://sdk-check.invalid", api_key="sdk-check", http_client=http, max_retries=0)
    return sdk.OpenAI(base_url="http://sdk-check.invalid/v1", api_key="sdk-check", http_client=http, max_retries=0)


def _fold(sdk: Any, endpoint: str, exchange: Exchange, req: dict[str, Any]) -> Any:
    client = _client(sdk, exchange)
    rest = {k: v for k, v in req.items() if k not in ("model", "messages", "input", "max_tokens", "stream")}
    if endpoint == "chat":
        args = {"model": req.get("model", ""), "messages": req.get("messages", []), "extra_body": rest}
        if exchange.is_sse:
            # The accumulator without the stream helper's parse step, which raises on an official
            # finish_reason "length" / "content_filter" (7 official recordings).
            from openai.lib.streaming.chat import ChatCompletionStreamState

            state: Any = ChatCompletionStreamState()
            for chunk in client.chat.completions.create(**args, stream=True):
                state.handle_chunk(chunk)
            return _essence("chat", _dump(state.current_completion_snapshot))
        return _essence("chat", _dump(client.chat.completions.create(**args)))
    if endpoint == "messages":
        args = {
            "model": req.get("model", ""),
            "messages": req.get("messages", []),
            "max_tokens": req.get("max_tokens", 1),
            "extra_body": rest,
        }
        if exchange.is_sse:
            with client.messages.stream(**args) as stream:
                return _essence("messages", _dump(stream.get_final_message()))
        return _essence("messages", _dump(client.messages.create(**args)))
    args = {"model": req.get("model", ""), "input": req.get("input", ""), "extra_body": rest}
    if exchange.is_sse:
        # The SDK's stream state folds every event; the answer is its terminal event's response
        # (the stream helper accepts only response.completed, official streams also end incomplete).
        from openai import omit
        from openai.lib.streaming.responses import ResponseStreamState

        rstate: Any = ResponseStreamState(input_tools=omit, text_format=omit)
        terminal = None
        for event in client.responses.create(**args, stream=True):
            rstate.handle_event(event)
            if event.type in ("response.completed", "response.incomplete", "response.failed"):
                terminal = event.response
        if terminal is None:
            raise RuntimeError("no response.completed / incomplete / failed event")
        return _essence("responses", _dump(terminal))
    return _essence("responses", _dump(client.responses.create(**args)))


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(warnings=False)  # the SDK's union serializer warns on valid items


def _essence(endpoint: str, obj: dict[str, Any]) -> Any:
    """What a client acts on: text, tool calls and why it stopped (ids and metadata left out).
    A wrong-typed value (the dialect's schema check names it) reads as absent, never raises."""
    if endpoint == "chat":
        out = []
        for c in _dicts(obj.get("choices")):
            m = _dict(c.get("message"))
            calls = [
                (_dict(t.get("function")).get("name"), _dict(t.get("function")).get("arguments"))
                for t in _dicts(m.get("tool_calls"))
            ]
            out.append([m.get("content") or "", calls, c.get("finish_reason")])
        return out
    if endpoint == "messages":
        blocks = []
        for b in _dicts(obj.get("content")):
            kind = b.get("type")
            values = {"text": b.get("text"), "thinking": b.get("thinking"), "tool_use": b.get("input")}
            blocks.append([kind, values.get(kind) if isinstance(kind, str) else None])
        return [blocks, obj.get("stop_reason")]
    items: list[Any] = []
    for item in _dicts(obj.get("output")):
        if item.get("type") == "message":
            parts = [p.get("text") or p.get("refusal") or "" for p in _dicts(item.get("content"))]
            items.append(["message", "".join(p for p in parts if isinstance(p, str))])
        elif item.get("type") == "function_call":
            items.append(["function_call", item.get("name"), item.get("arguments")])
    return [items, obj.get("status")]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
