"""The built-in reference gateway: a deterministic ASGI app that answers the three dialects
(OpenAI Chat Completions, Anthropic Messages, OpenAI Responses) as the official APIs do, with named
faults that reproduce real relay defects. See ``faults.FAULTS`` and ``tools`` for the rules."""

from harness.refgateway.app import DEFAULT_MODELS, FAULTS, create_app
from harness.refgateway.server import RunningGateway, serve, start_in_thread

__all__ = ["DEFAULT_MODELS", "FAULTS", "RunningGateway", "create_app", "serve", "start_in_thread"]
