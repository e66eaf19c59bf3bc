"""POST /v1/chat/completions, as api.openai.com answers it."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from harness.refgateway import logprobs, stream_faults, structured
from harness.refgateway.capabilities import NO_PARALLEL
from harness.refgateway.common import (
    HEX,
    Ctx,
    Event,
    RequestError,
    billed_input,
    billed_output,
    chars,
    dump,
    frame,
    json_pieces,
    json_response,
    pieces,
    sse_response,
    stream_estimate,
    text_of,
)
from harness.refgateway.tools import Answer, Choice, ToolSpec, plan, strict_problem

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
REASONING_TOKENS = 8


def is_reasoning_model(model: str) -> bool:
    return (model[:1] == "o" and model[1:2].isdigit()) or model.startswith("gpt-5")


def _type_name(v: Any) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "an object",
        type(None): "null",
    }.get(type(v), "a value")


def _invalid_type(param: str, expected: str, value: Any) -> RequestError:
    return RequestError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def validate(body: dict[str, Any]) -> None:
    if "model" not in body:
        raise RequestError(400, "you must provide a model parameter")
    if not isinstance(body["model"], str):
        raise _invalid_type("model", "a string", body["model"])
    if "messages" not in body:
        raise RequestError(
            400,
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    msgs = body["messages"]
    if not isinstance(msgs, list):
        raise _invalid_type("messages", "an array of objects", msgs)
    if not msgs:
        raise RequestError(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise _invalid_type(f"messages[{i}]", "an object", m)
        if "role" not in m:
            raise RequestError(
                400,
                f"Missing required parameter: 'messages[{i}].role'.",
                param=f"messages[{i}].role",
                code="missing_required_parameter",
            )
        if m["role"] not in ROLES:
            raise RequestError(
                400,
                f"Invalid value: '{m['role']}'. Supported values are: 'system', "
                "'assistant', 'user', 'function', 'tool', and 'developer'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
    _check_tool_messages(msgs)
    for key in ("max_tokens", "max_completion_tokens", "n", "top_logprobs"):
        if key in body and body[key] is not None and (type(body[key]) is not int):
            raise _invalid_type(key, "an integer", body[key])
    if body.get("max_tokens") is not None and is_reasoning_model(body["model"]):
        # Reasoning models count hidden reasoning against the limit; the official API refuses the
        # old parameter for them rather than guess.
        raise RequestError(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
        raise _invalid_type("stream", "a boolean", body["stream"])
    if body.get("stream_options") is not None and not body.get("stream"):
        raise RequestError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _invalid_type("tools", "an array", tools)
    for i, t in enumerate(tools or []):
        fn = t.get("function") if isinstance(t, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise RequestError(
                400,
                f"Missing required parameter: 'tools[{i}].function'.",
                param=f"tools[{i}].function",
                code="missing_required_parameter",
            )
        if fn.get("strict") is True:
            if problem := strict_problem(fn.get("parameters") or {}):
                raise RequestError(
                    400,
                    f"Invalid schema for function '{fn['name']}': {problem}",
                    param=f"tools[{i}].function.parameters",
                    code="invalid_function_parameters",
                )
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in ("none", "auto", "required"):
        # Anthropic's "any" forwarded unmapped by a bridging relay (claude-code-router, docs/interop.md):
        # the official API refuses it (ChatCompletionToolChoiceOption: enum none, auto, required).
        raise RequestError(
            400,
            f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.",
            param="tool_choice",
            code="invalid_value",
        )
    if body.get("tool_choice") not in (None, "none") and not tools:
        raise RequestError(
            400,
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
        )


def _check_tool_messages(msgs: list[dict[str, Any]]) -> None:
    """The official pairing rule: every tool message answers a tool call of the assistant message
    just before it, and every such tool call is answered before the conversation goes on. A relay
    that rewrites call ids (or drops the assistant's tool_calls) gets the official 400."""
    pending: dict[str, int] = {}  # tool_call_id -> index of the assistant message that made it
    open_ids: set[str] = set()
    for i, m in enumerate(msgs):
        if m.get("role") == "tool":
            if m.get("tool_call_id") not in open_ids:
                raise RequestError(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                    param=f"messages.[{i}].role",
                )
            pending.pop(str(m.get("tool_call_id")), None)
            continue
        if pending:
            break
        calls = m.get("tool_calls") if m.get("role") == "assistant" else None
        open_ids = {c.get("id") for c in calls or [] if isinstance(c, dict)}
        pending = dict.fromkeys((str(x) for x in open_ids), i)
    if pending:
        at = next(iter(pending.values()))
        raise RequestError(
            400,
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
            param=f"messages.[{at}].role",
        )


def _choice(body: dict[str, Any], has_tools: bool) -> Choice:
    tc = body.get("tool_choice")
    if isinstance(tc, dict):
        return Choice("named", (tc.get("function") or {}).get("name"))
    if tc in ("none", "auto", "required"):
        return Choice(tc)
    return Choice("auto" if has_tools else "none")


def build(ctx: Ctx) -> tuple[Answer, dict[str, Any]]:
    body = ctx.body
    msgs = body["messages"]
    prompt = next((text_of(m.get("content")) for m in reversed(msgs) if m.get("role") == "user"), "")
    last = msgs[-1]
    tool_result = text_of(last.get("content")) if last.get("role") == "tool" else None
    tools = [
        ToolSpec(
            t["function"]["name"],
            t["function"].get("description") or "",
            t["function"].get("parameters") or {},
        )
        for t in body.get("tools") or []
        if t.get("type", "function") == "function"
    ]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    reasoning = REASONING_TOKENS if is_reasoning_model(body["model"]) else 0
    if limit is not None:
        # Hidden reasoning counts against the limit too: completion_tokens never exceeds it.
        reasoning = min(reasoning, max(limit, 0))
        limit = max(limit - reasoning, 0)
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in stop or [] if isinstance(s, str)]
    answer = plan(
        ctx,
        tools,
        _choice(body, bool(tools)),
        prompt,
        parallel=body.get("parallel_tool_calls") is not False and not ctx.has(NO_PARALLEL),
        tool_result=tool_result,
        max_tokens=limit,
        stops=stops,
    )
    answer = structured.apply(ctx, "chat", answer, prompt, limit)
    if answer.calls and ctx.has("tool-call-as-text"):
        calls = [{"name": t.name, "arguments": json.loads(a)} for t, a in answer.calls]
        answer = Answer(dump(calls if len(calls) > 1 else calls[0]), [], "end")
    out = billed_output(ctx, answer.text, sum(len(a) // 4 + 5 for _, a in answer.calls) + reasoning)
    out *= n_choices(ctx)  # completion_tokens counts every choice
    prompt_tokens = billed_input(ctx, msgs, body.get("tools"))
    total = prompt_tokens + out + (1 if ctx.has("usage-inconsistent") else 0)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": out,
        "total_tokens": total,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    return answer, usage


def n_choices(ctx: Ctx) -> int:
    """``n``: how many choices to return (fault n-ignored: always one)."""
    n = ctx.body.get("n")
    return n if type(n) is int and n > 1 and not ctx.has("n-ignored") else 1


def finish_reason(answer: Answer, ctx: Ctx) -> str:
    if answer.calls:
        return "stop" if ctx.has("wrong-finish-reason") else "tool_calls"
    return "length" if answer.reason == "length" else "stop"


def handle(ctx: Ctx) -> Response:
    answer, usage = build(ctx)
    cid = ctx.ident("chatcmpl-", 29)
    fingerprint = "fp_" + chars(ctx.seed, "fp", 10, HEX)
    call_ids = [ctx.ident("call_", 24) for _ in answer.calls]
    if ctx.body.get("stream"):
        reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
        if (est := stream_estimate(ctx, answer.text, reasoning)) is not None:
            usage = {**usage, "completion_tokens": est, "total_tokens": usage["prompt_tokens"] + est}
        return sse_response(frame(_chunks(ctx, answer, usage, cid, fingerprint, call_ids), ctx, named=False), ctx)
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if answer.calls:
        message["tool_calls"] = [
            {"id": cid_, "type": "function", "function": {"name": t.name, "arguments": args}}
            for cid_, (t, args) in zip(call_ids, answer.calls, strict=True)
        ]
    message |= {"refusal": None, "annotations": []}
    top = logprobs.wanted_chat(ctx)
    lp = None if top is None else {"content": logprobs.entries(ctx, answer.text or "", top), "refusal": None}
    obj = {
        "id": cid,
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.body["model"],
        "choices": [
            {"index": c, "message": message, "logprobs": lp, "finish_reason": finish_reason(answer, ctx)}
            for c in range(n_choices(ctx))
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": fingerprint,
    }
    return json_response(dump(ctx.extra(obj), indent=2) + "\n", 200, ctx)


def _chunks(ctx: Ctx, answer: Answer, usage: dict[str, Any], cid: str, fp: str, call_ids: list[str]) -> list[Event]:
    # Fault include-usage-dropped: the relay does not forward stream_options (no usage chunk).
    include_usage = bool((ctx.body.get("stream_options") or {}).get("include_usage")) and not ctx.has(
        "include-usage-dropped"
    )
    out: list[Event] = []

    def chunk(delta: dict[str, Any], finish: str | None = None, choice: int = 0, lp: Any = None) -> None:
        obj: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.body["model"],
            "service_tier": "default",
            "system_fingerprint": fp,
            "choices": [{"index": choice, "delta": delta, "logprobs": lp, "finish_reason": finish}],
        }
        if include_usage:
            obj["usage"] = None
        obj["obfuscation"] = ctx.obfuscation(len(out))
        out.append((None, dump(ctx.extra(obj))))

    top = logprobs.wanted_chat(ctx)
    for c in range(n_choices(ctx)):  # n: the choices one after the other, each with its index
        if answer.calls:
            chunk({"role": "assistant", "content": None}, choice=c)
            for i, (call_id, (tool, args)) in enumerate(zip(call_ids, answer.calls, strict=True)):
                index = 0 if ctx.has("parallel-index-zero") else i
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": tool.name, "arguments": ""},
                            }
                        ]
                    },
                    choice=c,
                )
                streamed = "{}" if ctx.has("stream-args-differ") else args
                for frag in json_pieces(streamed):
                    chunk({"tool_calls": [{"index": index, "function": {"arguments": frag}}]}, choice=c)
        else:
            chunk({"role": "assistant", "content": "", "refusal": None}, choice=c)
            done = 0
            for piece in pieces(answer.text or ""):
                lp = None
                if top is not None:
                    entries = logprobs.entries(ctx, piece, top, done)
                    done += len(entries)
                    lp = {"content": entries, "refusal": None}
                chunk({"content": piece}, choice=c, lp=lp)
        chunk({}, finish_reason(answer, ctx), choice=c)
    if include_usage:
        obj = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.body["model"],
            "service_tier": "default",
            "system_fingerprint": fp,
            "choices": [],
            "usage": usage,
            "obfuscation": ctx.obfuscation(len(out)),
        }
        out.append((None, dump(ctx.extra(obj))))
    if not ctx.has("chat-no-done"):
        out.append((None, "[DONE]"))
    return stream_faults.chat(out, ctx, usage)
