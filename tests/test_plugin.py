"""The pytest plugin end to end (pytester): collection, ids, markers, failures, summary.json,
bad input that must never crash a run."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest

from tests.conftest import TEST_KEY

MESSAGES_TEXT = """\
cases:
  - id: hello
    description: plain text
    endpoint: messages
    stream: both
    features: [text]
    request:
      body: {max_tokens: 64, messages: [{role: user, content: "Say hello."}]}
    expect: {status: 200, stop_reason: end_turn}
"""

CHAT_TOOL = """\
cases:
  - id: weather
    description: forced tool call
    endpoint: chat
    stream: both
    requires: [tools]
    features: [tools]
    request:
      body:
        max_tokens: 64
        messages: [{role: user, content: "Weather in Boston?"}]
        tools:
          - type: function
            function:
              name: get_weather
              description: weather for a city
              parameters: {type: object, properties: {location: {type: string}}, required: [location]}
        tool_choice: required
    expect: {status: 200, stop_reason: tool_calls, tool_calls: {count: 1, names: [get_weather]}}
"""

ROUND_TRIP = """\
cases:
  - id: tool-round-trip
    description: tool_use id saved from step 1 and sent back as tool_result in step 2
    endpoint: messages
    requires: [tools]
    steps:
      - name: call
        request:
          body:
            max_tokens: 256
            tools: &tools
              - name: get_weather
                description: weather for a city
                input_schema: {type: object, properties: {location: {type: string}}, required: [location]}
            tool_choice: {type: any}
            messages: [{role: user, content: "Weather in Paris?"}]
        expect: {status: 200, stop_reason: tool_use}
        save:
          tool_id: "$.content[?type==tool_use].id"
          tool_input: "$.content[?type==tool_use].input"
      - name: answer
        request:
          body:
            max_tokens: 256
            tools: *tools
            messages:
              - {role: user, content: "Weather in Paris?"}
              - role: assistant
                content: [{type: tool_use, id: "${tool_id}", name: get_weather, input: "${tool_input}"}]
              - role: user
                content: [{type: tool_result, tool_use_id: "${tool_id}", content: "18 C and sunny"}]
        expect: {status: 200, stop_reason: end_turn}
"""


def _summary(p: pytest.Pytester) -> dict:
    return json.loads((p.path / "reports" / "summary.json").read_text())


def test_clean_gateway_passes_and_writes_summary(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(
        refgateway,
        {
            "messages/text.yaml": MESSAGES_TEXT,
            "chat/tools.yaml": CHAT_TOOL,
            "messages/round.yaml": ROUND_TRIP,
        },
    )
    result = p.runpytest_subprocess("cases", "-q")
    result.assert_outcomes(passed=5)
    summary = _summary(p)
    assert summary["totals"] == {"items": 5, "passed": 5, "failed": 0, "skipped": 0, "error": 0}
    ids = sorted(e["id"] for e in summary["items"])
    assert "cases/messages/text.yaml::hello[relay-claude-sonnet-4-20250514-stream]" in ids
    entry = next(e for e in summary["items"] if e["id"].endswith("hello[relay-claude-sonnet-4-20250514-stream]"))
    assert entry["endpoint"] == "messages" and entry["stream"] is True and entry["outcome"] == "passed"
    assert entry["ttft_ms"] is not None and entry["latency_ms"] >= entry["ttft_ms"]


def test_markers_and_keywords_select(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": MESSAGES_TEXT, "chat/tools.yaml": CHAT_TOOL})
    result = p.runpytest_subprocess("cases", "-q", "-m", "chat and stream", "--strict-markers")
    result.assert_outcomes(passed=1)
    result = p.runpytest_subprocess("cases", "-q", "-k", "hello and sync")
    result.assert_outcomes(passed=1)
    result = p.runpytest_subprocess("cases", "-q", "-m", "tools")
    result.assert_outcomes(passed=2)


def test_missing_capability_is_skipped_with_reason(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"chat/tools.yaml": CHAT_TOOL}, models="chat: {gpt-4o: []}\n")
    result = p.runpytest_subprocess("cases", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*model 'gpt-4o' on gateway 'relay' lacks capability tools*"])
    assert _summary(p)["items"][0]["skip_reason"].startswith("model 'gpt-4o'")


def test_malformed_case_file_is_one_line_and_others_still_run(relay_project: Callable, refgateway: str) -> None:
    bad = "cases:\n  - id: broken\n    description: x\n    endpoint: chat\n    request:\n      bodyy: {}\n"
    p = relay_project(refgateway, {"chat/bad.yaml": bad, "messages/text.yaml": MESSAGES_TEXT})
    result = p.runpytest_subprocess("cases", "--continue-on-collection-errors")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["cases/chat/bad.yaml:6:7: cases[0].request: unknown key(s) 'bodyy'"])
    assert "Traceback" not in result.stdout.str()


def test_invalid_yaml_names_line_and_column(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"chat/bad.yaml": "cases:\n  - id: x\n    description: [oops\n"})
    result = p.runpytest_subprocess("cases")
    result.stdout.fnmatch_lines(["cases/chat/bad.yaml:4:1: invalid YAML: *"])
    assert "Traceback" not in result.stdout.str()


def test_chat_completion_on_messages_fails_readably(relay_project: Callable, faulty_gateway: Callable) -> None:
    p = relay_project(faulty_gateway("chat-completion-on-messages"), {"messages/text.yaml": MESSAGES_TEXT})
    result = p.runpytest_subprocess("cases", "-k", "sync")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "[object.kind] at $" in out
    assert "case 'hello' defined at cases/messages/text.yaml:2:5" in out
    assert "curl -sS -N -X POST" in out and '"x-api-key: $RELAYCHECK_TEST_KEY"' in out
    assert TEST_KEY not in out
    assert "Traceback" not in out and "harness/" not in out  # no engine internals in the failure
    entry = _summary(p)["items"][0]
    assert entry["outcome"] == "failed" and "object.kind" in {v["code"] for v in entry["violations"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gateway_down_is_a_failed_item_not_a_crash(relay_project: Callable) -> None:
    p = relay_project(f"http://127.0.0.1:{_free_port()}", {"messages/text.yaml": MESSAGES_TEXT})
    result = p.runpytest_subprocess("cases")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*[[]transport.connect[]]*could not reach the gateway*"])
    assert {i["outcome"] for i in _summary(p)["items"]} == {"failed"}


def test_html_answer_is_a_clear_violation(relay_project: Callable, faulty_gateway: Callable) -> None:
    p = relay_project(faulty_gateway("html-error"), {"messages/text.yaml": MESSAGES_TEXT})
    result = p.runpytest_subprocess("cases")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*[[]body.json[]]*HTML page*"])


def test_timeout_is_a_failed_item(relay_project: Callable, faulty_gateway: Callable) -> None:
    slow = faulty_gateway(latency=1.5)
    p = relay_project(slow, {"messages/text.yaml": MESSAGES_TEXT})
    p.path.joinpath("gateways.yaml").write_text(
        p.path.joinpath("gateways.yaml").read_text().replace("first_byte: 5", "first_byte: 0.3")
    )
    result = p.runpytest_subprocess("cases", "-k", "sync")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*[[]transport.timeout[]]*timed out waiting for the first byte*"])


def test_truncated_stream_and_bad_utf8(relay_project: Callable, faulty_gateway: Callable) -> None:
    p = relay_project(faulty_gateway("truncated-stream"), {"messages/text.yaml": MESSAGES_TEXT})
    p.runpytest_subprocess("cases", "-k", "stream").assert_outcomes(failed=1)
    assert "grammar.messages.no_message_stop" in _summary(p)["violation_codes"]
    p = relay_project(faulty_gateway("invalid-utf8"), {"messages/text.yaml": MESSAGES_TEXT})
    p.runpytest_subprocess("cases").assert_outcomes(failed=2)
    assert "transport.utf8" in _summary(p)["violation_codes"]


def test_unknown_gateway_is_a_usage_error(relay_project: Callable, refgateway: str) -> None:
    p = relay_project(refgateway, {"messages/text.yaml": MESSAGES_TEXT})
    result = p.runpytest_subprocess("cases", "--gateway", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*relaycheck: unknown gateway 'nope'*"])
