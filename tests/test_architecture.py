"""The import rules of ARCHITECTURE.md, enforced by reading every module's imports with ``ast``:
only the pytest layer imports pytest, the engine imports neither pytest nor the reference gateway
nor a web server, no import circle outside a dialect folder, and ``import harness.engine`` loads
none of them (checked in a fresh interpreter)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO

HARNESS = REPO / "harness"

# The pytest layer: the only modules that import pytest at module level.
PYTEST_LAYER = frozenset(
    {
        "harness.pytest.plugin",
        "harness.pytest.collection",
        "harness.pytest.progress",
        "harness.pytest.stash",
        "harness.pytest.shard",
        "harness.pytest.report_hooks",
        "harness.pytest",  # the package's __init__ (a docstring): under the same rules
    }
)
# Entry points and tools above the engine: they may start pytest or the reference gateway, but
# only inside a function (``relaycheck report`` or ``faults`` must not pay for pytest).
ENTRY_LAYER = frozenset(
    {
        "harness.cli",
        "harness.discover_cli",
        "harness.exitcodes",
        "harness.fidelity.cli",
        "harness.fidelity.compare_cli",
        "harness.detection",
    }
)
REFGATEWAY = "harness.refgateway"  # the built-in gateway: Starlette/uvicorn live here and nowhere else
# The one module of harness the gateway reads: the Anthropic error-type table (plain data, stdlib
# only), so the gateway's errors and the checks of them cannot drift apart.
REFGATEWAY_READS = frozenset({"harness.dialects.kit.errors"})
DIALECTS = "harness.dialects"
# What all dialects share; everything else under harness/dialects/ is one dialect's folder.
DIALECT_SHARED = frozenset({"kit", "base", "registry"})

# The check core: what turns one Exchange into Violations, and what feeds or reports it. The
# runner (cases -> requests -> evaluate) sits above it and drives it; never the other way round.
CORE = (
    "harness.engine",
    "harness.dialects",
    "harness.sse",
    "harness.validation",
    "harness.model",
    "harness.codes",
    "harness.failure",
    "harness.jsonpath",
    "harness.transport",
    "harness.decoding",
    "harness.redact",
    "harness.recording",
    "harness.cassettes",
    "harness.traffic",
    "harness.report",
)
ABOVE_CORE = frozenset({"harness.runner", "harness.pool", "harness.detection", "harness.cases", "harness.variants"})

PYTEST = ("pytest", "_pytest", "pluggy", "allure", "allure_commons")
WEB = ("starlette", "uvicorn")

# Known exceptions, each to be removed by the rest of issue 12 ("One house"). Keep this short.
ALLOWED: dict[tuple[str, str], str] = {}


@cache
def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(HARNESS.rglob("*.py")):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _layer(module: str) -> str:
    if module in PYTEST_LAYER:
        return "pytest"
    if module in ENTRY_LAYER:
        return "entry"
    if module == REFGATEWAY or module.startswith(REFGATEWAY + "."):
        return "refgateway"
    return "engine"


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def imports(module: str) -> tuple[tuple[str, bool], ...]:
    """(imported module, at module level) for every import the module runs; imports under
    ``if TYPE_CHECKING:`` never run and are left out. ``from pkg import sub`` names ``pkg.sub``
    when that is a module of ours."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit(other, top)
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                subs = [f"{child.module}.{a.name}" for a in child.names if f"{child.module}.{a.name}" in modules()]
                found.extend((s, top) for s in subs)
                if len(subs) < len(child.names):
                    found.append((child.module, top))
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, top and not nested)

    visit(tree, True)
    return tuple(found)


def _is(name: str, roots: tuple[str, ...]) -> bool:
    return name.split(".")[0] in roots


def _ours(name: str) -> str | None:
    """The harness module an import loads (``harness.x.y`` of a name inside it)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _violations(rule: object) -> list[str]:
    out = []
    for module in modules():
        for name, top in imports(module):
            why = rule(module, name, top)  # type: ignore[operator]
            if why and (module, _ours(name) or name) not in ALLOWED:
                out.append(f"{module} imports {name}{'' if top else ' (in a function)'}: {why}")
    return out


def test_the_layers_cover_real_modules() -> None:
    """A renamed module must not silently drop out of the rules."""
    missing = sorted((PYTEST_LAYER | ENTRY_LAYER | {REFGATEWAY, "harness.engine"}) - set(modules()))
    assert not missing
    assert {m for m, _ in ALLOWED} <= set(modules())


def test_only_the_pytest_layer_imports_pytest() -> None:
    def rule(module: str, name: str, top: bool) -> str | None:
        if not _is(name, PYTEST) or _layer(module) == "pytest":
            return None
        if _layer(module) == "entry" and not top:
            return None  # the CLI starts pytest for `relaycheck run`, inside the command
        return "pytest belongs to the pytest layer (harness.pytest.plugin and the modules it wires in)"

    assert _violations(rule) == []


def test_the_engine_imports_no_pytest_no_web_server_no_reference_gateway() -> None:
    upper = PYTEST_LAYER | ENTRY_LAYER

    def rule(module: str, name: str, top: bool) -> str | None:
        if _layer(module) != "engine":
            return None
        if _is(name, PYTEST) or _is(name, WEB):
            return "the engine side runs without pytest and without a web server"
        ours = _ours(name)
        if ours is not None and (_layer(ours) == "refgateway"):
            return "the engine side must not depend on the reference gateway"
        if ours in upper:
            return "the engine side must not import the pytest or entry layers above it"
        return None

    assert _violations(rule) == []


def test_only_the_reference_gateway_imports_the_web_server() -> None:
    def rule(module: str, name: str, top: bool) -> str | None:
        inside = _layer(module) == "refgateway"
        if _is(name, WEB) and not inside:
            return "Starlette/uvicorn are the reference gateway's"
        ours = _ours(name)
        foreign = ours is not None and _layer(ours) != "refgateway" and ours not in REFGATEWAY_READS
        if inside and (_is(name, PYTEST) or foreign):
            return "the reference gateway stands alone (no pytest, no harness module outside it)"
        return None

    assert _violations(rule) == []


def test_the_check_core_does_not_reach_up_into_the_runner() -> None:
    def rule(module: str, name: str, top: bool) -> str | None:
        in_core = module.startswith(CORE) and _layer(module) == "engine"
        if in_core and _ours(name) in ABOVE_CORE:
            return "the core is driven by the runner and never imports it"
        return None

    assert _violations(rule) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative enough here)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _dialect_of(module: str) -> str | None:
    """The dialect folder a module belongs to (``harness.dialects.chat.stream`` -> ``chat``), None
    for the shared part (kit, base, registry, the package itself) and for modules outside."""
    if not module.startswith(DIALECTS + "."):
        return None
    first = module.removeprefix(DIALECTS + ".").split(".")[0]
    return None if first in DIALECT_SHARED else first


def _dialect_folder(cycle: list[str]) -> bool:
    """A dialect's body and stream modules (and its package) may import each other; nothing else
    may be part of a circle, not even two dialects or a dialect and the kit."""
    folders = {_dialect_of(m) for m in cycle}
    return len(folders) == 1 and None not in folders


def test_no_import_circle_outside_a_dialect_folder() -> None:
    graph: dict[str, set[str]] = {}
    for module in modules():
        deps = {_ours(name) for name, _ in imports(module) if name.startswith("harness")}
        # A submodule's import runs its package's __init__ first; that is no edge of the circle.
        graph[module] = {d for d in deps if d and d != module and d != "harness"}
    assert [c for c in _cycles(graph) if not _dialect_folder(c)] == []


def test_the_kit_imports_no_concrete_dialect() -> None:
    def rule(module: str, name: str, top: bool) -> str | None:
        shared = module == DIALECTS or (module.startswith(DIALECTS + ".") and _dialect_of(module) is None)
        ours = _ours(name)
        if shared and ours is not None and _dialect_of(ours) is not None:
            return "the kit (and base, registry) serve every dialect and import none (the registry loads them by name)"
        return None

    assert _violations(rule) == []


def test_a_dialect_imports_no_other_dialect() -> None:
    def rule(module: str, name: str, top: bool) -> str | None:
        mine, ours = _dialect_of(module), _ours(name)
        theirs = _dialect_of(ours) if ours else None
        if mine is not None and theirs is not None and theirs != mine:
            return "a dialect imports only the kit (and model/sse/validation/codes), never another dialect"
        return None

    assert _violations(rule) == []


def test_the_dialect_rules_see_a_violation() -> None:
    assert _dialect_of("harness.dialects.chat.stream") == "chat"
    assert _dialect_of("harness.dialects.kit.rules") is None
    assert _dialect_folder(["harness.dialects.chat", "harness.dialects.chat.body", "harness.dialects.chat.stream"])
    assert not _dialect_folder(["harness.dialects.chat.body", "harness.dialects.messages.body"])
    assert not _dialect_folder(["harness.dialects.chat.body", "harness.dialects.kit.tools"])
    assert ("harness.dialects.kit.rules", True) in imports("harness.dialects.chat.stream")


def test_the_rules_see_a_violation() -> None:
    """The scanner itself: an import inside a function counts, one under TYPE_CHECKING does not."""
    assert ("pytest", False) in imports("harness.cli")
    assert ("pytest", True) in imports("harness.pytest.plugin")
    assert ("harness.refgateway.app", True) not in imports("harness.refgateway")  # TYPE_CHECKING only


LOADED = """
import json, sys
import {module}
print(json.dumps(sorted(sys.modules)))
"""
HEAVY = ("pytest", "_pytest", "starlette", "uvicorn", "harness.refgateway", "harness.pytest")


def _loaded(module: str) -> list[str]:
    res = subprocess.run(
        [sys.executable, "-c", LOADED.format(module=module)], capture_output=True, text=True, cwd=REPO, check=True
    )
    return json.loads(res.stdout)


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        ("harness.engine", HEAVY),
        ("harness.cassettes", (*HEAVY, "vcr", "httpx")),  # lint-traffic's reader: no replay machinery
        ("harness.report.commands", HEAVY),  # `relaycheck report` and `merge` never load pytest
        ("harness.report.writers", HEAVY),  # the report writers and the records they read
        (
            "harness.detection",
            ("pytest", "_pytest", "starlette", "uvicorn", "harness.refgateway.app", "harness.pytest"),
        ),
    ],
)
def test_importing_a_module_loads_nothing_heavy(module: str, heavy: tuple[str, ...]) -> None:
    loaded = _loaded(module)
    assert module in loaded
    assert [m for m in loaded if m in heavy or m.startswith(tuple(h + "." for h in heavy))] == []
