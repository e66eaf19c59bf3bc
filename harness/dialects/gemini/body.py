"""A GenerateContentResponse (a non-streamed body, one stream chunk, or a folded stream):
schema, usageMetadata arithmetic, function calls against the declared functionDeclarations,
thought parts, finishReason, and another dialect's object or an error where it should be.

Measured on the truth set (tests/truth/gemini/, 267 official generateContent answers, 360
usageMetadata objects): totalTokenCount = promptTokenCount + candidatesTokenCount +
thoughtsTokenCount + toolUsePromptTokenCount in every one (cachedContentTokenCount is part of
promptTokenCount, not added); every function call came with finishReason STOP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from harness.dialects.gemini.rules import SEVERITY, gemini_rule
from harness.dialects.kit.foreign import foreign_kind
from harness.dialects.kit.schema import leveled
from harness.dialects.kit.text import clip
from harness.dialects.kit.tools import check_tool_arguments
from harness.dialects.kit.usage import total_is_sum
from harness.model import ToolCall, Violation

SCHEMA_PREFIX = "gemini"

# Candidate.FinishReason (API reference, ai.google.dev/api/generate-content#FinishReason).
FINISH_REASONS = frozenset(
    {
        "FINISH_REASON_UNSPECIFIED",
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "OTHER",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MALFORMED_FUNCTION_CALL",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_OTHER",
        "IMAGE_RECITATION",
        "NO_IMAGE",
        "UNEXPECTED_TOOL_CALL",
        "TOO_MANY_TOOL_CALLS",
        "MISSING_THOUGHT_SIGNATURE",
        "MALFORMED_RESPONSE",
    }
)


def v(code: str, path: str, message: str, **kw: Any) -> Violation:
    """A violation of one of this dialect's rules, at the severity the rule declares."""
    return Violation(code, path, message, severity=kw.pop("severity", SEVERITY.get(code, "error")), **kw)  # type: ignore[arg-type]


def schema_check(name: str, instance: Any, path: str = "$", code: str = "schema") -> list[Violation]:
    """``instance`` against ``schemas/gemini/<level>/<name>``: compatible failures are errors,
    strict-only ones ``strict``, fields the official API does not send ``schema.extra`` notes."""
    return leveled(SCHEMA_PREFIX, name, instance, path, code)


# ---------------------------------------------------------------------------------------------
# the request: what it declared and asked for (camelCase on the wire; the API also takes the
# proto field names, and the google-genai SDK sends some of them, e.g. parameters_json_schema)


def _get(obj: Any, camel: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if camel in obj:
        return obj[camel]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)
    return obj.get(snake)


def declared_functions(request: Any) -> dict[str, Any]:
    """functionDeclarations of the request: name -> JSON Schema of its parameters ({} when it
    declared none). Empty when the request is unknown or declared no function."""
    out: dict[str, Any] = {}
    tools = _get(request, "tools")
    for tool in tools if isinstance(tools, list) else ():
        decls = _get(tool, "functionDeclarations")
        for decl in decls if isinstance(decls, list) else ():
            name = _get(decl, "name")
            if not isinstance(name, str):
                continue
            schema = _get(decl, "parametersJsonSchema")
            if schema is None and _get(decl, "parameters") is not None:
                schema = openapi_to_json_schema(_get(decl, "parameters"))
            out[name] = schema if isinstance(schema, dict) else {}
    return out


def openapi_to_json_schema(node: Any) -> Any:
    """Gemini's ``parameters`` is an OpenAPI-subset Schema (types in capitals, ``nullable``);
    the same constraints as JSON Schema, so the answer's args can be validated."""
    if isinstance(node, list):
        return [openapi_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: openapi_to_json_schema(s) for k, s in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties", "prefixItems"):
            out[key] = openapi_to_json_schema(value)
        elif key in ("nullable", "propertyOrdering", "format", "title", "example"):
            continue  # annotations, or nullable (applied below)
        else:
            out[key] = value
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def thoughts_requested(request: Any) -> bool | None:
    """True/False when the request set includeThoughts; None when it did not say (or is unknown)."""
    config = _get(_get(request, "generationConfig"), "thinkingConfig")
    value = _get(config, "includeThoughts")
    return value if isinstance(value, bool) else None


# ---------------------------------------------------------------------------------------------
# reading an answer


def candidates(body: Any) -> list[dict[str, Any]]:
    cands = body.get("candidates") if isinstance(body, dict) else None
    return [c for c in cands if isinstance(c, dict)] if isinstance(cands, list) else []


def parts(candidate: Any) -> list[dict[str, Any]]:
    content = candidate.get("content") if isinstance(candidate, dict) else None
    ps = content.get("parts") if isinstance(content, dict) else None
    return [p for p in ps if isinstance(p, dict)] if isinstance(ps, list) else []


def function_calls(body: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, functionCall) of every function call in the first candidate."""
    for ci, cand in enumerate(candidates(body)[:1]):
        for pi, part in enumerate(parts(cand)):
            call = part.get("functionCall")
            if isinstance(call, dict):
                yield f"candidates[{ci}].content.parts[{pi}].functionCall", call


def tool_calls(body: Any) -> list[ToolCall]:
    out = []
    for i, (_, call) in enumerate(function_calls(body)):
        args = call.get("args")
        text = json.dumps(args) if isinstance(args, dict) else (args if isinstance(args, str) else "")
        cid = call.get("id")
        out.append(ToolCall(str(call.get("name")), text, cid if isinstance(cid, str) else None, i))
    return out


def text(body: Any) -> str:
    first = candidates(body)[:1]
    return "".join(
        p["text"] for c in first for p in parts(c) if isinstance(p.get("text"), str) and p.get("thought") is not True
    )


def finish_reason(body: Any) -> str | None:
    first = candidates(body)[:1]
    reason = first[0].get("finishReason") if first else None
    return reason if isinstance(reason, str) else None


# ---------------------------------------------------------------------------------------------
# the checks


def error_or_foreign(body: dict[str, Any], path: str, where: str = "a 2xx answer") -> Violation | None:
    """An error object, or another dialect's object, where a GenerateContentResponse belongs."""
    if isinstance(body.get("error"), dict) or body.get("type") == "error":
        return Violation("error.in_200", path, f"an error object in {where}", actual=clip(json.dumps(body)))
    kind = foreign_kind(body, "gemini")
    if kind is None and "choices" in body and "candidates" not in body:
        kind = "an object with choices[] (OpenAI-like)"
    if kind is not None:
        return Violation(
            "object.kind",
            path,
            f"another dialect's object ({kind}) from a Gemini generateContent path",
            expected="GenerateContentResponse",
            actual=kind,
        )
    return None


USAGE_PARTS = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount")


def check_usage(usage: Any, path: str) -> list[Violation]:
    """totalTokenCount is the sum of its parts (the shared arithmetic, code ``usage``). A count
    the API leaves out is 0 (proto3 JSON omits zeros), so absent parts count as 0 here."""
    if not isinstance(usage, dict) or "totalTokenCount" not in usage:
        return []
    filled = {k: usage.get(k, 0) for k in USAGE_PARTS} | {"totalTokenCount": usage["totalTokenCount"]}
    return total_is_sum(filled, "totalTokenCount", USAGE_PARTS, path)


@gemini_rule("gemini.usage_fields")
def usage_fields(body: dict[str, Any], path: str) -> list[Violation]:
    """Counts the official API always sends on a finished answer (all 267 of the truth set)."""
    usage = body.get("usageMetadata")
    if not isinstance(usage, dict):
        return [v("gemini.usage_fields", f"{path}.usageMetadata", "no usageMetadata on the finished answer")]
    # candidatesTokenCount is left out when it is 0 (proto3 JSON omits zeros): an official
    # stream whose last chunk brings one character of text after the thoughts has none.
    missing = [k for k in ("promptTokenCount", "totalTokenCount") if k not in usage]
    if not missing:
        return []
    return [
        v(
            "gemini.usage_fields",
            f"{path}.usageMetadata",
            f"usageMetadata lacks {', '.join(missing)}, which the official API sends",
            actual=sorted(usage),
        )
    ]


@gemini_rule("gemini.function_args")
def check_function_calls(body: dict[str, Any], request: Any, path: str) -> list[Violation]:
    out: list[Violation] = []
    good: list[ToolCall] = []
    for where, call in function_calls(body):
        args = call.get("args", {})  # the API omits args of a call without parameters
        if not isinstance(args, dict):
            out.append(
                v(
                    "gemini.function_args",
                    f"{path}.{where}.args",
                    f"functionCall {call.get('name')!r}: args is a JSON {type(args).__name__}, not an object",
                    expected="object",
                    actual=clip(json.dumps(args)),
                )
            )
            continue
        cid = call.get("id")
        good.append(ToolCall(str(call.get("name")), json.dumps(args), cid if isinstance(cid, str) else None, len(good)))
    declared = {name: _unenforced(schema) for name, schema in declared_functions(request).items()}
    if good and declared:
        out.extend(check_tool_arguments(good, declared, path))
    return out


def _unenforced(schema: Any) -> Any:
    """The declared schema without what the official API does not enforce on a call's args:
    ``additionalProperties: false`` (gemini-3 answered a function declared with no properties
    and additionalProperties false with args {"name": ...} in 4 truth-set recordings). Types,
    required members and enums are kept: a relay that breaks those breaks the caller."""
    if isinstance(schema, list):
        return [_unenforced(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    return {k: _unenforced(s) for k, s in schema.items() if not (k == "additionalProperties" and s is False)}


@gemini_rule("gemini.thoughts_dropped", "gemini.thoughts_unrequested")
def check_thoughts(body: dict[str, Any], request: Any, path: str) -> list[Violation]:
    asked = thoughts_requested(request)
    if asked is None and not isinstance(request, dict):
        return []
    thought_parts = [p for c in candidates(body) for p in parts(c) if p.get("thought") is True]
    usage = body.get("usageMetadata") if isinstance(body.get("usageMetadata"), dict) else {}
    thinking = usage.get("thoughtsTokenCount")
    if asked is True and not thought_parts and isinstance(thinking, int) and thinking > 0:
        return [
            v(
                "gemini.thoughts_dropped",
                path,
                f"includeThoughts was set and {thinking} thought tokens were counted, but no part is a thought",
            )
        ]
    if asked is not True and thought_parts:
        return [
            v(
                "gemini.thoughts_unrequested",
                path,
                f"{len(thought_parts)} thought part(s), but the request did not set includeThoughts",
            )
        ]
    return []


@gemini_rule("gemini.finish_reason")
def check_finish(body: dict[str, Any], path: str) -> list[Violation]:
    out = []
    for i, cand in enumerate(candidates(body)):
        reason = cand.get("finishReason")
        if isinstance(reason, str) and reason not in FINISH_REASONS:
            out.append(
                v(
                    "gemini.finish_reason",
                    f"{path}.candidates[{i}].finishReason",
                    f"finishReason {reason!r} is not a documented value",
                    expected=sorted(FINISH_REASONS),
                    actual=reason,
                )
            )
    return out


def check_response(body: Any, request: Any, path: str = "$", *, final: bool = True) -> list[Violation]:
    """One GenerateContentResponse. ``final``: a whole answer (a body, a folded stream), so the
    fields of a finished answer are required; a chunk is judged on its own shape only."""
    if not isinstance(body, dict):
        return [Violation("schema", path, "not a JSON object", expected="object", actual=type(body).__name__)]
    early = error_or_foreign(body, path)
    if early is not None:
        return [early]
    out = schema_check("response", body, path)
    out.extend(check_usage(body.get("usageMetadata"), f"{path}.usageMetadata"))
    out.extend(check_function_calls(body, request, path))
    if final:
        out.extend(check_finish(body, path))
        out.extend(usage_fields(body, path))
        out.extend(check_thoughts(body, request, path))
    return out
