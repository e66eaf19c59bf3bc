"""Helpers shared by the dialect modules: decoding SSE payloads, schema violations, tool
arguments against the schema the request declared. Hot path: called once per event."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from harness import validation
from harness.model import Severity, ToolCall, Violation
from harness.sse import SSEEvent


def schema_violations(
    schema_id: str, instance: Any, path: str = "$", severity: Severity = "error", code: str = "schema"
) -> list[Violation]:
    """Violations of ``instance`` against ``schemas/<schema_id>.json``; ``path`` prefixes the
    JSON path inside the instance (e.g. ``events[3].data``)."""
    errors = validation.validate(schema_id, instance)
    out = []
    for err in errors:
        sub = err.path[1:] if err.path.startswith("$") else err.path
        out.append(Violation(code, f"{path}{sub}", f"{err.message} (schema {schema_id})", severity=severity))
    return out


def decode_event(event: SSEEvent) -> tuple[Any, Violation | None]:
    """The JSON payload of one event, or a violation saying why it is not JSON.

    Two events written with no blank line between them arrive as one event with several
    ``data:`` lines, each a JSON object: that is a framing fault (RELAY_DEFECTS #12), not bad
    JSON, and is named so.
    """
    try:
        return json.loads(event.data), None
    except ValueError:
        pass
    path = f"events[{event.index}].data"
    if event.data_lines > 1:
        lines = event.data.split("\n")
        if all(_is_json(line) for line in lines):
            return None, Violation(
                "sse.framing",
                path,
                f"{len(lines)} JSON payloads in one event: events written without a blank line between them",
                expected="one JSON object per event, events separated by a blank line",
                actual=_clip(event.data),
            )
    return None, Violation("sse.json", path, "data is not JSON", actual=_clip(event.data))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _clip(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[:n] + "…"


@lru_cache(maxsize=256)
def _tool_validator(schema_json: str) -> Any:
    import jsonschema

    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError:
        # The request declared a schema no validator can apply (the official API rejects such a
        # request); the answer cannot be judged against it, and the run must not crash on it.
        return None
    return cls(schema)


def _schema_errors(validator: Any, instance: Any) -> list[Any]:
    """Validation errors, or none when the declared schema cannot be applied (an unresolvable
    $ref, an unknown format class): a broken request schema is not the relay's fault."""
    import jsonschema

    try:
        return list(validator.iter_errors(instance))
    except (jsonschema.SchemaError, jsonschema.exceptions.UnknownType, jsonschema.exceptions._WrappedReferencingError):
        return []


def check_tool_arguments(calls: Sequence[ToolCall], declared: Mapping[str, Any], path: str = "$") -> list[Violation]:
    """Each call must name a declared tool and carry JSON arguments that validate against
    that tool's input schema. ``declared`` maps tool name -> JSON Schema (may be empty when the
    request was not recorded: then only JSON-ness is checked)."""
    out: list[Violation] = []
    for i, call in enumerate(calls):
        where = f"{path}.tool_calls[{i}]"
        try:
            args = json.loads(call.arguments) if call.arguments.strip() else None
        except ValueError as exc:
            out.append(
                Violation(
                    "tool.args",
                    where,
                    f"arguments of {call.name!r} are not JSON: {exc}",
                    actual=_clip(call.arguments),
                )
            )
            continue
        if args is None:
            out.append(
                Violation(
                    "tool.args",
                    where,
                    f"arguments of {call.name!r} are empty",
                    expected="a JSON object",
                    actual=call.arguments,
                )
            )
            continue
        if not declared:
            continue
        if call.name not in declared:
            out.append(
                Violation(
                    "tool.name",
                    where,
                    f"tool {call.name!r} was not declared in the request",
                    expected=sorted(declared),
                    actual=call.name,
                )
            )
            continue
        schema = declared[call.name]
        if not isinstance(schema, dict):
            continue
        validator = _tool_validator(json.dumps(schema, sort_keys=True))
        if validator is None:
            continue
        for err in _schema_errors(validator, args):
            sub = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
            out.append(
                Violation(
                    "tool.args",
                    f"{where}.arguments{sub}",
                    f"arguments of {call.name!r} do not match the declared schema: {err.message}",
                    actual=_clip(call.arguments),
                )
            )
            break
    return out


def error_shape(body: Any) -> str:
    """What an error body looks like, for a message: another dialect's error shape only when it
    is one, otherwise its keys, so a vendor sees what was sent instead of a wrong guess."""
    if not isinstance(body, Mapping):
        return f"not an error object but a JSON {type(body).__name__.replace('dict', 'object')}"
    err = body.get("error")
    if body.get("type") == "error" and isinstance(err, Mapping) and "type" in err and "message" in err:
        return "an Anthropic-shaped error"
    if "type" not in body and isinstance(err, Mapping) and isinstance(err.get("message"), str) and "type" in err:
        return "an OpenAI-shaped error"
    inner = f", error keys {sorted(err)}" if isinstance(err, Mapping) else ""
    return f"an error body of unknown shape (keys {sorted(body)}{inner})"
