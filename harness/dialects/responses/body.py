"""OpenAI Responses (POST /v1/responses): bodies, errors, and the dialect object.

The stream grammar and the accumulator live in ``responses.stream``. Schemas are under
``schemas/responses/{strict,compatible}/`` (written by ``schemas/responses/build_schemas.py``);
``strict`` is ``compatible`` plus the fields the official API always sends, so one ``is_valid``
against strict settles the common (valid) case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness import validation
from harness.dialects.base import AuthStyle, Profile, RequestShape, StreamVerdict, Usage
from harness.dialects.kit import headers as vendor_headers
from harness.dialects.kit import official
from harness.dialects.kit import request as request_kit
from harness.dialects.kit import schema as kit_schema
from harness.dialects.kit import usage as kit_usage
from harness.dialects.kit.foreign import error_kind, openai_error
from harness.dialects.kit.rules import rule
from harness.dialects.kit.text import clip as _clip
from harness.dialects.kit.tools import check_tool_arguments, text_tool_call
from harness.model import Level, ToolCall, Violation
from harness.sse import SSEEvent

ITEM_PREFIX: dict[str, str] = {
    "message": "msg_",
    "function_call": "fc_",
    "reasoning": "rs_",
    "web_search_call": "ws_",
    "file_search_call": "fs_",
    "code_interpreter_call": "ci_",
    "mcp_call": "mcp_",
    "mcp_list_tools": "mcpl_",
    "tool_search_call": "tsc_",
    "tool_search_output": "tso_",
}

_SCHEMA_DIR = "responses"
_KNOWN_RESPONSE: frozenset[str] = frozenset()
_KNOWN_ITEM: dict[str, frozenset[str]] = {}


def _load_known() -> None:
    """Known field names from the strict schema itself, so the extras list cannot drift."""
    global _KNOWN_RESPONSE
    schema = validation.load_schema(f"{_SCHEMA_DIR}/strict/response")
    _KNOWN_RESPONSE = frozenset(schema["$defs"]["Response"]["properties"])
    for branch in schema["$defs"]["OutputItem"]["allOf"]:
        t = branch["if"]["properties"]["type"]["const"]
        _KNOWN_ITEM[t] = frozenset(branch["then"]["properties"])


def leveled(kind: str, instance: Any, path: str) -> list[Violation]:
    """Schema violations at both levels (kit.schema.leveled): compatible failures are errors,
    strict-only ones are ``strict``."""
    return kit_schema.leveled(_SCHEMA_DIR, kind, instance, path, notes_beside_errors=False)


def extras(obj: Mapping[str, Any], known: frozenset[str], path: str, what: str) -> list[Violation]:
    return [
        Violation(
            "schema.extra",
            f"{path}.{k}",
            f"{what} field {k!r} is not one the official API sends",
            severity="note",
        )
        for k in obj
        if k not in known
    ]


def _prefix(value: Any, prefix: str, path: str, what: str) -> list[Violation]:
    if isinstance(value, str) and not value.startswith(prefix):
        return [
            Violation(
                "id.prefix",
                path,
                f"{what} id without the official prefix",
                expected=f"{prefix}…",
                actual=value,
                severity="strict",  # the openai SDK takes any string (tests/test_sdk_grades.py)
            )
        ]
    return []


# ---- the request ---------------------------------------------------------------------------------


def declared_tools(request: Any, body: Any = None) -> tuple[dict[str, Any], bool]:
    """Function tools the request declared (name -> parameters), and whether the declaration is
    complete. It is not complete when tools can arrive at run time (tool_search, MCP servers)."""
    if not isinstance(request, dict) or not isinstance(request.get("tools"), list):
        return {}, False
    out: dict[str, Any] = {}
    complete = True

    def add(tools: list[Any]) -> None:
        nonlocal complete
        for tool in tools:
            if not isinstance(tool, dict):
                continue
            kind = tool.get("type")
            if kind == "function" and isinstance(tool.get("name"), str):
                out[tool["name"]] = tool.get("parameters") if isinstance(tool.get("parameters"), dict) else {}
            elif kind == "namespace" and isinstance(tool.get("tools"), list):
                add(tool["tools"])
            elif kind in ("tool_search", "mcp"):
                complete = False

    add(request["tools"])
    # Tools also arrive inside the conversation (`additional_tools`, `tool_search_output`) and
    # from a hosted tool search in this very response.
    history = request.get("input") if isinstance(request.get("input"), list) else []
    for item in [*history, *_output(body)]:
        if isinstance(item, dict) and isinstance(item.get("tools"), list) and item.get("type") != "mcp_list_tools":
            add(item["tools"])
    return out, complete


def _structured_output(request: Any) -> bool:
    fmt = ((request or {}).get("text") or {}).get("format") if isinstance(request, dict) else None
    return isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object")


# ---- final objects -------------------------------------------------------------------------------


def _output(final: Any) -> list[Any]:
    """The output items of a final object; a wrong-typed ``output`` has none (the schema check
    names it), so the readers below never iterate a number or a string."""
    output = final.get("output") if isinstance(final, dict) else None
    return output if isinstance(output, list) else []


def tool_calls(final: Any) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for i, item in enumerate(_output(final)):
        if isinstance(item, dict) and item.get("type") == "function_call":
            cid = item.get("call_id")  # a wrong-typed id is the schema's to name; not one to compare
            calls.append(
                ToolCall(
                    str(item.get("name")), str(item.get("arguments") or ""), cid if isinstance(cid, str) else None, i
                )
            )
    return calls


def text(final: Any) -> str:
    parts = []
    for item in _output(final):
        if isinstance(item, dict) and item.get("type") == "message":
            content = item.get("content")
            for part in content if isinstance(content, list) else ():
                if isinstance(part, dict) and part.get("type") == "output_text":
                    parts.append(str(part.get("text") or ""))
    return "".join(parts)


def stop_reason(final: Any) -> str | None:
    return final.get("status") if isinstance(final, dict) else None


def check_body(body: Any, request: Any, level: Level, path: str = "$", schema: bool = True) -> list[Violation]:
    """``schema=False`` for a folded stream, whose terminal event was already validated."""
    if not isinstance(body, dict):
        return [Violation("schema", path, "a response body must be a JSON object", actual=type(body).__name__)]
    kind = body.get("object", body.get("type"))
    if kind != "response":
        if kind is None and error_kind(body) is not None:  # "error": null is a Response's own field
            return [Violation("error.in_200", path, "an error object in a 2xx body", actual=_clip(body))]
        if kind is not None:
            return [
                Violation(
                    "object.kind",
                    f"{path}.object",
                    "not a Responses object",
                    expected="response",
                    actual=kind,
                )
            ]
    out = leveled("response", body, path) if schema else []
    if not _KNOWN_RESPONSE:
        _load_known()
    out += extras(body, _KNOWN_RESPONSE, path, "response")
    out += _prefix(body.get("id"), "resp_", f"{path}.id", "response")
    out += official.id_shape(body.get("id"), "resp_", f"{path}.id", "response")
    if isinstance(request, dict):
        out += official.model_rewritten(request.get("model"), body.get("model"), f"{path}.model")
        usage = body.get("usage")
        out += official.truncated_as_complete(
            request.get("max_output_tokens"),
            usage.get("output_tokens") if isinstance(usage, dict) else None,
            body.get("status"),
            frozenset({"completed"}),
            f"{path}.status",
        )
    out += official.replacement_char(text(body), f"{path}.output")
    status = body.get("status")
    out += _status_details(body, path)
    out += _usage(body.get("usage"), status, path)
    output = body.get("output") if isinstance(body.get("output"), list) else []
    if output:
        for i, item in enumerate(output):
            if not isinstance(item, dict):
                continue
            where = f"{path}.output[{i}]"
            t = item.get("type")
            if not isinstance(t, str):
                continue  # the schema check names the wrong-typed type
            if t in _KNOWN_ITEM:
                out += extras(item, _KNOWN_ITEM[t], where, f"{t} item")
            if t in ITEM_PREFIX:
                out += _prefix(item.get("id"), ITEM_PREFIX[t], f"{where}.id", f"{t} item")
                out += official.id_shape(
                    item.get("id"), ITEM_PREFIX[t], f"{where}.id", f"{t} item", official.RESPONSES_ITEM
                )
            if t == "function_call":
                out += _prefix(item.get("call_id"), "call_", f"{where}.call_id", "function_call call")
                out += official.id_shape(item.get("call_id"), "call_", f"{where}.call_id", "function_call call")
    declared, complete = declared_tools(request, body)
    # A call cut off by max_output_tokens (status incomplete) has truncated arguments, officially.
    calls = [c for c in tool_calls(body) if (output[c.index] or {}).get("status") != "incomplete"]
    if complete or not declared:
        out += check_tool_arguments(calls, declared, path)
    else:
        # Tools may arrive at run time (tool_search, MCP): a name we do not know is no evidence,
        # so those calls are judged on JSON-ness only; the declared ones on their schema.
        out += check_tool_arguments([c for c in calls if c.name in declared], declared, path)
        out += check_tool_arguments([c for c in calls if c.name not in declared], {}, path)
    if declared and not calls and not _structured_output(request):
        out += _tool_as_text(text(body), declared, path)
    return out


@rule("grammar.responses.status_details", "strict", "status and incomplete_details / error disagree")
def _status_details(body: Mapping[str, Any], path: str) -> list[Violation]:
    status, details, error = body.get("status"), body.get("incomplete_details"), body.get("error")
    code = "grammar.responses.status_details"
    if status == "incomplete" and not (isinstance(details, dict) and details.get("reason")):
        return [Violation(code, f"{path}.incomplete_details", "status incomplete without a reason", actual=details)]
    if status != "incomplete" and details is not None and "incomplete_details" in body:
        return [
            Violation(
                code,
                f"{path}.incomplete_details",
                f"incomplete_details on a {status} response",
                actual=details,
            )
        ]
    if status == "failed" and not error:
        return [Violation(code, f"{path}.error", "status failed without an error object")]
    if error and status not in ("failed", None):
        return [Violation("error.in_200", f"{path}.error", f"an error object on a {status} response", actual=error)]
    return []


def _usage(usage: Any, status: Any, path: str) -> list[Violation]:
    where = f"{path}.usage"
    if usage is None:
        if status in ("completed", "incomplete"):
            return [Violation("usage", where, f"a {status} response without usage")]
        return []
    if not isinstance(usage, dict):
        return []  # the schema names it
    out = kit_usage.total_is_sum(usage, "total_tokens", ("input_tokens", "output_tokens"), where)
    out += kit_usage.within(usage, ("input_tokens_details", "cached_tokens"), "input_tokens", where)
    out += kit_usage.within(usage, ("output_tokens_details", "reasoning_tokens"), "output_tokens", where)
    return out


def _tool_as_text(content: str, declared: Mapping[str, Any], path: str) -> list[Violation]:
    """A declared tool called as JSON text in the message (kit.tools.text_tool_call); structured
    outputs are skipped by the caller."""
    name = text_tool_call(content, list(declared))
    if name is None:
        return []
    return [
        Violation(
            "tool.as_text",
            f"{path}.output",
            f"a call of {name!r} written as message text",
            expected="a function_call output item",
            actual=_clip(content.strip()),
        )
    ]


def check_error(body: Any, status: int, level: Level) -> list[Violation]:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}} (all four sent,
    param/code may be null). An Anthropic-shaped {"type": "error", ...} is not it."""
    from harness.dialects.kit.errors import error_shape

    shape = error_shape(body)
    if isinstance(body, dict) and body.get("type") == "error":
        return [
            Violation(
                "error.shape",
                "$",
                f"{shape} on /v1/responses, not this dialect's (OpenAI) error shape",
                expected='{"error": {"message", "type", "param", "code"}}',
                actual=_clip(body),
            )
        ]
    out = [
        Violation("error.shape", v.path, f"{_shape_words(shape)}: {v.message}", severity=v.severity)
        for v in leveled("error", body, "$")
    ]
    if isinstance(body, dict) and not out:
        out += official.error_fields(body.get("error"), "$.error")
    return out


# ---- the dialect object --------------------------------------------------------------------------


class _Responses:
    name = "responses"
    path = "/v1/responses"
    models_path = "/v1/models"
    official_host = "api.openai.com"
    response_headers = vendor_headers.OPENAI

    def build_request(self, payload: dict[str, Any] | None, model: str | None, stream: bool) -> RequestShape:
        return request_kit.in_body(self.path, payload, model, stream)

    def default_auth_style(self, gateway_auth: str) -> str:
        return "bearer"

    def matches_path(self, method: str, path: str) -> bool:
        return request_kit.ends_with(path, self.path)

    def stream_requested(self, path: str, query: str, body: Any) -> bool:
        return request_kit.body_stream_flag(body)

    def recognises(self, body: Any) -> str | None:
        if not isinstance(body, Mapping):
            return None
        kind, obj = body.get("type"), body.get("object")
        if obj == "response":
            return "response"
        if isinstance(kind, str) and kind.startswith("response."):
            return kind
        return "OpenAI error" if openai_error(body) else None

    def usage(self, final: Any) -> Usage | None:
        return kit_usage.openai_usage(final, "input_tokens", "output_tokens", "input_tokens_details")

    def auth_headers(self, api_key: str, style: AuthStyle, anthropic_version: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    def check_body(self, body: Any, request: Any, level: Level) -> list[Violation]:
        return check_body(body, request, level)

    def check_error(self, body: Any, status: int, level: Level) -> list[Violation]:
        return check_error(body, status, level)

    def check_stream(
        self, events: Sequence[SSEEvent], request: Any, level: Level, profile: Profile = "official"
    ) -> StreamVerdict:
        from harness.dialects.responses.stream import check_stream

        return check_stream(events, request, level, profile)

    def tool_calls(self, final: Any) -> list[ToolCall]:
        return tool_calls(final)

    def text(self, final: Any) -> str:
        return text(final)

    def stop_reason(self, final: Any) -> str | None:
        return stop_reason(final)


DIALECT = _Responses()

__all__ = ["DIALECT", "check_body", "check_error", "leveled", "tool_calls"]


def _shape_words(shape: str) -> str:
    if shape == "an OpenAI-shaped error":
        return "an OpenAI-shaped error with a field of the wrong type"
    return f"{shape}, not this dialect's (OpenAI) error shape"
