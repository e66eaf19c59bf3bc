"""OpenAI Chat Completions (POST /v1/chat/completions): bodies, errors, and the dialect object.

The stream grammar and the accumulator live in ``chat.stream``; both halves share the
final-object checks here (``check_final``), so a folded stream is judged exactly like a body.

Schemas (``schemas/chat/``) come in two levels and are used through one fast path
(``schema_check``, kit.schema.leveled): the strict schema is a tightening of the compatible one, so a payload that
passes strict (the common case) costs one ``is_valid`` call. Only on failure do we ask which
level broke: compatible failures are ``schema`` errors, strict-only failures are ``schema``
with severity ``strict``, and strict's closed objects (``additionalProperties: false``) turn
unknown fields into ``schema.extra`` notes instead of failures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.dialects.base import AuthStyle, HeaderProfile, Profile, RequestShape, StreamVerdict, Usage
from harness.dialects.kit import headers as vendor_headers
from harness.dialects.kit import official
from harness.dialects.kit import request as request_kit
from harness.dialects.kit import usage as kit_usage
from harness.dialects.kit.foreign import foreign_kind, openai_error
from harness.dialects.kit.schema import leveled
from harness.dialects.kit.text import clip as _clip
from harness.dialects.kit.tools import check_tool_arguments, text_tool_call
from harness.model import Level, ToolCall, Violation
from harness.sse import SSEEvent

PATH = "/v1/chat/completions"
ID_PREFIX = "chatcmpl-"
CALL_PREFIX = "call_"
# finish_reason values that go with tool calls. "length" and "content_filter" cut a call short,
# and a forced named tool_choice officially ends with "stop" (seen in the corpus).
_TOOL_FINISH = frozenset({"tool_calls", "function_call"})
_CUT_SHORT = frozenset({"length", "content_filter"})


def schema_check(kind: str, obj: Any, path: str = "$") -> list[Violation]:
    """``obj`` against ``chat/strict/<kind>`` and, only when that fails, ``chat/compatible/<kind>``."""
    return leveled("chat", kind, obj, path, notes_beside_errors=False)


# ---------------------------------------------------------------------------------------------
# request facts


def declared_tools(request: Any) -> dict[str, Any]:
    """Function tools the request declared: name -> parameters schema ({} when it has none)."""
    out: dict[str, Any] = {}
    if not isinstance(request, Mapping):
        return out
    for tool in request.get("tools") or ():
        if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping):
            fn = tool["function"]
            if isinstance(fn.get("name"), str):
                out[fn["name"]] = fn.get("parameters") or {"type": "object"}
        elif isinstance(tool, Mapping) and isinstance(tool.get("custom"), Mapping):
            name = tool["custom"].get("name")
            if isinstance(name, str):
                out[name] = None  # free-text input, no schema
    return out


def forced_tool(request: Any) -> bool:
    """A named tool_choice: the official API then ends with finish_reason "stop", not tool_calls."""
    if not isinstance(request, Mapping):
        return False
    choice = request.get("tool_choice")
    return isinstance(choice, Mapping) and choice.get("type") in ("function", "custom")


def include_usage(request: Any) -> bool | None:
    """Whether the request asked for a usage chunk; None when the request is unknown."""
    if not isinstance(request, Mapping):
        return None
    opts = request.get("stream_options")
    return bool(isinstance(opts, Mapping) and opts.get("include_usage"))


def requested_n(request: Any) -> int | None:
    if not isinstance(request, Mapping):
        return None
    n = request.get("n")
    return n if isinstance(n, int) and n >= 1 else 1


# ---------------------------------------------------------------------------------------------
# final object (a body, or a folded stream)


def other_kind(obj: Any, expected: str = "chat.completion") -> str | None:
    """What another object looks like (another dialect's, asked through the registry, or a chat
    object of the wrong kind such as a chunk in a body), or None when it may be ours."""
    if not isinstance(obj, Mapping) or obj.get("object") == expected:
        return None
    own = DIALECT.recognises(obj)
    if own is not None:
        return f"a {own!r} object"
    return foreign_kind(obj, "chat")


def error_in_200(obj: Any, path: str = "$") -> Violation | None:
    if isinstance(obj, Mapping) and "error" in obj and obj.get("error") is not None and "choices" not in obj:
        err = obj["error"]
        msg = err.get("message") if isinstance(err, Mapping) else err
        return Violation(
            "error.in_200",
            path,
            f"an error reported with HTTP 200: {str(msg)[:160]}",
            expected="a chat.completion (or an HTTP 4xx/5xx status with the error)",
            actual=_clip(json.dumps(obj)),
        )
    return None


def usage_violations(usage: Any, path: str) -> list[Violation]:
    """Arithmetic the official API always keeps: total = prompt + completion, details within."""
    if not isinstance(usage, Mapping):
        return []
    keys = ("prompt_tokens", "completion_tokens", "total_tokens")
    if not all(isinstance(usage.get(k), int) and not isinstance(usage.get(k), bool) for k in keys):
        return []  # the schema says so
    out = kit_usage.non_negative(usage, keys, path)
    out += kit_usage.total_is_sum(usage, "total_tokens", keys[:2], path)
    for detail, bound in (
        (("prompt_tokens_details", "cached_tokens"), "prompt_tokens"),
        (("prompt_tokens_details", "audio_tokens"), "prompt_tokens"),
        (("completion_tokens_details", "reasoning_tokens"), "completion_tokens"),
        (("completion_tokens_details", "audio_tokens"), "completion_tokens"),
    ):
        out += kit_usage.within(usage, detail, bound, path)
    return out


def tool_calls_of(message: Any) -> list[ToolCall]:
    out: list[ToolCall] = []
    if not isinstance(message, Mapping):
        return out
    calls = message.get("tool_calls")
    for i, call in enumerate(calls if isinstance(calls, list) else ()):  # else: the schema's to name
        if not isinstance(call, Mapping):
            continue
        fn = call.get("function") if call.get("type", "function") == "function" else None
        if isinstance(fn, Mapping):
            cid = call.get("id")  # a wrong-typed id is the schema's to name; not one to compare
            out.append(
                ToolCall(str(fn.get("name") or ""), _str(fn.get("arguments")), cid if isinstance(cid, str) else None, i)
            )
    return out


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else json.dumps(value)


def check_final(obj: Mapping[str, Any], request: Any, path: str = "$") -> list[Violation]:
    """Checks of a chat.completion beyond its schema: ids, usage arithmetic, tool calls."""
    out: list[Violation] = []
    oid = obj.get("id")
    if isinstance(oid, str) and not oid.startswith(ID_PREFIX):
        out.append(
            Violation(
                "id.prefix",
                f"{path}.id",
                "completion id without the official prefix",
                ID_PREFIX,
                oid,
                "strict",
            )
        )
    out.extend(official.id_shape(oid, ID_PREFIX, f"{path}.id", "completion"))
    if isinstance(request, Mapping):
        out.extend(official.model_rewritten(request.get("model"), obj.get("model"), f"{path}.model"))
    out.extend(usage_violations(obj.get("usage"), f"{path}.usage"))
    out.extend(_truncated(obj, request, path))
    declared = declared_tools(request)
    names = list(declared)
    choices = obj.get("choices")
    for ci, choice in enumerate(choices if isinstance(choices, list) else ()):
        if not isinstance(choice, Mapping):
            continue
        where = f"{path}.choices[{ci}]"
        message = choice.get("message")
        if not isinstance(message, Mapping):
            continue
        finish = choice.get("finish_reason")
        # a wrong-typed finish_reason (the schema names it) is neither a cut nor a tool stop here
        cut_short = isinstance(finish, str) and finish in _CUT_SHORT
        tool_finish = isinstance(finish, str) and finish in _TOOL_FINISH
        raw_calls = message.get("tool_calls") or []
        for ti, call in enumerate(raw_calls if isinstance(raw_calls, list) else ()):
            cid = call.get("id") if isinstance(call, Mapping) else None
            if isinstance(cid, str) and not cid.startswith(CALL_PREFIX):
                out.append(
                    Violation(
                        "id.prefix",
                        f"{where}.message.tool_calls[{ti}].id",
                        "tool call id without the official prefix",
                        CALL_PREFIX,
                        cid,
                        "strict",
                    )
                )
            out.extend(official.id_shape(cid, CALL_PREFIX, f"{where}.message.tool_calls[{ti}].id", "tool call"))
            fn = call.get("function") if isinstance(call, Mapping) else None
            args = fn.get("arguments") if isinstance(fn, Mapping) else None
            if args is not None and not isinstance(args, str):
                # RELAY_DEFECTS R28: openai-python hands it on as-is and json.loads(arguments) raises.
                out.append(
                    Violation(
                        "tool.args",
                        f"{where}.message.tool_calls[{ti}].function.arguments",
                        "arguments must be a JSON string, not a JSON " + type(args).__name__.replace("dict", "object"),
                        "a string holding JSON",
                        _clip(json.dumps(args)),
                    )
                )
        out.extend(official.replacement_char(message.get("content"), f"{where}.message.content"))
        calls = tool_calls_of(message)
        if calls and not cut_short:
            # Arguments cut off by max_tokens are legitimately incomplete JSON. Custom tools take
            # free text, so only function tools contribute schemas.
            schemas = {k: v for k, v in declared.items() if v is not None}
            out.extend(check_tool_arguments(calls, schemas, f"{where}.message"))
        if raw_calls and not tool_finish and not cut_short:
            if not forced_tool(request) and isinstance(request, Mapping):
                out.append(
                    Violation(
                        "tool.stop_reason",
                        f"{where}.finish_reason",
                        "tool calls present but finish_reason is not tool_calls",
                        "tool_calls",
                        finish,
                    )
                )
        if not raw_calls and finish == "tool_calls":
            out.append(
                Violation(
                    "tool.stop_reason",
                    f"{where}.finish_reason",
                    "finish_reason tool_calls but the message has no tool calls",
                    "stop",
                    finish,
                )
            )
        called = text_tool_call(message.get("content"), names)
        if called is not None:
            out.append(
                Violation(
                    "tool.as_text",
                    f"{where}.message.content",
                    f"a call of tool {called!r} written as JSON text instead of message.tool_calls",
                    "message.tool_calls",
                    _clip(str(message.get("content"))),
                )
            )
    return out


def _truncated(obj: Mapping[str, Any], request: Any, path: str) -> list[Violation]:
    """finish_reason stop although completion_tokens reached the request's limit (R34's chat
    form). Only for one choice: with n > 1 completion_tokens is the sum over the choices."""
    choices = obj.get("choices")
    usage = obj.get("usage")
    if not isinstance(request, Mapping) or not isinstance(choices, list) or len(choices) != 1:
        return []
    if not isinstance(usage, Mapping) or not isinstance(choices[0], Mapping):
        return []
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    return official.truncated_as_complete(
        limit,
        usage.get("completion_tokens"),
        choices[0].get("finish_reason"),
        frozenset({"stop"}),
        f"{path}.choices[0].finish_reason",
    )


# ---------------------------------------------------------------------------------------------
# the dialect


def _first_choice(final: Any) -> Mapping[str, Any] | None:
    if not isinstance(final, Mapping) or not isinstance(final.get("choices"), list):
        return None
    choices = [c for c in final["choices"] if isinstance(c, Mapping)]
    for c in choices:
        if c.get("index") == 0:
            return c
    return choices[0] if choices else None


@dataclass(frozen=True)
class ChatDialect:
    name: str = "chat"
    path: str = PATH
    models_path: str | None = "/v1/models"
    official_host: str | None = "api.openai.com"
    response_headers: HeaderProfile | None = vendor_headers.OPENAI

    def build_request(self, payload: dict[str, Any] | None, model: str | None, stream: bool) -> RequestShape:
        return request_kit.in_body(self.path, payload, model, stream)

    def default_auth_style(self, gateway_auth: str) -> str:
        return "bearer"  # OpenAI clients send Bearer

    def matches_path(self, method: str, path: str) -> bool:
        return request_kit.ends_with(path, self.path)

    def stream_requested(self, path: str, query: str, body: Any) -> bool:
        return request_kit.body_stream_flag(body)

    def recognises(self, body: Any) -> str | None:
        if not isinstance(body, Mapping):
            return None
        kind = body.get("object")
        if isinstance(kind, str) and kind.startswith("chat.completion"):
            return kind
        return "OpenAI error" if openai_error(body) else None

    def usage(self, final: Any) -> Usage | None:
        return kit_usage.openai_usage(final, "prompt_tokens", "completion_tokens", "prompt_tokens_details")

    def auth_headers(self, api_key: str, style: AuthStyle, anthropic_version: str | None) -> dict[str, str]:
        # OpenAI clients send Bearer; "x-api-key"/"both" exist for relays that want Anthropic-style keys.
        headers: dict[str, str] = {}
        if style in ("bearer", "both"):
            headers["Authorization"] = f"Bearer {api_key}"
        if style in ("x-api-key", "both"):
            headers["x-api-key"] = api_key
        return headers

    def check_body(self, body: Any, request: Any, level: Level) -> list[Violation]:
        bad = error_in_200(body)
        if bad is not None:
            return [bad]
        kind = other_kind(body)
        if kind is not None:
            return [Violation("object.kind", "$", f"{PATH} answered {kind}", "chat.completion", _kind_of(body))]
        out = schema_check("response", body)
        if isinstance(body, Mapping):
            out.extend(check_final(body, request))
        return out

    def check_error(self, body: Any, status: int, level: Level) -> list[Violation]:
        from harness.dialects.kit.errors import error_shape

        out = []
        shape = error_shape(body)
        for v in schema_check("error", body):
            if v.code == "schema":
                v = Violation(
                    "error.shape",
                    v.path,
                    f"{_shape_words(shape)}: {v.message}",
                    severity=v.severity,
                )
            out.append(v)
        if shape == "an Anthropic-shaped error" and out:
            out.insert(
                0,
                Violation(
                    "error.shape",
                    "$",
                    f"an Anthropic-shaped error on {PATH}",
                    '{"error": {"message", "type", "param", "code"}}',
                    "type",
                    "strict",
                ),
            )
        if isinstance(body, Mapping) and not any(v.code == "error.shape" for v in out):
            out.extend(official.error_fields(body.get("error"), "$.error"))
        return out

    def check_stream(
        self, events: Sequence[SSEEvent], request: Any, level: Level, profile: Profile = "official"
    ) -> StreamVerdict:
        from harness.dialects.chat.stream import check_stream

        return check_stream(events, request)

    def tool_calls(self, final: Any) -> list[ToolCall]:
        choice = _first_choice(final)
        return tool_calls_of(choice.get("message")) if choice else []

    def text(self, final: Any) -> str:
        choice = _first_choice(final)
        message = choice.get("message") if choice else None
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list):  # content parts (never sent by OpenAI, but SDK-readable)
            return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        return content if isinstance(content, str) else ""

    def stop_reason(self, final: Any) -> str | None:
        choice = _first_choice(final)
        reason = choice.get("finish_reason") if choice else None
        return reason if isinstance(reason, str) else None


def _kind_of(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return obj.get("object") or obj.get("type")
    return type(obj).__name__


DIALECT = ChatDialect()

__all__ = ["DIALECT", "ChatDialect", "check_final", "schema_check"]


def _shape_words(shape: str) -> str:
    if shape == "an OpenAI-shaped error":
        return "an OpenAI-shaped error with a field of the wrong type"
    return f"{shape}, not this dialect's (OpenAI) error shape"
