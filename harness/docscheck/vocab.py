"""Which names belong to which dialect, read from the same JSON Schemas that judge live traffic
(so the vocabulary cannot drift from the checks), plus the few official request parameters the
request schemas leave out because relaycheck never sends them."""

from __future__ import annotations

from functools import cache
from typing import Any

from harness import dialects, validation

# Top-level request parameters the official APIs document that the request schemas do not list.
_MORE_PARAMS: dict[str, frozenset[str]] = {
    "messages": frozenset(
        {
            "service_tier",
            "container",
            "mcp_servers",
            "context_management",
            "output_config",
            "output_format",
            "inference_geo",
        }
    ),
    "responses": frozenset(
        {"include", "stream_options", "conversation", "prompt", "context_management", "max_tool_calls"}
    ),
    "chat": frozenset(
        {
            "functions",
            "function_call",
            "prediction",
            "audio",
            "web_search_options",
            "prompt_cache_key",
            "prompt_cache_retention",
            "safety_identifier",
        }
    ),
}
_REQUEST_SCHEMAS = {
    "chat": ("chat/request",),
    "messages": ("messages/compatible/request", "messages/strict/request"),
    # The Responses request schema is thin; the response object echoes the request's parameters.
    "responses": ("responses/compatible/request", "responses/strict/response"),
}


# The formats relaycheck reads documentation pages for (the vocabulary above). A registered
# dialect without one (gemini) is never named as the owner of a field on another format's page.
DOC_DIALECTS: tuple[str, ...] = tuple(e for e in dialects.ENDPOINTS if e in _REQUEST_SCHEMAS)


def _schema_ids(endpoint: str) -> list[str]:
    root = validation.SCHEMA_DIR / endpoint
    return [str(p.relative_to(validation.SCHEMA_DIR).with_suffix("")) for p in sorted(root.rglob("*.json"))]


def _property_names(node: Any, acc: set[str]) -> set[str]:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            acc.update(props)
        for v in node.values():
            _property_names(v, acc)
    elif isinstance(node, list):
        for v in node:
            _property_names(v, acc)
    return acc


@cache
def field_names(endpoint: str) -> frozenset[str]:
    """Every property name anywhere in the dialect's schemas (requests, bodies, events, errors)."""
    acc: set[str] = set()
    for sid in _schema_ids(endpoint):
        _property_names(validation.load_schema(sid), acc)
    return frozenset(acc | _MORE_PARAMS[endpoint])


@cache
def request_params(endpoint: str) -> frozenset[str]:
    """Top-level request parameters of the dialect."""
    acc: set[str] = set(_MORE_PARAMS[endpoint])
    for sid in _REQUEST_SCHEMAS[endpoint]:
        schema = validation.load_schema(sid)
        if sid.endswith("/response"):
            schema = schema.get("$defs", {}).get("Response", schema)
        acc.update(schema.get("properties", {}))
    return frozenset(acc)


def owners(name: str, known: Any = field_names) -> list[str]:
    """The dialects that know ``name``."""
    return [e for e in DOC_DIALECTS if name in known(e)]
