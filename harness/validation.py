"""The one validation seam: JSON Schema files under ``schemas/``, compiled once, validated fast.

Schema ids are paths under ``schemas/`` without ``.json`` (``chat/chunk``). Each file is
self-contained (Draft 2020-12, local ``$defs`` only). jsonschema-rs does the work when it is
installed; the pure-Python ``jsonschema`` gives the same verdicts, only slower.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from harness import resources

SCHEMA_DIR = resources.schemas_dir()

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


Backend = Literal["rs", "python"]
_backend: Backend = "rs" if _rs is not None else "python"
# schema id -> the compiled validator's bound is_valid: one dict lookup per event on the hot path
_IS_VALID: dict[str, Callable[[Any], bool]] = {}


def use_backend(name: Backend) -> Backend:
    """Validate with jsonschema-rs ("rs") or python-jsonschema ("python") from now on; returns the
    previous choice. Both give the same verdicts (tests/test_fast_paths.py proves it on mutated
    events by switching); production keeps the default, jsonschema-rs when it is installed."""
    global _backend
    if name == "rs" and _rs is None:
        raise RuntimeError("jsonschema-rs is not installed")
    previous, _backend = _backend, name
    _IS_VALID.clear()
    return previous


def backend() -> Backend:
    return _backend


@cache
def _compiled_by(schema_id: str, backend: Backend) -> Any:
    schema = load_schema(schema_id)
    if backend == "rs":
        return _rs.validator_for(schema)  # type: ignore[union-attr]
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def _compiled(schema_id: str) -> Any:
    return _compiled_by(schema_id, _backend)


def is_valid(schema_id: str, instance: Any) -> bool:
    check = _IS_VALID.get(schema_id)
    if check is None:
        check = _IS_VALID[schema_id] = _compiled(schema_id).is_valid
    try:
        return check(instance)
    except UnicodeEncodeError:
        # jsonschema-rs cannot take a string holding a lone surrogate, which json.loads makes of an
        # escaped "\ud800" a relay may send; python-jsonschema judges it (the run must not crash).
        return bool(_compiled_by(schema_id, "python").is_valid(instance))


def validate(schema_id: str, instance: Any, limit: int = 20) -> list[SchemaError]:
    """Errors of ``instance`` against the schema; empty when valid. The fast path (valid
    instances, the common case) costs one ``is_valid`` call."""
    try:
        return _errors(_compiled(schema_id), instance, limit)
    except UnicodeEncodeError:  # a lone surrogate: see is_valid
        return _errors(_compiled_by(schema_id, "python"), instance, limit)


def _errors(validator: Any, instance: Any, limit: int) -> list[SchemaError]:
    if validator.is_valid(instance):
        return []
    errors: list[SchemaError] = []
    for top in validator.iter_errors(instance):
        for err, branch in _specific(top):
            parts = getattr(err, "instance_path", None)
            if parts is None:  # python-jsonschema
                parts = list(err.absolute_path)
            message = str(err.message)
            if branch and not message.startswith("Additional properties"):  # extras stay plain (schema.extra)
                message += f" ({branch})"
            errors.append(SchemaError(_json_path(parts), message))
        if len(errors) >= limit:
            break
    return errors[:limit]


def _branches(err: Any) -> list[list[Any]]:
    """The per-branch errors of a failed anyOf / oneOf, from either library; [] otherwise."""
    context = getattr(getattr(err, "kind", None), "context", None)  # jsonschema-rs
    if context is not None:
        return [list(b) for b in context]
    if getattr(err, "validator", None) in ("anyOf", "oneOf") and err.context:  # python-jsonschema
        by_branch: dict[int, list[Any]] = {}
        for sub in err.context:
            by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
        return list(by_branch.values())
    return []


def _is_type_error(err: Any) -> bool:
    return type(getattr(err, "kind", None)).__name__ == "Type" or getattr(err, "validator", None) == "type"


def _parts(err: Any) -> list[Any]:
    parts = getattr(err, "instance_path", None)
    return list(parts) if parts is not None else list(err.absolute_path)


def _keyword(err: Any) -> str:
    name = getattr(err, "validator", None) or type(getattr(err, "kind", None)).__name__
    return {"AnyOf": "anyOf", "OneOf": "oneOf"}.get(str(name), str(name))


def _specific(err: Any, branch: str = "") -> list[tuple[Any, str]]:
    """An anyOf / oneOf failure replaced by the errors of the branch the value was meant for:
    the one whose type matched (a usage object with one undocumented field fails its object
    branch on that field, and the null branch on its type), with the fewest errors. Without
    this, "not valid under any of the schemas" hides an extra field (a schema.extra note)
    behind a strict schema failure (LiteLLM's usage.cost, docs/interop.md).

    The errors carry the branch they came from ("closest anyOf branch #1"), so a vendor reads
    which shape the value was taken for and which field broke it."""
    branches = [(i, b) for i, b in enumerate(_branches(err)) if b]
    if not branches:
        return [(err, branch)]
    depth = len(_parts(err))

    def wrong_shape(errs: list[Any]) -> bool:
        """Every error is a type error on the value itself (not on a field inside it)."""
        return all(_is_type_error(e) and len(_parts(e)) == depth for e in errs)

    index, best = min(branches, key=lambda ib: (wrong_shape(ib[1]), len(ib[1])))
    if wrong_shape(best):
        return [(err, branch)]  # no branch had the right shape: the combined message says it best
    here = f"closest {_keyword(err)} branch #{index}"
    return [s for e in best for s in _specific(e, here)]
