"""relaycheck's public Python API, for programs that embed the checker (README: "Embedding the
checker"). Everything named in ``__all__`` is stable; the modules behind it may move.

    from harness import Exchange, WireRequest, Chunk, evaluate_exchange
    ev = evaluate_exchange(exchange, "messages")
    for v in ev.violations: print(v.code, v.path, v.message)

The names load on first use (PEP 562): ``import harness`` (which every ``harness.*`` import runs
first, the pytest plugin included) stays cheap and never imports pytest or the reference gateway.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.cases import Case, CaseFileError, load_case_file
    from harness.cassettes import TrafficError
    from harness.cassettes import read_file as read_traffic
    from harness.dialects import ENDPOINTS, Dialect
    from harness.dialects import get as get_dialect
    from harness.dialects.base import RequestShape, Usage
    from harness.dialects.registry import for_path as dialect_for_path
    from harness.dialects.registry import names as dialect_names
    from harness.engine import Evaluation, evaluate_exchange
    from harness.model import Chunk, Exchange, Level, Violation, WireRequest
    from harness.redact import Redactor
    from harness.traffic import RecordedInteraction

# public name -> (module, name there)
_API: dict[str, tuple[str, str]] = {
    # judging one answer
    "evaluate_exchange": ("harness.engine", "evaluate_exchange"),
    "Evaluation": ("harness.engine", "Evaluation"),
    "Exchange": ("harness.model", "Exchange"),
    "WireRequest": ("harness.model", "WireRequest"),
    "Chunk": ("harness.model", "Chunk"),
    "Violation": ("harness.model", "Violation"),
    "Level": ("harness.model", "Level"),
    # the wire formats
    "ENDPOINTS": ("harness.dialects", "ENDPOINTS"),
    "Dialect": ("harness.dialects", "Dialect"),
    "get_dialect": ("harness.dialects", "get"),
    "dialect_names": ("harness.dialects.registry", "names"),
    "dialect_for_path": ("harness.dialects.registry", "for_path"),
    "RequestShape": ("harness.dialects.base", "RequestShape"),
    "Usage": ("harness.dialects.base", "Usage"),
    # cases
    "load_case_file": ("harness.cases", "load_case_file"),
    "Case": ("harness.cases", "Case"),
    "CaseFileError": ("harness.cases", "CaseFileError"),
    # recorded traffic (HAR, vcrpy, Ruby VCR, go-vcr, relaycheck cassettes, corpus JSONL)
    "read_traffic": ("harness.cassettes", "read_file"),
    "RecordedInteraction": ("harness.traffic", "RecordedInteraction"),
    "TrafficError": ("harness.cassettes", "TrafficError"),
    # keeping secrets out of what you print or store
    "Redactor": ("harness.redact", "Redactor"),
}

__all__ = [
    "ENDPOINTS",
    "Case",
    "CaseFileError",
    "Chunk",
    "Dialect",
    "Evaluation",
    "Exchange",
    "Level",
    "RecordedInteraction",
    "Redactor",
    "RequestShape",
    "TrafficError",
    "Usage",
    "Violation",
    "WireRequest",
    "dialect_for_path",
    "dialect_names",
    "evaluate_exchange",
    "get_dialect",
    "load_case_file",
    "read_traffic",
]


def __getattr__(name: str) -> Any:
    where = _API.get(name)
    if where is None:
        # Not ours: Python then imports a submodule of that name (``from harness import sse``).
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where[0]), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
