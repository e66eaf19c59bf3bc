"""Writes the Messages schemas at both levels from one description (run: python schemas/messages/build.py).

Why a builder: the two levels must never drift apart, and ``strict`` must always be a subset of
``compatible`` (a strict pass implies a compatible pass, so the hot path validates once).

- ``compatible/``: what the official SDK (anthropic-sdk-python 0.121) accepts: the fields it
  requires, their JSON types, open enums (strings), open objects.
- ``strict/``: the official wire format as the API sends it: also the keys the API always writes
  (``stop_sequence``, ``stop_reason`` non-null in a body), closed enums, empty initial blocks in
  ``content_block_start``, and ``additionalProperties: false`` on every object we know fully.
  The dialect reports an additional-property breach as ``schema.extra`` (note), never as a failure:
  the API adds fields over time. Everything else that fails only here is severity ``strict``.

Informed by shared/specs/anthropic (SHAPES.md, SDK_VS_SPEC.md) and the official corpus, not copied.
Blocks, deltas and events are dispatched on ``type`` with if/then (never oneOf), so an error
points at the offending field and unknown types stay valid (the dialect lists them as notes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness.dialects.messages.body import BLOCK_TYPES as _BLOCK_TYPES

HERE = Path(__file__).resolve().parent
LEVEL = "compatible"

STOP_REASONS = [
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
]
ERROR_TYPES = [
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
]
BLOCK_TYPES = list(_BLOCK_TYPES)
DELTA_TYPES = [
    "text_delta",
    "input_json_delta",
    "thinking_delta",
    "signature_delta",
    "citations_delta",
    "compaction_delta",
]

INT0 = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
ANY: dict[str, Any] = {}


def strict() -> bool:
    return LEVEL == "strict"


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def enum(values: list[str]) -> dict[str, Any]:
    """Closed at the strict level; any string at the compatible level (the SDK does not check)."""
    return {"type": "string", "enum": values} if strict() else dict(STR)


def obj(
    props: dict[str, Any],
    required: list[str] = (),
    also_strict: list[str] = (),
    closed: bool = True,  # type: ignore[assignment]
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    req = list(required) + (list(also_strict) if strict() else [])
    if req:
        out["required"] = req
    if closed and strict():
        out["additionalProperties"] = False
    return out


def const(value: str) -> dict[str, Any]:
    return {"const": value}


def dispatch(kinds: dict[str, str]) -> dict[str, Any]:
    """An object dispatched on ``type`` to ``#/$defs/<def>``; unknown types pass."""
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": STR},
        "allOf": [
            {"if": {"properties": {"type": const(t)}}, "then": {"$ref": f"#/$defs/{d}"}} for t, d in kinds.items()
        ],
    }


def defs_common() -> dict[str, Any]:
    caller = nullable(obj({"type": STR, "tool_id": STR}, ["type"]))
    citation = {"type": "object", "required": ["type"] if strict() else [], "properties": {"type": STR}}
    result = obj(
        {"type": STR, "tool_use_id": STR, "content": ANY, "caller": caller, "is_error": {"type": "boolean"}},
        ["type", "tool_use_id"],
        ["content"],
    )
    blocks: dict[str, Any] = {
        "text": obj(
            {"type": const("text"), "text": STR, "citations": nullable({"type": "array", "items": citation})},
            ["type", "text"],
        ),
        "thinking": obj(
            {"type": const("thinking"), "thinking": STR, "signature": STR}, ["type", "thinking", "signature"]
        ),
        "redacted_thinking": obj({"type": const("redacted_thinking"), "data": STR}, ["type", "data"]),
        "tool_use": obj(
            {
                "type": const("tool_use"),
                "id": STR,
                "name": {"type": "string", "minLength": 1},
                "input": {"type": "object"},
                "caller": caller,
            },
            ["type", "id", "name", "input"],
        ),
        "server_tool_use": obj(
            {
                "type": const("server_tool_use"),
                "id": STR,
                "name": {"type": "string", "minLength": 1},
                "input": {"type": "object"},
                "caller": caller,
            },
            ["type", "id", "name", "input"],
        ),
        "mcp_tool_use": obj(
            {
                "type": const("mcp_tool_use"),
                "id": STR,
                "name": STR,
                "input": {"type": "object"},
                "server_name": STR,
            },
            ["type", "id", "name", "input"],
        ),
        "tool_result": result,
        "container_upload": obj({"type": const("container_upload"), "file_id": STR}, ["type", "file_id"]),
        "compaction": obj({"type": const("compaction"), "content": nullable(STR)}, ["type"]),
    }
    usage_props = {
        "input_tokens": INT0,
        "output_tokens": INT0,
        "cache_creation_input_tokens": nullable(INT0),
        "cache_read_input_tokens": nullable(INT0),
        "cache_creation": nullable(
            obj(
                {"ephemeral_5m_input_tokens": INT0, "ephemeral_1h_input_tokens": INT0},
                [],
                ["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"],
            )
        ),
        "server_tool_use": nullable(obj({"web_search_requests": INT0, "web_fetch_requests": INT0})),
        "service_tier": nullable(enum(["standard", "priority", "batch"])),
        "inference_geo": nullable(STR),
        "output_tokens_details": nullable(obj({"thinking_tokens": INT0})),
        # undocumented, sent with advisor tools and compaction: one entry per model call
        "iterations": {"type": "array", "items": {"type": "object"}},
    }
    return {
        **{f"block_{k}": v for k, v in blocks.items()},
        "content_block": dispatch({t: f"block_{_block_def(t)}" for t in BLOCK_TYPES}),
        "usage": obj(usage_props, ["input_tokens", "output_tokens"]),
        "container": nullable(obj({"id": STR, "expires_at": STR}, ["id"], ["expires_at"])),
        "stop_details": nullable(obj({"type": STR, "category": nullable(STR), "explanation": nullable(STR)}, ["type"])),
        "context_management": nullable({"type": "object"}),
        "citation": citation,
    }


def _block_def(t: str) -> str:
    return "tool_result" if t.endswith("_tool_result") else t


def message(mode: str) -> dict[str, Any]:
    """The message object: ``body`` (a non-streamed answer or a folded stream) or ``start``
    (``message_start.message``: no content yet, stop_reason still null)."""
    content: dict[str, Any] = {"type": "array", "items": {"$ref": "#/$defs/content_block"}}
    stop_reason = nullable(enum(STOP_REASONS))
    if strict() and mode == "start":
        content["maxItems"] = 0
        stop_reason = {"type": "null"}
    elif strict() and mode == "body":
        stop_reason = enum(STOP_REASONS)
    return obj(
        {
            "id": STR,
            "type": const("message"),
            "role": const("assistant"),
            "content": content,
            "model": STR,
            "stop_reason": stop_reason,
            "stop_sequence": nullable(STR),
            "stop_details": {"$ref": "#/$defs/stop_details"},
            "usage": {"$ref": "#/$defs/usage"},
            "container": {"$ref": "#/$defs/container"},
            "context_management": {"$ref": "#/$defs/context_management"},
        },
        ["id", "type", "role", "content", "model", "usage"],
        ["stop_reason", "stop_sequence"],
    )


def error_body() -> dict[str, Any]:
    return obj(
        {
            "type": const("error"),
            "error": obj({"type": enum(ERROR_TYPES), "message": STR}, ["type", "message"], closed=False),
            "request_id": nullable(STR),
        },
        ["type", "error"],
    )


def start_block() -> dict[str, Any]:
    """content_block_start.content_block: the official API opens text, thinking and tool blocks
    empty and streams their content in deltas (a relay that puts the first text here hides it
    from clients that render deltas: litellm PR #25852)."""
    base = {"$ref": "#/$defs/content_block"}
    if not strict():
        return base
    empty = {
        "text": {"properties": {"text": {"maxLength": 0}}},
        "thinking": {"properties": {"thinking": {"maxLength": 0}}},
        "tool_use": {"properties": {"input": {"maxProperties": 0}}},
        "server_tool_use": {"properties": {"input": {"maxProperties": 0}}},
        "mcp_tool_use": {"properties": {"input": {"maxProperties": 0}}},
    }
    return {"allOf": [base] + [{"if": {"properties": {"type": const(t)}}, "then": s} for t, s in empty.items()]}


def events() -> dict[str, dict[str, Any]]:
    delta_defs = {
        "text_delta": obj({"type": const("text_delta"), "text": STR}, ["type", "text"]),
        "input_json_delta": obj({"type": const("input_json_delta"), "partial_json": STR}, ["type", "partial_json"]),
        "thinking_delta": obj({"type": const("thinking_delta"), "thinking": STR}, ["type", "thinking"]),
        "signature_delta": obj({"type": const("signature_delta"), "signature": STR}, ["type", "signature"]),
        "citations_delta": obj(
            {"type": const("citations_delta"), "citation": {"$ref": "#/$defs/citation"}}, ["type", "citation"]
        ),
        "compaction_delta": obj({"type": const("compaction_delta"), "content": nullable(STR)}, ["type"]),
    }
    idx = {"type": "integer", "minimum": 0}
    return {
        "message_start": obj({"type": const("message_start"), "message": message("start")}, ["type", "message"]),
        "content_block_start": obj(
            {"type": const("content_block_start"), "index": idx, "content_block": start_block()},
            ["type", "index", "content_block"],
        ),
        "content_block_delta": {
            **obj(
                {
                    "type": const("content_block_delta"),
                    "index": idx,
                    "delta": dispatch({t: f"delta_{t}" for t in DELTA_TYPES}),
                },
                ["type", "index", "delta"],
            ),
            "$defs_extra": delta_defs,
        },
        "content_block_stop": obj({"type": const("content_block_stop"), "index": idx}, ["type", "index"]),
        "message_delta": obj(
            {
                "type": const("message_delta"),
                "delta": obj(
                    {
                        "stop_reason": nullable(enum(STOP_REASONS)),
                        "stop_sequence": nullable(STR),
                        "stop_details": {"$ref": "#/$defs/stop_details"},
                        "container": {"$ref": "#/$defs/container"},
                    },
                    [],
                    ["stop_reason", "stop_sequence"],
                ),
                # cumulative counts; the official API also repeats input and cache counts here
                "usage": obj(
                    {
                        "output_tokens": INT0,
                        "input_tokens": nullable(INT0),
                        "cache_creation_input_tokens": nullable(INT0),
                        "cache_read_input_tokens": nullable(INT0),
                        "server_tool_use": {"$ref": "#/$defs/usage/properties/server_tool_use"},
                        "output_tokens_details": {"$ref": "#/$defs/usage/properties/output_tokens_details"},
                        "iterations": {"type": "array", "items": {"type": "object"}},
                    },
                    ["output_tokens"],
                ),
                "context_management": {"$ref": "#/$defs/context_management"},
            },
            ["type", "delta", "usage"],
        ),
        "message_stop": obj({"type": const("message_stop")}, ["type"]),
        "ping": obj({"type": const("ping")}, ["type"]),
    }


def request() -> dict[str, Any]:
    """CreateMessageParams as far as the official API enforces it. Open at both levels: beta
    parameters (mcp_servers, context_management, output_format) come and go."""
    thinking = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": STR},
        "allOf": [
            {
                "if": {"properties": {"type": const("enabled")}},
                "then": {
                    "required": ["budget_tokens"],
                    "properties": {"budget_tokens": {"type": "integer", "minimum": 1024}},
                },
            }
        ],
    }
    content_block = {"type": "object", "required": ["type"], "properties": {"type": STR}}
    msg = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": STR,  # the API also accepts mid-conversation "system" turns (beta)
            "content": {"anyOf": [STR, {"type": "array", "items": content_block}]},
        },
    }
    tool = {"type": "object", "properties": {"name": STR, "input_schema": {"type": "object"}}}
    return {
        "type": "object",
        "required": ["model", "messages", "max_tokens"],
        "properties": {
            "model": STR,
            "messages": {"type": "array", "items": msg},
            "max_tokens": {"type": "integer", "minimum": 1},
            "stream": {"type": "boolean"},
            "system": {"anyOf": [STR, {"type": "array", "items": content_block}]},
            "temperature": {"type": "number", "minimum": 0, "maximum": 1},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "top_k": INT0,
            "stop_sequences": {"type": "array", "items": STR},
            "tools": {"type": "array", "items": tool},
            "tool_choice": {"type": "object", "required": ["type"], "properties": {"type": STR}},
            "thinking": thinking,
            "metadata": {"type": "object"},
        },
    }


def document(title: str, root: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://relaycheck.invalid/schemas/messages/{LEVEL}/{title.replace(' ', '_')}.json",
        "title": f"Anthropic Messages {title} ({LEVEL})",
        **root,
        "$defs": defs,
    }


def build(level: str) -> dict[str, dict[str, Any]]:
    global LEVEL
    LEVEL = level
    common = defs_common()
    out = {
        "message": document("message", message("body"), common),
        "error": document("error", error_body(), {}),
        "request": document("request", request(), {}),
    }
    for name, schema in events().items():
        extra = schema.pop("$defs_extra", {})
        defs = {**common, **{f"delta_{k}": v for k, v in extra.items()}}
        # keep only the $defs the event reaches (small files, quick compiles)
        out[f"event_{name}"] = document(f"event {name}", schema, _reachable(schema, defs))
    return out


def _reachable(root: Any, defs: dict[str, Any]) -> dict[str, Any]:
    keep: dict[str, Any] = {}
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.split("/")[2]
                if name not in keep:
                    keep[name] = defs[name]
                    todo.append(defs[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return {k: defs[k] for k in defs if k in keep}


def main() -> None:
    for level in ("compatible", "strict"):
        target = HERE / level
        target.mkdir(exist_ok=True)
        for name, schema in build(level).items():
            (target / f"{name}.json").write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
