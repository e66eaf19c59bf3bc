"""`relaycheck compare` (probe 6 of issue 16): a baseline recorded from the clean reference
gateway, then the built-in gateway with each fidelity fault compared against it, each fault named
with its code and its numbers; the clean gateway against its own baseline: no difference. Then the
engine's edges (items on one side only, unreadable cassettes, thinking, tool calls, events) and the
fidelity section of the reports (`relaycheck run --fidelity`). Only 127.0.0.1 is contacted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.fidelity import compare
from harness.fidelity.facts import Facts
from tests.conftest import REPO
from tests.test_cli import relaycheck

# Messages cases where every compared fact shows: stop sequences and max_tokens, thinking and its
# signature checks, and prompt caching (tests/data/compare/cache.yaml: no bundled case caches).
CASES = (
    "--cases",
    str(REPO / "cases" / "messages" / "generation.yaml"),
    "--cases",
    str(REPO / "cases" / "messages" / "thinking.yaml"),
    "--cases",
    str(REPO / "tests" / "data" / "compare" / "cache.yaml"),
    "--endpoints",
    "messages",
    "--models",
    "claude-sonnet-4-6",
    "--no-allure",
    "--no-junit",
)
# fault -> the code compare names it with (and the suite items where it shows)
NAMED_BY = {
    "injected-system-prompt": "fidelity.compare.input_tokens",
    "substituted-family": "fidelity.compare.input_tokens",
    "usage-inflated": "fidelity.compare.input_tokens",
    "stop-ignored": "fidelity.compare.stop_reason",
    "ignore-max-tokens": "fidelity.compare.stop_reason",
    "cache-control-stripped": "fidelity.compare.cache",
    "thinking-signature-not-checked": "fidelity.compare.status",
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean built-in gateway recorded once: what the official API's recording would be."""
    cwd = tmp_path_factory.mktemp("compare")
    res = relaycheck("record", *CASES, "--cassette-dir", "official", "--report-dir", "rec", cwd=cwd)
    assert res.returncode == 0, res.stdout + res.stderr
    return cwd / "official" / "local"


def _compare(baseline: Path, *extra: str) -> tuple[int, str, dict]:
    cwd = baseline.parent.parent
    report = cwd / ("r-" + "-".join(e.strip("-") for e in extra) if extra else "r-clean")
    res = relaycheck("compare", "--baseline", str(baseline), *CASES, *extra, "--report-dir", str(report), cwd=cwd)
    summary = json.loads((report / "summary.json").read_text())
    return res.returncode, res.stdout + res.stderr, summary


def test_clean_gateway_against_its_own_baseline_differs_nowhere(baseline: Path) -> None:
    code, out, summary = _compare(baseline)
    assert code == 0, out
    items = summary["compare"]["items"]
    assert len(items) >= 20 and all(e["outcome"] == "passed" for e in items), out
    assert [r["verdict"] for r in summary["fidelity"]] == ["consistent"]
    assert f"{len(items)} items compared, 0 differ, 0 on one side only, 0 unreadable" in out
    # The report section: the digest and matrix.html say so.
    assert summary["digest"]["fidelity"]["counts"] == {"consistent": 1, "inconsistent": 0, "inconclusive": 0}
    html = (baseline.parent.parent / "r-clean" / "matrix.html").read_text()
    assert '<section class="fidelity"' in html and 'data-verdict="consistent"' in html


@pytest.mark.parametrize("fault", sorted(NAMED_BY))
def test_each_fault_is_named_against_the_clean_baseline(baseline: Path, fault: str) -> None:
    code, out, summary = _compare(baseline, "--fault", fault)
    assert code == 1, out
    found = {v["code"] for e in summary["compare"]["items"] for v in e["violations"]}
    assert NAMED_BY[fault] in found, (fault, found)
    assert found <= set(compare.CODE_NAMES), found
    (verdict,) = summary["fidelity"]
    assert verdict["verdict"] == "inconsistent" and NAMED_BY[fault] in verdict["codes"]
    assert verdict["numbers"]["differences"][NAMED_BY[fault]] >= 1
    assert "INCONSISTENT" in "\n".join(_digest_lines(summary))
    if fault == "injected-system-prompt":  # the numbers: the hidden prompt's 40 tokens on every request
        diffs = [v for e in summary["compare"]["items"] for v in e["violations"] if v["code"] == NAMED_BY[fault]]
        assert diffs and all(v["actual"] - v["expected"] == 40 for v in diffs)


def _digest_lines(summary: dict) -> list[str]:
    from harness.report.digest import render_digest

    return render_digest(summary["digest"], width=10_000)


def test_items_on_one_side_and_unreadable_cassettes_are_reported(baseline: Path, tmp_path: Path) -> None:
    relay = tmp_path / "relay"
    shutil.copytree(baseline, relay)
    cassettes = sorted(p for p in relay.rglob("*.yaml") if p.is_file())
    cassettes[0].unlink()  # recorded in the baseline only
    extra = cassettes[1].with_name("another-case" + cassettes[1].name[cassettes[1].name.index("[") :])
    shutil.copy(cassettes[1], extra)  # another item name: in the relay only
    cassettes[2].write_text("interactions: [not a cassette\n")  # unreadable: reported, others still compared
    (tmp_path / "r").mkdir()  # an older run's summary there: never written into
    shutil.copy(baseline.parent.parent / "rec" / "summary.json", tmp_path / "r" / "summary.json")
    res = relaycheck("compare", "--baseline", str(baseline), "--replay", str(relay), "--report-dir", "r", cwd=tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out  # nothing differs among what both sides hold
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["tool"] == "compare"
    skipped = {e["skip_reason"] for e in summary["items"] if e["outcome"] == "skipped"}
    assert {"recorded in the baseline only", "recorded in the relay only"} <= skipped
    assert len(summary["compare"]["unreadable"]) == 1 and "unreadable" in out
    (verdict,) = summary["fidelity"]
    assert verdict["numbers"]["only_in_baseline"] == 2 and verdict["numbers"]["only_in_relay"] == 1
    assert "recorded in the baseline only" in out and "recorded in the relay only" in out


def test_a_usage_error_is_one_line_and_nothing_compared_is_no_pass(baseline: Path, tmp_path: Path) -> None:
    res = relaycheck("compare", "--baseline", str(tmp_path / "nothing"), "--replay", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 2 and "no such folder" in res.stderr and "Traceback" not in res.stderr
    relay = tmp_path / "relay"
    relay.mkdir()
    one = next(p for p in baseline.rglob("*.yaml") if p.is_file())
    shutil.copy(one, relay / ("another-case" + one.name[one.name.index("[") :]))
    res = relaycheck("compare", "--baseline", str(baseline), "--replay", str(relay), "--report-dir", "r", cwd=tmp_path)
    assert res.returncode == 2 and "nothing was compared" in res.stderr, res.stdout + res.stderr
    # Recording the relay into the baseline's own folder would make it agree with itself.
    res = relaycheck("compare", "--baseline", str(baseline), "--cassette-dir", str(baseline.parent), cwd=tmp_path)
    assert res.returncode == 2 and "into the baseline" in res.stderr, res.stdout + res.stderr


def test_compare_codes_are_registered() -> None:
    from harness.codes import all_codes
    from harness.grades import GRADES

    assert set(compare.CODE_NAMES) <= set(all_codes()) and set(compare.CODE_NAMES) <= set(GRADES)


def _facts(**kw: object) -> Facts:
    base: dict = {"status": 200, "request": {"model": "m"}, "input_tokens": 10, "stop": ("end_turn", None)}
    return Facts(**{**base, **kw})  # type: ignore[arg-type]


def test_thinking_tools_and_events_are_compared_never_the_text() -> None:
    signed = _facts(blocks=("thinking", "text"), thinking=(True, True))
    assert compare.compare_facts(signed, signed, "i") == []
    unsigned = _facts(blocks=("thinking", "text"), thinking=(True, False))
    dropped = _facts(blocks=("text",), thinking=(False, False))
    assert {v.code for v in compare.compare_facts(signed, unsigned, "i")} == {"fidelity.compare.thinking"}
    assert {v.code for v in compare.compare_facts(signed, dropped, "i")} == {
        "fidelity.compare.thinking",
        "fidelity.compare.shape",
    }
    call = _facts(tools=(("get_weather", ("location",)),))
    other_keys = _facts(tools=(("get_weather", ("city",)),))
    (v,) = compare.compare_facts(call, other_keys, "i")
    assert v.code == "fidelity.compare.tool_calls" and "location" in v.message and "city" in v.message
    stream = _facts(events=("message_start", "content_block_start:text", "content_block_delta:text_delta"))
    merged = _facts(events=("message_start", "content_block_delta:text_delta"))
    (v,) = compare.compare_facts(stream, merged, "i")
    assert v.code == "fidelity.compare.shape" and "event 1" in v.message
    # Another request (a later step carries an earlier answer): input tokens are not compared.
    assert compare.compare_facts(_facts(), _facts(request={"model": "m", "x": 1}, input_tokens=99), "i") == []
    # The same error status on both sides is agreement; another status is not.
    assert compare.compare_facts(_facts(status=400), _facts(status=400, input_tokens=None), "i") == []
    assert [v.code for v in compare.compare_facts(_facts(status=400), _facts(), "i")] == ["fidelity.compare.status"]


def test_a_baseline_without_an_answer_holds_the_relay_to_nothing() -> None:
    lost = Facts(None, {"model": "m"}, error="no answer (transport.timeout)")
    b = compare.Item("f.yaml::c[m-sync]", "chat", "m", False, (("/v1/chat/completions", lost),), "b")
    r = compare.Item("f.yaml::c[m-sync]", "chat", "m", False, (("/v1/chat/completions", _facts(status=500)),), "r")
    result = compare.compare_item(b, r)
    assert result.outcome == "skipped" and not result.violations and "no answer" in str(result.note)
    # The relay failing to answer where the official API answered is a difference.
    (v,) = compare.compare_item(r, b).violations
    assert v.code == "fidelity.compare.status" and "no answer" in v.message


def test_run_fidelity_adds_the_section_to_the_run_reports(tmp_path: Path) -> None:
    common = ("--cases", str(REPO / "cases" / "chat" / "basic.yaml"), "--endpoints", "chat", "--models", "gpt-4o")
    common += ("--no-allure", "--no-junit", "--fidelity")
    clean = relaycheck("run", *common, "--report-dir", "clean", cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    faulty = relaycheck("run", *common, "--fault", "injected-system-prompt", "--report-dir", "bad", cwd=tmp_path)
    assert faulty.returncode == 1, faulty.stdout + faulty.stderr  # the suite passes; the probe does not
    for name, want in (("clean", "consistent"), ("bad", "inconsistent")):
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        usage = next(r for r in summary["fidelity"] if r["probe"] == "usage")
        assert usage["verdict"] == want and usage["model"] == "gpt-4o" and "intercept" in usage["numbers"]
        assert summary["digest"]["fidelity"]["rows"]
        html = (tmp_path / name / "matrix.html").read_text()
        assert f'<tr data-verdict="{want}"' in html
    summary = json.loads((tmp_path / "bad" / "summary.json").read_text())
    usage = next(r for r in summary["fidelity"] if r["probe"] == "usage")
    assert usage["codes"] == ["fidelity.usage.injected_prompt"]
    assert summary["totals"]["failed"] == 0  # the suite's own items are untouched
    assert "INCONSISTENT" in faulty.stdout and "fidelity.usage.injected_prompt" in faulty.stdout
