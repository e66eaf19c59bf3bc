"""Documented requests: would the official API accept them? The official request schemas (the ones
``grammar.messages.request_accepted`` uses for live traffic) plus the rules the official APIs
enforce that a schema cannot say (tool shapes per dialect, thinking budget below max_tokens,
user/assistant turns only on Messages, parameters of another dialect)."""

from __future__ import annotations

from typing import Any

from harness import validation
from harness.docscheck import vocab
from harness.docscheck.extract import Block
from harness.docscheck.finding import DIALECT_NAME, Finding, endpoint_of
from harness.model import Severity

_REQUEST_SCHEMA = {
    "chat": "chat/request",
    "messages": "messages/compatible/request",
    "responses": "responses/compatible/request",
}
_MINIMUM_BUDGET = 1024


def check_request(page: str, block: Block) -> list[Finding]:
    body = block.value
    piece = f"request@{block.line}"
    endpoint, out = endpoint_of(page, block, body, "request")
    if endpoint is None or not isinstance(body, dict):
        return out
    name = DIALECT_NAME[endpoint]

    def add(code: str, path: str, message: str, severity: Severity = "error") -> None:
        out.append(Finding(page, block.line_of(path), code, message, severity, piece, path))

    bad_tools = _tool_shapes(body, endpoint, add)
    for err in validation.validate(_REQUEST_SCHEMA[endpoint], body):
        if any(err.path == p or err.path.startswith(p + ".") or err.path.startswith(p + "[") for p in bad_tools):
            continue  # the tool-shape finding already says what is wrong there
        if err.path == "$.thinking.budget_tokens" and "minimum" in err.message:
            add(
                "docs.request.rejected",
                err.path,
                f"thinking.budget_tokens {body['thinking'].get('budget_tokens')} is under {_MINIMUM_BUDGET}: the "
                f"official {name} API rejects it with 400 invalid_request_error",
            )
            continue
        add(
            "docs.request.rejected",
            err.path,
            f"the official {name} API rejects this request: {err.message} at {err.path}",
        )
    if endpoint == "messages":
        _messages_rules(body, add)
    for key in body:
        if key in vocab.request_params(endpoint):
            continue
        owners = [DIALECT_NAME[e] for e in vocab.DOC_DIALECTS if e != endpoint and key in vocab.request_params(e)]
        if owners:
            add(
                "docs.request.field",
                f"$.{key}",
                f"{key!r} is a parameter of {' / '.join(owners)}; the official {name} API rejects it as unknown",
            )
        else:
            add(
                "docs.request.field",
                f"$.{key}",
                f"{key!r} is not a parameter of {name} that relaycheck knows (the official API rejects unknown ones)",
                "note",
            )
    return out


def _tool_shapes(body: dict[str, Any], endpoint: str, add: Any) -> list[str]:
    """Tools written in another dialect's shape; returns their paths."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    bad = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            continue
        path = f"$.tools[{i}]"
        nested = isinstance(tool.get("function"), dict)
        why = None
        if endpoint == "messages" and (nested or tool.get("type") == "function"):
            why = "an OpenAI function tool; Messages tools are {name, description, input_schema}"
        elif endpoint == "messages" and "type" not in tool and "input_schema" not in tool:
            why = "a custom tool without input_schema" + (
                " (parameters is the OpenAI name; Messages calls it input_schema)" if "parameters" in tool else ""
            )
        elif endpoint == "chat" and "input_schema" in tool:
            why = "an Anthropic tool; Chat Completions tools are {type: function, function: {name, parameters}}"
        elif endpoint == "chat" and tool.get("type") == "function" and not nested and "name" in tool:
            why = "a Responses (flat) function tool; Chat Completions nests it: {type: function, function: {...}}"
        elif endpoint == "responses" and "input_schema" in tool:
            why = "an Anthropic tool; Responses function tools are {type: function, name, parameters}"
        elif endpoint == "responses" and nested:
            why = "a Chat Completions (nested) function tool; Responses tools are flat: {type, name, parameters}"
        if why:
            add("docs.request.tool_shape", path, f"tools[{i}] is {why}; the official API rejects it")
            bad.append(path)
            continue
        fn = tool.get("function") if nested else tool
        key = "input_schema" if endpoint == "messages" else "parameters"
        problem = _schema_problem(fn.get(key)) if isinstance(fn, dict) and key in fn else None
        if problem:
            add("docs.request.rejected", f"{path}", f"tools[{i}] {key} is not a valid JSON Schema: {problem}")
            bad.append(path)
    return bad


def _schema_problem(schema: Any) -> str | None:
    """Why a tool's declared schema is not a JSON Schema (the official APIs reject such tools)."""
    import jsonschema

    if not isinstance(schema, dict):
        return f"a {type(schema).__name__}, not an object"
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return exc.message
    return None


def _messages_rules(body: dict[str, Any], add: Any) -> None:
    """What the official Messages API enforces beyond its request schema."""
    thinking, max_tokens = body.get("thinking"), body.get("max_tokens")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, int) and isinstance(max_tokens, int) and budget >= max_tokens:
            add(
                "docs.request.rejected",
                "$.thinking.budget_tokens",
                f"thinking.budget_tokens {budget} is not below max_tokens {max_tokens}: the official API rejects it",
            )
    for i, msg in enumerate(body.get("messages") or ()):
        if isinstance(msg, dict) and msg.get("role") not in ("user", "assistant", None):
            add(
                "docs.request.rejected",
                f"$.messages[{i}].role",
                f"messages[{i}].role {msg.get('role')!r}: Messages takes user and assistant turns only"
                + (" (the system prompt is the top-level system parameter)" if msg.get("role") == "system" else ""),
            )
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool" and not choice.get("name"):
        add("docs.request.rejected", "$.tool_choice", "tool_choice {type: tool} without the tool's name")
