"""Google Gemini (v1beta) on the reference gateway: ``POST /v1beta/models/{model}:generateContent``,
``:streamGenerateContent?alt=sse``, ``GET /v1beta/models``, errors in Gemini's shape.

What the official API does and this module copies (tests/truth/gemini/): the key as
``x-goog-api-key`` or ``?key=`` (a relay's ``Authorization: Bearer`` is taken too); no key is
403 PERMISSION_DENIED, a wrong one 400 INVALID_ARGUMENT with reason API_KEY_INVALID; an unknown
model 404 NOT_FOUND; a stream is bare ``data:`` lines, each a whole GenerateContentResponse with
the usage so far, the last one carrying finishReason; no ``[DONE]``. Thinking (a thinkingConfig
with a budget other than 0) is counted in ``thoughtsTokenCount``; ``includeThoughts`` adds a
thought summary part; the part after the thoughts carries a ``thoughtSignature``.

Faults (one record each in faults.py): gemini-openai-error, gemini-usage-total, gemini-args-string,
gemini-done, gemini-thoughts-dropped; of the shared ones html-error, error-in-200 and the framing
faults of ``common.frame`` / ``common.sse_response``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.refgateway import tokenizer, tools
from harness.refgateway.common import (
    Ctx,
    RequestError,
    chars,
    dump,
    frame,
    json_response,
    pieces,
    sse_response,
)
from harness.refgateway.errors import html_error, openai_error_obj

ENDPOINT = "gemini"
NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key "
    "or other form of API consumer identity to call this API."
)
BAD_KEY = "API key not valid. Please pass a valid API key."
STATUS_NAME = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}
THOUGHT_TEXT = "**Planning the answer**\n\nThe user wants a short reply; I will answer directly."
THOUGHT_TOKENS = 48  # what thinking costs here when the budget allows it


class GeminiError(RequestError):
    """A 4xx in Gemini's shape; ``reason`` fills an ErrorInfo detail (API_KEY_INVALID)."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(status, message)
        self.reason = reason


def error_body(err: RequestError, ctx: Ctx | None) -> tuple[dict[str, Any], int]:
    if ctx is not None and ctx.has("gemini-openai-error"):
        return openai_error_obj(err), err.status  # the relay's own (OpenAI) error shape
    obj: dict[str, Any] = {
        "code": err.status,
        "message": err.message,
        "status": STATUS_NAME.get(err.status, "INVALID_ARGUMENT"),
    }
    reason = getattr(err, "reason", None)
    if reason:
        obj["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ]
    status = 200 if ctx is not None and ctx.has("error-in-200") else err.status
    return {"error": obj}, status


def render_error(err: RequestError, ctx: Ctx | None) -> Response:
    obj, status = error_body(err, ctx)
    return json_response(dump(obj, indent=2) + "\n", status, ctx, "application/json; charset=UTF-8")


def check_key(request: Request, api_key: str) -> None:
    auth = request.headers.get("authorization", "")
    bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    given = request.headers.get("x-goog-api-key") or request.query_params.get("key") or bearer
    if not given:
        raise GeminiError(403, NO_KEY)
    if given != api_key:
        raise GeminiError(400, BAD_KEY, "API_KEY_INVALID")


def parse(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise GeminiError(400, "Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(body, dict):
        raise GeminiError(400, 'Invalid JSON payload received. Unknown name "": Root element must be a message.')
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise GeminiError(400, "* GenerateContentRequest.contents: contents is not specified\n")
    return body


def _get(obj: Any, camel: str) -> Any:
    """camelCase or its snake_case twin (the API reads both)."""
    if not isinstance(obj, dict):
        return None
    if camel in obj:
        return obj[camel]
    return obj.get("".join("_" + c.lower() if c.isupper() else c for c in camel))


def _lower_types(schema: Any) -> Any:
    """Gemini's OpenAPI-subset ``parameters`` (types in capitals) as JSON Schema for tools.py."""
    if isinstance(schema, list):
        return [_lower_types(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    return {k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v)) for k, v in schema.items()}


def declared(body: dict[str, Any]) -> list[tools.ToolSpec]:
    out = []
    for tool in _get(body, "tools") or ():
        for decl in _get(tool, "functionDeclarations") or ():
            if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                schema = _get(decl, "parametersJsonSchema") or _lower_types(decl.get("parameters")) or {}
                out.append(tools.ToolSpec(decl["name"], str(decl.get("description") or ""), schema))
    return out


def choice(body: dict[str, Any]) -> tools.Choice:
    config = _get(_get(body, "toolConfig"), "functionCallingConfig")
    mode = str(_get(config, "mode") or "AUTO").upper()
    allowed = _get(config, "allowedFunctionNames") or []
    if mode == "NONE":
        return tools.Choice("none")
    if mode == "ANY":
        return tools.Choice("named", allowed[0]) if len(allowed) == 1 else tools.Choice("required")
    return tools.Choice("auto")


def last_turn(body: dict[str, Any]) -> tuple[str, str | None]:
    """The prompt text of the last user turn, and a function result when that turn carries one."""
    contents = [c for c in body.get("contents") or () if isinstance(c, dict)]
    last = contents[-1] if contents else {}
    texts, result = [], None
    for part in last.get("parts") or ():
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        response = _get(part, "functionResponse")
        if isinstance(response, dict):
            result = json.dumps(response.get("response"), ensure_ascii=False)
    return "\n".join(texts), result


def thinking(body: dict[str, Any]) -> tuple[bool, bool]:
    """(thinks, shows thoughts): a thinkingConfig with a budget other than 0 makes the model think."""
    config = _get(_get(body, "generationConfig"), "thinkingConfig")
    if not isinstance(config, dict):
        return False, False
    budget = _get(config, "thinkingBudget")
    include = _get(config, "includeThoughts") is True
    thinks = budget != 0 or include
    return thinks, include and thinks


def signature(ctx: Ctx) -> str:
    return base64.b64encode(b"\x0a\x22" + chars(ctx.seed, "sig", 48).encode()).decode()


def answer(ctx: Ctx, body: dict[str, Any], model: str) -> tuple[list[dict[str, Any]], str, dict[str, int]]:
    """The parts of the answer, its finishReason, and its usageMetadata counts."""
    config = _get(body, "generationConfig") or {}
    prompt, result = last_turn(body)
    max_tokens = _get(config, "maxOutputTokens")
    stops = _get(config, "stopSequences") or ()
    plan = tools.plan(
        ctx,
        declared(body),
        choice(body),
        prompt,
        parallel=True,
        tool_result=result,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        stops=[s for s in stops if isinstance(s, str)],
    )
    thinks, shows = thinking(body)
    family = tokenizer.family_of(model)
    parts: list[dict[str, Any]] = []
    if shows and not ctx.has("gemini-thoughts-dropped"):
        parts.append({"text": THOUGHT_TEXT, "thought": True})
    output = 0
    for spec, args_json in plan.calls:
        args = json.loads(args_json)
        parts.append(
            {"functionCall": {"name": spec.name, "args": dump(args) if ctx.has("gemini-args-string") else args}}
        )
        output += tokenizer.count_text(args_json, family) + 2
    if plan.text is not None:
        parts.append({"text": plan.text})
        output += tokenizer.count_text(plan.text, family)
    if thinks:
        first_answer = next(p for p in parts if not p.get("thought"))
        first_answer["thoughtSignature"] = signature(ctx)
    prompt_tokens = tokenizer.count_prompt(
        family, body.get("contents"), _get(body, "systemInstruction"), body.get("tools")
    )
    usage = {"prompt": prompt_tokens, "candidates": output, "thoughts": THOUGHT_TOKENS if thinks else 0}
    return parts, ("MAX_TOKENS" if plan.reason == "length" else "STOP"), usage


def usage_metadata(ctx: Ctx, prompt: int, candidates: int, thoughts: int) -> dict[str, Any]:
    out: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates:
        out["candidatesTokenCount"] = candidates
    total = prompt + candidates + thoughts
    if ctx.has("gemini-usage-total"):
        total = prompt + candidates  # the relay's sum leaves the thoughts out
    out["totalTokenCount"] = total
    out["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    return out


def response(
    ctx: Ctx, model: str, parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any]
) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        cand["finishReason"] = finish
    cand["index"] = 0
    obj = {
        "candidates": [cand],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": chars(ctx.seed, "responseId", 23),
    }
    return ctx.extra(obj)


def generate(ctx: Ctx, model: str, stream: bool) -> Response:
    parts, finish, counts = answer(ctx, ctx.body, model)
    if not stream:
        usage = usage_metadata(ctx, counts["prompt"], counts["candidates"], counts["thoughts"])
        return json_response(dump(response(ctx, model, parts, finish, usage), indent=2), 200, ctx)
    # One chunk per thought part and function call, one per word of text; the usage so far in
    # each (the official chunks count the thoughts from the first one on).
    pieces_out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part.get("text"), str) and not part.get("thought"):
            words = pieces(part["text"]) or [""]
            for i, word in enumerate(words):
                piece: dict[str, Any] = {"text": word}
                if i == 0 and "thoughtSignature" in part:
                    piece["thoughtSignature"] = part["thoughtSignature"]
                pieces_out.append(piece)
        else:
            pieces_out.append(part)
    events: list[tuple[str | None, str]] = []
    family = tokenizer.family_of(model)
    so_far = 0
    for i, piece in enumerate(pieces_out):
        last = i == len(pieces_out) - 1
        if isinstance(piece.get("text"), str) and not piece.get("thought"):
            so_far += tokenizer.count_text(piece["text"], family)
        elif "functionCall" in piece:
            so_far += counts["candidates"] // max(1, sum("functionCall" in p for p in pieces_out))
        done = counts["candidates"] if last else min(so_far, counts["candidates"])
        usage = usage_metadata(ctx, counts["prompt"], done, counts["thoughts"])
        events.append((None, dump(response(ctx, model, [piece], finish if last else None, usage))))
    frames = frame(events, ctx, named=False)
    if ctx.has("gemini-done"):
        frames.append(b"data: [DONE]\n\n")
    return sse_response(frames, ctx)


def _error_in_200_stream(ctx: Ctx, err: RequestError) -> Response:
    obj, _ = error_body(err, ctx)
    return sse_response([f"data: {dump(obj)}\n\n".encode()], ctx)


def models_list(model_map: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": f"models/{m}",
                "version": "001",
                "displayName": m.replace("-", " ").title(),
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
                "thinking": "2.5" in m or "thinking" in m,
            }
            for m in dict.fromkeys(model_map.get(ENDPOINT, []))
        ]
    }


def routes(
    api_key: str, model_map: Mapping[str, Sequence[str]], faults_of: Any, chunk_delay: float = 0.0
) -> list[Route]:
    """The Gemini routes of the app (create_app adds them)."""

    async def generate_ep(request: Request) -> Response:
        faults_on = faults_of(request)
        if "html-error" in faults_on:
            return html_error()
        raw = await request.body()
        pre = Ctx({}, raw, faults_on, chunk_delay)
        model, _, method = request.path_params["target"].partition(":")
        stream = method == "streamGenerateContent"
        try:
            if method not in ("generateContent", "streamGenerateContent"):
                raise GeminiError(404, f"Method not found: {method or '(none)'}.")
            check_key(request, api_key)
            body = parse(raw)
            if model not in model_map.get(ENDPOINT, []):
                raise GeminiError(
                    404,
                    f"models/{model} is not found for API version v1beta, or is not supported for "
                    f"{method}. Call ListModels to see the list of available models and their supported methods.",
                )
        except RequestError as err:
            if stream and "error-in-200" in faults_on:
                return _error_in_200_stream(pre, err)
            return render_error(err, pre)
        ctx = Ctx(body, raw, faults_on, chunk_delay)
        if "error-in-200" in faults_on:
            err = GeminiError(
                500,
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
            )
            return _error_in_200_stream(ctx, err) if stream else render_error(err, ctx)
        return generate(ctx, model, stream)

    async def models_ep(request: Request) -> Response:
        faults_on = faults_of(request)
        if "html-error" in faults_on:
            return html_error()
        pre = Ctx({}, b"", faults_on)
        try:
            check_key(request, api_key)
        except RequestError as err:
            return render_error(err, pre)
        return json_response(dump(models_list(model_map), indent=2), 200, None)

    return [
        Route("/v1beta/models", models_ep, methods=["GET"]),
        Route("/v1beta/models/{target}", generate_ep, methods=["POST"]),
    ]
