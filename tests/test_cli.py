"""`relaycheck` as a user runs it: exit codes, one-line configuration errors, the README's
code table kept in step with the code registry."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from harness import codes
from tests.conftest import REPO, TEST_KEY


def relaycheck(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_readme_code_table_is_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- codes:start -->\n(.*)\n<!-- codes:end -->", readme, re.S)
    assert table, "README lacks the generated code table"
    assert table.group(1) == codes.markdown_table(), "run: relaycheck codes --markdown, and paste into README"


def test_run_against_builtin_gateway_passes(tmp_path: Path) -> None:
    res = relaycheck(
        "run",
        "--report-dir",
        str(tmp_path),
        "--cases",
        str(REPO / "cases" / "messages" / "basic.yaml"),
        cwd=REPO,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"]["failed"] == 0 and summary["totals"]["passed"] > 0
    assert summary["gateway"] == "local"


def test_run_against_relay_with_chat_completion_on_messages_exits_1(
    tmp_path: Path, faulty_gateway: Callable[..., str]
) -> None:
    url = faulty_gateway("chat-completion-on-messages")
    res = relaycheck(
        "run",
        "--base-url",
        url,
        "--endpoints",
        "messages",
        "--models",
        "claude-sonnet-4-20250514",
        "--report-dir",
        str(tmp_path),
        cwd=REPO,
        env={"RELAYCHECK_API_KEY": TEST_KEY},
    )
    assert res.returncode == 1, res.stdout[-2000:]
    assert "[object.kind] at $: another dialect's object (chat.completion)" in res.stdout
    assert TEST_KEY not in res.stdout + res.stderr
    assert TEST_KEY not in (tmp_path / "summary.json").read_text()


def test_configuration_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, message in [
        (["run", "--gateway", "nope"], "relaycheck: error: unknown gateway 'nope'"),
        (["run", "--base-url", "ftp://x"], "relaycheck: error: base URL must start with http:// or https://"),
        (["run", "--cases", str(tmp_path / "missing")], "relaycheck: error: no such case file or directory"),
        (["run", "--endpoints", "bedrock"], "unknown endpoint bedrock"),
    ]:
        res = relaycheck(*args, "--report-dir", str(tmp_path), cwd=REPO)
        assert res.returncode == 2, (args, res.stdout[-1000:], res.stderr[-1000:])
        assert message in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr


def test_nothing_selected_is_exit_2_with_a_reason(tmp_path: Path) -> None:
    res = relaycheck("run", "--report-dir", str(tmp_path), "--", "-k", "no-such-case", cwd=REPO)
    assert res.returncode == 2
    assert "no case matched the selection" in res.stderr


def test_lint_traffic_on_a_har_file(tmp_path: Path) -> None:
    good = {
        "id": "msg_01AbCdEfGhIjKlMnOpQrStUv",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 3,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    bad = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "x", "choices": []}

    def entry(body: dict) -> dict:
        return {
            "request": {
                "method": "POST",
                "url": "https://relay.example/v1/messages",
                "postData": {
                    "text": json.dumps({"model": "claude-sonnet-4-20250514", "max_tokens": 5, "messages": []})
                },
            },
            "response": {
                "status": 200,
                "headers": [{"name": "Content-Type", "value": "application/json"}],
                "content": {"text": json.dumps(body), "mimeType": "application/json"},
            },
        }

    har = tmp_path / "traffic.har"
    har.write_text(json.dumps({"log": {"entries": [entry(good), entry(bad)]}}))
    res = relaycheck("lint-traffic", str(har), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines[0].startswith("PASSED") and "#0" in lines[0]
    assert any(line.startswith("FAILED") and "#1" in line and "object.kind" in line for line in lines)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["tool"] == "lint-traffic" and summary["totals"]["failed"] == 1


def test_lint_traffic_on_a_cassette_and_corpus_jsonl(tmp_path: Path) -> None:
    cassette = next((REPO / "cassettes" / "local" / "messages").rglob("*stream].yaml"))
    res = relaycheck("lint-traffic", str(cassette), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("PASSED")
    row = {
        "source": "relay-log",
        "interaction_index": 3,
        "api": "chat",
        "host": "relay.example",
        "method": "POST",
        "url_path": "/v1/chat/completions",
        "request_body": None,
        "status": 200,
        "response_headers": {"content-type": "application/json"},
        "response_body_text": json.dumps({"type": "error", "error": {"message": "upstream failed"}}),
    }
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(row) + "\n")
    res = relaycheck("lint-traffic", str(log), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 1
    assert "FAILED   relay-log#3" in res.stdout and "response only" in res.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"]["response_only"] == 1
