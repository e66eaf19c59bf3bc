"""Structured outputs as the official APIs honour them: chat ``response_format`` and Responses
``text.format`` of type ``json_schema`` make the answer a JSON text that validates against the
schema. The reference gateway writes it from the schema the way it writes tool arguments
(harness/refgateway/tools.py), so it is deterministic and always valid. Fault
response-format-dropped: the relay drops the parameter and the model answers in prose."""

from __future__ import annotations

from typing import Any

from harness.refgateway.common import Ctx, limit_text
from harness.refgateway.tools import Answer, ToolSpec, arguments_json


def schema_of(endpoint: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the request asks the answer to follow, or None."""
    if endpoint == "chat":
        fmt = body.get("response_format")
        spec = fmt.get("json_schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None
        schema = spec.get("schema") if isinstance(spec, dict) else None
    else:
        text = body.get("text")
        fmt = text.get("format") if isinstance(text, dict) else None
        schema = fmt.get("schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None
    return schema if isinstance(schema, dict) else None


def apply(ctx: Ctx, endpoint: str, answer: Answer, prompt: str, max_tokens: int | None) -> Answer:
    """The text answer rewritten as JSON following the requested schema (tool calls untouched)."""
    schema = schema_of(endpoint, ctx.body)
    if schema is None or answer.calls or answer.text is None or ctx.has("response-format-dropped"):
        return answer
    text = arguments_json(ToolSpec("response_format", "", schema), prompt)
    if ctx.has("ignore-max-tokens"):
        max_tokens = None
    text, reason, _ = limit_text(text, max_tokens, (), ctx.family)
    return Answer(text, [], reason)


def echo_format(body: dict[str, Any]) -> dict[str, Any]:
    """``text.format`` as a Responses object echoes it."""
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return (
            {"type": fmt.get("type")}
            if isinstance(fmt, dict) and fmt.get("type") == "json_object"
            else {"type": "text"}
        )
    return {
        "type": "json_schema",
        "description": fmt.get("description"),
        "name": fmt.get("name"),
        "schema": fmt.get("schema"),
        "strict": bool(fmt.get("strict")),
    }
