"""Every code a dialect emits is declared: by a ``@rule`` (harness/dialects/kit/rules.py) or as a
core code (harness/codes.py). The dialect sources are read with ``ast``, so a mistyped code in a
``Violation(...)`` fails here before it can ship; the code table is generated from the same
declarations."""

from __future__ import annotations

import ast

import pytest

from harness import grades
from harness.codes import CORE_CODES, all_codes
from harness.dialects import registry
from harness.dialects.kit import rules
from harness.model import Violation
from tests.conftest import REPO

DIALECTS = REPO / "harness" / "dialects"
# Calls that take a violation code as their first argument: the Violation itself and the small
# "add a violation" helpers of the stream grammars (``st.v``, ``self.flag``).
EMITTERS = frozenset({"Violation", "v", "flag"})


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _constants(tree: ast.Module) -> dict[str, str]:
    return {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
        for t in n.targets
        if isinstance(t, ast.Name)
    }


def literal_codes(source: str) -> list[tuple[int, str]]:
    """(line, code) of every code literal in ``source``: the first argument of an emitter, a
    ``code=`` keyword, an assignment to ``code``, and any ``"grammar.*"`` string; ``G + "x"``
    with a module-level (or imported) ``G = "grammar.<dialect>."`` counts as its joined value."""
    tree = ast.parse(source)
    consts = _constants(tree)
    for node in tree.body:  # a prefix imported from a sibling module: from ...rules import G
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            path = REPO.joinpath(*node.module.split(".")).with_suffix(".py")
            if path.is_file():
                theirs = _constants(ast.parse(path.read_text(encoding="utf-8")))
                consts.update({a.asname or a.name: theirs[a.name] for a in node.names if a.name in theirs})

    def value(node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = (
                value(node.left) if not isinstance(node.left, ast.Name) else consts.get(node.left.id),
                value(node.right),
            )
            return left + right if left is not None and right is not None else None
        return None

    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        candidates: list[ast.AST | None] = []
        if isinstance(node, ast.Call):
            if _name(node.func) in EMITTERS and node.args:
                candidates.append(node.args[0])
            candidates += [k.value for k in node.keywords if k.arg == "code"]
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets):
            candidates.append(node.value)
        elif isinstance(node, ast.FunctionDef):
            candidates += [
                d for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if a.arg == "code"
            ]
            candidates += [
                d for a, d in zip(node.args.args[::-1], node.args.defaults[::-1], strict=False) if a.arg == "code"
            ]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("grammar."):
            if not node.value.endswith("."):
                found.append((node.lineno, node.value))
        for c in candidates:
            code = value(c)
            if code is not None:
                found.append((getattr(c, "lineno", 0), code))
    return found


def declared() -> set[str]:
    registry.all_dialects()  # loading the dialects registers their rules
    return set(CORE_CODES) | set(rules.registered())


def test_every_code_a_dialect_emits_is_declared() -> None:
    known = declared()
    undeclared = [
        f"{path.relative_to(REPO)}:{line}: {code}"
        for path in sorted(DIALECTS.rglob("*.py"))
        for line, code in literal_codes(path.read_text(encoding="utf-8"))
        if code not in known
    ]
    assert undeclared == []


def test_the_scanner_sees_a_mistyped_code() -> None:
    source = (
        'G = "grammar.chat."\n'
        'def f(st):\n    st.v(G + "fnish", "$", "m")\n    return Violation("tool.agrs", "$", "m")\n'
        'def g(code="schema.extr"):\n    pass\n'
        'def h(*, code="usage.feilds"):\n    pass\n'
    )
    codes = {c for _, c in literal_codes(source)}
    assert codes >= {"grammar.chat.fnish", "tool.agrs", "schema.extr", "usage.feilds"}
    assert codes.isdisjoint(declared())


def test_the_code_table_is_core_plus_rules() -> None:
    table = all_codes()
    assert set(rules.registered()) <= set(table)
    for code, r in rules.registered().items():
        assert table[code] == r.title
        assert r.owner.startswith("harness.dialects."), code


def test_rule_severity_is_the_documented_grade() -> None:
    """A rule's severity is the most its findings fail, as docs/codes.md states it."""
    for code, r in rules.registered().items():
        assert grades.GRADES[code].severity.split(" / ")[0] == r.severity, code


def test_a_rule_caps_its_findings() -> None:
    strict = next(c for c, r in rules.registered().items() if r.severity == "strict")
    out = rules.apply([Violation(strict, "$", "m"), Violation("tool.args", "$", "m")], "chat")
    assert [v.severity for v in out] == ["strict", "error"]
    # a dialect's grade of a shared code applies to that dialect only
    assert rules.apply([Violation("sse.after_end", "$", "m")], "messages")[0].severity == "strict"
    assert rules.apply([Violation("sse.after_end", "$", "m")], "chat")[0].severity == "error"


def test_one_code_one_meaning() -> None:
    code, r = next(iter(rules.registered().items()))
    assert rules.declare(code, r.severity, r.title, "elsewhere") == r  # the same rule again: fine
    with pytest.raises(ValueError, match="declared twice"):
        rules.declare(code, r.severity, r.title + " (changed)", "elsewhere")


def test_every_dialect_file_is_scanned() -> None:
    files = {p.relative_to(DIALECTS).as_posix() for p in DIALECTS.rglob("*.py")}
    assert {"chat/stream.py", "messages/body.py", "responses/stream.py", "kit/official.py"} <= files
    seen = {c for p in DIALECTS.rglob("*.py") for _, c in literal_codes(p.read_text(encoding="utf-8"))}
    assert set(rules.registered()) <= seen  # the scanner reaches every declared rule's code
