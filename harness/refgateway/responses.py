"""POST /v1/responses, as api.openai.com answers it (reasoning items included)."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from starlette.responses import Response

from harness.refgateway import encrypted, logprobs, stream_faults, structured
from harness.refgateway.capabilities import NO_PARALLEL
from harness.refgateway.chat import REASONING_TOKENS, is_reasoning_model
from harness.refgateway.common import (
    HEX,
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
from harness.refgateway.tools import Answer, Choice, ToolSpec, plan, strict_problem

MIN_OUTPUT_TOKENS = 16
SUMMARY_MODES = ("auto", "concise", "detailed")
STORE_LIMIT = 4096  # stored responses kept for previous_response_id; the oldest go first


class Store:
    """Responses kept in memory (``store`` defaults to true), each as the whole conversation up to
    and including its output, so ``previous_response_id`` continues it as the official API does."""

    def __init__(self, limit: int = STORE_LIMIT) -> None:
        self.limit = limit
        self._items: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def get(self, rid: str) -> list[dict[str, Any]] | None:
        return self._items.get(rid)

    def put(self, rid: str, items: list[dict[str, Any]]) -> None:
        self._items[rid] = items
        while len(self._items) > self.limit:
            self._items.popitem(last=False)


def input_items(inp: Any) -> list[dict[str, Any]]:
    if isinstance(inp, str):
        return [{"role": "user", "content": inp}]
    return [i for i in inp or [] if isinstance(i, dict)]


def conversation(
    body: dict[str, Any], store: Store, ignore_unknown: bool = False, verify_encrypted: bool = True
) -> list[dict[str, Any]]:
    """The items the model sees: the stored conversation of ``previous_response_id``, then this
    request's input. Raises the official 400s for an unknown previous response and for a
    function_call_output whose call_id no function_call in the conversation carries.
    ``ignore_unknown`` (fault previous-response-ignored): an unknown id starts a new conversation.
    Reasoning items sent back must carry the encrypted_content this gateway issued (official 400
    invalid_encrypted_content otherwise); ``verify_encrypted`` False: fault encrypted-content-not-verified."""
    prior: list[dict[str, Any]] = []
    prev = body.get("previous_response_id")
    if prev is not None:
        found = store.get(prev) if isinstance(prev, str) else None
        if found is None and ignore_unknown:
            found = []
        if found is None:
            raise RequestError(
                400,
                f"Previous response with id '{prev}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        prior = found
    items = [*prior, *input_items(body.get("input"))]
    if verify_encrypted:
        encrypted.check(items)
    calls = {i.get("call_id") for i in items if i.get("type") == "function_call"}
    for i in items:
        if i.get("type") == "function_call_output" and i.get("call_id") not in calls:
            raise RequestError(
                400, f"No tool call found for function call output with call_id {i.get('call_id')}.", param="input"
            )
    return items


def _type_name(v: Any) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "an object",
    }.get(type(v), "null")


def validate(body: dict[str, Any]) -> None:
    if "model" not in body:
        raise RequestError(
            400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
        )
    if not isinstance(body["model"], str):
        raise RequestError(
            400,
            f"Invalid type for 'model': expected a string, but got {_type_name(body['model'])} instead.",
            param="model",
            code="invalid_type",
        )
    # input may be absent (previous_response_id / prompt templates); when present it has a type.
    if "input" in body and not isinstance(body["input"], str | list):
        raise RequestError(
            400,
            "Invalid type for 'input': expected one of a string or array of input items, "
            f"but got {_type_name(body['input'])} instead.",
            param="input",
            code="invalid_type",
        )
    limit = body.get("max_output_tokens")
    if limit is not None:
        if type(limit) is not int:
            raise RequestError(
                400,
                f"Invalid type for 'max_output_tokens': expected an integer, but got {_type_name(limit)} instead.",
                param="max_output_tokens",
                code="invalid_type",
            )
        if limit < MIN_OUTPUT_TOKENS:
            raise RequestError(
                400,
                "Invalid 'max_output_tokens': integer below minimum value. Expected a value "
                f">= {MIN_OUTPUT_TOKENS}, but got {limit} instead.",
                param="max_output_tokens",
                code="integer_below_min_value",
            )
    if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
        raise RequestError(
            400,
            f"Invalid type for 'stream': expected a boolean, but got {_type_name(body['stream'])} instead.",
            param="stream",
            code="invalid_type",
        )
    for i, t in enumerate(body.get("tools") or []):
        if isinstance(t, dict) and t.get("type") == "function":
            if not isinstance(t.get("name"), str):
                raise RequestError(
                    400,
                    f"Missing required parameter: 'tools[{i}].name'.",
                    param=f"tools[{i}].name",
                    code="missing_required_parameter",
                )
            if t.get("strict") is True and (problem := strict_problem(t.get("parameters") or {})):
                raise RequestError(
                    400,
                    f"Invalid schema for function '{t['name']}': {problem}",
                    param=f"tools[{i}].parameters",
                    code="invalid_function_parameters",
                )
    effort = (body.get("reasoning") or {}).get("effort")
    if effort is not None and not is_reasoning_model(body["model"]):
        raise RequestError(
            400,
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            param="reasoning.effort",
            code="unsupported_parameter",
        )


def _prompt_and_result(items: list[dict[str, Any]]) -> tuple[str, str | None]:
    result = None
    if items and items[-1].get("type") == "function_call_output":
        out = items[-1].get("output")
        result = out if isinstance(out, str) else text_of(out)
    prompt = next((text_of(i.get("content")) for i in reversed(items) if i.get("role") == "user"), "")
    return prompt, result


def _choice(body: dict[str, Any], has_tools: bool) -> Choice:
    tc = body.get("tool_choice")
    if isinstance(tc, dict) and tc.get("type") == "function":
        return Choice("named", tc.get("name"))
    if tc in ("none", "auto", "required"):
        return Choice(tc)
    return Choice("auto" if has_tools else "none")


def _echo_tools(tools: list[Any]) -> list[Any]:
    """Tools as the official response echoes them (function tools normalised, strict defaulted)."""
    out = []
    for t in tools:
        if isinstance(t, dict) and t.get("type") == "function":
            strict = t.get("strict")
            out.append(
                {
                    "type": "function",
                    "description": t.get("description"),
                    "name": t["name"],
                    "parameters": t.get("parameters"),
                    "strict": True if strict is None and "strict" not in t else bool(strict),
                }
            )
        else:
            out.append(t)
    return out


class Built:
    """Everything a response needs, in non-stream and stream form alike."""

    def __init__(self, ctx: Ctx, items: list[dict[str, Any]]) -> None:
        body = ctx.body
        self.ctx = ctx
        self.items = items
        prompt, result = _prompt_and_result(items)
        tools = [
            ToolSpec(t["name"], t.get("description") or "", t.get("parameters") or {})
            for t in body.get("tools") or []
            if isinstance(t, dict) and t.get("type") == "function"
        ]
        reasoning = body.get("reasoning") or {}
        self.reasoning_model = is_reasoning_model(body["model"])
        self.effort = (reasoning.get("effort") or "medium") if self.reasoning_model else None
        self.summary_mode = reasoning.get("summary") if reasoning.get("summary") in SUMMARY_MODES else None
        r_tokens = REASONING_TOKENS if self.reasoning_model else 0
        limit = body.get("max_output_tokens")
        self.answer: Answer = plan(
            ctx,
            tools,
            _choice(body, bool(tools)),
            prompt,
            parallel=body.get("parallel_tool_calls") is not False and not ctx.has(NO_PARALLEL),
            tool_result=result,
            max_tokens=None if limit is None else limit - r_tokens,
        )
        self.answer = structured.apply(
            ctx, "responses", self.answer, prompt, None if limit is None else limit - r_tokens
        )
        if self.answer.calls and ctx.has("tool-call-as-text"):
            calls = [{"name": t.name, "arguments": json.loads(a)} for t, a in self.answer.calls]
            self.answer = Answer(dump(calls if len(calls) > 1 else calls[0]), [], "end")
        self.rid = ctx.ident("resp_", 50, HEX)
        self.output: list[dict[str, Any]] = []
        if self.reasoning_model:
            summary = []
            if self.summary_mode:
                echo = " ".join(words(prompt)[:8])
                summary = [{"type": "summary_text", "text": f'**Answering briefly**\n\nThe user wrote "{echo}".'}]
            rs: dict[str, Any] = {"id": ctx.ident("rs_", 50, HEX), "type": "reasoning", "summary": summary}
            if encrypted.INCLUDE in (body.get("include") or ()):
                rs["encrypted_content"] = encrypted.issue(rs["id"], " ".join(words(prompt)[:8]))
            self.output.append(rs)
        self.incomplete = self.answer.reason == "length"
        if self.answer.text is not None:
            self.output.append(
                {
                    "id": ctx.ident("msg_", 50, HEX),
                    "type": "message",
                    "status": "incomplete" if self.incomplete else "completed",
                    "content": [
                        {
                            "type": "output_text",
                            "annotations": [],
                            "logprobs": self.logprobs(),
                            "text": self.answer.text,
                        }
                    ],
                    "role": "assistant",
                }
            )
        for tool, args in self.answer.calls:
            self.output.append(
                {
                    "id": ctx.ident("fc_", 50, HEX),
                    "type": "function_call",
                    "status": "completed",
                    "arguments": args,
                    "call_id": ctx.ident("call_", 24),
                    "name": tool.name,
                }
            )
        out_tokens = billed_output(ctx, self.answer.text, r_tokens + sum(len(a) // 4 + 5 for _, a in self.answer.calls))
        inp = billed_input(ctx, body.get("instructions"), items, body.get("tools"))
        self.usage = {
            "input_tokens": inp,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"reasoning_tokens": r_tokens},
            "total_tokens": inp + out_tokens + (1 if ctx.has("usage-inconsistent") else 0),
        }

    def logprobs(self, piece: str | None = None, start: int = 0) -> list[dict[str, Any]]:
        """output_text logprobs (of one stream piece from token ``start``), when included."""
        top = logprobs.wanted_responses(self.ctx)
        text = self.answer.text or "" if piece is None else piece
        return [] if top is None else logprobs.entries(self.ctx, text, top, start)

    def response(self, *, final: bool, billing: bool, output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body, ctx = self.ctx.body, self.ctx
        status = ("incomplete" if self.incomplete else "completed") if final else "in_progress"
        obj: dict[str, Any] = {
            "id": self.rid,
            "object": "response",
            "created_at": ctx.created,
            "status": status,
            "background": False,
        }
        if billing:
            obj["billing"] = {"payer": "developer"}
        obj |= {
            "completed_at": ctx.created + 1 if final and not self.incomplete else None,
            "error": None,
            "frequency_penalty": 0.0,
            "incomplete_details": {"reason": "max_output_tokens"} if final and self.incomplete else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": body.get("max_tool_calls"),
            "model": body["model"],
            "output": self.output if output is None else output,
            "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
            "presence_penalty": 0.0,
            "previous_response_id": body.get("previous_response_id"),
            "prompt_cache_key": body.get("prompt_cache_key"),
            "prompt_cache_retention": None,
            "reasoning": {"effort": self.effort, "summary": (body.get("reasoning") or {}).get("summary")},
            "safety_identifier": body.get("safety_identifier"),
            "service_tier": "default" if final else "auto",
            "store": body.get("store", True) is not False,
            "temperature": float(body.get("temperature", 1.0)),
            "text": {"format": structured.echo_format(body), "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": _echo_tools(body.get("tools") or []),
            "top_logprobs": body.get("top_logprobs", 0),
            "top_p": float(body.get("top_p", 1.0)),
            "truncation": body.get("truncation", "disabled"),
            "usage": self.usage if final else None,
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }
        return obj


def handle(ctx: Ctx, items: list[dict[str, Any]], store: Store) -> Response:
    """``items``: the conversation from :func:`conversation` (checked before any byte is sent)."""
    built = Built(ctx, items)
    if ctx.body.get("store", True) is not False:
        store.put(built.rid, [*items, *built.output])
    if ctx.body.get("stream"):
        reasoning = built.usage["output_tokens_details"]["reasoning_tokens"]
        if (est := stream_estimate(ctx, built.answer.text, reasoning)) is not None:
            built.usage = {**built.usage, "output_tokens": est, "total_tokens": built.usage["input_tokens"] + est}
        return sse_response(frame(_events(built), ctx, named=True), ctx)
    obj = stream_faults.omit_nulls(built.response(final=True, billing=True), ctx)
    # Official Responses JSON is 2-space indented, ASCII-escaped, no trailing newline.
    return json_response(dump(ctx.extra(obj), indent=2, ascii=True), 200, ctx)


def _events(b: Built) -> list[Event]:
    ctx = b.ctx
    raw: list[dict[str, Any]] = []

    def ev(kind: str, **fields: Any) -> None:
        raw.append({"type": kind, **dict(sorted(fields.items()))})

    ev("response.created", response=b.response(final=False, billing=False, output=[]))
    ev("response.in_progress", response=b.response(final=False, billing=False, output=[]))
    for n, item in enumerate(b.output):
        iid = item["id"]
        if item["type"] == "reasoning":
            ev("response.output_item.added", item={**item, "summary": []}, output_index=n)
            for s, part in enumerate(item["summary"]):
                ev(
                    "response.reasoning_summary_part.added",
                    item_id=iid,
                    output_index=n,
                    summary_index=s,
                    part={"type": "summary_text", "text": ""},
                )
                for i, p in enumerate(pieces(part["text"])):
                    ev(
                        "response.reasoning_summary_text.delta",
                        item_id=iid,
                        output_index=n,
                        summary_index=s,
                        delta=p,
                        obfuscation=ctx.obfuscation(i),
                    )
                ev(
                    "response.reasoning_summary_text.done",
                    item_id=iid,
                    output_index=n,
                    summary_index=s,
                    text=part["text"],
                )
                ev(
                    "response.reasoning_summary_part.done",
                    item_id=iid,
                    output_index=n,
                    summary_index=s,
                    part=part,
                )
        elif item["type"] == "message":
            text = item["content"][0]["text"]
            ev(
                "response.output_item.added",
                item={**item, "status": "in_progress", "content": []},
                output_index=n,
            )
            empty_part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            ev("response.content_part.added", item_id=iid, output_index=n, content_index=0, part=empty_part)
            done = 0
            for i, p in enumerate(pieces(text)):
                piece_lp = b.logprobs(p, done)
                done += len(piece_lp)
                ev(
                    "response.output_text.delta",
                    item_id=iid,
                    output_index=n,
                    content_index=0,
                    delta=p,
                    logprobs=piece_lp,
                    obfuscation=ctx.obfuscation(i),
                )
            if not ctx.has("missing-text-done"):
                ev(
                    "response.output_text.done",
                    item_id=iid,
                    output_index=n,
                    content_index=0,
                    text=text,
                    logprobs=item["content"][0]["logprobs"],
                )
            ev(
                "response.content_part.done",
                item_id=iid,
                output_index=n,
                content_index=0,
                part=item["content"][0],
            )
        else:
            ev(
                "response.output_item.added",
                item={**item, "status": "in_progress", "arguments": ""},
                output_index=n,
            )
            for i, p in enumerate(json_pieces(item["arguments"])):
                ev(
                    "response.function_call_arguments.delta",
                    item_id=iid,
                    output_index=n,
                    delta=p,
                    obfuscation=ctx.obfuscation(i),
                )
            done_args = "{}" if ctx.has("args-done-differ") else item["arguments"]
            ev("response.function_call_arguments.done", item_id=iid, output_index=n, arguments=done_args)
        if ctx.has("item-done-never-added") and n == len(b.output) - 1:
            # Drop this item's output_item.added: its output_item.done then names an unknown item.
            added = next(
                i for i, e in enumerate(raw) if e["type"] == "response.output_item.added" and e["item"]["id"] == iid
            )
            del raw[added]
        if not ctx.has("missing-item-done"):
            ev("response.output_item.done", item=item, output_index=n)
    final = b.response(final=True, billing=False)
    if ctx.has("completed-missing-fields"):
        final = {k: v for k, v in final.items() if k not in ("id", "object", "model")}
    ev("response.incomplete" if b.incomplete else "response.completed", response=final)
    raw = stream_faults.responses(raw, ctx)
    events: list[Event] = []
    for seq, e in enumerate(raw):
        if not ctx.has("no-sequence-number"):
            rest = {k: v for k, v in e.items() if k != "type"} | {"sequence_number": seq}
            e = {"type": e["type"], **dict(sorted(rest.items()))}
        events.append((e["type"], dump(ctx.extra(e))))
    if ctx.has("responses-done"):
        events.append((None, "[DONE]"))
    return events
