"""One pytest item, without pytest: a case variant (case x model x stream x gateway) is run
step by step against a gateway, each answer evaluated, values saved for later steps."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from harness import dialects, jsonpath
from harness.breaker import Breaker
from harness.cases import Case, Expect, Matcher, RequestSpec, Step
from harness.dialects.base import Profile
from harness.engine import Evaluation, evaluate_exchange
from harness.expect import check_expect, check_streaming
from harness.failure import ConformanceFailure, curl_command, describe
from harness.gateways import Gateway
from harness.model import Exchange, Level, Violation, WireRequest
from harness.redact import Redactor
from harness.resilience import Limiter, RetryPolicy, send_with_retries
from harness.transport import Transport

WRONG_KEY = "rc-wrong-key-0000000000000000"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")
# Expectation failures a flaky model can cause; only these may be retried away (retry-until).
_SEMANTIC = ("expect.", "tool.count", "tool.missing", "tool.name")


@dataclass(frozen=True)
class Variant:
    """What one pytest item runs."""

    case: Case
    gateway: str
    model: str | None
    stream: bool

    @property
    def param_id(self) -> str:
        return f"{self.gateway}-{self.model or 'request-model'}-{'stream' if self.stream else 'sync'}"


@dataclass(frozen=True)
class StepResult:
    step: Step
    exchange: Exchange | None
    evaluation: Evaluation | None
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class ItemResult:
    variant: Variant
    steps: tuple[StepResult, ...]
    attempts: int = 1
    notes: tuple[str, ...] = field(default=())

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(v for s in self.steps for v in s.violations)

    def failing(self, level: Level) -> list[Violation]:
        return [v for v in self.violations if v.fails(level)]

    @property
    def first_exchange(self) -> Exchange | None:
        return next((s.exchange for s in self.steps if s.exchange is not None), None)


@dataclass(frozen=True)
class Context:
    """What the runner needs from the session: where to send, how, and how strictly to judge.
    Frozen: an item that must be judged differently (a fast replay cannot judge streaming) runs
    with its own copy (``dataclasses.replace``), so the session's Context is shared safely."""

    gateway: Gateway
    base_url: str
    transport: Transport
    redactor: Redactor
    level: Level = "strict"
    profile: Profile = "official"
    judge_streaming: bool = True
    streaming_skip_reason: str = ""
    extras_fail: bool = False  # --extras fail: undocumented fields fail the strict level
    sdk_check: bool = False  # --sdk-check: the official SDK reads each answer too (harness/sdkcheck.py)
    # Retries on 429/5xx/overloaded (each one a transport.retry note) and the gateway's shared
    # request-per-minute limit (None: unlimited). No retries unless the session asks (the plugin
    # takes them from the gateway's config): a direct caller gets each answer as it came.
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_retries=0))
    limiter: Limiter | None = None
    # Stops sending to a gateway that failed several requests in a row without answering.
    breaker: Breaker | None = None


def substitute(value: Any, names: dict[str, Any]) -> Any:
    """Replace ``${name}`` placeholders. A string that is one placeholder takes the saved
    value's type (an object stays an object); inside a longer string it is inserted as text."""
    if isinstance(value, dict):
        return {k: substitute(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            if whole.group(1) not in names:
                raise KeyError(whole.group(1))
            return names[whole.group(1)]

        def one(m: re.Match[str]) -> str:
            if m.group(1) not in names:
                raise KeyError(m.group(1))
            v = names[m.group(1)]
            return v if isinstance(v, str) else json.dumps(v)

        return _PLACEHOLDER.sub(one, value)
    return value


def resolve_expect(exp: Expect, names: dict[str, Any]) -> Expect:
    """``${name}`` in matcher values and expected tool names, so a later step can compare its
    answer with a value an earlier step saved (same tool, same arguments on another endpoint).
    Raises KeyError for a name no step saved."""

    def matchers(ms: tuple[Matcher, ...]) -> tuple[Matcher, ...]:
        return tuple(replace(m, value=substitute(m.value, names)) for m in ms)

    tools = exp.tool_calls
    if tools is not None:
        tools = replace(tools, names=tuple(substitute(list(tools.names), names)), args=matchers(tools.args))
    return replace(exp, text=matchers(exp.text), json=matchers(exp.json), tool_calls=tools)


def build_request(
    spec: RequestSpec, endpoint: str, variant: Variant, ctx: Context, names: dict[str, Any]
) -> WireRequest:
    """The request of one step. The dialect places the model and the stream flag (in the body,
    or in the path and query) and says how a key is sent; nothing here knows a format."""
    dialect = dialects.get(endpoint)
    gw = ctx.gateway
    headers: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    key = WRONG_KEY if spec.auth == "wrong-key" else gw.api_key()
    if spec.auth != "none" and key:
        default_style = dialect.default_auth_style(gw.auth)
        style = default_style if spec.auth in ("gateway", "wrong-key") else spec.auth
        version = gw.anthropic_version if spec.anthropic_version is True else (spec.anthropic_version or None)
        if style == "query":
            query.append(("key", key))
        else:
            headers.update(dialect.auth_headers(key, style, version))  # type: ignore[arg-type]
    if spec.anthropic_version is False:
        headers.pop("anthropic-version", None)
    elif isinstance(spec.anthropic_version, str):
        headers["anthropic-version"] = spec.anthropic_version
    body = b""
    payload: Any = None
    if spec.raw_body is None and spec.body_json is not None:
        payload = substitute(spec.body_template(), names)
    shape = dialect.build_request(payload if isinstance(payload, dict) else None, variant.model, variant.stream)
    if spec.raw_body is not None:
        body = spec.raw_body.encode("utf-8")
        headers["content-type"] = "application/json"
    elif spec.body_json is not None:
        if shape.body is not None:
            payload = shape.body
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers["content-type"] = "application/json"
    headers.update(gw.extra_headers())  # a case's own headers below still win
    for name, value in spec.headers:
        headers[name.lower()] = substitute(value, names)
    url = gw.url(spec.path or shape.path, ctx.base_url)
    query += shape.query
    if query:
        url += ("&" if "?" in url else "?") + urlencode(query)
    return WireRequest(spec.method, url, headers, body)


def run_step(step: Step, variant: Variant, ctx: Context, names: dict[str, Any]) -> StepResult:
    try:
        request = build_request(step.request, step.endpoint, variant, ctx, names)
    except KeyError as exc:
        return StepResult(
            step,
            None,
            None,
            (
                Violation(
                    "case.request", step.name, f"saved value {exc.args[0]!r} is not available (an earlier step failed)"
                ),
            ),
        )
    # A status the step expects (a case about 429s) is judged, never retried away.
    exchange, retry_notes = send_with_retries(
        ctx.transport,
        request,
        ctx.retry,
        expected_statuses=step.expect.status,
        limiter=ctx.limiter,
        breaker=ctx.breaker,
    )
    ev = evaluate_exchange(
        exchange,
        step.endpoint,
        level=ctx.level,
        profile=ctx.profile,
        stream_requested=variant.stream and step.request.raw_body is None,
        body_schema=step.expect.body_schema,
        # the request-id header is judged on the dialect's own path (not on /v1/models & co.)
        check_headers=step.request.path in (None, dialects.get(step.endpoint).path),
    )
    violations = retry_notes + [v for v in ev.violations if step.expect.schema or not v.code.startswith("schema")]
    if ctx.extras_fail:
        violations = [replace(v, severity="strict") if v.code == "schema.extra" else v for v in violations]
    if exchange.error is None:
        dialect = dialects.get(step.endpoint)
        if ctx.sdk_check and step.request.raw_body is None:
            from harness import sdkcheck

            violations += sdkcheck.check(exchange, step.endpoint, _json_or_none(exchange.request.body), ev.final)
        try:
            violations += check_expect(resolve_expect(step.expect, names), exchange, ev.final, dialect, variant.stream)
        except KeyError as exc:
            violations.append(
                Violation(
                    "case.request",
                    step.name,
                    f"saved value {exc.args[0]!r} named in an expectation is not available (an earlier step failed)",
                )
            )
        if variant.stream and exchange.is_sse and exchange.status == 200:
            if ctx.judge_streaming:
                violations += check_streaming(exchange, len(ev.events))
            else:
                violations.append(
                    Violation("stream.buffered", "$", f"not judged: {ctx.streaming_skip_reason}", severity="note")
                )
        for name, path in step.save:
            value = jsonpath.resolve(ev.final, path) if ev.final is not None else jsonpath.MISSING
            if isinstance(value, list) and jsonpath.is_multi(path):
                value = value[0] if value else jsonpath.MISSING
            if value is jsonpath.MISSING:
                violations.append(Violation("expect.save", path, f"nothing at {path} to save as {name!r}"))
            else:
                names[name] = value
    return StepResult(step, exchange, ev, tuple(violations))


def run_variant(variant: Variant, ctx: Context) -> ItemResult:
    """All steps of a case; a case with ``retries`` is re-run while only semantic expectations
    fail (a model that did not call the tool this time), never past a structural violation."""
    attempts = 0
    while True:
        attempts += 1
        names: dict[str, Any] = {"model": variant.model}
        steps = []
        for step in variant.case.steps:
            result = run_step(step, variant, ctx, names)
            steps.append(result)
            # Later steps need values this one did not deliver. A strict-only deviation (an id's
            # shape, a missing request-id header) leaves the answer usable: the case goes on.
            broken = any(
                v.fails(ctx.level) and (v.severity == "error" or v.code == "expect.save") for v in result.violations
            )
            if broken and any(n for n, _ in step.save):
                break
        result_obj = ItemResult(variant, tuple(steps), attempts)
        failing = result_obj.failing(ctx.level)
        semantic_only = failing and all(v.code.startswith(_SEMANTIC) for v in failing)
        if not semantic_only or attempts > variant.case.retries:
            notes = (f"passed after {attempts} attempts",) if attempts > 1 and not failing else ()
            return ItemResult(variant, tuple(steps), attempts, notes)


def with_notes(result: ItemResult, notes: list[Violation]) -> ItemResult:
    """Notes from outside the run (a cassette's replay.unused, replay.stale) joined to the item's
    last step; notes never fail an item."""
    if not notes or not result.steps:
        return result
    last = result.steps[-1]
    steps = (*result.steps[:-1], replace(last, violations=(*last.violations, *notes)))
    return replace(result, steps=steps)


def failure_for(result: ItemResult, item_id: str, ctx: Context) -> ConformanceFailure | None:
    failing = result.failing(ctx.level)
    if not failing:
        return None
    case = result.variant.case
    if all(v.code == "transport.unreachable" for v in failing):
        # One line per item: the outage itself is printed once, at the end of the run.
        text = f"{item_id}: [transport.unreachable] not sent: the gateway stopped answering (why and since when: below)"
        return ConformanceFailure(f"{case.id}: transport.unreachable", failing, text)
    lines = [
        f"{item_id}: {len(failing)} violation(s) at {ctx.level} level",
        f"case {case.id!r} defined at {case.location}: {case.description.splitlines()[0]}",
    ]
    if result.attempts > 1:
        lines.append(f"attempts: {result.attempts}")
    for s in result.steps:
        bad = [v for v in s.violations if v.fails(ctx.level)]
        if not bad:
            continue
        lines.append(f"step {s.step.name!r} ({s.step.location}):")
        lines += describe(bad, ctx.redactor)
        if s.exchange is not None:
            lines.append("  reproduce:")
            lines.append("    " + curl_command(s.exchange.request, ctx.gateway.api_key_env, ctx.redactor))
            if ctx.gateway.builtin:  # its random port closes with the run
                lines.append(
                    "    (built-in gateway, its port is gone: `relaycheck serve --port 8765` with this run's"
                    " --fault options, then port 8765)"
                )
    codes = sorted({v.code for v in failing})
    return ConformanceFailure(f"{case.id}: {', '.join(codes)}", failing, ctx.redactor.text("\n".join(lines)))


def _json_or_none(body: bytes | None) -> Any:
    try:
        return json.loads(body or b"")
    except ValueError:
        return None
