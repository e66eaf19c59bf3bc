"""POST /v1/messages, as api.anthropic.com answers it (extended thinking included)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from starlette.responses import Response

from harness.refgateway import stream_faults, tokenizer
from harness.refgateway.capabilities import NO_PARALLEL
from harness.refgateway.common import (
    B58,
    Ctx,
    Event,
    RequestError,
    billed_input,
    billed_output,
    dump,
    frame,
    json_pieces,
    json_response,
    pieces,
    sse_response,
    stream_estimate,
    text_of,
    words,
)
from harness.refgateway.prompt_cache import Hit, PromptCache
from harness.refgateway.tools import Answer, Choice, ToolSpec, plan

# Signatures are an HMAC of the thinking text: a relay that alters the text (or the signature)
# when it re-serialises the history gets the official 400, as real relays did (CLIProxyAPI#2172).
SIGNATURE_SECRET = b"relaycheck-reference-gateway-thinking-v1"
STOP_REASON = {"end": "end_turn", "stop": "stop_sequence", "length": "max_tokens", "tool": "tool_use"}
BUDGET_MESSAGE = (
    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"
)


def signature(thinking: str) -> str:
    """A long, opaque, base64 signature (official ones are 300-600 characters)."""
    mac = hmac.new(SIGNATURE_SECRET, thinking.encode(), hashlib.sha256).digest()
    stretched = b"".join(hashlib.sha256(mac + bytes([i])).digest() for i in range(9))
    return base64.b64encode(b"\x12" + mac + stretched).decode()


def _err(message: str) -> RequestError:
    return RequestError(400, message)


def validate(body: dict[str, Any], ctx: Ctx) -> None:
    for key in ("model", "messages", "max_tokens"):
        if key not in body:
            raise _err(f"{key}: Field required")
    if type(body["max_tokens"]) is not int:
        raise _err("max_tokens: Input should be a valid integer")
    if body["max_tokens"] < 1:
        raise _err("max_tokens: Input should be greater than or equal to 1")
    _check_messages(body)
    if "stream" in body and not isinstance(body["stream"], bool):
        raise _err("stream: Input should be a valid boolean")
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise _err("stop_sequences: Input should be a valid list")
    _check_tools(body)
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if type(budget) is not int:
            raise _err("thinking.enabled.budget_tokens: Field required")
        if budget < 1024 and not ctx.has("budget-under-1024-accepted"):
            raise _err("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        if budget >= body["max_tokens"] and not ctx.has("budget-not-below-max-accepted"):
            raise _err(BUDGET_MESSAGE)
        if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
            raise _err("Thinking may not be enabled when tool_choice forces tool use.")
    _check_tool_pairs(body["messages"])
    if ctx.has("reserialize-thinking"):
        _reserialize_thinking(body["messages"])
    if not ctx.has("thinking-signature-not-checked"):
        _check_signatures(body["messages"])


def validate_count(body: dict[str, Any]) -> None:
    """POST /v1/messages/count_tokens: the Messages body without max_tokens (and no stream)."""
    for key in ("model", "messages"):
        if key not in body:
            raise _err(f"{key}: Field required")
    _check_messages(body)
    _check_tools(body)
    _check_tool_pairs(body["messages"])


def input_tokens(body: dict[str, Any]) -> int:
    """What count_tokens says for this body: the claimed model's tokenizer, nothing injected (the
    fidelity faults act on billing, as a relay that forwards count_tokens untouched would)."""
    return tokenizer.count_prompt(tokenizer.family_of(str(body["model"])), *_prompt_parts(body))


def _prompt_parts(body: dict[str, Any]) -> tuple[Any, ...]:
    return body.get("system"), body["messages"], body.get("tools")


def _check_messages(body: dict[str, Any]) -> None:
    if not isinstance(body["model"], str):
        raise _err("model: Input should be a valid string")
    msgs = body["messages"]
    if not isinstance(msgs, list):
        raise _err("messages: Input should be a valid list")
    if not msgs:
        raise _err("messages: at least one message is required")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise _err(f"messages.{i}: Input should be a valid dictionary")
        if m.get("role") not in ("user", "assistant"):
            raise _err(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in m:
            raise _err(f"messages.{i}.content: Field required")


def _check_tools(body: dict[str, Any]) -> None:
    for i, t in enumerate(body.get("tools") or []):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            raise _err(f"tools.{i}.name: Field required")
        if t.get("type") in (None, "custom") and not isinstance(t.get("input_schema"), dict):
            raise _err(f"tools.{i}.custom.input_schema: Field required")


def _blocks_of(m: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = m.get("content")
    if not isinstance(content, list):
        return []
    return [(j, b) for j, b in enumerate(content) if isinstance(b, dict) and b.get("type") == kind]


def _check_tool_pairs(msgs: list[dict[str, Any]]) -> None:
    """The official pairing rule: each tool_result answers a tool_use of the message just before,
    and each tool_use is answered in the next message. A relay that rewrites tool_use ids while
    translating the history gets the official 400."""
    for i, m in enumerate(msgs):
        used = [b.get("id") for _, b in _blocks_of(m, "tool_use")] if m.get("role") == "assistant" else []
        if m.get("role") == "user":
            before = msgs[i - 1] if i and msgs[i - 1].get("role") == "assistant" else {}
            known = {b.get("id") for _, b in _blocks_of(before, "tool_use")}
            for j, block in _blocks_of(m, "tool_result"):
                if block.get("tool_use_id") not in known:
                    raise _err(
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                        "`tool_use` block in the previous message."
                    )
        if used and i + 1 < len(msgs):
            answered = {b.get("tool_use_id") for _, b in _blocks_of(msgs[i + 1], "tool_result")}
            missing = [str(u) for u in used if u not in answered]
            if missing:
                raise _err(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` "
                    "block in the next message."
                )


def _reserialize_thinking(msgs: list[dict[str, Any]]) -> None:
    """Fault reserialize-thinking (RELAY_DEFECTS #11): the relay rebuilds history thinking
    blocks on the way upstream and alters their text (here: the first letter's case), so the
    upstream's signature check fails as the official API's does."""
    for m in msgs:
        for block in m.get("content") if isinstance(m.get("content"), list) else ():
            text = block.get("thinking") if isinstance(block, dict) and block.get("type") == "thinking" else None
            if isinstance(text, str) and text:
                block["thinking"] = text[0].swapcase() + text[1:]


def _check_signatures(msgs: list[dict[str, Any]]) -> None:
    for i, m in enumerate(msgs):
        if m.get("role") != "assistant" or not isinstance(m.get("content"), list):
            continue
        for j, block in enumerate(m["content"]):
            if not isinstance(block, dict) or block.get("type") != "thinking":
                continue
            if not isinstance(block.get("signature"), str):
                raise _err(f"messages.{i}.content.{j}.thinking.signature: Field required")
            if not hmac.compare_digest(block["signature"], signature(str(block.get("thinking", "")))):
                raise _err(f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block")


def _prompt_and_result(msgs: list[dict[str, Any]]) -> tuple[str, str | None]:
    result = None
    last = msgs[-1]
    if last.get("role") == "user" and isinstance(last.get("content"), list):
        results = [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
        if results:
            result = "\n".join(text_of(b.get("content")) for b in results)
    prompt = next((t for m in reversed(msgs) if m.get("role") == "user" and (t := text_of(m.get("content")))), "")
    return prompt, result


def _choice(body: dict[str, Any], has_tools: bool) -> tuple[Choice, bool]:
    tc = body.get("tool_choice") or {}
    parallel = not tc.get("disable_parallel_tool_use", False)
    kind = tc.get("type")
    if kind == "tool":
        return Choice("named", tc.get("name")), parallel
    if kind == "any":
        return Choice("required"), parallel
    if kind in ("auto", "none"):
        return Choice(kind), parallel
    return Choice("auto" if has_tools else "none"), parallel


def build(ctx: Ctx, cache: PromptCache | None = None) -> tuple[list[dict[str, Any]], Answer, dict[str, Any]]:
    """The content blocks, the plan and the usage of the answer."""
    body = ctx.body
    prompt, result = _prompt_and_result(body["messages"])
    tools = [
        ToolSpec(t["name"], t.get("description") or "", t.get("input_schema") or {})
        for t in body.get("tools") or []
        if t.get("type") in (None, "custom")
    ]
    choice, parallel = _choice(body, bool(tools))
    thinking_on = (body.get("thinking") or {}).get("type") == "enabled"
    echo = " ".join(words(prompt)[:8])
    thought = f'The user wrote: "{echo}". I will answer briefly and plainly.' if thinking_on else ""
    limit = body["max_tokens"] - tokenizer.count_text(thought, ctx.family)
    answer = plan(
        ctx,
        tools,
        choice,
        prompt,
        parallel=parallel and not ctx.has(NO_PARALLEL),
        tool_result=result,
        max_tokens=limit,
        stops=body.get("stop_sequences") or [],
    )
    blocks: list[dict[str, Any]] = []
    if thinking_on:
        block = {"type": "thinking", "thinking": thought, "signature": signature(thought)}
        if ctx.has("signature-dropped"):
            del block["signature"]
        blocks.append(block)
    if answer.calls and ctx.has("tool-call-as-text"):
        calls = [{"name": t.name, "input": json.loads(a)} for t, a in answer.calls]
        answer = Answer(dump(calls if len(calls) > 1 else calls[0]), [], "end")
    if answer.text is not None:
        blocks.append({"type": "text", "text": answer.text})
    for tool, args in answer.calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": ctx.ident("toolu_01", 22, B58),
                "name": tool.name,
                "input": json.loads(args),
                "caller": {"type": "direct"},
            }
        )
    out = billed_output(
        ctx, answer.text, tokenizer.count_text(thought, ctx.family) + sum(len(a) // 4 + 5 for _, a in answer.calls)
    )
    # Cached prefix tokens are billed apart from input_tokens, as the official usage does.
    hit = cache.account(body, ctx.family) if cache is not None and not ctx.has("cache-control-stripped") else Hit()
    usage = {
        "input_tokens": max(0, billed_input(ctx, *_prompt_parts(body)) - hit.written - hit.read),
        "cache_creation_input_tokens": hit.written,
        "cache_read_input_tokens": hit.read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": hit.written if hit.ttl == "5m" else 0,
            "ephemeral_1h_input_tokens": hit.written if hit.ttl == "1h" else 0,
        },
        "output_tokens": out,
        "service_tier": "standard",
        "inference_geo": "global",
    }
    return blocks, answer, usage


def stop_reason(answer: Answer, ctx: Ctx) -> str:
    if answer.calls and ctx.has("wrong-finish-reason"):
        return "end_turn"
    return STOP_REASON[answer.reason]


def handle(ctx: Ctx, cache: PromptCache | None = None) -> Response:
    blocks, answer, usage = build(ctx, cache)
    mid = ctx.ident("msg_01", 22, B58)
    if ctx.body.get("stream"):
        if (est := stream_estimate(ctx, answer.text)) is not None:
            usage = {**usage, "output_tokens": est}
        return sse_response(frame(_events(ctx, mid, blocks, answer, usage), ctx, named=True), ctx)
    if ctx.has("chat-completion-on-messages"):
        return _as_chat_completion(ctx, mid, blocks, answer, usage)
    if ctx.has("usage-inconsistent"):
        usage = {**usage, "output_tokens": 0}
    obj = {
        "model": ctx.body["model"],
        "id": mid,
        "type": "message",
        "role": "assistant",
        "content": blocks,
        "stop_reason": stop_reason(answer, ctx),
        "stop_sequence": answer.stop_seq,
        "stop_details": None,
        "usage": usage,
    }
    return json_response(dump(ctx.extra(obj)), 200, ctx)


def _as_chat_completion(
    ctx: Ctx, mid: str, blocks: list[dict[str, Any]], answer: Answer, usage: dict[str, Any]
) -> Response:
    """Fault chat-completion-on-messages: what the seeds/000 and 002 vendor pages show."""
    text = "".join(b["text"] for b in blocks if b["type"] == "text") or None
    message: dict[str, Any] = {"role": "assistant", "content": text}
    calls = [
        {"id": b["id"], "type": "function", "function": {"name": b["name"], "arguments": dump(b["input"])}}
        for b in blocks
        if b["type"] == "tool_use"
    ]
    if calls:
        message["tool_calls"] = calls
    inp, out = usage["input_tokens"], usage["output_tokens"]
    obj = {
        "id": "chatcmpl-" + mid[6:],
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out},
    }
    return json_response(dump(obj, indent=2), 200, ctx)


def _events(ctx: Ctx, mid: str, blocks: list[dict[str, Any]], answer: Answer, usage: dict[str, Any]) -> list[Event]:
    events: list[Event] = []

    def ev(obj: dict[str, Any]) -> None:
        text = dump(ctx.extra(obj))
        # Official Anthropic SSE pads the JSON with a run of spaces before the closing brace.
        pad = ctx.seed[len(events) % 32] % 14
        events.append((obj["type"], text[:-1] + " " * pad + "}"))

    start_usage = {**usage, "output_tokens": 1}
    ev(
        {
            "type": "message_start",
            "message": {
                "model": ctx.body["model"],
                "id": mid,
                "type": "message",
                "role": "assistant",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "stop_details": None,
                "usage": start_usage,
            },
        }
    )
    after_thinking = False
    for index, block in enumerate(blocks):
        kind = block["type"]
        start = (
            {"type": "text", "text": ""}
            if kind == "text"
            else {"type": "thinking", "thinking": "", "signature": ""}
            if kind == "thinking"
            else {**block, "input": {}}
        )
        deltas: list[dict[str, Any]] = []
        if kind == "thinking":
            deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(block["thinking"])]
            if "signature" in block:
                deltas.append({"type": "signature_delta", "signature": block["signature"]})
            else:
                start.pop("signature")
        elif kind == "text":
            deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
            if after_thinking and ctx.has("lost-first-text-delta") and deltas:
                deltas = deltas[1:]
        else:
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in ["", *json_pieces(dump(block["input"]))]]
            if ctx.has("text-delta-on-tool-use"):
                deltas.insert(1, {"type": "text_delta", "text": "Calling the tool."})
        after_thinking = kind == "thinking"
        block_events = [{"type": "content_block_start", "index": index, "content_block": start}]
        block_events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        if index == 0 and ctx.has("delta-before-start") and len(block_events) > 1:
            block_events[0], block_events[1] = block_events[1], block_events[0]
        for i, e in enumerate(block_events):
            ev(e)
            if index == 0 and i == 0:
                events.append(("ping", '{"type": "ping"}'))
        ev({"type": "content_block_stop", "index": index})
    delta_usage = {
        k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
    }
    if ctx.has("usage-inconsistent"):
        delta_usage["input_tokens"] += 7
        delta_usage["output_tokens"] = 0
    ev(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": stop_reason(answer, ctx),
                "stop_sequence": answer.stop_seq,
                "stop_details": None,
            },
            "usage": delta_usage,
        }
    )
    ev({"type": "message_stop"})
    if ctx.has("messages-done"):
        events.append((None, "[DONE]"))
    return stream_faults.messages(events, ctx)
