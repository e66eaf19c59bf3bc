"""The reference gateway app: routing, auth, JSON parsing, model lists and fault switching.

Checks run in the official order: authentication first (a bad key never reaches body parsing),
then the JSON body, then the dialect's own validation, then the model name.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.refgateway import capabilities, chat, gemini, messages, request_faults, responses
from harness.refgateway.common import B58, Ctx, RequestError, dump, json_response, sse_response
from harness.refgateway.errors import html_error, render_error
from harness.refgateway.faults import FAULT_HEADER, FAULTS, check_faults, parse_fault_header
from harness.refgateway.prompt_cache import PromptCache
from harness.refgateway.slow import FailEvery

__all__ = ["DEFAULT_MODELS", "FAULTS", "create_app"]

# What the gateway serves when no model map is given (``relaycheck serve``, tests). A superset of
# the built-in ``local`` gateway in gateways.yaml (a test keeps the two in step); like many relays,
# it serves a Claude model on the OpenAI endpoints too.
DEFAULT_MODELS: dict[str, list[str]] = {
    "chat": ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "o4-mini", "gpt-5-mini", "claude-sonnet-4-20250514"],
    "messages": [
        "claude-sonnet-4-5",
        "claude-sonnet-4-6",
        "claude-sonnet-4-20250514",
        "claude-sonnet-4-0",
        "claude-haiku-4-5",
        "claude-opus-4-6",
        "claude-opus-4-6-thinking",
        "claude-opus-4-1",
        "claude-3-5-haiku-latest",
    ],
    "responses": [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.1-mini",
        "o4-mini",
        "gpt-5-mini",
        "gpt-5",
        "claude-sonnet-4-20250514",
    ],
    "gemini": ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"],
}

OPENAI_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
    "accessing the API from your browser and are prompted for a username and password. You can obtain an API "
    "key from https://platform.openai.com/account/api-keys."
)
OPENAI_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. "
    "If you have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)
DIALECTS = {"chat": chat, "messages": messages, "responses": responses}


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


def _mask(key: str) -> str:
    return key if len(key) <= 12 else key[:8] + "*****" + key[-4:]


def check_auth(request: Request, dialect: str, api_key: str) -> None:
    if dialect == "messages":
        # Official: x-api-key. Relays (and seeds/004) also take Bearer, so both are accepted.
        # A missing anthropic-version header is accepted too (the official API answers 400): the
        # vendor pages in seeds/ send only Bearer, and a reference that rejected them would turn
        # every such case into an auth test instead of a wire-format test.
        given = request.headers.get("x-api-key") or _bearer(request)
        if not given:
            raise RequestError(401, "x-api-key header is required", kind="authentication_error")
        if given != api_key:
            raise RequestError(401, "invalid x-api-key", kind="authentication_error")
        return
    given = _bearer(request)
    if dialect == "models" and not given:
        given = request.headers.get("x-api-key")
    if not given:
        raise RequestError(401, OPENAI_NO_KEY)  # official: code null when no key at all
    if given != api_key:
        raise RequestError(
            401,
            f"Incorrect API key provided: {_mask(given)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )


def parse_body(raw: bytes, dialect: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        if dialect == "messages":
            raise RequestError(400, "There was an error parsing the body of your request: invalid JSON") from None
        raise RequestError(400, OPENAI_BAD_JSON) from None
    if not isinstance(body, dict):
        if dialect == "messages":
            raise RequestError(400, "Input should be a valid dictionary or object to extract fields from")
        raise RequestError(400, OPENAI_BAD_JSON)
    return body


def unknown_model(dialect: str, model: str) -> RequestError:
    if dialect == "chat":
        return RequestError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    if dialect == "messages":
        return RequestError(404, f"model: {model}", kind="not_found_error")
    # The Responses API answers an unknown model with 400, not 404 (corpus).
    return RequestError(400, f"The requested model '{model}' does not exist.", param="model", code="model_not_found")


def error_in_200(dialect: str, ctx: Ctx) -> Response:
    """Fault error-in-200: the new-api habit of wrapping an upstream failure in a 200."""
    err = {
        "error": {
            "message": "upstream error: do request failed",
            "type": "upstream_error",
            "param": None,
            "code": "do_request_failed",
        }
    }
    if ctx.body.get("stream"):
        return sse_response([f"data: {dump(err)}\n\n".encode()], ctx)
    if dialect == "messages":
        obj = {
            "type": "error",
            "error": {"type": "api_error", "message": "upstream error: do request failed"},
        }
        return json_response(dump(obj), 200, ctx)
    return json_response(dump(err, indent=2), 200, ctx)


def _display_name(model_id: str) -> str:
    parts = [p for p in model_id.split("-") if not re.fullmatch(r"\d{8}|latest", p)]
    family = [p.capitalize() for p in parts if not p.isdigit()]
    version = ".".join(p for p in parts if p.isdigit())
    return " ".join([*family, version]).strip()


def _created_at(model_id: str) -> str:
    m = re.search(r"(\d{4})(\d{2})(\d{2})$", model_id)
    return f"{m[1]}-{m[2]}-{m[3]}T00:00:00Z" if m else "2025-09-29T00:00:00Z"


def models_body(request: Request, model_map: Mapping[str, Sequence[str]]) -> Response:
    anthropic = "anthropic-version" in request.headers or "x-api-key" in request.headers
    if anthropic:
        ids = list(dict.fromkeys(model_map.get("messages", [])))
        data = [{"type": "model", "id": m, "display_name": _display_name(m), "created_at": _created_at(m)} for m in ids]
        obj = {
            "data": data,
            "has_more": False,
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
        }
        return json_response(dump(obj), 200, None)
    ids = list(dict.fromkeys(m for key in ("chat", "responses", "messages") for m in model_map.get(key, [])))
    data = [
        {
            "id": m,
            "object": "model",
            "created": 1_700_000_000 + int.from_bytes(hashlib.sha256(m.encode()).digest()[:3], "big"),
            "owned_by": "anthropic" if m.startswith("claude") else "system",
        }
        for m in ids
    ]
    return json_response(dump({"object": "list", "data": data}, indent=2), 200, None)


def _request_id(response: Response, dialect: str, faults_on: frozenset[str]) -> Response:
    """The request-id header the official APIs name every answer with (x-request-id: req_<32 hex>
    for OpenAI, request-id: req_011C<base58> for Anthropic); fault no-request-id drops it."""
    if "no-request-id" in faults_on or "html-error" in faults_on:
        return response
    token = secrets.token_hex(16)
    if dialect == "messages":
        response.headers["request-id"] = "req_011C" + "".join(B58[int(c, 16) % len(B58)] for c in token[:20])
    else:
        response.headers["x-request-id"] = "req_" + token
    return response


def create_app(
    api_key: str,
    *,
    models: Mapping[str, Sequence[str]] | None = None,
    faults: Iterable[str] = (),
    chunk_delay: float = 0.0,
    latency: float = 0.0,
    fail_every: int = 0,
    retry_after: float = 1.0,
    capability_map: capabilities.CapabilityMap | None = None,
) -> Starlette:
    """The reference gateway as a Starlette app. ``faults`` must be names from FAULTS.

    Slow mode: ``latency`` seconds before each answer, ``chunk_delay`` between stream events,
    and every ``fail_every``-th request refused with an official 429 and Retry-After."""
    limiter = FailEvery(fail_every, retry_after)
    app_faults = check_faults(faults)
    model_map = {k: list(v) for k, v in (models if models is not None else DEFAULT_MODELS).items()}
    store = responses.Store()  # stored responses, for previous_response_id
    prompt_cache = PromptCache()  # cache_control prefixes seen, for cache accounting

    def faults_of(request: Request) -> frozenset[str]:
        return app_faults | parse_fault_header(request.headers.get(FAULT_HEADER))

    async def dispatch(request: Request, dialect: str) -> Response:
        faults_on = faults_of(request)
        if latency:
            await asyncio.sleep(latency)
        if "html-error" in faults_on:
            return html_error()
        raw = await request.body()
        pre = Ctx({}, raw, faults_on, chunk_delay)  # for error answers, before the body is known
        if limiter.due():
            return limiter.answer(dialect, pre)
        module = DIALECTS[dialect]
        try:
            check_auth(request, dialect, api_key)
            body = request_faults.alter(parse_body(raw, dialect), dialect, faults_on)
            ctx = Ctx(body, raw, faults_on, chunk_delay)
            if dialect == "messages":
                messages.validate(body, ctx)
            else:
                module.validate(body)
            if body["model"] not in model_map.get(dialect, []):
                raise unknown_model(dialect, body["model"])
            capabilities.refuse(capability_map, dialect, body)
            ctx.faults = ctx.faults | capabilities.flags(capability_map, dialect, body["model"])
            items = (
                responses.conversation(
                    body,
                    store,
                    ctx.has("previous-response-ignored"),
                    verify_encrypted=not ctx.has("encrypted-content-not-verified"),
                )
                if dialect == "responses"
                else []
            )
        except RequestError as err:
            return render_error(dialect, err, pre, pre.seed)
        if "error-in-200" in faults_on:
            return error_in_200(dialect, ctx)
        if dialect == "responses":
            return responses.handle(ctx, items, store)
        if dialect == "messages":
            return messages.handle(ctx, prompt_cache)
        return module.handle(ctx)

    async def count_tokens_ep(request: Request) -> Response:
        """POST /v1/messages/count_tokens: the input tokens /v1/messages would bill for the body."""
        faults_on = faults_of(request)
        raw = await request.body()
        pre = Ctx({}, raw, faults_on)
        try:
            check_auth(request, "messages", api_key)
            body = parse_body(raw, "messages")
            messages.validate_count(body)
            if body["model"] not in model_map.get("messages", []):
                raise unknown_model("messages", body["model"])
            have = capabilities.tags(capability_map, "messages", body["model"])
            if have is not None and "count_tokens" not in have:
                raise RequestError(400, f"count_tokens is not supported with the model '{body['model']}'.")
        except RequestError as err:
            return render_error("messages", err, pre, pre.seed)
        return json_response(dump({"input_tokens": messages.input_tokens(body)}), 200, Ctx(body, raw, faults_on))

    async def chat_ep(request: Request) -> Response:
        return _request_id(await dispatch(request, "chat"), "chat", faults_of(request))

    async def messages_ep(request: Request) -> Response:
        return _request_id(await dispatch(request, "messages"), "messages", faults_of(request))

    async def responses_ep(request: Request) -> Response:
        return _request_id(await dispatch(request, "responses"), "responses", faults_of(request))

    async def models_ep(request: Request) -> Response:
        faults_on = faults_of(request)
        if latency:
            await asyncio.sleep(latency)
        if "html-error" in faults_on:
            return html_error()
        anthropic = "anthropic-version" in request.headers or "x-api-key" in request.headers
        try:
            check_auth(request, "messages" if anthropic else "models", api_key)
        except RequestError as err:
            pre = Ctx({}, b"", faults_on)
            return render_error("messages" if anthropic else "models", err, pre, pre.seed)
        return models_body(request, model_map)

    routes = [
        Route("/v1/chat/completions", chat_ep, methods=["POST"]),
        Route("/v1/messages", messages_ep, methods=["POST"]),
        Route("/v1/messages/count_tokens", count_tokens_ep, methods=["POST"]),
        Route("/v1/responses", responses_ep, methods=["POST"]),
        Route("/v1/models", models_ep, methods=["GET"]),
        *gemini.routes(api_key, model_map, faults_of, chunk_delay),
    ]
    app = Starlette(routes=routes)
    app.state.faults = app_faults
    app.state.models = model_map
    app.state.responses = store
    return app
