"""Every named fault of the reference gateway is caught with the code that names it, and the
same cases pass on the clean gateway. (The full-suite detection matrix builds on this.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.cases import Case, load_case_file
from harness.codes import all_codes
from harness.detection import EXPECTED_CODES
from harness.gateways import Gateway, Model, Timeouts
from harness.redact import Redactor
from harness.refgateway import FAULTS
from harness.runner import Context, Variant, run_variant
from harness.transport import Transport
from tests.conftest import TEST_KEY

CASES = {c.id: c for c in load_case_file(Path(__file__).parent / "data" / "detection.yaml")}

# fault -> (case id, streamed?, the code that must be among the failing violations)
EXPECTED: dict[str, tuple[str, bool, str]] = {
    "openai-error-on-messages": ("messages-wrong-key", False, "error.shape"),
    "chat-completion-on-messages": ("messages-text", False, "object.kind"),
    "html-error": ("chat-text", False, "body.json"),
    "error-in-200": ("chat-text", False, "error.in_200"),
    "status-400-for-401": ("chat-wrong-key", False, "status"),
    "tool-call-as-text": ("chat-tool", False, "tool.as_text"),
    "wrong-finish-reason": ("chat-tool", False, "tool.stop_reason"),
    "parallel-index-zero": ("chat-parallel", True, "grammar.chat.tool_index"),
    "stream-args-differ": ("chat-tool", True, "tool.args"),
    "ignore-tool-choice-none": ("chat-tool-none", False, "tool.count"),
    "chat-no-done": ("chat-text", True, "sse.done"),
    "responses-done": ("responses-text", True, "sse.done"),
    "messages-done": ("messages-text", True, "sse.done"),
    "no-event-lines": ("messages-text", True, "sse.event_name"),
    "event-name-mismatch": ("responses-text", True, "sse.event_name"),
    "no-blank-line": ("chat-text", True, "sse.framing"),
    "buffered-stream": ("chat-text", True, "stream.buffered"),
    "truncated-stream": ("messages-text", True, "grammar.messages.no_message_stop"),
    "invalid-utf8": ("chat-text", False, "transport.utf8"),
    "wrong-content-type": ("chat-text", False, "content_type"),
    "extra-fields": ("chat-text", False, "schema.extra"),
    "bad-id-prefix": ("chat-text", False, "id.prefix"),
    "usage-inconsistent": ("chat-text", False, "usage"),
    "no-sequence-number": ("responses-text", True, "grammar.responses.sequence_number"),
    "item-done-never-added": ("responses-text", True, "grammar.responses.item_not_added"),
    "missing-item-done": ("responses-tool", True, "grammar.responses.item_not_done"),
    "missing-text-done": ("responses-text", True, "grammar.responses.text_done_missing"),
    "args-done-differ": ("responses-tool", True, "grammar.responses.args_mismatch"),
    "completed-missing-fields": ("responses-text", True, "grammar.responses.terminal_fields"),
    "delta-before-start": ("messages-text", True, "grammar.messages.delta_without_start"),
    "text-delta-on-tool-use": ("messages-tool", True, "grammar.messages.delta_type"),
    "lost-first-text-delta": ("messages-thinking", True, "grammar.messages.lost_text_delta"),
    "signature-dropped": ("messages-thinking", True, "grammar.messages.thinking_signature"),
    "budget-under-1024-accepted": ("messages-budget-small", False, "grammar.messages.request_accepted"),
    "budget-not-below-max-accepted": ("messages-budget-max", False, "grammar.messages.request_accepted"),
    "thinking-signature-not-checked": ("messages-forged-signature", False, "status"),
    "ignore-max-tokens": ("chat-length", False, "expect.equals"),
}


@pytest.fixture(scope="module")
def context() -> Context:
    from harness.refgateway import start_in_thread

    models = {"chat": ["gpt-4o"], "messages": ["claude-sonnet-4-20250514"], "responses": ["gpt-4o"]}
    gw = start_in_thread(TEST_KEY, models=models)
    gateway = Gateway(
        "ref",
        gw.base_url,
        api_key_value=TEST_KEY,
        timeouts=Timeouts(2, 5, 10),
        models={e: (Model(m[0], frozenset()),) for e, m in models.items()},
    )
    transport = Transport(gateway.timeouts)
    yield Context(gateway, gw.base_url, transport, Redactor([TEST_KEY]), extras_fail=True)
    transport.close()
    gw.close()


def _with_fault(case: Case, fault: str) -> Case:
    steps = tuple(
        replace(s, request=replace(s.request, headers=(*s.request.headers, ("x-relaycheck-fault", fault))))
        for s in case.steps
    )
    return replace(case, steps=steps)


def test_every_fault_has_expected_codes() -> None:
    # The focused cases here cover the original faults; harness.detection names codes for all
    # of them (the full-suite matrix in test_detection_matrix.py checks every fault).
    assert sorted(EXPECTED_CODES) == sorted(FAULTS)
    assert set(EXPECTED) <= set(FAULTS)
    for fault, (_, _, code) in EXPECTED.items():
        assert code in EXPECTED_CODES[fault], fault


@pytest.mark.parametrize("case_id", sorted(CASES))
@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
def test_clean_gateway_passes(context: Context, case_id: str, stream: bool) -> None:
    case = CASES[case_id]
    result = run_variant(Variant(case, "ref", case.models[0], stream), context)
    failing = [f"{v.code} {v.path}: {v.message}" for v in result.failing("strict")]
    assert not failing


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_fault_is_caught_with_its_code(context: Context, fault: str) -> None:
    case_id, stream, code = EXPECTED[fault]
    case = _with_fault(CASES[case_id], fault)
    result = run_variant(Variant(case, "ref", case.models[0], stream), context)
    codes = sorted({v.code for v in result.failing("strict")})
    assert code in codes, f"{fault}: expected {code}, got {codes}"
    unregistered = {v.code for v in result.violations} - set(all_codes())
    assert not unregistered, f"codes missing from harness/codes.py (and the README table): {unregistered}"
