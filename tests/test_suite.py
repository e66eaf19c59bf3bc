"""The bundled conformance suite (cases/): it passes against the built-in reference gateway through
``relaycheck run``, ``--models A,B`` runs every applicable case for both models, the seed requests
are the vendor pages' own, and relays that break the official promises the suite relies on fail.

Only 127.0.0.1 is contacted (the built-in gateway, in a subprocess or in a thread)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.cases import Case, load_case_file
from harness.dialects import registry
from harness.gateways import DEFAULT_FILE, Gateway, Timeouts, load_gateways
from harness.model import Chunk, Exchange, WireRequest
from harness.redact import Redactor
from harness.report.digest import render_digest
from harness.runner import Context, Variant, run_variant
from harness.transport import Transport
from tests.conftest import REPO, TEST_KEY

CASES = REPO / "cases"
SEEDS = REPO.parent / "shared" / "seeds"
# The coverage list: each promise and the bundled case(s) that check it.
REQUIRED: dict[str, list[str]] = {
    "chat/basic.yaml": ["plain-text", "weather-tool"],
    "chat/tools.yaml": [
        "tool-choice-auto",
        "tool-choice-none",
        "tool-choice-required",
        "tool-choice-named",
        "parallel-tool-calls",
        "tool-round-trip",
        "seed-001-function-calling",
    ],
    "chat/generation.yaml": ["finish-length", "usage", "stream-include-usage", "stream-without-usage"],
    "chat/errors.yaml": ["no-key", "wrong-key", "unknown-model", "malformed-json", "missing-messages"],
    "messages/basic.yaml": ["plain-text"],
    "messages/generation.yaml": ["system-prompt", "stop-sequences", "max-tokens-stop-reason"],
    "messages/tools.yaml": [
        "tool-choice-auto",
        "seed-004-tool-choice-any",
        "tool-choice-tool",
        "tool-choice-none",
        "tool-use-id-shape",
        "tool-result-round-trip",
        "parallel-tool-use",
    ],
    "messages/thinking.yaml": [
        "thinking-before-text",
        "seed-004-budget-128-rejected",
        "budget-1023-rejected",
        "budget-not-below-max-rejected",
        "thinking-tool-loop",
    ],
    "messages/auth.yaml": [
        "x-api-key-with-version",
        "bearer-with-version",
        "seed-000-bearer-without-version",
        "x-api-key-without-version",
    ],
    "messages/count_tokens.yaml": ["count-tokens"],
    "messages/errors.yaml": ["no-key", "wrong-key", "unknown-model", "malformed-json", "missing-max-tokens"],
    "responses/basic.yaml": ["plain-text", "weather-tool"],
    "responses/tools.yaml": [
        "seed-003-four-tools",
        "tool-choice-auto",
        "tool-choice-required",
        "tool-choice-named",
        "function-call-output-round-trip",
    ],
    "responses/stored.yaml": ["previous-response-round-trip"],
    "responses/reasoning.yaml": ["reasoning-effort"],
    "responses/errors.yaml": ["no-key", "wrong-key", "unknown-model", "malformed-json", "missing-model"],
    "models/list.yaml": ["openai-list", "anthropic-list"],
    "cross/forced-tool.yaml": ["same-forced-tool-on-every-endpoint"],
}
SKIP_REASON = re.compile(r"lacks capability|is not listed for|capability not declared for")


def relaycheck(*args: str, tmp: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "RELAYCHECK_API_KEY"}  # the built-in gateway makes its own
    res = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--report-dir", str(tmp), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary_file = tmp / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return res, summary


def bundled_cases() -> Iterator[tuple[str, Case]]:
    for path in sorted(CASES.rglob("*.yaml")):
        for case in load_case_file(path):
            yield path.relative_to(CASES).as_posix(), case


def test_bundled_suite_passes_against_the_builtin_gateway(tmp_path: Path) -> None:
    res, summary = relaycheck(tmp=tmp_path)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    totals = summary["totals"]
    assert totals["failed"] == 0 and totals["error"] == 0 and totals["passed"] >= 300, totals
    items = summary["items"]
    passed = {(i["file"].removeprefix("cases/"), i["case"]) for i in items if i["outcome"] == "passed"}
    missing = [(f, c) for f, ids in REQUIRED.items() for c in ids if (f, c) not in passed]
    assert not missing, f"promised cases that did not pass: {missing}"
    # Every bundled case ran for at least one model (no case is dead on the built-in gateway).
    assert {(f, c.id) for f, c in bundled_cases()} <= passed
    for item in items:
        if item["outcome"] == "skipped":
            assert SKIP_REASON.search(item["skip_reason"]), item
    for endpoint in registry.names():
        modes = {i["stream"] for i in items if i["endpoint"] == endpoint and i["outcome"] == "passed"}
        assert modes == {True, False}, endpoint
    assert "Traceback" not in res.stdout + res.stderr
    # The digest closes the run and fits in one screen for the whole suite.
    tail = res.stdout[res.stdout.index("relaycheck digest:") :].splitlines()
    assert tail == render_digest(summary["digest"]) and len(tail) <= 40, tail


def test_models_flag_runs_every_applicable_case_for_both_models(tmp_path: Path) -> None:
    models = ("gpt-4.1", "claude-sonnet-4-6")
    res, summary = relaycheck("--models", ",".join(models), tmp=tmp_path)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    items = summary["items"]
    assert summary["totals"]["failed"] == 0 and summary["totals"]["error"] == 0
    by_variant: dict[tuple[str, str, bool], dict[str, dict[str, Any]]] = {}
    for i in items:
        by_variant.setdefault((i["file"], i["case"], i["stream"]), {})[i["model"]] = i
    for (file, case, stream), per_model in by_variant.items():
        if None in per_model:  # models: none, the request names its own model
            continue
        assert set(per_model) == set(models), (file, case, stream, set(per_model))
        for item in per_model.values():
            assert item["outcome"] in ("passed", "skipped"), item["id"]
            if item["outcome"] == "skipped":
                assert SKIP_REASON.search(item["skip_reason"]), item
    outcome = {(i["case"], i["model"]): i for i in items if i["file"].endswith("thinking.yaml")}
    assert outcome[("thinking-before-text", "claude-sonnet-4-6")]["outcome"] == "passed"
    # gpt-4.1 is not described on /v1/messages: its capabilities there are unknown, not assumed.
    skipped = outcome[("thinking-before-text", "gpt-4.1")]
    assert skipped["outcome"] == "skipped"
    assert skipped["skip_reason"] == (
        "capability not declared for gpt-4.1: run relaycheck discover or tag it in gateways.yaml"
    )
    # --models puts each model on every endpoint; cases without requirements run for both there.
    basic = {(i["endpoint"], i["model"]) for i in items if i["case"] == "plain-text" and i["outcome"] == "passed"}
    assert {("messages", "gpt-4.1"), ("messages", "claude-sonnet-4-6")} <= basic


# ---------------------------------------------------------------- seeds


def _seed_bodies(text: str) -> list[dict[str, Any]]:
    """Every JSON request body written in a vendor page (pretty blocks, curl -d, one-liners)."""
    decoder, out = json.JSONDecoder(), []
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and ("messages" in obj or "input" in obj):
            out.append(obj)
    return out


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the vendor pages (../shared/seeds) are not in this checkout")
def test_seed_cases_send_the_vendor_pages_requests_verbatim() -> None:
    cited: set[str] = set()
    for file, case in bundled_cases():
        names = set(re.findall(r"seeds/(\d{3}_[0-9a-f]{16}\.txt)", case.description))
        cited |= names
        if not case.id.startswith("seed-"):
            continue
        assert len(names) >= 1, (file, case.id)
        body = case.steps[0].request.body_template()
        pages = [b for name in names for b in _seed_bodies((SEEDS / name).read_text(encoding="utf-8"))]
        # The run supplies the model (every model of the gateway); everything else is the page's.
        assert any({k: v for k, v in page.items() if k != "model"} == body for page in pages), (file, case.id)
    assert cited == {p.name for p in SEEDS.glob("0*.txt")}, "every vendor page is the source of a case"


def test_example_gateway_config_names_the_seed_models() -> None:
    gateways, default = load_gateways(REPO / "examples" / "gateways.yaml")
    assert default in gateways and all(not g.builtin for g in gateways.values())
    served = {m.name: m.capabilities for g in gateways.values() for ms in g.models.values() for m in ms}
    for model in ("claude-sonnet-4-20250514", "claude-sonnet-4-6", "claude-opus-4-6-thinking", "gpt-4o", "gpt-4.1"):
        assert "tools" in served[model], model
    assert "thinking" in served["claude-opus-4-6-thinking"]
    assert gateways["crazyrouter"].auth == "both" and gateways["quickrouter"].auth == "bearer"
    local, _ = load_gateways(DEFAULT_FILE)
    assert local["local"].builtin


# ---------------------------------------------------------------- relays that break the promises


class Tampering(Transport):
    """A relay in front of the reference gateway that alters requests or answers the way real
    relays did (ids regenerated, fields dropped, arguments rewritten)."""

    def __init__(
        self,
        inner: Transport,
        request: Callable[[str, bytes], bytes] | None = None,
        answer: Callable[[str, bytes], bytes] | None = None,
    ) -> None:
        self.inner, self.on_request, self.on_answer = inner, request, answer

    def send(self, request: WireRequest) -> Exchange:
        if self.on_request is not None:
            request = replace(request, body=self.on_request(request.path, request.body))
        exchange = self.inner.send(request)
        if self.on_answer is None:
            return exchange
        body = self.on_answer(request.path, exchange.body)
        return replace(exchange, chunks=(Chunk(exchange.chunks[0].offset, body),))


@pytest.fixture(scope="module")
def builtin() -> Iterator[tuple[Gateway, str, Transport]]:
    from harness.refgateway import start_in_thread

    local = load_gateways(DEFAULT_FILE)[0]["local"]
    models = {e: [m.name for m in local.models_for(e)] for e in registry.names()}
    with start_in_thread(TEST_KEY, models=models) as gw:
        gateway = replace(local, base_url=gw.base_url, api_key_value=TEST_KEY, timeouts=Timeouts(2, 10, 20))
        transport = Transport(gateway.timeouts)
        yield gateway, gw.base_url, transport
        transport.close()


def _sub(pattern: str, repl: str, only: str | None = None) -> Callable[[str, bytes], bytes]:
    def edit(path: str, body: bytes) -> bytes:
        return body if only is not None and path != only else re.sub(pattern.encode(), repl.encode(), body)

    return edit


TAMPERING = {
    # RELAY_DEFECTS #11: thinking text changed while re-serialising the history.
    "thinking-altered": (
        "messages/thinking.yaml",
        "thinking-tool-loop",
        "claude-sonnet-4-6",
        {"request": _sub(r'"thinking": "The', '"thinking": "the')},
    ),
    # tool_use ids regenerated in the assistant turn, tool_result ids left alone.
    "tool-use-ids-regenerated": (
        "messages/tools.yaml",
        "tool-result-round-trip",
        "claude-sonnet-4-6",
        {"request": _sub(r'"id": "toolu_01', '"id": "toolu_02')},
    ),
    # chat: the tool message's id rewritten.
    "tool-call-id-rewritten": (
        "chat/tools.yaml",
        "tool-round-trip",
        "gpt-4o",
        {"request": _sub(r'"tool_call_id": "call_', '"tool_call_id": "call_x')},
    ),
    # a stateless relay: previous_response_id dropped on the way upstream.
    "previous-response-dropped": (
        "responses/stored.yaml",
        "previous-response-round-trip",
        "gpt-4o",
        {"request": _sub(r'"previous_response_id": "resp_[0-9a-f]+", ', "")},
    ),
    # the chat endpoint's model words the same forced call differently.
    "arguments-differ-on-chat": (
        "cross/forced-tool.yaml",
        "same-forced-tool-on-every-endpoint",
        "claude-sonnet-4-20250514",
        {"answer": _sub(r"Paris", "Lyon", only="/v1/chat/completions")},
    ),
    # count_tokens answered with a message body.
    "count-tokens-as-message": (
        "messages/count_tokens.yaml",
        "count-tokens",
        "claude-sonnet-4-6",
        {
            "answer": _sub(
                r'\{"input_tokens":(\d+)\}',
                r'{"type":"message","usage":'
                r'{"input_tokens":\1}}',
            )
        },
    ),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_relays_breaking_official_promises_fail_the_suite(name: str, builtin: tuple[Gateway, str, Transport]) -> None:
    file, case_id, model, hooks = TAMPERING[name]
    gateway, base_url, transport = builtin
    case = next(c for c in load_case_file(CASES / file) if c.id == case_id)

    def run(t: Transport) -> list[str]:
        ctx = Context(gateway, base_url, t, Redactor([TEST_KEY]))
        result = run_variant(Variant(replace(case, retries=0), gateway.name, model, False), ctx)
        return sorted({v.code for v in result.failing(ctx.level)})

    assert run(transport) == [], "the case must pass on the untouched gateway"
    assert run(Tampering(transport, **hooks)) != [], f"{name} went unnoticed"


class Faulting(Transport):
    """Asks the reference gateway to show one named fault on every request."""

    def __init__(self, inner: Transport, fault: str) -> None:
        self.inner, self.fault = inner, fault

    def send(self, request: WireRequest) -> Exchange:
        headers = {**request.headers, "x-relaycheck-fault": self.fault}
        return self.inner.send(replace(request, headers=headers))


def _faults() -> list[str]:
    from harness.refgateway import FAULTS
    from harness.refgateway.faults import FIDELITY_ONLY

    return sorted(set(FAULTS) - FIDELITY_ONLY)  # those: tests/test_fidelity.py


@pytest.mark.parametrize("fault", _faults())
def test_every_reference_gateway_fault_fails_a_bundled_case(
    fault: str, builtin: tuple[Gateway, str, Transport]
) -> None:
    """The suite is only worth running if each defect a real relay shipped makes it fail. Items
    are tried in suite order (first model of each case, sync then stream) until one fails."""
    from harness.variants import expand

    gateway, base_url, transport = builtin
    # Undocumented fields are notes by default; they fail under --extras fail.
    ctx = Context(
        gateway, base_url, Faulting(transport, fault), Redactor([TEST_KEY]), extras_fail=fault == "extra-fields"
    )
    for _, case in bundled_cases():
        seen: set[bool] = set()
        for variant, skip in expand(replace(case, retries=0), gateway, registry.names()):
            if skip is None and variant.stream not in seen:
                seen.add(variant.stream)
                if run_variant(variant, ctx).failing("strict"):
                    return
    pytest.fail(f"no bundled case fails when the gateway shows fault {fault!r}")
