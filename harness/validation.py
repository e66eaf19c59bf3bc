"""The one validation seam: JSON Schema files under ``schemas/``, compiled once, validated fast.

Schema ids are paths under ``schemas/`` without ``.json`` (``chat/chunk``). Each file is
self-contained (Draft 2020-12, local ``$defs`` only). jsonschema-rs does the work when it is
installed; the pure-Python ``jsonschema`` gives the same verdicts, only slower.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

try:  # pragma: no cover - which branch runs depends on the install
    import jsonschema_rs as _rs
except ImportError:  # pragma: no cover
    _rs = None


@dataclass(frozen=True)
class SchemaError:
    path: str  # JSON path of the offending value, "$" for the root
    message: str


def _json_path(parts: Any) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


@cache
def load_schema(schema_id: str) -> dict[str, Any]:
    path = SCHEMA_DIR / f"{schema_id}.json"
    if not path.is_file():
        raise KeyError(f"no schema {schema_id!r} (looked for {path})")
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _compiled(schema_id: str) -> Any:
    schema = load_schema(schema_id)
    if _rs is not None:
        return _rs.validator_for(schema)
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def is_valid(schema_id: str, instance: Any) -> bool:
    return bool(_compiled(schema_id).is_valid(instance))


def validate(schema_id: str, instance: Any, limit: int = 20) -> list[SchemaError]:
    """Errors of ``instance`` against the schema; empty when valid. The fast path (valid
    instances, the common case) costs one ``is_valid`` call.

    A failed ``anyOf`` / ``oneOf`` is not reported as "not valid under any of the schemas" with
    the whole object: the errors come from the branch that came closest (see ``_closest``), so
    the message names the field that broke it, and an unknown field there reads like any other.
    """
    validator = _compiled(schema_id)
    if validator.is_valid(instance):
        return []
    errors: list[SchemaError] = []
    for err in _python_validator(schema_id).iter_errors(instance):
        for path, message in _explain(err):
            errors.append(SchemaError(path, message))
        if len(errors) >= limit:
            break
    return errors[:limit]


@cache
def _python_validator(schema_id: str) -> Any:
    """python-jsonschema for explaining failures: its errors keep the per-branch ``context``."""
    import jsonschema

    schema = load_schema(schema_id)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def _explain(err: Any, depth: int = 0) -> list[tuple[str, str]]:
    if err.validator in ("anyOf", "oneOf") and err.context and depth < 8:
        branch, sub = _closest(err)
        if sub:
            out = []
            for e in sub:
                for path, message in _explain(e, depth + 1):
                    if not message.startswith("Additional properties are not allowed"):
                        message = f"{message} (closest {err.validator} branch: {branch})"
                    out.append((path, message))
            return out
    return [(_json_path(err.absolute_path), str(err.message))]


def _closest(err: Any) -> tuple[str, list[Any]]:
    """The branch of a failed anyOf/oneOf the instance nearly matched: branches that fail on the
    instance's own type or ``const``/``enum`` discriminator (a ``type`` field) rank last, then
    the fewest errors, then the deepest first error."""
    by_branch: dict[int, list[Any]] = {}
    for e in err.context:
        if e.relative_schema_path:
            by_branch.setdefault(int(e.relative_schema_path[0]), []).append(e)
    if not by_branch:
        return "", []

    def rank(item: tuple[int, list[Any]]) -> tuple[int, int, int]:
        _, errs = item
        # context errors' paths are relative to the instance the anyOf/oneOf judged
        mismatch = any(
            (not e.relative_path and e.validator == "type")
            or (e.validator in ("const", "enum") and list(e.relative_path) == ["type"])
            for e in errs
        )
        return (1 if mismatch else 0, len(errs), -max(len(e.relative_path) for e in errs))

    index, errs = min(by_branch.items(), key=rank)
    branches = err.schema.get(err.validator) if isinstance(err.schema, dict) else None
    sub_schema = branches[index] if isinstance(branches, list) and index < len(branches) else {}
    name = None
    if isinstance(sub_schema, dict):
        name = sub_schema.get("title") or sub_schema.get("$ref") or sub_schema.get("type")
    return f"#{index}" + (f" {name}" if name else ""), errs
