"""The built-in reference gateway: a deterministic ASGI app that answers the three dialects
(OpenAI Chat Completions, Anthropic Messages, OpenAI Responses) as the official APIs do, with named
faults that reproduce real relay defects. See ``faults.FAULTS`` and ``tools`` for the rules.

The names load on first use (PEP 562): ``harness.refgateway.faults`` (plain data, read by the
detection matrix and ``relaycheck faults``) must not start Starlette and uvicorn.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.refgateway.app import DEFAULT_MODELS, create_app
    from harness.refgateway.faults import FAULTS
    from harness.refgateway.server import RunningGateway, serve, start_in_thread

_WHERE = {
    "DEFAULT_MODELS": "app",
    "create_app": "app",
    "FAULTS": "faults",
    "RunningGateway": "server",
    "serve": "server",
    "start_in_thread": "server",
}

__all__ = ["DEFAULT_MODELS", "FAULTS", "RunningGateway", "create_app", "serve", "start_in_thread"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
