"""Tool calls: arguments against the schema the request declared. Hot path: once per call."""

from __future__ import annotations

import json
import re
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


_NAME_KEYS = ("name", "tool", "tool_name", "function", "function_name", "recipient_name")
_ARG_KEYS = ("arguments", "parameters", "args", "input", "tool_input")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_TAGS = re.compile(r"</?(?:tool_call|function_call|tool_use)>")


def text_tool_call(text: Any, names: Sequence[str]) -> str | None:
    """The declared tool a text answer calls as JSON, or None: every dialect's ``tool.as_text``.

    Only a JSON object (or a list of them) that *names* a declared tool and carries arguments
    counts (``{"name": ..., "arguments"|"input"|"parameters": ...}``, ``{"type": "tool_use", ...}``,
    ``{"function": {...}}``), also inside a ``tool_calls``/``function_call`` wrapper, a code fence
    or ``<tool_call>`` tags: JSON-mode and structured outputs, whose keys are the answer's own
    fields, never name a tool this way.
    """
    if not isinstance(text, str) or not names:
        return None
    s = _TAGS.sub("", _FENCE.sub("", text.strip())).strip()
    if not s.startswith(("{", "[")):
        return None
    try:
        obj = json.loads(s)
    except ValueError:
        return None
    items = obj if isinstance(obj, list) else [obj]
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if "tool_calls" in item or "function_call" in item:
            inner = item.get("tool_calls") or item.get("function_call")
            inner_items = inner if isinstance(inner, list) else [inner]
            for sub in inner_items:
                found = text_tool_call(json.dumps(sub), names) if isinstance(sub, Mapping) else None
                if found:
                    return found
        for key in _NAME_KEYS:
            value = item.get(key)
            if isinstance(value, Mapping):  # {"function": {"name": ..., "arguments": ...}}
                found = text_tool_call(json.dumps(value), names)
                if found:
                    return found
            elif isinstance(value, str) and value in names and any(k in item for k in _ARG_KEYS):
                return value
    return None
