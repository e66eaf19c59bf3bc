"""The registered wire formats: the one place a new format is added (one line in ``BUILTIN``).

Every endpoint list of the harness (settings, gateways, discover, detection, fidelity, case-file
validation) comes from ``names()``; recorded traffic is matched to its format by ``for_path``.
Each entry is a module exposing ``DIALECT``. A format whose module is absent (a package not yet
merged) is left out without breaking the others; any other import error is raised, because a
broken dialect must not pass silently.
"""

from __future__ import annotations

import importlib
from functools import cache

from harness.dialects.base import Dialect

BUILTIN: tuple[str, ...] = (
    "harness.dialects.chat",
    "harness.dialects.messages",
    "harness.dialects.responses",
    "harness.dialects.gemini",
)


@cache
def _loaded() -> dict[str, Dialect]:
    out: dict[str, Dialect] = {}
    for module_name in BUILTIN:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # the package exists but something it imports does not
                raise
            continue
        dialect = module.DIALECT
        if dialect.name in out:
            raise ValueError(f"dialect {dialect.name!r} registered twice ({module_name})")
        out[dialect.name] = dialect
    return out


def names() -> tuple[str, ...]:
    """The endpoint names, in registration order."""
    return tuple(_loaded())


def get(name: str) -> Dialect:
    try:
        return _loaded()[name]
    except KeyError:
        raise KeyError(f"unknown endpoint {name!r} (expected one of {', '.join(names())})") from None


def all_dialects() -> tuple[Dialect, ...]:
    return tuple(_loaded().values())


def for_path(method: str, path: str) -> Dialect | None:
    """The dialect whose endpoint a request path names (a base prefix and a query allowed)."""
    for dialect in _loaded().values():
        if dialect.matches_path(method, path):
            return dialect
    return None


__all__ = ["BUILTIN", "all_dialects", "for_path", "get", "names"]
