"""Writes the Responses JSON Schemas in this folder (``strict/`` and ``compatible/``).

The schemas are ours: field lists come from what the official API sends (the shared corpus),
checked against the vendor spec, not copied from it. Keeping them as one table here means a new
official field is one line, and the two levels cannot drift apart: ``strict`` is always
``compatible`` plus more required fields, so a strict-valid instance is compatible-valid too
(the dialect relies on that to validate once on the happy path).

- ``compatible``: what the official SDKs need to parse and accumulate (type, ids, indexes,
  deltas). Breaking it fails both levels.
- ``strict``: every field the official API always sends today (``sequence_number``, nullable
  fields sent as ``null``, ``logprobs`` on text events, the full response echo).

No ``additionalProperties: false`` anywhere: the official API adds fields over time. Unknown
fields are reported by the dialect as ``schema.extra`` notes from ``KNOWN_*`` below.

Run ``python schemas/responses/build_schemas.py`` after editing; the files are committed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"

S: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer", "minimum": 0}
N: dict[str, Any] = {"type": "number"}
B: dict[str, Any] = {"type": "boolean"}
OBJ: dict[str, Any] = {"type": "object"}
A: dict[str, Any] = {"type": "array"}


def nul(t: dict[str, Any]) -> dict[str, Any]:
    """Nullable: the official API sends these as ``null`` rather than leaving them out."""
    return {"anyOf": [t, {"type": "null"}]}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


# ---- response object -------------------------------------------------------------------------
RESPONSE_STATUS = ["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"]
RESPONSE_FIELDS: dict[str, dict[str, Any]] = {
    "id": S,
    "object": {"const": "response"},
    "created_at": N,
    "status": {"enum": RESPONSE_STATUS},
    "error": nul({"type": "object", "required": ["message"], "properties": {"code": nul(S), "message": S}}),
    "incomplete_details": nul({"type": "object", "properties": {"reason": S}}),
    "instructions": nul({"type": ["string", "array"]}),
    "max_output_tokens": nul(INT),
    "model": S,
    "output": {"type": "array", "items": ref("OutputItem")},
    "parallel_tool_calls": B,
    "previous_response_id": nul(S),
    "reasoning": nul(OBJ),
    "store": B,
    "temperature": nul(N),
    "text": OBJ,
    "tool_choice": {"type": ["string", "object"]},
    "tools": {"type": "array", "items": {"type": "object", "required": ["type"], "properties": {"type": S}}},
    "top_p": nul(N),
    "truncation": nul(S),
    "usage": nul(ref("Usage")),
    "user": nul(S),
    "metadata": nul(OBJ),
}
# Sent by the official API on some models/dates only: known, typed, never required.
RESPONSE_OPTIONAL: dict[str, dict[str, Any]] = {
    "background": nul(B),
    "service_tier": nul(S),
    "max_tool_calls": nul(INT),
    "prompt_cache_key": nul(S),
    "safety_identifier": nul(S),
    "top_logprobs": nul(INT),
    "billing": nul(OBJ),
    "prompt_cache_retention": nul(S),
    "completed_at": nul(N),
    "frequency_penalty": nul(N),
    "presence_penalty": nul(N),
    "moderation": nul({"type": ["object", "string"]}),
    "tool_usage": nul(OBJ),
    "conversation": nul(OBJ),
    "context_management": nul({"type": ["object", "array"]}),
    "prompt": nul(OBJ),
}
RESPONSE_COMPAT_REQUIRED = ["id", "object", "created_at", "model", "output"]
# Fields the official SDK types as Optional although the official API always sends a value: null
# there parses (openai-python Response.store is Optional[bool]; tests/test_sdk_grades.py), so it
# is a strict deviation, not a compatible one.
RESPONSE_COMPAT_NULLABLE = frozenset({"store"})

USAGE_FIELDS = {
    "input_tokens": INT,
    "input_tokens_details": {"type": "object", "properties": {"cached_tokens": INT}},
    "output_tokens": INT,
    "output_tokens_details": {"type": "object", "properties": {"reasoning_tokens": INT}},
    "total_tokens": INT,
}

# ---- output items: type -> (strict required, compatible required, known optional) -------------
ITEM_FIELDS: dict[str, dict[str, Any]] = {
    "id": S,
    "type": S,
    "status": {
        "enum": [
            "in_progress",
            "completed",
            "incomplete",
            "failed",
            "searching",
            "calling",
            "interpreting",
            "generating",
        ]
    },
    "role": {"const": "assistant"},
    "content": {"type": "array", "items": ref("ContentPart")},
    "call_id": S,
    "name": S,
    "arguments": S,
    "summary": A,
}
ITEMS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "message": (["id", "type", "status", "role", "content"], ["type", "content"], ["phase"]),
    "function_call": (
        ["id", "type", "status", "call_id", "name", "arguments"],
        ["type", "call_id", "name", "arguments"],
        ["namespace"],
    ),
    "reasoning": (["id", "type", "summary"], ["type"], ["content", "encrypted_content", "status"]),
    "web_search_call": (["id", "type", "status"], ["type"], ["action"]),
    "file_search_call": (["id", "type", "status"], ["type"], ["queries", "results"]),
    "code_interpreter_call": (["id", "type", "status"], ["type"], ["code", "container_id", "outputs"]),
    "mcp_call": (
        ["id", "type", "name", "arguments", "server_label"],
        ["type"],
        ["status", "approval_request_id", "error", "output"],
    ),
    "mcp_list_tools": (["id", "type", "server_label", "tools"], ["type"], ["error"]),
    "tool_search_call": (["id", "type", "status"], ["type"], ["arguments", "call_id", "execution"]),
    "tool_search_output": (["id", "type", "status"], ["type"], ["call_id", "execution", "tools"]),
    "compaction": (["id", "type"], ["type"], ["encrypted_content"]),
}
# Per-type field types where a name means something else (tool_search_call's `arguments` is an
# object and its `call_id` is null for hosted search).
ITEM_OVERRIDES: dict[str, dict[str, Any]] = {
    "tool_search_call": {"arguments": {}, "call_id": nul(S)},
    "tool_search_output": {"call_id": nul(S)},
}
PARTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "output_text": (["type", "text", "annotations"], ["type", "text"], ["logprobs"]),
    "refusal": (["type", "refusal"], ["type", "refusal"], []),
    "reasoning_text": (["type", "text"], ["type", "text"], []),
    "summary_text": (["type", "text"], ["type", "text"], []),
}
PART_FIELDS = {"type": S, "text": S, "annotations": A, "logprobs": A, "refusal": S}

# ---- stream events: type -> (strict required, compatible required, known optional) -----------
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "type": S,
    "sequence_number": INT,
    "response": ref("Response"),
    "item": ref("OutputItem"),
    "part": ref("ContentPart"),
    "item_id": S,
    "output_index": INT,
    "content_index": INT,
    "summary_index": INT,
    "annotation_index": INT,
    "delta": S,
    "text": S,
    "arguments": S,
    "refusal": S,
    "code": S,
    "input": S,
    "name": S,
    "logprobs": A,
    "obfuscation": S,
    "annotation": nul(OBJ),
    "message": S,
    "param": nul(S),
    "error": OBJ,
    "response_id": S,
}
_RESP = (["type", "sequence_number", "response"], ["type", "response"], [])
_TOOL = (["type", "sequence_number", "output_index", "item_id"], ["type", "output_index", "item_id"], [])
_IDX = ["item_id", "output_index", "content_index"]
EVENTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "response.created": _RESP,
    "response.in_progress": _RESP,
    "response.queued": _RESP,
    "response.completed": _RESP,
    "response.failed": _RESP,
    "response.incomplete": _RESP,
    "keepalive": (["type", "sequence_number"], ["type"], []),
    "error": (["type", "sequence_number"], ["type"], ["code", "message", "param", "error"]),
    "response.output_item.added": (
        ["type", "sequence_number", "output_index", "item"],
        ["type", "output_index", "item"],
        [],
    ),
    "response.output_item.done": (
        ["type", "sequence_number", "output_index", "item"],
        ["type", "output_index", "item"],
        [],
    ),
    "response.content_part.added": (["type", "sequence_number", *_IDX, "part"], ["type", *_IDX, "part"], []),
    "response.content_part.done": (["type", "sequence_number", *_IDX, "part"], ["type", *_IDX, "part"], []),
    "response.output_text.delta": (
        ["type", "sequence_number", *_IDX, "delta", "logprobs"],
        ["type", *_IDX, "delta"],
        ["obfuscation"],
    ),
    "response.output_text.done": (
        ["type", "sequence_number", *_IDX, "text", "logprobs"],
        ["type", *_IDX, "text"],
        [],
    ),
    "response.output_text.annotation.added": (
        ["type", "sequence_number", *_IDX, "annotation_index", "annotation"],
        ["type", *_IDX, "annotation"],
        [],
    ),
    "response.refusal.delta": (
        ["type", "sequence_number", *_IDX, "delta"],
        ["type", *_IDX, "delta"],
        ["obfuscation"],
    ),
    "response.refusal.done": (["type", "sequence_number", *_IDX, "refusal"], ["type", *_IDX, "refusal"], []),
    "response.function_call_arguments.delta": (
        ["type", "sequence_number", "item_id", "output_index", "delta"],
        ["type", "item_id", "output_index", "delta"],
        ["obfuscation"],
    ),
    # The vendor spec requires `name` here; the official API does not send it (corpus): optional.
    "response.function_call_arguments.done": (
        ["type", "sequence_number", "item_id", "output_index", "arguments"],
        ["type", "item_id", "output_index", "arguments"],
        ["name"],
    ),
    "response.custom_tool_call_input.delta": (
        ["type", "sequence_number", "item_id", "output_index", "delta"],
        ["type", "item_id", "output_index", "delta"],
        ["obfuscation"],
    ),
    "response.custom_tool_call_input.done": (
        ["type", "sequence_number", "item_id", "output_index", "input"],
        ["type", "item_id", "output_index", "input"],
        [],
    ),
    "response.reasoning_summary_part.added": (
        ["type", "sequence_number", "item_id", "output_index", "summary_index", "part"],
        ["type", "item_id", "output_index", "summary_index"],
        [],
    ),
    "response.reasoning_summary_part.done": (
        ["type", "sequence_number", "item_id", "output_index", "summary_index", "part"],
        ["type", "item_id", "output_index", "summary_index"],
        ["status"],
    ),
    "response.reasoning_summary_text.delta": (
        ["type", "sequence_number", "item_id", "output_index", "summary_index", "delta"],
        ["type", "item_id", "output_index", "summary_index", "delta"],
        ["obfuscation"],
    ),
    "response.reasoning_summary_text.done": (
        ["type", "sequence_number", "item_id", "output_index", "summary_index", "text"],
        ["type", "item_id", "output_index", "summary_index", "text"],
        [],
    ),
    "response.reasoning_text.delta": (
        ["type", "sequence_number", *_IDX, "delta"],
        ["type", *_IDX, "delta"],
        ["obfuscation"],
    ),
    "response.reasoning_text.done": (["type", "sequence_number", *_IDX, "text"], ["type", *_IDX, "text"], []),
    "response.code_interpreter_call_code.delta": (
        ["type", "sequence_number", "output_index", "item_id", "delta"],
        ["type", "output_index", "item_id", "delta"],
        ["obfuscation"],
    ),
    "response.code_interpreter_call_code.done": (
        ["type", "sequence_number", "output_index", "item_id", "code"],
        ["type", "output_index", "item_id", "code"],
        [],
    ),
    "response.mcp_call_arguments.delta": (
        ["type", "sequence_number", "output_index", "item_id", "delta"],
        ["type", "output_index", "item_id", "delta"],
        ["obfuscation"],
    ),
    "response.mcp_call_arguments.done": (
        ["type", "sequence_number", "output_index", "item_id", "arguments"],
        ["type", "output_index", "item_id", "arguments"],
        [],
    ),
}
for _tool in (
    "web_search_call",
    "file_search_call",
    "code_interpreter_call",
    "image_generation_call",
    "mcp_call",
    "mcp_list_tools",
):
    for _phase in ("in_progress", "searching", "completed", "interpreting", "generating", "failed"):
        EVENTS.setdefault(f"response.{_tool}.{_phase}", _TOOL)
EVENTS["response.image_generation_call.partial_image"] = (
    [*_TOOL[0], "partial_image_index", "partial_image_b64"],
    _TOOL[1],
    ["size", "quality", "background", "output_format"],
)
EVENT_FIELDS.update({"partial_image_index": INT, "partial_image_b64": S})


def _object(
    fields: dict[str, Any], required: list[str], known: list[str], const_type: str | None = None
) -> dict:
    props = {k: fields.get(k, {}) for k in [*required, *known]}
    if const_type is not None:
        props["type"] = {"const": const_type}
    return {"type": "object", "required": required, "properties": props}


def _tagged_union(
    table: dict[str, tuple[list[str], list[str], list[str]]],
    fields: dict[str, Any],
    level: str,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> dict:
    """if/then per known `type` (cheap: one const test each); unknown types need only `type`."""
    branches = []
    for t, (strict, compat, opt) in table.items():
        req = strict if level == "strict" else compat
        known = [k for k in dict.fromkeys([*strict, *compat, *opt]) if k not in req]
        own = {**fields, **(overrides or {}).get(t, {})}
        branches.append({"if": {"properties": {"type": {"const": t}}}, "then": _object(own, req, known)})
    return {"type": "object", "required": ["type"], "properties": {"type": S}, "allOf": branches}


def defs(level: str) -> dict[str, Any]:
    strict = level == "strict"
    resp_req = list(RESPONSE_FIELDS) if strict else RESPONSE_COMPAT_REQUIRED
    resp_known = [k for k in [*RESPONSE_FIELDS, *RESPONSE_OPTIONAL] if k not in resp_req]
    resp_fields = {**RESPONSE_FIELDS, **RESPONSE_OPTIONAL}
    if not strict:
        resp_fields.update({k: nul(resp_fields[k]) for k in RESPONSE_COMPAT_NULLABLE})
    return {
        "Response": _object(resp_fields, resp_req, resp_known),
        "Usage": _object(
            USAGE_FIELDS,
            list(USAGE_FIELDS) if strict else ["input_tokens", "output_tokens"],
            [] if strict else ["input_tokens_details", "output_tokens_details", "total_tokens"],
        ),
        "OutputItem": _tagged_union(ITEMS, ITEM_FIELDS, level, ITEM_OVERRIDES),
        "ContentPart": _tagged_union(PARTS, PART_FIELDS, level),
    }


def event_schema(t: str, level: str) -> dict[str, Any]:
    strict, compat, opt = EVENTS[t]
    req = strict if level == "strict" else compat
    known = [k for k in dict.fromkeys([*strict, *compat, *opt]) if k not in req]
    body = _object(EVENT_FIELDS, req, known, const_type=t)
    used = json.dumps(body)
    all_defs = defs(level)
    # Only carry the $defs an event needs: the small delta schemas stay small.
    need = {n for n in all_defs if f"#/$defs/{n}" in used}
    if need:
        need |= set(all_defs)  # Response -> OutputItem -> ContentPart, Usage: take the closure
    return {
        "$schema": DRAFT,
        "title": f"{t} ({level})",
        **body,
        "$defs": {k: all_defs[k] for k in sorted(need)},
    }


def top(name: str, level: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DRAFT, "title": f"{name} ({level})", **body, "$defs": defs(level)}


ERROR_BODY = {
    "strict": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type", "param", "code"],
                "properties": {"message": S, "type": S, "param": nul(S), "code": nul(S)},
            }
        },
    },
    "compatible": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": S,
                    "type": nul(S),
                    "param": nul(S),
                    "code": nul({"type": ["string", "integer"]}),
                },
            }
        },
    },
}
REQUEST = {
    "type": "object",
    "properties": {
        "model": S,
        "input": {"type": ["string", "array"]},
        "stream": nul(B),
        "tools": {
            "type": "array",
            "items": {"type": "object", "required": ["type"], "properties": {"type": S}},
        },
        "text": nul(OBJ),
        "instructions": nul({"type": ["string", "array"]}),
        "max_output_tokens": nul(INT),
        "previous_response_id": nul(S),
    },
}


def build() -> None:
    for level in ("strict", "compatible"):
        out = HERE / level
        (out / "events").mkdir(parents=True, exist_ok=True)
        files = {
            "response": top("Response", level, ref("Response")),
            "error": {"$schema": DRAFT, "title": f"Error ({level})", **ERROR_BODY[level]},
            "request": {
                "$schema": DRAFT,
                "title": f"CreateResponse ({level})",
                **{**REQUEST, "required": ["model"] if level == "strict" else []},
            },
        }
        for t in EVENTS:
            files[f"events/{t}"] = event_schema(t, level)
        for name, schema in files.items():
            (out / f"{name}.json").write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build()
