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
    return Located(_build(node, (), marks, keys), marks, keys)


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
