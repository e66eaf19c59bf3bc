"""Tool calls: arguments against the schema the request declared. Hot path: once per call."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from harness.dialects.kit.text import clip as _clip
from harness.model import ToolCall, Violation


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
