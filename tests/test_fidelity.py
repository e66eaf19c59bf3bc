"""Fidelity probes (harness/fidelity/) against the reference gateway: the clean gateway is
consistent on every probe, each fidelity fault is caught with its code, bad answers give
inconclusive verdicts rather than crashes, and the gateway's tokenizer is linear and the same on
every endpoint and count_tokens. Only 127.0.0.1 is contacted."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from harness.cli import main
from harness.codes import all_codes
from harness.fidelity import cache as fidelity_cache
from harness.fidelity import controls, requested, usage
from harness.fidelity.probe import ENDPOINTS, Sender
from harness.fidelity.run import LOCAL_BASELINE, load_baselines, measure_baselines, run_probes
from harness.gateways import Gateway, Model, Timeouts
from harness.model import Chunk, Exchange, WireRequest
from harness.refgateway import tokenizer
from harness.refgateway.faults import FAULT_HEADER, FIDELITY_ONLY
from harness.refgateway.prompt_cache import MIN_TOKENS, PromptCache
from harness.transport import Transport
from tests.conftest import TEST_KEY

# The first model of each endpoint of the built-in gateway, as the detection matrix probes them
# (with the first reasoning model of /v1/responses, for the encrypted_content control).
MODELS = {"chat": ["gpt-4o"], "messages": ["claude-sonnet-4-20250514"], "responses": ["gpt-4o", "o4-mini"]}
CAPABILITIES = {
    "gpt-4o": frozenset({"tools", "parallel_tools"}),
    "claude-sonnet-4-20250514": frozenset({"tools", "parallel_tools", "thinking", "count_tokens"}),
    "o4-mini": frozenset({"tools", "reasoning", "stored_responses"}),
}
CAUGHT_BY = {
    "substituted-family": "fidelity.usage.tokenizer",
    "injected-system-prompt": "fidelity.usage.injected_prompt",
    "usage-inflated": "fidelity.usage.inflated",
    "stop-ignored": "fidelity.param.stop",
    "ignore-max-tokens": "fidelity.param.max_tokens",
    "max-tokens-capped": "fidelity.param.max_tokens",
    "thinking-signature-not-checked": "fidelity.control.signature",
    "previous-response-ignored": "fidelity.control.previous_response",
    "cache-control-stripped": "fidelity.cache.not_honoured",
    "response-format-dropped": "fidelity.param.response_format",
    "include-usage-dropped": "fidelity.param.include_usage",
    "n-ignored": "fidelity.param.n",
    "logprobs-dropped": "fidelity.param.logprobs",
    "parallel-tool-calls-ignored": "fidelity.param.parallel_tool_calls",
    "tool-choice-ignored": "fidelity.param.tool_choice",
    "context-truncated": "fidelity.context.truncated",
    "tool-result-altered": "fidelity.context.tool_result",
    "output-usage-inflated": "fidelity.usage.output",
    "stream-usage-estimated": "fidelity.usage.stream_mismatch",
    "encrypted-content-not-verified": "fidelity.control.encrypted_content",
}


class Faulting(Transport):
    def __init__(self, inner: Transport, fault: str) -> None:
        self.inner, self.fault = inner, fault

    def send(self, request: WireRequest) -> Exchange:
        return self.inner.send(replace(request, headers={**request.headers, FAULT_HEADER: self.fault}))


def gateway(base_url: str) -> Gateway:
    models = {e: tuple(Model(m, CAPABILITIES[m]) for m in names) for e, names in MODELS.items()}
    return Gateway("local", base_url, api_key_value=TEST_KEY, timeouts=Timeouts(5, 30, 60), models=models)


@pytest.fixture(scope="module")
def transport() -> Transport:
    t = Transport(Timeouts(5, 30, 60))
    yield t
    t.close()


def sender(refgateway: str, transport: Transport, fault: str | None = None) -> Sender:
    return Sender(gateway(refgateway), Faulting(transport, fault) if fault else transport, refgateway)


# ---------------------------------------------------------------- the reference tokenizer


def test_reference_tokenizer_is_linear_and_differs_per_family() -> None:
    for family in tokenizer.FAMILIES:
        counts = [tokenizer.count_prompt(family, usage.prompt(k)) for k in range(6)]
        steps = {b - a for a, b in pairwise(counts)}
        assert len(steps) == 1 and steps.pop() > 0, (family, counts)
    assert tokenizer.count_text(usage.UNIT, "openai") != tokenizer.count_text(usage.UNIT, "anthropic")
    assert tokenizer.count_text("天气", "anthropic") == 2 * tokenizer.count_text("天气", "openai")


def test_every_endpoint_and_count_tokens_bill_the_same_prompt_alike(refgateway: str) -> None:
    """One Claude model served on all three endpoints: one tokenizer, the same input tokens."""
    model, text = "claude-sonnet-4-20250514", "Count these words, 12345 and 天气 too."
    bearer = {"authorization": f"Bearer {TEST_KEY}"}
    anthropic = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}
    msgs = [{"role": "user", "content": text}]
    with httpx.Client(base_url=refgateway, timeout=10) as c:
        chat = c.post("/v1/chat/completions", json={"model": model, "messages": msgs}, headers=bearer).json()
        mess = c.post("/v1/messages", json={"model": model, "max_tokens": 64, "messages": msgs}, headers=anthropic)
        resp = c.post("/v1/responses", json={"model": model, "input": text}, headers=bearer).json()
        counted = c.post("/v1/messages/count_tokens", json={"model": model, "messages": msgs}, headers=anthropic)
    expected = tokenizer.count_prompt("anthropic", "user", text)
    got = [chat["usage"]["prompt_tokens"], mess.json()["usage"]["input_tokens"], resp["usage"]["input_tokens"]]
    assert got == [expected] * 3 and counted.json()["input_tokens"] == expected


# ---------------------------------------------------------------- the line and its comparison


def test_fit_and_compare_name_each_kind_of_difference() -> None:
    base = usage.fit([0, 1, 2, 4, 8], [11, 16, 21, 31, 51])
    assert (base.slope, base.intercept, base.worst_residual) == (5.0, 11.0, 0.0)

    def codes(counts: list[int]) -> list[str]:
        return [v.code for v in usage.compare(usage.fit([0, 1, 2, 4, 8], counts), base)]

    assert codes([11, 16, 21, 31, 51]) == []
    assert codes([12, 17, 22, 32, 52]) == []  # one token off: within the tolerance
    assert codes([51, 56, 61, 71, 91]) == ["fidelity.usage.injected_prompt"]
    assert codes([17, 24, 32, 47, 77]) == ["fidelity.usage.inflated"]
    assert codes([17, 26, 35, 53, 89]) == ["fidelity.usage.tokenizer"]
    assert codes([5, 10, 15, 25, 45]) == ["fidelity.usage.overhead"]
    assert usage.fit([0, 1, 2, 4, 8], [11, 16, 30, 31, 51]).worst_residual > usage.NONLINEAR_TOLERANCE


def test_fidelity_codes_are_registered() -> None:
    assert set(CAUGHT_BY.values()) | {"fidelity.usage.nonlinear", "fidelity.usage.overhead"} <= set(all_codes())


# ---------------------------------------------------------------- against the reference gateway


def test_clean_gateway_is_consistent_on_every_probe_ten_times(refgateway: str, transport: Transport) -> None:
    baselines = load_baselines(LOCAL_BASELINE)
    outcomes = []
    for _ in range(10):
        verdicts = run_probes(sender(refgateway, transport), MODELS, baselines)
        # usage, output usage, max_tokens, context truncation and tool results on 4 pairs; tool_choice
        # too; parallel calls where declared (not o4-mini); stop on chat and messages; response_format
        # and logprobs on chat and responses; include_usage and n on chat; the signature control and
        # the cache probe on messages; the previous_response control on responses; encrypted_content
        # on o4-mini
        assert len(verdicts) == 42
        outcomes += [(v.id, v.outcome, v.reason) for v in verdicts if v.outcome != "consistent"]
    assert outcomes == []


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_each_fidelity_fault_is_caught_with_its_code(refgateway: str, transport: Transport, fault: str) -> None:
    verdicts = run_probes(sender(refgateway, transport, fault), MODELS, load_baselines(LOCAL_BASELINE))
    bad = [v for v in verdicts if v.outcome == "inconsistent"]
    assert bad and all(v.violations for v in bad)
    assert CAUGHT_BY[fault] in {x.code for v in bad for x in v.violations}
    assert all(v.numbers for v in bad)  # every accusation comes with its numbers


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (None, None),
        ("injected-system-prompt", "fidelity.usage.injected_prompt"),
        ("substituted-family", "fidelity.usage.tokenizer"),
        ("usage-inflated", "fidelity.usage.inflated"),
    ],
)
def test_count_tokens_is_the_baseline_when_none_is_stored(
    refgateway: str, transport: Transport, fault: str | None, code: str | None
) -> None:
    v = usage.probe_usage(sender(refgateway, transport, fault), "messages", "claude-sonnet-4-6", baselines=None)
    assert "count_tokens" in v.numbers["baseline_source"] and v.requests == 10
    assert [x.code for x in v.violations] == ([code] if code else [])
    assert v.outcome == ("inconsistent" if code else "consistent")


def test_without_a_baseline_or_an_answer_the_verdict_is_inconclusive(refgateway: str, transport: Transport) -> None:
    v = usage.probe_usage(sender(refgateway, transport), "chat", "gpt-4o", baselines=None)
    assert v.outcome == "inconclusive" and "no baseline" in v.reason and v.numbers["slope"] > 0
    broken = run_probes(sender(refgateway, transport, "html-error"), MODELS, load_baselines(LOCAL_BASELINE))
    assert {v.outcome for v in broken} == {"inconclusive"} and all("HTTP 502" in v.reason for v in broken)


class Counts(Transport):
    """A relay that bills made-up input counts (not on a line)."""

    def __init__(self) -> None:
        self.n = 0

    def send(self, request: WireRequest) -> Exchange:
        self.n += 1
        body = {"usage": {"prompt_tokens": [11, 16, 40, 31, 51][(self.n - 1) % 5], "completion_tokens": 1}}
        return Exchange(request, 200, {"content-type": "application/json"}, (Chunk(0.0, json.dumps(body).encode()),))


def test_counts_off_the_line_are_nonlinear() -> None:
    s = Sender(gateway("http://127.0.0.1:9"), Counts())
    v = usage.probe_usage(s, "chat", "gpt-4o", load_baselines(LOCAL_BASELINE))
    assert v.outcome == "inconsistent" and [x.code for x in v.violations] == ["fidelity.usage.nonlinear"]


def test_stored_local_baseline_is_current(refgateway: str, transport: Transport) -> None:
    """harness/fidelity/local_baseline.json is what the clean built-in gateway measures now (its
    local models); regenerate: relaycheck fidelity --gateway local --save-baseline <that file>."""
    from harness.detection import builtin_gateway

    local, served = builtin_gateway(TEST_KEY)
    measured = measure_baselines(Sender(local, transport, refgateway), served, "builtin")
    stored = json.loads(LOCAL_BASELINE.read_text(encoding="utf-8"))
    assert measured == stored


# ---------------------------------------------------------------- negative controls and caching


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("signature-dropped", "no signed thinking block"), ("reserialize-thinking", "untampered history was rejected")],
)
def test_signature_control_is_inconclusive_when_it_cannot_tamper(
    refgateway: str, transport: Transport, fault: str, reason: str
) -> None:
    v = controls.probe_signature(sender(refgateway, transport, fault), "messages", "claude-sonnet-4-6")
    assert v.outcome == "inconclusive" and reason in v.reason and not v.violations


def test_signature_control_is_inconclusive_when_the_model_does_not_think(transport: Transport) -> None:
    from harness.refgateway import start_in_thread

    caps = {"messages": {"claude-sonnet-4-6": ["tools"]}}  # no thinking: the request is refused
    with start_in_thread(TEST_KEY, capability_map=caps) as server:
        v = controls.probe_signature(sender(server.base_url, transport), "messages", "claude-sonnet-4-6")
    assert v.outcome == "inconclusive" and "HTTP 400" in v.reason and v.requests == 1


def test_tampered_signature_differs_and_stays_base64() -> None:
    sig = "QUJD" * 20
    bad = controls.tamper(sig)
    assert bad != sig and len(bad) == len(sig) and base64.b64decode(bad)


def test_previous_response_control_needs_stored_state(refgateway: str, transport: Transport) -> None:
    """A relay that keeps no state fails the positive control: inconclusive, not consistent."""
    v = controls.probe_previous_response(sender(refgateway, transport), "responses", "gpt-4o")
    assert v.outcome == "consistent" and v.numbers["made_up_status"] == 400
    from harness.refgateway import start_in_thread

    caps = {"responses": {"gpt-4o": ["tools"]}}  # no stored_responses: previous_response_id refused
    with start_in_thread(TEST_KEY, capability_map=caps) as server:
        v = controls.probe_previous_response(sender(server.base_url, transport), "responses", "gpt-4o")
    assert v.outcome == "inconclusive" and "no stored state" in v.reason


def test_reference_prompt_cache_writes_then_reads_long_marked_prefixes_only() -> None:
    cache = PromptCache()
    long_body = fidelity_cache.body("claude-sonnet-4-6", "nonce1")
    first, again = cache.account(long_body, "anthropic"), cache.account(long_body, "anthropic")
    assert first.written >= MIN_TOKENS and first.read == 0 and again == replace(first, written=0, read=first.written)
    other = fidelity_cache.body("claude-sonnet-4-6", "nonce2")  # another prefix: written again
    assert cache.account(other, "anthropic").written > 0
    unmarked = {**long_body, "system": [{k: v for k, v in long_body["system"][0].items() if k != "cache_control"}]}
    assert cache.account(unmarked, "anthropic").written == 0
    short = {
        **long_body,
        "system": [{**long_body["system"][0], "text": "Short.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
    }
    assert (
        cache.account(short, "anthropic") == cache.account(short, "anthropic")
        and cache.account(short, "anthropic").written == 0
    )


def test_cached_tokens_leave_input_tokens_as_the_official_usage_does(refgateway: str) -> None:
    body = fidelity_cache.body("claude-sonnet-4-6", "usage-split")
    headers = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=refgateway, timeout=10) as c:
        counted = c.post("/v1/messages/count_tokens", json=body, headers=headers).json()["input_tokens"]
        first = c.post("/v1/messages", json=body, headers=headers).json()["usage"]
        second = c.post("/v1/messages", json={**body, "stream": True}, headers=headers).text
    assert first["cache_creation_input_tokens"] > 0 and first["cache_creation"]["ephemeral_5m_input_tokens"] > 0
    assert first["input_tokens"] + first["cache_creation_input_tokens"] == counted
    start = json.loads(next(line[6:] for line in second.splitlines() if '"message_start"' in line))
    assert start["message"]["usage"]["cache_read_input_tokens"] == first["cache_creation_input_tokens"]


def test_fidelity_only_faults_are_the_ones_the_suite_cannot_see() -> None:
    assert FIDELITY_ONLY <= set(CAUGHT_BY)


# ---------------------------------------------------------------- relaycheck fidelity


def test_cli_prints_verdicts_and_writes_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fidelity", "--endpoints", "chat", "--models", "gpt-4o", "--report-dir"]
    assert main([*args, str(tmp_path / "clean")]) == 0
    out = capsys.readouterr().out
    assert "consistent   usage" in out and "tokens" in out and "0 inconsistent" in out
    assert main([*args, str(tmp_path / "bad"), "--fault", "injected-system-prompt"]) == 1
    out = capsys.readouterr().out
    assert "inconsistent usage" in out and "40 tokens above" in out
    summary = json.loads((tmp_path / "bad" / "summary.json").read_text())
    assert summary["tool"] == "fidelity" and summary["totals"]["failed"] == 1
    assert summary["violation_codes"] == {"fidelity.usage.injected_prompt": 1}
    [failed] = [i for i in summary["items"] if i["outcome"] == "failed"]
    assert failed["id"] == "fidelity/usage[chat-gpt-4o]" and failed["fidelity"]["numbers"]["intercept"] == 51.0
    assert main([*args, str(tmp_path), "--fault", "no-such-fault"]) == 2
    assert main(["fidelity", "--base-url", "http://127.0.0.1:9", "--fault", "stop-ignored"]) == 2


def test_probe_requests_carry_the_gateways_extra_headers() -> None:
    seen = Counts()
    sent: list[WireRequest] = []
    capture = type("Capture", (Transport,), {"send": lambda self, r: sent.append(r) or seen.send(r)})()
    gw = replace(gateway("http://127.0.0.1:9"), headers=(("x-route", "team-a"),))
    Sender(gw, capture).send("chat", {"model": "gpt-4o"})
    headers = {k.lower(): v for k, v in sent[0].headers.items()}
    assert headers["x-route"] == "team-a" and headers["authorization"] == f"Bearer {TEST_KEY}"


# ---------------------------------------------------------------- parameters, context, output usage, encryption


@pytest.mark.parametrize(
    ("fault", "endpoints", "probes"),
    [
        ("error-in-200", ENDPOINTS, ("param.include_usage", "param.tool_choice", "param.response_format")),
        ("chat-completion-on-messages", ("messages",), ("param.tool_choice", "usage.output", "context.tool_result")),
        ("truncated-stream", ("chat",), ("param.include_usage",)),
        ("tool-call-as-text", ENDPOINTS, ("param.tool_choice", "param.parallel_tool_calls")),
    ],
)
def test_answers_that_are_not_answers_give_no_accusation(
    refgateway: str, transport: Transport, fault: str, endpoints: tuple[str, ...], probes: tuple[str, ...]
) -> None:
    """A 200 error, another dialect's object, a cut stream or a call written as text is the suite's
    finding (error.in_200, object.kind, grammar, tool.as_text); the probes reading them say
    inconclusive, never that the parameter was dropped."""
    models = {e: m for e, m in MODELS.items() if e in endpoints}
    verdicts = run_probes(sender(refgateway, transport, fault), models, None, probes=probes)
    assert verdicts and all(v.outcome == "inconclusive" and not v.violations for v in verdicts), [
        (v.id, v.outcome, v.reason) for v in verdicts if v.outcome != "inconclusive"
    ]


def test_reference_encrypted_content_is_verified_as_the_official_api_does(refgateway: str) -> None:
    from harness.fidelity.encrypted import _body

    headers = {"authorization": f"Bearer {TEST_KEY}"}
    first_input = [{"role": "user", "content": "Reply with OK."}]
    with httpx.Client(base_url=refgateway, timeout=10) as c:
        first = c.post("/v1/responses", json=_body("o4-mini", first_input), headers=headers).json()
        [reasoning] = [i for i in first["output"] if i["type"] == "reasoning"]
        assert reasoning["encrypted_content"].startswith("gAAAAA")  # the official token's look
        plain = c.post("/v1/responses", json={"model": "o4-mini", "input": "Hi", "store": False}, headers=headers)
        assert all("encrypted_content" not in i for i in plain.json()["output"])  # only when included
        again = [*first_input, *first["output"], {"role": "user", "content": "Again."}]
        assert c.post("/v1/responses", json=_body("o4-mini", again), headers=headers).status_code == 200
        reasoning["encrypted_content"] = controls.tamper(reasoning["encrypted_content"])
        bad = c.post("/v1/responses", json=_body("o4-mini", again), headers=headers)
    assert bad.status_code == 400
    err = bad.json()["error"]
    assert err["code"] == "invalid_encrypted_content" and err["type"] == "invalid_request_error"
    assert err["message"].startswith("The encrypted content gAAA...")
    assert err["message"].endswith("could not be verified.")


def test_context_truncated_fault_drops_the_start_until_the_prompt_fits() -> None:
    from harness.fidelity import context
    from harness.refgateway import request_faults

    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": context.long_prompt("QX1", context.LONG)}]}
    cut = request_faults.alter(body, "chat", frozenset({"context-truncated"}))
    text = cut["messages"][0]["content"]
    assert "QX1" in body["messages"][0]["content"] and "QX1" not in text and text.endswith(context.QUESTION.strip())
    total = sum(tokenizer.count_text(s, "openai") for s in tokenizer.strings_in(cut["messages"]))
    assert request_faults.CONTEXT_LIMIT - 20 <= total <= request_faults.CONTEXT_LIMIT
    short = {"model": "gpt-4o", "messages": [{"role": "user", "content": context.long_prompt("QX1", 0)}]}
    assert request_faults.alter(short, "chat", frozenset({"context-truncated"})) == short


def test_tool_result_probe_needs_the_control_to_accuse(refgateway: str, transport: Transport) -> None:
    """A model that repeats the code word from neither place gives no evidence: inconclusive."""
    from harness.fidelity import context

    quiet = type(
        "Quiet", (Transport,), {"send": lambda self, r: Exchange(r, 200, {}, (Chunk(0.0, b'{"choices": []}'),))}
    )()
    v = context.probe_tool_result(Sender(gateway(refgateway), quiet, refgateway), "chat", "gpt-4o")
    assert v.outcome == "inconclusive" and not v.violations


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("endpoint", "extra"),
    [
        ("chat", {"n": 2, "logprobs": True, "top_logprobs": 3}),
        ("chat", requested.format_param("chat")),
        ("responses", {"include": ["message.output_text.logprobs"], "top_logprobs": 2}),
        ("responses", requested.format_param("responses")),
        ("responses", {"model": "o4-mini", "include": ["reasoning.encrypted_content"], "store": False}),
    ],
)
def test_reference_answers_to_the_new_parameters_pass_the_strict_checks(
    refgateway: str, endpoint: str, extra: dict[str, object], stream: bool
) -> None:
    """n, logprobs, structured outputs and encrypted reasoning as the reference gateway answers
    them are what the dialect's own strict checks accept, streamed or not."""
    from harness import dialects, sse

    dialect = dialects.get(endpoint)
    body = {**requested.request_body(endpoint, "gpt-4o", "Name the largest city of France.", 64), **extra}
    body["stream"] = stream
    if stream and endpoint == "chat":
        body["stream_options"] = {"include_usage": True}
    with httpx.Client(base_url=refgateway, timeout=10) as c:
        r = c.post(dialect.path, json=body, headers={"authorization": f"Bearer {TEST_KEY}"})
    assert r.status_code == 200
    if stream:
        verdict = dialect.check_stream(sse.parse(r.content)[0], body, "strict")
        found, final = verdict.violations, verdict.final
    else:
        final = r.json()
        found = dialect.check_body(final, body, "strict")
    assert [v.code for v in found] == []
    if "n" in extra:
        assert len(final["choices"]) == 2 and final["choices"][1]["logprobs"]["content"]
    if "text" in extra or "response_format" in extra:
        assert json.loads(dialect.text(final)) == {"city": "France", "population": 1}


class Garbage(Transport):
    """Answers every request with the same 200 body, however little it fits the request."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def send(self, request: WireRequest) -> Exchange:
        return Exchange(request, 200, {"content-type": "application/json"}, (Chunk(0.0, self.body),))


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b"[]",
        b"not json",
        b'{"choices": "x", "usage": 5, "output": 3, "content": null}',
        b'{"choices": [{"index": "a", "message": {"content": 5, "tool_calls": "x"}, "logprobs": {"content": [1]}}]}',
        b'{"object": "response", "status": "completed", "output": [{"type": "reasoning", "encrypted_content": ""},'
        b' {"type": "message", "content": [{"type": "output_text", "text": 5, "logprobs": 7}]}], "usage": []}',
        b'data: {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}'
        b"\n\n",
    ],
)
def test_bad_answers_never_crash_a_probe(body: bytes) -> None:
    """Every probe on every endpoint reads a malformed answer without raising; an empty or
    shapeless one is never taken as evidence."""
    verdicts = run_probes(Sender(gateway("http://127.0.0.1:9"), Garbage(body)), MODELS, None)
    assert len(verdicts) == 42 and all(v.reason for v in verdicts)
    if body in (b"{}", b"[]", b"not json"):
        assert {v.outcome for v in verdicts} == {"inconclusive"}


def test_a_format_the_probes_cannot_write_is_named_not_probed() -> None:
    """Gemini models are not probed (the probes write chat/messages/responses requests): the pair is
    named by not_probed and run_probes sends it nothing, rather than an inconclusive HTTP 400."""
    from harness.fidelity.run import not_probed, run_probes

    class NoSend:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"a Gemini model must not be probed (Sender.{name} used)")

    models = {"gemini": ["gemini-2.5-flash"]}
    assert not_probed(models) == ["gemini/gemini-2.5-flash"]
    assert not_probed({"chat": ["gpt-4o"]}) == []
    assert run_probes(NoSend(), models) == []  # type: ignore[arg-type]


def test_fidelity_on_gemini_only_is_a_usage_error(tmp_path: Path) -> None:
    from harness.cli import main

    assert main(["fidelity", "--endpoints", "gemini", "--report-dir", str(tmp_path)]) == 2
