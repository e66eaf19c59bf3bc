"""What every fidelity probe shares: the verdict, the request sender and the readers of answers.

A probe sends a few ordinary, non-streamed requests and judges what the answers say about the relay
(not their wire format: `relaycheck run` does that). Its verdict is one of three words, always with
the numbers behind it: ``consistent`` (the relay behaved as the official API does), ``inconsistent``
(it did not; the violations say how, with stable codes) or ``inconclusive`` (the answers cannot tell,
e.g. a request failed, or no baseline is known). No pytest here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness import dialects, sse
from harness.dialects import registry
from harness.gateways import Gateway
from harness.model import Exchange, Violation, WireRequest
from harness.report.metrics import usage
from harness.transport import Transport

Outcome = Literal["consistent", "inconsistent", "inconclusive"]
ENDPOINTS = registry.names()  # every registered dialect
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"


@dataclass(frozen=True)
class Verdict:
    """One probe on one endpoint and model."""

    probe: str  # "usage", "param.max_tokens", "param.stop"
    endpoint: str
    model: str
    outcome: Outcome
    reason: str  # one sentence, with the numbers
    numbers: dict[str, Any] = field(default_factory=dict)
    violations: tuple[Violation, ...] = ()
    requests: int = 0
    tokens: int = 0  # input + output tokens the relay reported for the probe's requests

    @property
    def id(self) -> str:
        return f"fidelity/{self.probe}[{self.endpoint}-{self.model}]"


@dataclass(frozen=True)
class Answer:
    """A non-streamed answer as a probe reads it."""

    status: int | None
    body: dict[str, Any] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body is not None


class Sender:
    """Sends probe requests to one gateway and counts what they cost."""

    def __init__(self, gateway: Gateway, transport: Transport, base_url: str | None = None) -> None:
        self.gw = gateway
        self.transport = transport
        self.base_url = base_url
        self.requests = 0
        self.tokens = 0

    def verdicts(self, probe: str, endpoint: str, model: str) -> Callable[..., Verdict]:
        """The verdict builder of one probe run: each verdict carries the requests and tokens the
        probe spent since this call."""
        start_req, start_tok = self.requests, self.tokens

        def done(outcome: Outcome, reason: str, numbers: dict[str, Any], found: Sequence[Violation] = ()) -> Verdict:
            spent = (self.requests - start_req, self.tokens - start_tok)
            return Verdict(probe, endpoint, model, outcome, reason, numbers, tuple(found), *spent)

        return done

    def _post(self, endpoint: str, body: dict[str, Any], path: str | None = None) -> Exchange:
        dialect = dialects.get(endpoint)
        style = dialect.default_auth_style(self.gw.auth)
        headers = dict(dialect.auth_headers(self.gw.api_key() or "", style, self.gw.anthropic_version))  # type: ignore[arg-type]
        headers.update(self.gw.extra_headers())  # a relay that routes by header gets them here too
        headers["content-type"] = "application/json"
        url = self.gw.url(path or dialect.path, self.base_url)
        self.requests += 1
        return self.transport.send(WireRequest("POST", url, headers, json.dumps(body).encode()))

    def send(self, endpoint: str, body: dict[str, Any], path: str | None = None) -> Answer:
        answer = _answer(self._post(endpoint, body, path))
        if answer.ok and path is None and (problem := not_an_answer(endpoint, answer.body)):
            answer = Answer(answer.status, None, problem)
        if answer.ok and path is None:
            tin, tout = usage(endpoint, answer.body)
            self.tokens += (tin or 0) + (tout or 0)
        return answer

    def stream(self, endpoint: str, body: dict[str, Any]) -> tuple[Answer, list[dict[str, Any]]]:
        """A streamed request (``stream: true`` is added): the answer holds the folded final object
        (the dialect's own fold) and the list is every JSON event payload in order (for what only
        the stream shows, e.g. a usage chunk)."""
        dialect = dialects.get(endpoint)
        sent = {**body, "stream": True}
        ex = self._post(endpoint, sent)
        if ex.error is not None:
            return Answer(ex.status, None, f"no answer ({ex.error_code or ex.error})"), []
        if ex.status != 200:
            return Answer(ex.status, None, f"HTTP {ex.status}"), []
        events, _ = sse.parse(ex.body)
        payloads = []
        for e in events:
            try:
                value = json.loads(e.data)
            except ValueError:
                continue  # [DONE] and anything else that is not JSON
            if isinstance(value, dict):
                payloads.append(value)
        final = dialect.check_stream(events, sent, "strict").final
        if not isinstance(final, dict):
            return Answer(ex.status, None, "HTTP 200, the stream folds to no answer"), payloads
        if problem := not_an_answer(endpoint, final):
            return Answer(ex.status, None, problem), payloads
        if dialect.stop_reason(final) in (None, "in_progress", "queued"):
            # Cut short or missing its last events: whatever it says about usage is not final.
            return Answer(ex.status, None, "HTTP 200, the stream never finished its answer"), payloads
        tin, tout = usage(endpoint, final)
        self.tokens += (tin or 0) + (tout or 0)
        return Answer(200, final, None), payloads


KINDS = {"chat": ("object", "chat.completion"), "messages": ("type", "message"), "responses": ("object", "response")}


def not_an_answer(endpoint: str, body: dict[str, Any]) -> str | None:
    """Why a 200 body is no answer of the dialect (an error object, another dialect's object), or
    None. Such bodies are the suite's findings; a probe that read them would accuse on no evidence."""
    if "error" in body and body.get("error") is not None and "choices" not in body and "output" not in body:
        return "HTTP 200 carrying an error object"
    if endpoint not in KINDS:
        return None  # a dialect these probes were not written for: its own checks judge the shape
    key, kind = KINDS[endpoint]
    got = body.get(key)
    if got is None:  # another dialect's object says what it is under the other key
        got = body.get("type" if key == "object" else "object")
    if got is not None and got != kind:
        return f"HTTP 200 but a {got!r} object, not a {kind!r}"
    return None


def _answer(ex: Exchange) -> Answer:
    if ex.error is not None:
        return Answer(ex.status, None, f"no answer ({ex.error_code or ex.error})")
    try:
        value = json.loads(ex.body)
    except ValueError:
        return Answer(ex.status, None, f"HTTP {ex.status}, body not JSON")
    if not isinstance(value, dict):
        return Answer(ex.status, None, f"HTTP {ex.status}, body not a JSON object")
    return Answer(ex.status, value, None if ex.status == 200 else f"HTTP {ex.status}")


def request_body(endpoint: str, model: str, prompt: str, max_tokens: int, **extra: Any) -> dict[str, Any]:
    """The cheapest non-streamed request of each dialect for one user prompt."""
    if endpoint == "chat":
        # max_completion_tokens: every chat model takes it (reasoning models refuse max_tokens).
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_completion_tokens": max_tokens}
    elif endpoint == "messages":
        body = {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": prompt}]}
    else:
        body = {"model": model, "input": prompt, "max_output_tokens": max_tokens, "store": False}
    return {**body, **extra}


def tokens_of(endpoint: str, body: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """(input, output) tokens an answer reports."""
    return usage(endpoint, body)


def text_of(endpoint: str, body: dict[str, Any]) -> str | None:
    """The answer's text, or None when the body has none where the dialect puts it."""
    try:
        if endpoint == "chat":
            content = body["choices"][0]["message"].get("content")
            return content if isinstance(content, str) else None
        if endpoint == "messages":
            parts = [b.get("text", "") for b in body["content"] if isinstance(b, dict) and b.get("type") == "text"]
            return "".join(p for p in parts if isinstance(p, str))
        parts = [
            c.get("text", "")
            for item in body["output"]
            if isinstance(item, dict) and item.get("type") == "message"
            for c in item.get("content") or ()
            if isinstance(c, dict) and c.get("type") == "output_text"
        ]
        return "".join(p for p in parts if isinstance(p, str))
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def stopped_at_limit(endpoint: str, body: dict[str, Any]) -> bool | None:
    """Whether the answer says it stopped at the output limit (None: it does not say)."""
    if endpoint == "chat":
        choices = body.get("choices")
        reason = choices[0].get("finish_reason") if isinstance(choices, list) and choices else None
    elif endpoint == "messages":
        reason = body.get("stop_reason")
        return None if reason is None else reason == "max_tokens"
    else:
        details = body.get("incomplete_details") or {}
        status = body.get("status")
        if status is None:
            return None
        return status == "incomplete" and isinstance(details, dict) and details.get("reason") == "max_output_tokens"
    return None if reason is None else reason == "length"
