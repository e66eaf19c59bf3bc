"""Case files: YAML -> validated, frozen ``Case`` objects that remember their source lines.

A case file is validated against ``schemas/case.schema.json`` when it is collected; the first
problem is reported as one ``file:line:col: message`` error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema

from harness import yamlpos
from harness.dialects import registry
from harness.validation import SCHEMA_DIR

StreamMode = Literal["true", "false", "both"]


class CaseFileError(Exception):
    """A malformed case file. ``str()`` is the one-line ``file:line:col: message`` form."""

    def __init__(self, file: str, line: int, col: int, message: str) -> None:
        super().__init__(f"{file}:{line}:{col}: {message}")
        self.file, self.line, self.col, self.message = file, line, col, message


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Matcher:
    path: str
    op: str  # equals | contains | regex | one_of | type | present | absent
    value: Any
    location: Location


@dataclass(frozen=True)
class ToolCallsExpectation:
    count: int | None = None
    min: int | None = None
    names: tuple[str, ...] = ()
    distinct_ids: bool = True
    args: tuple[Matcher, ...] = ()  # paths relative to the parsed arguments ("$.location")


@dataclass(frozen=True)
class Expect:
    status: tuple[int, ...] = (200,)
    content_type: str | None = None
    schema: bool = True
    error_type: str | None = None
    stop_reason: tuple[str, ...] = ()
    text: tuple[Matcher, ...] = ()
    json: tuple[Matcher, ...] = ()
    tool_calls: ToolCallsExpectation | None = None
    streaming: bool = False
    # A schema id under schemas/ (e.g. "models/openai-list") that replaces the dialect's body
    # checks, for answers that are not the dialect's main object (GET /v1/models, count_tokens).
    body_schema: str | None = None


@dataclass(frozen=True)
class RequestSpec:
    method: str = "POST"
    path: str | None = None  # default: the endpoint's path
    auth: str = "gateway"  # gateway | none | wrong-key | bearer | x-api-key | both
    anthropic_version: str | bool = True  # True: the gateway's; False: omit; str: that value
    headers: tuple[tuple[str, str], ...] = ()
    body_json: str | None = None  # JSON text of the body template (frozen; parsed per use)
    raw_body: str | None = None

    def body_template(self) -> Any:
        return None if self.body_json is None else json.loads(self.body_json)


@dataclass(frozen=True)
class Step:
    name: str
    endpoint: str
    request: RequestSpec
    expect: Expect
    save: tuple[tuple[str, str], ...]
    location: Location


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    endpoint: str
    stream: StreamMode
    models: tuple[str, ...] | None  # None = every model the gateway serves; () = the request's own
    requires: tuple[str, ...]
    features: tuple[str, ...]
    retries: int
    steps: tuple[Step, ...]
    location: Location

    @property
    def file(self) -> str:
        return self.location.file


@cache
def _case_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / "case.schema.json").read_text(encoding="utf-8"))
    # The endpoints a case may name are the registered dialects (plus the schema's own extras).
    enum = schema["$defs"]["endpoint"]["enum"]
    schema["$defs"]["endpoint"]["enum"] = [*registry.names(), *(e for e in enum if e not in registry.names())]
    return schema


@cache
def _case_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_case_schema())


@cache
def _fast_check() -> Any:
    """jsonschema-rs's yes/no on a case file (a fraction of python-jsonschema's time, which was
    most of collecting the suite). Only a "yes" is taken from it: a file it rejects is judged by
    python-jsonschema, whose error the message and position are built from, and which has the
    last word (its regexes are Python's: ``$`` also matches before a final newline)."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - an install without it
        return None
    return jsonschema_rs.Draft202012Validator(_case_schema()).is_valid


def _schema_errors(value: Any) -> list[jsonschema.ValidationError]:
    fast = _fast_check()
    try:
        if fast is not None and fast(value):
            return []
    except (TypeError, ValueError, OverflowError):
        pass  # a value it cannot take (a YAML date, a huge integer): the full check decides
    return list(_case_validator().iter_errors(value))


def _best_error(errors: list[jsonschema.ValidationError]) -> jsonschema.ValidationError:
    # Prefer the deepest error: "cases[0].expect.status: 'abc' is not of type integer" says more
    # than "cases[0] is not valid under any of the given schemas".
    return jsonschema.exceptions.best_match(errors, key=lambda e: (-len(e.absolute_path), 0))


def _describe(err: jsonschema.ValidationError) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        msg = f"unknown key(s) {', '.join(map(repr, extra))}"
    elif err.validator == "oneOf" and "steps" in err.schema.get("properties", {}):
        msg = "a case has either request (with expect/save) or steps, not both and not neither"
    else:
        msg = err.message
    return f"{where}: {msg}" if where else msg


def load_case_file(path: Path, display: str | None = None) -> list[Case]:
    """Load and validate one case file. Raises CaseFileError with file:line:col."""
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(shown, 1, 1, f"not UTF-8: {exc.reason}") from None
    try:
        doc = yamlpos.load(text)
    except yamlpos.YamlError as exc:
        raise CaseFileError(shown, exc.line, exc.col, exc.message) from None
    if not isinstance(doc.value, dict):
        raise CaseFileError(shown, 1, 1, "a case file is a mapping with a 'cases' list")
    errors = _schema_errors(doc.value)
    if errors:
        err = _best_error(errors)
        at = tuple(err.absolute_path)
        line, col = doc.where(at)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            if extra:  # point at the unknown key itself
                line, col = doc.where_key((*at, extra[0]))
        raise CaseFileError(shown, line, col, _describe(err))
    cases = []
    seen: dict[str, int] = {}
    defaults = doc.value.get("defaults", {})
    for i, raw in enumerate(doc.value["cases"]):
        line, col = doc.where(("cases", i))
        if raw["id"] in seen:
            raise CaseFileError(shown, line, col, f"duplicate case id {raw['id']!r} (first at line {seen[raw['id']]})")
        seen[raw["id"]] = line
        cases.append(_build_case(raw, defaults, doc, ("cases", i), shown))
    return cases


def _loc(doc: yamlpos.Located, path: tuple[Any, ...], file: str) -> Location:
    line, col = doc.where(path)
    return Location(file, line, col)


def _build_case(
    raw: dict[str, Any], defaults: dict[str, Any], doc: yamlpos.Located, path: tuple[Any, ...], file: str
) -> Case:
    def pick(key: str, fallback: Any) -> Any:
        return raw.get(key, defaults.get(key, fallback))

    endpoint = pick("endpoint", None)
    if endpoint is None:
        line, col = doc.where(path)
        raise CaseFileError(file, line, col, f"case {raw['id']!r} names no endpoint (and no defaults.endpoint)")
    models_raw = pick("models", "all")
    models: tuple[str, ...] | None
    models = None if models_raw == "all" else () if models_raw == "none" else tuple(models_raw)
    stream_raw = pick("stream", False)
    stream: StreamMode = "both" if stream_raw == "both" else "true" if stream_raw else "false"
    if "steps" in raw:
        step_specs = [(s, (*path, "steps", j)) for j, s in enumerate(raw["steps"])]
    else:
        step_specs = [({k: raw[k] for k in ("request", "expect", "save") if k in raw}, path)]
    steps = []
    for j, (spec, spath) in enumerate(step_specs):
        step_endpoint = spec.get("endpoint", endpoint)
        if step_endpoint != endpoint and endpoint == "models":
            line, col = doc.where(spath)
            raise CaseFileError(file, line, col, "a models case cannot switch endpoints")
        steps.append(
            Step(
                name=spec.get("name", f"step{j + 1}"),
                endpoint=step_endpoint,
                request=_build_request(spec["request"]),
                expect=_build_expect(spec.get("expect", {}), doc, (*spath, "expect"), file),
                save=tuple(spec.get("save", {}).items()),
                location=_loc(doc, spath, file),
            )
        )
    return Case(
        id=raw["id"],
        description=raw["description"].strip(),
        endpoint=endpoint,
        stream=stream,
        models=models,
        requires=tuple(pick("requires", ())),
        features=tuple(pick("features", ())),
        retries=int(raw.get("retries", 0)),
        steps=tuple(steps),
        location=_loc(doc, path, file),
    )


def _build_request(raw: dict[str, Any]) -> RequestSpec:
    return RequestSpec(
        method=raw.get("method", "POST"),
        path=raw.get("path"),
        auth=raw.get("auth", "gateway"),
        anthropic_version=raw.get("anthropic_version", True),
        headers=tuple((str(k), str(v)) for k, v in raw.get("headers", {}).items()),
        body_json=json.dumps(raw["body"]) if "body" in raw else None,
        raw_body=raw.get("raw_body"),
    )


_OPS = ("equals", "contains", "regex", "one_of", "type", "present", "absent")


def _matchers(raw: dict[str, Any], path: str, doc: yamlpos.Located, at: tuple[Any, ...], file: str) -> list[Matcher]:
    loc = _loc(doc, at, file)
    return [Matcher(path, op, raw[op], loc) for op in _OPS if op in raw]


def _build_expect(raw: dict[str, Any], doc: yamlpos.Located, at: tuple[Any, ...], file: str) -> Expect:
    status = raw.get("status", 200)
    json_matchers: list[Matcher] = []
    for i, m in enumerate(raw.get("json", [])):
        json_matchers += _matchers(m, m["path"], doc, (*at, "json", i), file)
    text = _matchers(raw["text"], "$", doc, (*at, "text"), file) if "text" in raw else []
    tools = None
    if "tool_calls" in raw:
        t = raw["tool_calls"]
        args: list[Matcher] = []
        for name, ops in t.get("args", {}).items():
            args += _matchers(ops, f"$.{name}", doc, (*at, "tool_calls", "args", name), file)
        if "arguments" in t:  # the whole parsed arguments object, e.g. equals a saved one
            args += _matchers(t["arguments"], "$", doc, (*at, "tool_calls", "arguments"), file)
        tools = ToolCallsExpectation(
            count=t.get("count"),
            min=t.get("min"),
            names=tuple(t.get("names", ())),
            distinct_ids=t.get("distinct_ids", True),
            args=tuple(args),
        )
    if "body_schema" in raw and not (SCHEMA_DIR / f"{raw['body_schema']}.json").is_file():
        line, col = doc.where((*at, "body_schema"))
        raise CaseFileError(file, line, col, f"body_schema: no schema {raw['body_schema']!r} under schemas/")
    stop = raw.get("stop_reason", ())
    return Expect(
        status=tuple(status) if isinstance(status, list) else (status,),
        content_type=raw.get("content_type"),
        schema=raw.get("schema", True),
        error_type=raw.get("error_type"),
        stop_reason=(stop,) if isinstance(stop, str) else tuple(stop),
        text=tuple(text),
        json=tuple(json_matchers),
        tool_calls=tools,
        streaming=raw.get("streaming", False),
        body_schema=raw.get("body_schema"),
    )
