"""Small pieces of the engine: JSON paths, matchers, placeholders, redaction, case-file errors,
gateway configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cases import CaseFileError, Location, Matcher, load_case_file
from harness.expect import check_matcher, check_streaming, check_tool_calls
from harness.gateways import ConfigError, Overrides, resolve
from harness.jsonpath import MISSING, PathError
from harness.jsonpath import resolve as jp
from harness.model import Chunk, Exchange, ToolCall, WireRequest
from harness.redact import MASK, Redactor
from harness.runner import substitute

DOC = {"content": [{"type": "text", "text": "hi"}, {"type": "tool_use", "id": "toolu_1", "input": {"n": 2}}]}
LOC = Location("x.yaml", 1, 1)


def test_json_paths() -> None:
    assert jp(DOC, "$.content[1].id") == "toolu_1"
    assert jp(DOC, "$.content[-1].input.n") == 2
    assert jp(DOC, "$.content[*].type") == ["text", "tool_use"]
    assert jp(DOC, "$.content[?type==tool_use].id") == ["toolu_1"]
    assert jp(DOC, '$["content"][0].text') == "hi"
    assert jp(DOC, "$.nope") is MISSING
    with pytest.raises(PathError):
        jp(DOC, "content")


@pytest.mark.parametrize(
    ("op", "value", "path", "ok"),
    [
        ("equals", "hi", "$.content[0].text", True),
        ("equals", 2.0, "$.content[1].input.n", True),
        ("equals", True, "$.content[1].input.n", False),
        ("contains", "h", "$.content[0].text", True),
        ("contains", "tool_use", "$.content[*].type", True),
        ("regex", "^toolu_", "$.content[1].id", True),
        ("regex", "^msg_", "$.content[1].id", False),
        ("one_of", ["a", "hi"], "$.content[0].text", True),
        ("type", "integer", "$.content[1].input.n", True),
        ("type", "string", "$.content[1].input.n", False),
        ("present", True, "$.content[9]", False),
        ("absent", True, "$.content[9]", True),
        ("absent", True, "$.content[0]", False),
    ],
)
def test_matchers(op: str, value: object, path: str, ok: bool) -> None:
    v = check_matcher(Matcher(path, op, value, LOC), DOC)
    assert (v is None) is ok, v
    if v is not None:
        assert v.code.startswith("expect.")


def test_tool_call_expectations() -> None:
    from harness.cases import ToolCallsExpectation

    calls = [ToolCall("a", "{}", "call_1"), ToolCall("b", "{}", "call_1")]
    codes = {v.code for v in check_tool_calls(ToolCallsExpectation(count=1, names=("c",)), calls)}
    assert codes == {"tool.count", "tool.name"}
    assert {v.code for v in check_tool_calls(ToolCallsExpectation(min=1), [])} == {"tool.missing"}


def test_placeholders_keep_types() -> None:
    names = {"id": "toolu_1", "input": {"n": 2}}
    assert substitute({"a": "${input}", "b": "id=${id}", "c": ["${id}"]}, names) == {
        "a": {"n": 2},
        "b": "id=toolu_1",
        "c": ["toolu_1"],
    }
    with pytest.raises(KeyError):
        substitute("${missing}", names)


def test_redaction() -> None:
    r = Redactor(["my-secret-key-123"], patterns=[r"org-[A-Za-z0-9]+"])
    text = r.text("key my-secret-key-123 org-ABC sk-ant-abcdefghijklmnopqrstuvwxyz Bearer abcdefghijklmnop")
    assert "my-secret" not in text and "org-ABC" not in text and "sk-ant" not in text
    assert "abcdefghijklmnop" not in text and text.count(MASK) == 4
    assert r.text("GET /v1/models?api_key=abc123&x=1 proj_ABCDEFGHIJKLMNOPQR") == (
        f"GET /v1/models?api_key={MASK}&x=1 {MASK}"
    )
    assert r.text("plain model output, nothing secret") == "plain model output, nothing secret"
    assert r.headers({"Authorization": "Bearer x", "x-api-key": "k", "Accept": "a"}) == {
        "Authorization": MASK,
        "x-api-key": MASK,
        "Accept": "a",
    }


def _exchange(offsets: list[float], total: float) -> Exchange:
    return Exchange(
        WireRequest("POST", "http://127.0.0.1/v1/x", {}),
        200,
        {"content-type": "text/event-stream"},
        tuple(Chunk(o, b"data: {}\n\n") for o in offsets),
        offsets[0] * 1000,
        total * 1000,
    )


def test_buffered_stream_detected_and_short_streams_noted() -> None:
    assert [v.code for v in check_streaming(_exchange([1.30, 1.301, 1.302], 1.302), 10)] == ["stream.buffered"]
    assert check_streaming(_exchange([0.05, 0.6, 1.4], 1.4), 10) == []
    assert [v.severity for v in check_streaming(_exchange([0.30, 0.301, 0.302], 0.302), 10)] == ["note"]
    notes = check_streaming(_exchange([0.001, 0.002], 0.002), 10)
    assert [v.severity for v in notes] == ["note"]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("cases: []\n", "1:8", "cases: [] should be non-empty"),
        (
            "cases:\n  - id: a\n    description: d\n    endpoint: bedrock\n    request: {}\n",
            "4:15",
            "endpoint: 'bedrock' is not one of",
        ),
        ("cases:\n  - id: a\n    description: d\n    endpoint: chat\n", "2:5", "either request"),
        (
            "cases:\n  - {id: a, description: d, endpoint: chat, request: {}}\n"
            "  - {id: a, description: d, endpoint: chat, request: {}}\n",
            "3:5",
            "duplicate case id 'a'",
        ),
        ("cases:\n  - id: a\n    id: b\n", "3:5", "duplicate key 'id'"),
        ("- just a list\n", "1:1", "a case file is a mapping"),
        ("cases:\n  - id: a\n    description: d\n    request: {body: {}}\n", "2:5", "names no endpoint"),
    ],
)
def test_case_file_errors_name_line_and_column(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CaseFileError) as exc:
        load_case_file(path, "cases/c.yaml")
    assert str(exc.value).startswith(f"cases/c.yaml:{where}: "), str(exc.value)
    assert message in str(exc.value)


def test_gateway_overrides(tmp_path: Path) -> None:
    gw = resolve(Overrides(base_url="https://relay.example/v1", models=("m1", "claude-sonnet-4-6"), auth="both"))
    assert gw.url("/v1/messages") == "https://relay.example/v1/messages"
    assert gw.auth == "both"
    assert [m.name for m in gw.models_for("chat")] == ["m1", "claude-sonnet-4-6"]
    # A bare --base-url does not borrow the default gateway's tags: capabilities are unknown.
    assert not gw.model("chat", "claude-sonnet-4-6").declared
    assert not gw.model("messages", "m1").capabilities
    local = resolve(Overrides(models=("claude-sonnet-4-6",)))
    assert local.model("messages", "claude-sonnet-4-6").declared  # described there: keeps its tags
    assert "thinking" in local.model("messages", "claude-sonnet-4-6").capabilities
    assert not local.model("chat", "claude-sonnet-4-6").declared  # not described on chat
    listed = tmp_path / "listed.yaml"
    listed.write_text("gateways:\n  x:\n    base_url: http://h\n    models: {chat: [a], responses: {b: []}}\n")
    gws = resolve(Overrides(gateways_file=listed))
    assert not gws.model("chat", "a").declared  # a plain list: unknown
    assert gws.model("responses", "b").declared and not gws.model("responses", "b").capabilities  # none
    bad = tmp_path / "g.yaml"
    bad.write_text("gateways:\n  x:\n    base_url: http://h\n    models: {chat: {m: [telepathy]}}\n")
    with pytest.raises(ConfigError, match="unknown capability"):
        resolve(Overrides(gateways_file=bad))


def test_tool_arguments_against_a_schema_no_validator_can_apply_do_not_crash() -> None:
    """A request may declare an invalid tool schema (a docs page did: "type": "}string"); the
    official API would reject it, and judging the answer against it must not crash the run."""
    from harness.dialects.kit.tools import check_tool_arguments
    from harness.model import ToolCall

    calls = [ToolCall("f", '{"a": "x"}')]
    bad_type = {"f": {"type": "object", "properties": {"a": {"type": "}string"}}}}
    bad_ref = {"f": {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}}
    assert check_tool_arguments(calls, bad_type) == []
    assert check_tool_arguments(calls, bad_ref) == []
    good = {"f": {"type": "object", "properties": {"a": {"type": "integer"}}}}
    assert [v.code for v in check_tool_arguments(calls, good)] == ["tool.args"]
