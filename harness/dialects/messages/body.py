"""Anthropic Messages (POST /v1/messages): bodies, errors and the Dialect object.

The stream grammar and the accumulator live in ``messages.stream``. Schemas are
``schemas/messages/{strict,compatible}/*.json`` (written by ``schemas/messages/build.py``):
``strict`` is a subset of ``compatible``, so one ``is_valid`` on the strict schema clears the
common case; only a failing instance pays for the second, classifying pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness import validation
from harness.dialects.base import AuthStyle, HeaderProfile, Profile, RequestShape, StreamVerdict, Usage
from harness.dialects.kit import headers as vendor_headers
from harness.dialects.kit import official
from harness.dialects.kit import request as request_kit
from harness.dialects.kit import usage as kit_usage
from harness.dialects.kit.errors import ANTHROPIC_ERROR_TYPE
from harness.dialects.kit.foreign import error_kind, foreign_kind
from harness.dialects.kit.rules import rule
from harness.dialects.kit.schema import leveled
from harness.dialects.kit.text import clip as _clip
from harness.dialects.kit.tools import text_tool_call
from harness.model import Level, ToolCall, Violation
from harness.sse import SSEEvent

SCHEMA_PREFIX = "messages"

# The official id prefix of each kind of object that carries an id.
ID_PREFIX = {
    "message": "msg_",
    "tool_use": "toolu_",
    "server_tool_use": "srvtoolu_",
    "mcp_tool_use": "mcptoolu_",
}
# Content block types the official API sends, in the order the schema builder lists them
# (schemas/messages/build.py imports this tuple, so the schemas and the checks agree).
BLOCK_TYPES: tuple[str, ...] = (
    "text",
    "thinking",
    "redacted_thinking",
    "tool_use",
    "server_tool_use",
    "mcp_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_result",
    "advisor_tool_result",
    "container_upload",
    "compaction",
)
KNOWN_BLOCKS = frozenset(BLOCK_TYPES)
ERROR_TYPE_BY_STATUS = ANTHROPIC_ERROR_TYPE  # one table, in the kit (the reference gateway reads it too)


def schema_check(name: str, instance: Any, path: str = "$", code: str = "schema") -> list[Violation]:
    """``instance`` against ``messages/<level>/<name>``: compatible failures are errors, strict-only
    failures are ``strict``, undocumented fields are ``schema.extra`` notes."""
    return leveled(SCHEMA_PREFIX, name, instance, path, code)


def declared_tools(request: Any) -> dict[str, Any]:
    """Custom tools the request declared: name -> input_schema (server tools have no schema)."""
    if not isinstance(request, dict):
        return {}
    out: dict[str, Any] = {}
    for tool in request.get("tools") or ():
        if isinstance(tool, dict) and isinstance(tool.get("name"), str) and "input_schema" in tool:
            out[tool["name"]] = tool["input_schema"]
    return out


def _request_rejected(request: Any) -> list[str]:
    """Why the official API would reject this request with a 400 (only rules it enforces)."""
    if not isinstance(request, dict):
        return []
    why = [f"{e.path}: {e.message}" for e in validation.validate(f"{SCHEMA_PREFIX}/compatible/request", request)]
    thinking, max_tokens = request.get("thinking"), request.get("max_tokens")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, int) and isinstance(max_tokens, int) and budget >= max_tokens:
            why.append(f"thinking.budget_tokens {budget} is not below max_tokens {max_tokens}")
    return why


def _error_in_200(body: dict[str, Any], path: str) -> Violation | None:
    if error_kind(body) is not None:
        return Violation("error.in_200", path, "an error object in a 2xx answer", actual=_clip(json.dumps(body)))
    return None


def _foreign(body: dict[str, Any], path: str) -> Violation | None:
    kind = body.get("object")
    foreign = foreign_kind(body, "messages")
    if foreign is not None or ("choices" in body and "content" not in body):
        return Violation(
            "object.kind",
            path,
            f"another dialect's object ({kind or foreign or 'choices[]'}) from /v1/messages",
            expected="message",
            actual=kind or body.get("type") or "choices",
        )
    return None


@rule("grammar.messages.request_accepted", "error", "a 2xx answer to a request the official API rejects (#21)")
@rule("grammar.messages.thinking_signature", "error", "a thinking block without a signature (no signature_delta)")
def check_message(body: Any, request: Any, path: str = "$") -> list[Violation]:
    """Everything a finished message must satisfy (a non-streamed body or a folded stream)."""
    if not isinstance(body, dict):
        return [
            Violation("schema", path, "the body is not a JSON object", expected="object", actual=type(body).__name__)
        ]
    for early in (_error_in_200(body, path), _foreign(body, path)):
        if early is not None:
            return [early]
    out = schema_check("message", body, path)
    content = body.get("content") if isinstance(body.get("content"), list) else []
    mid = body.get("id")
    if isinstance(mid, str) and not mid.startswith("msg_"):
        out.append(
            Violation(
                "id.prefix",
                f"{path}.id",
                "message id without the official prefix",
                expected="msg_",
                actual=mid,
                severity="strict",  # the Anthropic SDK takes any string (tests/test_sdk_grades.py)
            )
        )
    out.extend(official.id_shape(mid, "msg_", f"{path}.id", "message"))
    if isinstance(request, dict):
        out.extend(official.model_rewritten(request.get("model"), body.get("model"), f"{path}.model"))
        usage = body.get("usage")
        out.extend(
            official.truncated_as_complete(
                request.get("max_tokens"),
                usage.get("output_tokens") if isinstance(usage, dict) else None,
                body.get("stop_reason"),
                frozenset({"end_turn", "stop_sequence"}),
                f"{path}.stop_reason",
            )
        )
    out.extend(_not_enabled(content, request, path))
    calls: list[ToolCall] = []
    has_output = False
    tools = declared_tools(request)
    for i, block in enumerate(content):
        if not isinstance(block, dict):
            continue
        where, kind = f"{path}.content[{i}]", block.get("type")
        if not isinstance(kind, str) or kind not in KNOWN_BLOCKS:  # a wrong type: the schema names it too
            out.append(
                Violation("schema.extra", where, f"content block type {kind!r} is not documented", severity="note")
            )
        prefix = ID_PREFIX.get(kind) if isinstance(kind, str) else None
        bid = block.get("id")
        if prefix and isinstance(bid, str) and not bid.startswith(prefix):
            out.append(
                Violation(
                    "id.prefix",
                    f"{where}.id",
                    f"{kind} id without the official prefix",
                    expected=prefix,
                    actual=bid,
                    severity="strict",  # the Anthropic SDK takes any string (tests/test_sdk_grades.py)
                )
            )
        if prefix:
            out.extend(official.id_shape(bid, prefix, f"{where}.id", str(kind)))
        if kind == "text":
            out.extend(official.replacement_char(block.get("text"), f"{where}.text"))
        if kind == "thinking" and not block.get("signature"):
            out.append(Violation("grammar.messages.thinking_signature", where, "thinking block without a signature"))
        if kind == "tool_use":
            has_output = True
            args = block.get("input")
            calls.append(
                ToolCall(
                    str(block.get("name")),
                    json.dumps(args) if isinstance(args, dict) else "",
                    bid if isinstance(bid, str) else None,
                    i,
                )
            )
        if kind == "text" and isinstance(block.get("text"), str) and block["text"].strip():
            has_output = True
            name = None
            if tools and isinstance(request, dict):
                name = text_tool_call(block["text"], list(tools))
            if name is not None:
                out.append(
                    Violation(
                        "tool.as_text",
                        f"{where}.text",
                        f"a call of {name!r} written as JSON text",
                        expected="a tool_use block",
                        actual=_clip(block["text"]),
                    )
                )
    out.extend(check_tool_arguments_of(calls, tools, path))
    stop = body.get("stop_reason")
    if calls and stop not in ("tool_use", "max_tokens"):
        out.append(
            Violation(
                "tool.stop_reason",
                f"{path}.stop_reason",
                "tool_use blocks but another stop_reason",
                expected="tool_use",
                actual=stop,
            )
        )
    elif not calls and stop == "tool_use":
        out.append(
            Violation(
                "tool.stop_reason",
                f"{path}.stop_reason",
                "stop_reason tool_use without a tool_use block",
                actual=stop,
            )
        )
    out.extend(_usage(body.get("usage"), has_output, f"{path}.usage"))
    why = _request_rejected(request)
    if why:
        out.append(
            Violation(
                "grammar.messages.request_accepted",
                path,
                "the official API rejects this request with a 400, the relay answered it",
                actual="; ".join(why),
            )
        )
    return out


# Content blocks only a server tool (declared in ``tools`` with a versioned ``type``) or an MCP
# server (``mcp_servers``) produces. Corpus: 57 answers carry them, every one to a request that
# declared such a tool (54) or MCP servers (3).
_SERVER_BLOCKS = frozenset(BLOCK_TYPES) - {"text", "thinking", "redacted_thinking", "tool_use", "compaction"}
_MCP_BLOCKS = frozenset({"mcp_tool_use", "mcp_tool_result"})


@rule("content.not_enabled", "strict", "a server-tool / MCP content block in the answer to a request that enabled none")
def _not_enabled(content: list[Any], request: Any, path: str) -> list[Violation]:
    """Server-tool blocks in the answer to a request that enabled no server tool: the relay ran
    tools of its own (or replayed another answer). Judged only when the request is known."""
    if not isinstance(request, dict):
        return []
    tools = request.get("tools") if isinstance(request.get("tools"), list) else []
    server_tools = [t for t in tools if isinstance(t, dict) and t.get("type") not in (None, "custom")]
    mcp = bool(request.get("mcp_servers")) or any(
        isinstance(t, dict) and str(t.get("type", "")).startswith("mcp") for t in tools
    )
    out = []
    for i, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if not isinstance(kind, str) or kind not in _SERVER_BLOCKS:  # a wrong-typed type is the schema's
            continue
        enabled = mcp if kind in _MCP_BLOCKS else bool(server_tools)
        if not enabled:
            out.append(
                Violation(
                    "content.not_enabled",
                    f"{path}.content[{i}]",
                    f"a {kind} block, but the request declared no "
                    + ("MCP server" if kind in _MCP_BLOCKS else "server tool"),
                    expected="only blocks the request enabled",
                    actual=kind,
                    severity="strict",
                )
            )
    return out


@rule(
    "usage.fields",
    "strict",
    ("a usage count the official API always sends is missing (cache_creation_input_tokens, cache_read_input_tokens)"),
)
def usage_fields(usage: Any, path: str) -> list[Violation]:
    """Counts the official API always sends. Corpus: all 254 message bodies and all 132 streams
    in the current format carry cache_creation_input_tokens and cache_read_input_tokens."""
    if not isinstance(usage, dict):
        return []
    missing = [k for k in USAGE_ALWAYS if k not in usage]
    if not missing:
        return []
    return [
        Violation(
            "usage.fields",
            path,
            f"usage lacks {', '.join(missing)}, which the official API always sends",
            expected=list(USAGE_ALWAYS),
            actual=sorted(usage),
            severity="strict",
        )
    ]


USAGE_ALWAYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def check_tool_arguments_of(calls: list[ToolCall], tools: dict[str, Any], path: str) -> list[Violation]:
    from harness.dialects.kit.tools import check_tool_arguments

    return check_tool_arguments(calls, tools, path) if calls else []


def _usage(usage: Any, has_output: bool, path: str) -> list[Violation]:
    if not isinstance(usage, dict):
        return []  # the schema already said so
    out = []
    output = usage.get("output_tokens")
    if has_output and output == 0:
        out.append(Violation("usage", f"{path}.output_tokens", "output_tokens is 0 although the message has output"))
    out += kit_usage.within(usage, ("output_tokens_details", "thinking_tokens"), "output_tokens", path)
    return out


@rule("grammar.messages.error_type", "strict", "error.type does not belong to the HTTP status (strict)")
def check_error_body(body: Any, status: int | None, path: str = "$") -> list[Violation]:
    """The Anthropic error shape {"type":"error","error":{"type","message"},"request_id"} (#19)."""
    if not isinstance(body, dict) or body.get("type") != "error" or not isinstance(body.get("error"), dict):
        from harness.dialects.kit.errors import error_shape

        return [
            Violation(
                "error.shape",
                path,
                f"{error_shape(body)}, not this dialect's (Anthropic) error shape",
                expected='{"type":"error","error":{"type","message"}}',
                actual=_clip(json.dumps(body)),
            )
        ]
    out = schema_check("error", body, path, code="error.shape")
    etype = body["error"].get("type")
    want = ERROR_TYPE_BY_STATUS.get(status or 0)
    # invalid_request_error "may also be used for other 4XX status codes" (errors page)
    if want and etype != want and not (etype == "invalid_request_error" and 400 <= (status or 0) < 500):
        out.append(
            Violation(
                "grammar.messages.error_type",
                f"{path}.error.type",
                f"error.type does not belong to HTTP {status}",
                expected=want,
                actual=etype,
                severity="strict",
            )
        )
    return out


@dataclass(frozen=True)
class MessagesDialect:
    name: str = "messages"
    path: str = "/v1/messages"
    models_path: str | None = "/v1/models"
    official_host: str | None = "api.anthropic.com"
    response_headers: HeaderProfile | None = vendor_headers.ANTHROPIC

    def build_request(self, payload: dict[str, Any] | None, model: str | None, stream: bool) -> RequestShape:
        return request_kit.in_body(self.path, payload, model, stream)

    def default_auth_style(self, gateway_auth: str) -> str:
        return gateway_auth  # the gateway's auth setting is how /v1/messages authenticates

    def matches_path(self, method: str, path: str) -> bool:
        return request_kit.ends_with(path, self.path)

    def stream_requested(self, path: str, query: str, body: Any) -> bool:
        return request_kit.body_stream_flag(body)

    def recognises(self, body: Any) -> str | None:
        kind = body.get("type") if isinstance(body, dict) else None
        if kind == "message" or (isinstance(kind, str) and kind.startswith(("message_", "content_block_"))):
            return kind
        return "Anthropic error" if kind == "error" else None

    def usage(self, final: Any) -> Usage | None:
        usage = final.get("usage") if isinstance(final, dict) else None
        if not isinstance(usage, dict):
            return None
        # Messages counts cached prompt tokens apart from input_tokens; they are added back so
        # input_tokens means the whole prompt, as in every other dialect (and report/metrics).
        base = kit_usage.count(usage.get("input_tokens"))
        cache_keys = ("cache_creation_input_tokens", "cache_read_input_tokens")
        cached = [kit_usage.count(usage.get(k)) or 0 for k in cache_keys]
        return Usage(
            base + sum(cached) if base is not None else None,
            kit_usage.count(usage.get("output_tokens")),
            kit_usage.count(usage.get("cache_read_input_tokens")),
            None,  # Messages reports no total
        )

    version: str = "2023-06-01"

    def auth_headers(self, api_key: str, style: AuthStyle, anthropic_version: str | None) -> dict[str, str]:
        headers = {"anthropic-version": anthropic_version or self.version}
        if style in ("x-api-key", "both"):
            headers["x-api-key"] = api_key
        if style in ("bearer", "both"):
            headers["Authorization"] = f"Bearer {api_key}"
        return headers

    def check_body(self, body: Any, request: Any, level: Level) -> list[Violation]:
        out = check_message(body, request)
        if isinstance(body, dict) and not any(v.code in ("error.in_200", "object.kind") for v in out):
            out.extend(usage_fields(body.get("usage"), "$.usage"))
        return out

    def check_error(self, body: Any, status: int, level: Level) -> list[Violation]:
        return check_error_body(body, status)

    def check_stream(
        self, events: Sequence[SSEEvent], request: Any, level: Level, profile: Profile = "official"
    ) -> StreamVerdict:
        from harness.dialects.messages.stream import check_stream

        return check_stream(events, request)

    def tool_calls(self, final: Any) -> list[ToolCall]:
        out = []
        for i, block in enumerate(_blocks(final)):
            if block.get("type") == "tool_use":
                bid = block.get("id")
                out.append(
                    ToolCall(
                        str(block.get("name")), json.dumps(block.get("input")), bid if isinstance(bid, str) else None, i
                    )
                )
        return out

    def text(self, final: Any) -> str:
        return "".join(b["text"] for b in _blocks(final) if b.get("type") == "text" and isinstance(b.get("text"), str))

    def stop_reason(self, final: Any) -> str | None:
        return final.get("stop_reason") if isinstance(final, dict) else None


def _blocks(final: Any) -> list[dict[str, Any]]:
    content = final.get("content") if isinstance(final, dict) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


DIALECT = MessagesDialect()
