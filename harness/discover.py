"""``relaycheck discover``: find out what a relay serves before testing it.

1. List the models from ``GET /v1/models`` in both shapes (OpenAI with Bearer, Anthropic with
   x-api-key and anthropic-version); these requests cost no tokens.
2. For each chosen model and endpoint, the cheapest request that answers one question (a few
   output tokens): is the model served there; which auth styles /v1/messages accepts; and the
   capabilities relaycheck gates on (tools, parallel_tools, thinking, reasoning, vision,
   count_tokens, stored_responses; each asked only where the official API has it).
3. A gateways.yaml entry, with a comment per tag saying which probe established it and when.

Every probe's answer is judged like a test item (engine.evaluate_exchange, strict level): an
answer that violates the wire format is reported. Its tag is still written when the answer shows
the capability (the relay offers it; the following run will fail it with its codes), and the
comment says so: nothing is used silently. No pytest here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness import dialects
from harness.dialects import registry
from harness.engine import evaluate_exchange
from harness.gateways import Gateway
from harness.model import Exchange, WireRequest
from harness.transport import Transport

# The capabilities probed per endpoint (where the official API offers them), in gateways.yaml order.
PROBED = {
    "chat": ("tools", "parallel_tools", "vision"),
    "messages": ("tools", "parallel_tools", "thinking", "vision", "count_tokens"),
    "responses": ("tools", "parallel_tools", "reasoning", "vision", "stored_responses"),
}
# The registered dialects discover knows how to probe (a request body and a models list for each);
# gemini is not one of them yet.
ENDPOINTS = tuple(e for e in registry.names() if e in PROBED)
# A 1x1 PNG: the cheapest image there is.
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
PROMPT = "Reply with the single word OK."
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TIME = {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}
BOTH_TOOLS = "What is the weather in Paris, and what time is it there (Europe/Paris)? Call both tools at once."
OUTPUT_TOKENS = 16  # the Responses API's minimum max_output_tokens
THINKING_BUDGET = 1024  # the Messages API's minimum budget_tokens


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class Finding:
    """What one probe established (or not), and whether its answer kept the wire format."""

    endpoint: str
    model: str
    question: str  # "served", "auth:bearer", "auth:x-api-key", or a capability tag
    yes: bool
    how: str  # the probe and what it saw, for the YAML comment
    at: str
    violations: tuple[str, ...] = ()  # codes of format violations in the answer (strict)


@dataclass
class Discovery:
    base_url: str
    listed: dict[str, list[str]] = field(default_factory=dict)  # "openai" / "anthropic" -> ids
    findings: list[Finding] = field(default_factory=list)

    def served(self, endpoint: str, model: str) -> bool:
        return any(f.yes for f in self.findings if (f.endpoint, f.model, f.question) == (endpoint, model, "served"))

    def tags(self, endpoint: str, model: str) -> list[Finding]:
        return [
            f
            for f in self.findings
            if (f.endpoint, f.model) == (endpoint, model) and f.yes and f.question in PROBED[endpoint]
        ]

    def auth(self) -> str | None:
        ok = {f.question.split(":")[1] for f in self.findings if f.question.startswith("auth:") and f.yes}
        return "both" if ok == {"bearer", "x-api-key"} else next(iter(ok), None)

    def suspect(self) -> list[Finding]:
        return [f for f in self.findings if f.violations]


# ---------------------------------------------------------------- requests


def _tool(endpoint: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if endpoint == "chat":
        return {"type": "function", "function": {"name": name, "description": name, "parameters": schema}}
    if endpoint == "messages":
        return {"name": name, "description": name, "input_schema": schema}
    return {"type": "function", "name": name, "description": name, "parameters": schema}


def _required(endpoint: str) -> Any:
    return {"type": "any"} if endpoint == "messages" else "required"


def _image_message(endpoint: str) -> list[dict[str, Any]]:
    url = f"data:image/png;base64,{PIXEL}"
    part = {
        "chat": {"type": "image_url", "image_url": {"url": url}},
        "messages": {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        "responses": {"type": "input_image", "image_url": url},
    }[endpoint]
    text = {"type": "input_text" if endpoint == "responses" else "text", "text": "What colour is this pixel?"}
    return [{"role": "user", "content": [text, part]}]


def body_for(endpoint: str, model: str, question: str, previous_id: str | None = None) -> dict[str, Any]:
    """The cheapest request body that answers ``question`` for ``model`` on ``endpoint``."""
    prompt: Any = PROMPT
    extra: dict[str, Any] = {}
    if question in ("tools", "parallel_tools"):
        tools = [_tool(endpoint, "get_weather", WEATHER)]
        if question == "parallel_tools":
            tools.append(_tool(endpoint, "get_time", TIME))
            prompt = BOTH_TOOLS
        else:
            prompt = "What is the weather in Paris?"
        extra = {"tools": tools, "tool_choice": _required(endpoint)}
    elif question == "vision":
        prompt = None
    elif question == "thinking":
        extra = {"thinking": {"type": "enabled", "budget_tokens": THINKING_BUDGET}}
    elif question == "reasoning":
        extra = {"reasoning": {"effort": "low"}}
    elif question == "stored_responses":
        extra = {"previous_response_id": previous_id, "store": True}
    if endpoint == "chat":
        messages = _image_message("chat") if prompt is None else [{"role": "user", "content": prompt}]
        return {"model": model, "max_completion_tokens": 64 if extra else OUTPUT_TOKENS, "messages": messages, **extra}
    if endpoint == "messages":
        messages = _image_message("messages") if prompt is None else [{"role": "user", "content": prompt}]
        limit = THINKING_BUDGET + OUTPUT_TOKENS if question == "thinking" else (64 if extra else OUTPUT_TOKENS)
        return {"model": model, "max_tokens": limit, "messages": messages, **extra}
    inp: Any = _image_message("responses") if prompt is None else prompt
    return {"model": model, "input": inp, "max_output_tokens": 64 if extra else OUTPUT_TOKENS, "store": True, **extra}


def estimate_tokens(body: dict[str, Any]) -> int:
    """Roughly what a probe costs: its JSON at ~4 characters a token, plus its output ceiling."""
    ceiling = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens") or 0
    return len(json.dumps(body)) // 4 + int(ceiling)


# ---------------------------------------------------------------- the probing


class Prober:
    def __init__(self, gateway: Gateway, transport: Transport) -> None:
        self.gw = gateway
        self.transport = transport
        self.key = gateway.api_key() or ""

    def _headers(self, endpoint: str, style: str) -> dict[str, str]:
        dialect = dialects.get(endpoint)
        headers = dict(dialect.auth_headers(self.key, style, self.gw.anthropic_version))  # type: ignore[arg-type]
        headers["content-type"] = "application/json"
        return headers

    def send(self, endpoint: str, body: dict[str, Any], style: str | None = None, path: str | None = None) -> Exchange:
        style = style or dialects.get(endpoint).default_auth_style(self.gw.auth)
        url = self.gw.url(path or dialects.get(endpoint).path)
        return self.transport.send(WireRequest("POST", url, self._headers(endpoint, style), json.dumps(body).encode()))

    def list_models(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for shape, endpoint, style in (("openai", "chat", "bearer"), ("anthropic", "messages", "x-api-key")):
            headers = self._headers(endpoint, style)
            headers.pop("content-type")
            ex = self.transport.send(WireRequest("GET", self.gw.url("/v1/models"), headers))
            data = _json(ex).get("data") if ex.status == 200 else None
            out[shape] = [m["id"] for m in data or () if isinstance(m, dict) and isinstance(m.get("id"), str)]
        return out


def _json(ex: Exchange) -> dict[str, Any]:
    try:
        value = json.loads(ex.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _judge(ex: Exchange, endpoint: str, body_schema: str | None = None) -> tuple[Any, tuple[str, ...]]:
    ev = evaluate_exchange(ex, endpoint, level="strict", stream_requested=False, body_schema=body_schema)
    return ev.final, tuple(sorted({v.code for v in ev.failing("strict")}))


def _answer(endpoint: str, question: str, ex: Exchange, final: Any) -> tuple[bool, str]:
    """Whether the answer shows the capability, and what was seen."""
    if ex.error is not None:
        return False, f"no answer ({ex.error_code})"
    if ex.status != 200:
        return False, f"HTTP {ex.status}"
    dialect = dialects.get(endpoint)
    if question in ("tools", "parallel_tools"):
        calls = len(dialect.tool_calls(final)) if isinstance(final, dict) else 0
        need = 2 if question == "parallel_tools" else 1
        return calls >= need, f"{calls} tool call(s) with the tool forced"
    if question == "thinking":
        blocks = [b for b in _list(final, "content") if isinstance(b, dict) and b.get("type") == "thinking"]
        signed = bool(blocks) and all(b.get("signature") for b in blocks)
        return signed, "a signed thinking block" if signed else "no signed thinking block"
    if question == "reasoning":
        items = [o for o in _list(final, "output") if isinstance(o, dict) and o.get("type") == "reasoning"]
        return bool(items), "a reasoning item" if items else "200 without a reasoning item"
    if question == "count_tokens":
        n = final.get("input_tokens") if isinstance(final, dict) else None
        return isinstance(n, int), f"input_tokens {n}"
    return True, "HTTP 200"


def _list(final: Any, key: str) -> list[Any]:
    """A list field of the answer; a wrong-typed one (the dialect's schema check names it) is none."""
    value = final.get(key) if isinstance(final, dict) else None
    return value if isinstance(value, list) else []


def plan_size(models: dict[str, list[str]]) -> tuple[int, int]:
    """(at most how many requests, roughly how many tokens) for the models per endpoint."""
    requests = tokens = 0
    for endpoint, names in models.items():
        for model in names:
            questions = ["served", *PROBED[endpoint], *(["auth"] if endpoint == "messages" else [])]
            for q in questions:
                body = body_for(endpoint, model, "served" if q == "auth" else q, previous_id="resp_x")
                requests += 1
                tokens += estimate_tokens(body)
    return requests, tokens


def discover(
    prober: Prober,
    models: dict[str, list[str]],
    *,
    workers: int = 4,
    on_finding: Callable[[Finding], None] | None = None,
) -> list[Finding]:
    """Probe each (endpoint, model): served first, then the capabilities where it is served."""
    findings: list[Finding] = []

    def record(f: Finding) -> Finding:
        if on_finding is not None:
            on_finding(f)
        return f

    def served(pair: tuple[str, str]) -> list[Finding]:
        endpoint, model = pair
        out = []
        body = body_for(endpoint, model, "served")
        ex = prober.send(endpoint, body)
        final, bad = _judge(ex, endpoint)
        ok = ex.error is None and ex.status == 200
        out.append(
            record(
                Finding(endpoint, model, "served", ok, f"a {OUTPUT_TOKENS}-token answer: HTTP {ex.status}", now(), bad)
            )
        )
        if ok and endpoint == "messages":
            for style in ("x-api-key", "bearer"):
                ex2 = prober.send(endpoint, body, style=style)
                _, bad2 = _judge(ex2, endpoint)
                out.append(
                    record(
                        Finding(
                            endpoint,
                            model,
                            f"auth:{style}",
                            ex2.status == 200,
                            f"the same request with {style} only: HTTP {ex2.status}",
                            now(),
                            bad2,
                        )
                    )
                )
        if ok and endpoint == "responses" and isinstance(final, dict):
            out.append(Finding(endpoint, model, "response_id", True, str(final.get("id")), now()))
        return out

    def capability(job: tuple[str, str, str, str | None]) -> Finding:
        endpoint, model, question, previous = job
        if question == "count_tokens":
            body = {"model": model, "messages": [{"role": "user", "content": PROMPT}]}
            ex = prober.send(endpoint, body, path="/v1/messages/count_tokens")
            final, bad = _judge(ex, endpoint, body_schema="models/anthropic-count-tokens")
        else:
            if question == "stored_responses" and not previous:
                return record(Finding(endpoint, model, question, False, "no response id to continue", now()))
            ex = prober.send(endpoint, body_for(endpoint, model, question, previous))
            final, bad = _judge(ex, endpoint)
        yes, how = _answer(endpoint, question, ex, final)
        return record(Finding(endpoint, model, question, yes, f"{question} probe: {how}", now(), bad))

    pairs = [(e, m) for e, names in models.items() for m in names]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for out in pool.map(served, pairs):
            findings += out
        ids = {(f.endpoint, f.model): f.how for f in findings if f.question == "response_id"}
        findings = [f for f in findings if f.question != "response_id"]
        jobs = [
            (e, m, q, ids.get((e, m)))
            for e, m in pairs
            if any(f.yes for f in findings if (f.endpoint, f.model, f.question) == (e, m, "served"))
            for q in PROBED[e]
        ]
        findings += list(pool.map(capability, jobs))
    return findings


# ---------------------------------------------------------------- the gateways.yaml entry


def _comment(f: Finding) -> str:
    text = f"{f.how} ({f.at})"
    if f.violations:
        text += f"; its answer violated the format: {', '.join(f.violations)}"
    return text


def render_entry(d: Discovery, name: str, api_key_env: str, endpoints: Iterable[str] = ENDPOINTS) -> str:
    """A gateways.yaml file holding one gateway: what discovery established, each tag commented."""
    auth = d.auth()
    lines = [
        f"# Written by `relaycheck discover --base-url {d.base_url}` on {now()}.",
        "# Each tag says which probe established it and when; edit freely.",
        f"default: {name}",
        "gateways:",
        f"  {name}:",
        f"    base_url: {d.base_url}",
    ]
    if auth:
        lines.append(f"    auth: {auth}  # /v1/messages accepted: {auth.replace('both', 'x-api-key and bearer')}")
    lines.append(f"    api_key_env: {api_key_env}")
    lines.append("    models:")
    for endpoint in endpoints:
        served = [
            m for m in dict.fromkeys(f.model for f in d.findings if f.endpoint == endpoint) if d.served(endpoint, m)
        ]
        if not served:
            lines.append(f"      # {endpoint}: no model answered")
            continue
        lines.append(f"      {endpoint}:")
        for model in served:
            how = next(f for f in d.findings if (f.endpoint, f.model, f.question) == (endpoint, model, "served"))
            tags = d.tags(endpoint, model)
            quoted = json.dumps(model)
            if not tags:
                lines.append(f"        {quoted}: []  # served, no capability found: {_comment(how)}")
                continue
            lines.append(f"        {quoted}:  # served: {_comment(how)}")
            lines += [f"          - {f.question}  # {_comment(f)}" for f in tags]
    return "\n".join(lines) + "\n"
