"""Deterministic tool-calling decisions and schema-valid arguments, shared by all dialects.

The rule (documented for case writers):

- ``none`` -> never call.
- named tool -> call exactly that tool once.
- ``required`` / ``any`` -> call the tools the prompt mentions; if it mentions none, the first
  declared tool.
- ``auto`` -> call the tools the prompt mentions; if none, answer with text.

A tool is *mentioned* when the last user message contains its name (``get_weather``, or
``get weather``), a word of 4+ letters from its name (``weather``), or a keyword of 4+ letters from
its description that is not a stop word (``temperature`` in "Get the current temperature"). A prompt
that asks for parallel work (``parallel``, ``all tools``, ``each tool``, ``simultaneously``,
``at the same time``, ``并行``, ``同时``) mentions every declared tool (seed 003's four-tool prompt).
A few Chinese words count as their English keyword (``天气`` is ``weather``, as in seed 001's
"北京今天天气怎么样"; see ``CJK_WORDS``).
Several mentioned tools give one call each, in declaration order, unless parallel calls are
disabled (``parallel_tool_calls: false`` / ``disable_parallel_tool_use: true``): then only the first.

Arguments follow the declared schema; string values come from the prompt where a real model would
take them: a place (``in Paris``, ``北京``), an IANA timezone (``Asia/Shanghai``, else ``UTC``), the
first option a description lists (``operation: add, subtract, ...``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.refgateway.common import Ctx, answer_text, limit_text, tool_result_answer

MAX_TOKENS_CAP = 12  # fault max-tokens-capped: the relay's ceiling on output tokens (low, for the probe)
PARALLEL_WORDS = (
    "parallel",
    "all tools",
    "all the tools",
    "each tool",
    "every tool",
    "simultaneously",
    "at the same time",
    "并行",
    "同时",
)
STOP_WORDS = frozenset(
    "that this with from what when where which will your their about into than then them they have "
    "given returns return value values tool tools function functions data information current "
    "use used using uses call calls should would could must only also some more most other such "
    "each make made just like very".split()
)
PLACE_PROPS = ("location", "city", "place", "address", "region", "country", "destination", "town")
# Chinese words a prompt may use for a tool's English keyword (seeds 001 and 003 are Chinese).
CJK_WORDS = {
    "天气": "weather",
    "气温": "temperature",
    "温度": "temperature",
    "时间": "time",
    "几点": "time",
    "计算": "calculate",
    "随机": "random",
    "系统": "system",
}
_CJK_PLACE = re.compile(r"([\u4e00-\u9fff]{2,4}?)(?:今天|明天|现在|的)?(?:天气|气温)")
_TIMEZONE = re.compile(r"\b[A-Z][A-Za-z_]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?\b")
_OPTIONS = re.compile(r"[:：]\s*([a-z_]+)(?:\s*[,，]\s*[a-z_]+)+")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Choice:
    mode: str  # "auto" | "none" | "required" | "named"
    name: str | None = None


def keywords(tool: ToolSpec) -> set[str]:
    name_words = re.split(r"[_\-\s]+|(?<=[a-z])(?=[A-Z])", tool.name)
    desc_words = re.findall(r"[A-Za-z]+", tool.description)
    return {w.lower() for w in [*name_words, *desc_words] if len(w) >= 4 and w.lower() not in STOP_WORDS}


def mentions(tool: ToolSpec, prompt: str) -> bool:
    low = " ".join([prompt.lower(), *(en for zh, en in CJK_WORDS.items() if zh in prompt)])
    if tool.name.lower() in low or tool.name.lower().replace("_", " ") in low:
        return True
    return any(re.search(rf"\b{re.escape(k)}", low) for k in keywords(tool))


def decide(tools: list[ToolSpec], choice: Choice, prompt: str, parallel: bool) -> list[ToolSpec]:
    """Which tools to call, in order (empty list: answer with text)."""
    if not tools or choice.mode == "none":
        return []
    if choice.mode == "named":
        return [t for t in tools if t.name == choice.name][:1]
    low = prompt.lower()
    if any(w in low for w in PARALLEL_WORDS):
        chosen = list(tools)
    else:
        chosen = [t for t in tools if mentions(t, prompt)]
    if not chosen and choice.mode == "required":
        chosen = tools[:1]
    return chosen if parallel else chosen[:1]


# ---------------------------------------------------------------- arguments from a schema


def _place(prompt: str) -> str:
    m = re.search(r"\b(?:in|for|at|of)\s+((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*)*(?:,\s*[A-Z]{2})?)", prompt)
    if m:
        return m.group(1)
    cjk = _CJK_PLACE.search(prompt)
    return cjk.group(1) if cjk else "San Francisco"


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    return schema if isinstance(schema, dict) else {}


class _Gen:
    def __init__(self, root: dict[str, Any], prompt: str) -> None:
        self.root, self.prompt = root, prompt
        # Numbers from the prompt, used in order for numeric properties ("the 100th number").
        # List markers ("1. ", "2) ") at line starts are numbering, not numbers.
        text = re.sub(r"(?m)^\s*\d+[.)]\s", " ", prompt)
        self.numbers = [float(n) for n in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", text)]

    def value(self, schema: Any, prop: str = "", depth: int = 0) -> Any:
        s = _resolve(schema, self.root)
        if "const" in s:
            return s["const"]
        if s.get("enum"):
            return s["enum"][0]
        if "default" in s:
            return s["default"]
        for key in ("anyOf", "oneOf"):
            if isinstance(s.get(key), list):
                options = [o for o in s[key] if _resolve(o, self.root).get("type") != "null"] or s[key]
                return self.value(options[0], prop, depth + 1)
        if isinstance(s.get("allOf"), list) and s["allOf"]:
            merged: dict[str, Any] = {}
            for part in s["allOf"]:
                merged.update(_resolve(part, self.root))
            return self.value(merged, prop, depth + 1)
        kind = s.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in s else "array" if "items" in s else "string"
        if depth > 8:  # recursive schemas: stop at a safe leaf
            return None if kind == "null" else {} if kind == "object" else [] if kind == "array" else "example"
        return getattr(self, "_" + kind, self._string)(s, prop, depth)

    def _object(self, s: dict[str, Any], prop: str, depth: int) -> dict[str, Any]:
        props = s.get("properties") or {}
        required = [r for r in s.get("required") or [] if isinstance(r, str)]
        return {name: self.value(props.get(name, {}), name, depth + 1) for name in required}

    def _array(self, s: dict[str, Any], prop: str, depth: int) -> list[Any]:
        n = max(1, int(s.get("minItems", 1)))
        item = self.value(s.get("items", {"type": "string"}), prop, depth + 1)
        return [item] * n if not s.get("uniqueItems") or n == 1 else [item]

    def _number(self, s: dict[str, Any], prop: str, depth: int, integer: bool = False) -> float | int:
        lo = s.get("minimum", s.get("exclusiveMinimum"))
        hi = s.get("maximum", s.get("exclusiveMaximum"))
        candidates = [*self.numbers, 1]
        for n in candidates:
            if integer and n != int(n):
                continue
            ok = (lo is None or n > lo or (n == lo and "minimum" in s)) and (
                hi is None or n < hi or (n == hi and "maximum" in s)
            )
            if ok:
                if n in self.numbers:
                    self.numbers.remove(n)
                return int(n) if integer or n == int(n) else n
        base = lo if lo is not None else hi if hi is not None else 1
        return int(base) + (1 if "exclusiveMinimum" in s else 0)

    def _integer(self, s: dict[str, Any], prop: str, depth: int) -> int:
        return int(self._number(s, prop, depth, integer=True))

    def _boolean(self, s: dict[str, Any], prop: str, depth: int) -> bool:
        return True

    def _null(self, s: dict[str, Any], prop: str, depth: int) -> None:
        return None

    def _string(self, s: dict[str, Any], prop: str, depth: int) -> str:
        low = prop.lower()
        fmt = s.get("format")
        if fmt == "date-time":
            value = "2026-01-01T00:00:00Z"
        elif fmt == "date":
            value = "2026-01-01"
        elif fmt == "email":
            value = "user@example.com"
        elif fmt in ("uri", "url"):
            value = "https://example.com"
        elif any(p in low for p in PLACE_PROPS):
            value = _place(self.prompt)
        elif "timezone" in low or low == "tz":
            tz = _TIMEZONE.search(self.prompt)
            value = tz.group(0) if tz else "UTC"
        elif "unit" in low:
            value = "celsius"
        elif options := _OPTIONS.search(str(s.get("description") or "")):
            value = options.group(1)
        else:
            value = "example"
        if "minLength" in s and len(value) < int(s["minLength"]):
            value = value.ljust(int(s["minLength"]), "x")
        if "maxLength" in s:
            value = value[: int(s["maxLength"])]
        return value


def arguments(tool: ToolSpec, prompt: str) -> dict[str, Any]:
    """Arguments that validate against the tool's declared schema."""
    schema = tool.schema if isinstance(tool.schema, dict) else {}
    value = _Gen(schema, prompt).value(schema or {"type": "object"})
    return value if isinstance(value, dict) else {}


def arguments_json(tool: ToolSpec, prompt: str) -> str:
    # Compact, as the official APIs stream it ({"city":"Paris"}).
    return json.dumps(arguments(tool, prompt), separators=(",", ":"), ensure_ascii=False)


def strict_problem(schema: Any, path: str = "()") -> str | None:
    """The official complaint about a strict (structured-outputs) function schema, or None."""
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return f"In context={path}, 'additionalProperties' is required to be supplied and to be false."
        props = schema.get("properties") or {}
        missing = [k for k in props if k not in (schema.get("required") or [])]
        if missing:
            return (
                f"In context={path}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        for name, sub in props.items():
            if problem := strict_problem(sub, f"('properties', '{name}')"):
                return problem
    if isinstance(schema.get("items"), dict):
        return strict_problem(schema["items"], f"{path}, 'items'")
    return None


# ---------------------------------------------------------------- the answer plan


@dataclass
class Answer:
    """What the model 'says', before a dialect renders it."""

    text: str | None
    calls: list[tuple[ToolSpec, str]]  # (tool, arguments as JSON text)
    reason: str  # "end" | "stop" | "length" | "tool"
    stop_seq: str | None = None


def plan(
    ctx: Ctx,
    tools: list[ToolSpec],
    choice: Choice,
    prompt: str,
    *,
    parallel: bool,
    tool_result: str | None,
    max_tokens: int | None,
    stops: Sequence[str] = (),
) -> Answer:
    """Decide between tool calls and text. After a tool result, ``auto`` answers with text that
    quotes the result; a forcing tool_choice still forces a call, as the official APIs do."""
    if ctx.has("ignore-tool-choice-none") and choice.mode == "none" and tools:
        choice = Choice("required")
    if ctx.has("tool-choice-ignored") and tools:
        choice = Choice("auto")  # the relay drops tool_choice: the model decides by itself
    if ctx.has("parallel-tool-calls-ignored"):
        parallel = True  # the relay drops parallel_tool_calls / disable_parallel_tool_use
    chosen = [] if tool_result is not None and choice.mode == "auto" else decide(tools, choice, prompt, parallel)
    if chosen:
        return Answer(None, [(t, arguments_json(t, prompt)) for t in chosen], "tool")
    text = tool_result_answer(tool_result) if tool_result is not None else answer_text(prompt)
    if ctx.has("ignore-max-tokens"):
        max_tokens = None
    if ctx.has("max-tokens-capped") and (max_tokens is None or max_tokens > MAX_TOKENS_CAP):
        max_tokens = MAX_TOKENS_CAP  # the relay's own ceiling replaces a larger limit
    if ctx.has("stop-ignored"):
        stops = ()
    text, reason, seq = limit_text(text, max_tokens, stops, ctx.family)
    return Answer(text, [], reason, seq)
