"""The typed records reports are written from (harness/report/record.py) and the writers'
interface (harness/report/writers.py): an item's outcome follows its phases' reports, a record
crosses xdist intact, the run is serialized once and redacted by value, and every registered
writer writes its file from it. End-to-end runs are in test_reports.py and test_run_complete.py."""

from __future__ import annotations

import json
from pathlib import Path

from harness.redact import MASK, Redactor
from harness.report import writers
from harness.report.completeness import UNFINISHED
from harness.report.record import ItemRecord, Measurement, RunRecord

KEY = "rc-test-key-5f1e2d3c4b5a69788796a5b4c3d2e1f0"


def _item(**kw: object) -> ItemRecord:
    base = ItemRecord(
        "cases/chat/x.yaml::hello[gw-m-sync]", "hello", "cases/chat/x.yaml", 3, "chat", "m", False, "gw", ()
    )
    return base if not kw else ItemRecord(**{**base.__dict__, **kw})  # type: ignore[arg-type]


def _measured(violations: tuple[dict[str, object], ...] = (), message: str = "fine") -> Measurement:
    notes = ({"code": "stream.buffered", "path": "$", "message": message, "severity": "note"},)
    return Measurement(violations, notes, 200, None, 1.5, 3.0, 10, 5, None, 1, "live", "POST /v1/chat/completions")


def test_an_item_is_unfinished_until_its_call_reports() -> None:
    started = _item().after("setup", "passed", "")
    assert (started.outcome, started.error) == ("error", UNFINISHED)  # an interrupt now: never a pass
    passed = started.with_measurement(_measured()).after("call", "passed", "")
    assert (passed.outcome, passed.error) == ("passed", None)
    assert passed.after("teardown", "passed", "") == passed


def test_violations_fail_an_item_any_other_failure_is_an_error() -> None:
    bad = ({"code": "schema.type", "path": "$.id", "message": "not a string"},)
    failed = _item().with_measurement(_measured(bad)).after("call", "failed", "[schema.type] ...")
    assert (failed.outcome, failed.error) == ("failed", None)
    crashed = _item().after("call", "failed", "x" * 3000)  # the harness raised: no result
    assert crashed.outcome == "error" and crashed.error == "x" * 2000
    torn = failed.after("teardown", "failed", "teardown broke")
    assert (torn.outcome, torn.error) == ("error", "teardown broke")
    skipped = _item().after("setup", "skipped", "Skipped: not served: ...")
    assert (skipped.outcome, skipped.error, skipped.skip_reason) == ("skipped", None, "not served: ...")


def test_summary_entry_keys() -> None:
    unrun = _item().after("setup", "skipped", "capability not declared")
    assert set(unrun.entry()) == {
        *("id", "case", "file", "line", "endpoint", "model", "stream", "gateway", "features", "outcome"),
        *("violations", "ttft_ms", "latency_ms", "skip_reason"),
    }
    ran = _item().with_measurement(_measured()).after("call", "passed", "").entry()
    assert {"notes", "status", "attempts", "source", "transcript", "output_tps"} <= set(ran)
    assert "error" not in ran and "reproduce" not in ran
    assert "transcript" not in _measured().fields(transcript=False)  # JUnit's property


def test_a_record_crosses_xdist_as_plain_data() -> None:
    record = _item(features=("tools",)).with_measurement(_measured(({"code": "c", "path": "$", "message": "m"},)))
    data = record.as_data()
    assert json.loads(json.dumps(data)) == data  # nothing but plain data on the wire
    assert ItemRecord.from_data(json.loads(json.dumps(data))) == record


def test_every_writer_writes_from_the_one_redacted_summary(tmp_path: Path) -> None:
    leaky = _item().with_measurement(_measured(message=f"echoed {KEY}")).after("call", "passed", "")
    run = RunRecord((leaky,), gateway="gw", level="strict", started=0.0, selected=1, redactor=Redactor([KEY]))
    assert run.summary is run.summary  # serialized once
    paths = [w.write(run, tmp_path) for w in writers.chosen()]
    assert [p.name for p in paths] == [w.name for w in writers.WRITERS] == ["summary.json", "matrix.html"]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert KEY not in text and MASK in text
    summary = json.loads(paths[0].read_text(encoding="utf-8"))
    assert summary["totals"] == {"items": 1, "passed": 1, "failed": 0, "skipped": 0, "error": 0}
    assert summary["run"]["complete"] is True
    assert [w.name for w in writers.chosen(frozenset({"matrix"}))] == ["summary.json"]
    assert [w.name for w in writers.chosen(frozenset({"summary"}))] == ["summary.json", "matrix.html"]  # not optional
