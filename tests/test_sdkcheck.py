"""--sdk-check (harness/sdkcheck.py): the official SDK reads each answer; a raise or another fold is
sdk.break naming the SDK. Clean answers of the reference gateway give none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import sdkcheck
from harness.engine import evaluate_exchange
from tests.test_reports import MINI_CASES, relaycheck
from tests.test_sdk_grades import REQUESTS
from tests.test_sdk_grades import _sdk_check as _check

pytest.importorskip("openai")
pytest.importorskip("anthropic")


@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
def test_clean_answers_give_no_sdk_break(refgateway: str, stream: bool) -> None:
    for endpoint, path, body, headers in REQUESTS:
        assert _check(refgateway, endpoint, path, body, headers, stream) == [], endpoint


def test_run_with_sdk_check_and_a_fault(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "mini.yaml").write_text(MINI_CASES, encoding="utf-8")
    args = ("run", "--cases", "cases/mini.yaml", "--no-allure", "--no-junit", "--sdk-check")
    res = relaycheck(*args, "--report-dir", "bad", "--fault", "messages-no-message-start", cwd=tmp_path)
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    items = {e["id"]: e for e in json.loads((tmp_path / "bad" / "summary.json").read_text())["items"]}
    broken = {i for i, e in items.items() if any(v["code"] == "sdk.break" for v in e.get("violations", []))}
    assert broken == {i for i in items if "hello-messages" in i and i.endswith("stream]")}
    res = relaycheck(*args, "--report-dir", "clean", cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]


def test_no_sdk_break_on_official_recordings() -> None:
    """Official answers never trip the oracle (all 1,397 checked once by hand; a third of them here,
    to keep the suite fast)."""
    from tests.truth.corpus import SKIP_REASON, corpus_path, interactions

    if corpus_path() is None:
        pytest.skip(SKIP_REASON)
    checked, found = 0, []
    for it in interactions()[::3]:
        if it.endpoint is None or not it.request_recorded:
            continue
        try:
            req = json.loads(it.exchange.request.body or b"")
        except ValueError:
            continue
        ev = evaluate_exchange(it.exchange, it.endpoint, stream_requested=it.exchange.is_sse)
        found += [(it.id, v.message) for v in sdkcheck.check(it.exchange, it.endpoint, req, ev.final)]
        checked += 1
    assert checked > 400 and found == []
