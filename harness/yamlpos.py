"""YAML to plain Python values, remembering where every value came from (line and column).

PyYAML's composer keeps marks on nodes; we build the values ourselves from the node graph so
that any JSON path into the result can be mapped back to ``file:line:col``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """A YAML document as plain values plus a map from path to (line, col), both 1-based."""

    value: Any
    marks: dict[Path, tuple[int, int]]
    key_marks: dict[Path, tuple[int, int]]  # where the key of a mapping entry is written

    def where_key(self, path: Path) -> tuple[int, int]:
        return self.key_marks.get(path) or self.where(path)

    def where(self, path: Path) -> tuple[int, int]:
        """The position of the deepest known prefix of ``path``."""
        for n in range(len(path), -1, -1):
            mark = self.marks.get(tuple(path[:n]))
            if mark is not None:
                return mark
        return (1, 1)


# libyaml's parser keeps the same marks and is several times faster on large case files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def load(text: str) -> Located:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as first:
        # Broken YAML is rare: ask the pure-Python parser again, whose marks point closer to
        # the mistake than libyaml's (which often reports the end of the flow or the file).
        try:
            yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc) from None
        raise _syntax_error(first) from None
    marks: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    if node is None:
        return Located(None, marks, keys)
    _check_aliases(node, text)
    try:
        return Located(_build(node, (), marks, keys), marks, keys)
    finally:
        # The shared constructor remembers every node it built (PyYAML clears that per document,
        # we call it node by node): without this, every file's nodes and their marks stayed
        # alive for the whole process, 7 KiB per case of a 10,000-item run.
        _constructor.constructed_objects.clear()
        _constructor.recursive_objects.clear()


# How many nodes aliases may add beyond the nodes written in the file. Anchors and aliases cost
# nothing to compose (an alias is the same node object), but every alias is expanded into its own
# copy when values are built: ten nested aliases of ten ("billion laughs") would take gigabytes.
# A case file repeating a body a few times stays far below this.
MAX_ALIAS_EXPANSION = 10_000


def _check_aliases(root: yaml.Node, text: str) -> None:
    """Refuse a document whose aliases expand beyond MAX_ALIAS_EXPANSION nodes, or refer to a node
    that contains itself; before any value is built, in time linear in the written nodes."""
    sizes: dict[int, int] = {}  # expanded size per node, by identity
    open_nodes: set[int] = set()
    extra = 0  # nodes added by aliases so far

    def size(node: yaml.Node) -> int:
        nonlocal extra
        key = id(node)
        if key in sizes:  # reached again: an alias, expanded into a copy of the whole subtree
            extra += sizes[key]
            if extra > MAX_ALIAS_EXPANSION:
                raise _alias_error(text, f"aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes")
            return sizes[key]
        if key in open_nodes:
            raise _alias_error(text, "an alias refers to a node that contains it (a recursive structure)")
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
        elif isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def _alias_error(text: str, problem: str) -> YamlError:
    """Point at the alias where the expansion went over the limit (or recursed). Composed nodes
    do not remember where an alias was written, so the event stream is read again to find it."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # per open collection: [anchor, expanded size so far]
    extra = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in (s[0] for s in stack):
                return _at(event, f"invalid YAML: {problem}")
            extra += sizes.get(event.anchor, 1)
            stack[-1][1] += sizes.get(event.anchor, 1)
            if extra > MAX_ALIAS_EXPANSION:
                return _at(event, f"invalid YAML: {problem}")
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append([event.anchor, 1])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, total = stack.pop()
            if anchor is not None:
                sizes[anchor] = total
            stack[-1][1] += total
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            stack[-1][1] += 1
    return YamlError(f"invalid YAML: {problem}", 1, 1)


def _at(event: yaml.Event, message: str) -> YamlError:
    return YamlError(message, event.start_mark.line + 1, event.start_mark.column + 1)


def _syntax_error(exc: yaml.MarkedYAMLError) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or str(exc)
    if exc.context:
        problem = f"{problem} ({exc.context})"
    return YamlError(f"invalid YAML: {problem}", line, col)


_constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
yaml.constructor.SafeConstructor.__init__(_constructor)


def _build(node: yaml.Node, path: Path, marks: dict[Path, tuple[int, int]], keys: dict[Path, tuple[int, int]]) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError(
                    "YAML merge keys (<<) are not supported in case files",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            key = _constructor.construct_object(key_node, deep=True)
            if key in out:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, (*path, key), marks, keys)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, (*path, i), marks, keys) for i, child in enumerate(node.value)]
    try:
        return _constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or node.start_mark
        raise YamlError(f"invalid YAML value: {exc.problem}", mark.line + 1, mark.column + 1) from None
