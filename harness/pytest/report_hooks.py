"""Report hooks for the pytest plugin: each item's record (harness/report/record.py) completed as
its phases report and carried on the reports (across xdist too), relaycheck's JUnit properties,
allure labels, attachments and steps per item, the live progress display, and ``--fault`` for the
built-in gateway. The report files themselves are written in one place, at the end of the run
(``RunCollector`` in plugin.py, through harness/report/writers.py). Registered from
``harness.pytest.plugin`` (``configure``); allure is imported only when it is in use."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness.pytest.stash import (
    ITEM_RECORD_KEY,
    REPORT_ATTR,
    REPORT_ERRORS,
    RESULT_KEY,
    SETTINGS_KEY,
    SOURCE_KEY,
)
from harness.report.record import ItemRecord, Phase, measure
from harness.report.transcript import ANSWER_LIMIT, chunks_text, request_text, response_body, response_head

# JUnit <properties> of a case item: who it is, and what it measured (without the transcript)
JUNIT_META = "relaycheck.meta"
JUNIT_RESULT = "relaycheck.result"


def configure(config: pytest.Config) -> None:
    faults = config.getoption("fault") or []
    if faults:
        from harness.refgateway import FAULTS

        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise pytest.UsageError(f"relaycheck: unknown fault {', '.join(unknown)} (see `relaycheck faults`)")
        if not config.stash[SETTINGS_KEY].gateway.builtin:
            raise pytest.UsageError("relaycheck: --fault applies to the built-in reference gateway only")
    config.pluginmanager.register(ReportHooks(config), "relaycheck-reports")
    mode = config.getoption("relaycheck_progress")
    if mode != "off" and not hasattr(config, "workerinput"):
        from harness.pytest.progress import Progress, choose_mode

        config.pluginmanager.register(
            Progress(config, choose_mode(mode), config.getoption("progress_every")), "relaycheck-progress"
        )


class ReportHooks:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.allure = bool(getattr(config.option, "allure_report_dir", None))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        # Outside plugin.py's trylast wrapper: the report is already cleaned of secrets here.
        report = yield
        record = item.stash.get(ITEM_RECORD_KEY, None)
        if record is None:  # not a case item
            return report
        if call.when == "call" and record.measured is None and RESULT_KEY in item.stash:
            ctx = getattr(item, "funcargs", {}).get("relaycheck_context")
            if ctx is not None:  # measured once, from the runner's result
                record = record.with_measurement(measure(item.stash[RESULT_KEY], ctx, item.stash[SOURCE_KEY]))
        record = record.after(call.when, _phase(report), _text(report))
        item.stash[ITEM_RECORD_KEY] = record
        setattr(report, REPORT_ATTR, record)
        return report

    # xdist: a worker's report crosses to the controller as plain data; the record with it.
    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(self, config: pytest.Config, report: Any) -> Any:
        data = yield
        if isinstance(data, dict) and isinstance(data.get(REPORT_ATTR), ItemRecord):
            data[REPORT_ATTR] = data[REPORT_ATTR].as_data()
        return data

    @pytest.hookimpl(wrapper=True)
    def pytest_report_from_serializable(self, config: pytest.Config, data: Any) -> Any:
        report = yield
        raw = getattr(report, REPORT_ATTR, None)
        if isinstance(raw, dict):
            setattr(report, REPORT_ATTR, ItemRecord.from_data(raw))
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:  # also for items skipped at setup: they belong in the same allure tree
            record = item.stash.get(ITEM_RECORD_KEY, None)
            if self.allure and record is not None:
                _allure_labels(record.meta())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            result = item.stash.get(RESULT_KEY, None)
            ctx = getattr(item, "funcargs", {}).get("relaycheck_context")
            if self.allure and result is not None and ctx is not None:
                _allure_result(result, ctx)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            # Every report of the item is out. Its full result (exchanges, bodies, parsed events)
            # would otherwise stay on the item until the session ends: memory growing per item.
            if RESULT_KEY in item.stash:
                del item.stash[RESULT_KEY]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        # JUnit writes an item's <properties> from its teardown report: relaycheck's part is added
        # just before it, from the record (a transcript does not belong in JUnit).
        record = item.stash.get(ITEM_RECORD_KEY, None)
        if record is None:
            return
        item.user_properties.append((JUNIT_META, json.dumps(record.meta())))
        if record.measured is not None:
            item.user_properties.append((JUNIT_RESULT, json.dumps(record.measured.fields(transcript=False))))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.config.stash.get(REPORT_ERRORS, []):
            terminalreporter.write_line(line, red=True)


def _phase(report: pytest.TestReport) -> Phase:
    return "skipped" if report.skipped else "failed" if report.failed else "passed"


def _text(report: pytest.TestReport) -> str:
    """The skip reason of a skipped report, the failure report of a failed one."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return "" if report.passed else str(report.longrepr)


@contextmanager
def reporting(config: pytest.Config, what: str) -> Iterator[None]:
    """Writing one report: a failure is one clear line at the end of the run, never a crash that
    takes the session (and every other report) down with it."""
    try:
        yield
    except Exception as exc:  # any failure of one report must spare the others
        line = f"relaycheck: could not write {what}: {type(exc).__name__}: {exc} (the other reports were written)"
        config.stash.setdefault(REPORT_ERRORS, []).append(line[:2000])


def _allure_labels(meta: dict[str, Any]) -> None:
    import allure

    stream = "stream" if meta["stream"] else "sync"
    model = meta.get("model") or "request-model"
    for name, value in (
        ("gateway", meta["gateway"]),
        ("endpoint", meta["endpoint"]),
        ("model", model),
        ("stream", stream),
    ):
        allure.dynamic.label(name, value)
        allure.dynamic.parameter(name, value)
    if meta.get("features"):
        allure.dynamic.feature(*meta["features"])
    allure.dynamic.parent_suite(meta["gateway"])
    allure.dynamic.suite(meta["endpoint"])
    allure.dynamic.sub_suite(meta["case"])
    allure.dynamic.description(f"case {meta['case']!r} defined at {meta['file']}:{meta['line']}")


def _allure_result(result: Any, ctx: Any) -> None:
    """Per step: the request (secrets masked), the response, the SSE transcript with arrival
    offsets; then one allure step per violation, failed when it fails the run's level."""
    import allure

    text = allure.attachment_type.TEXT
    several = len(result.steps) > 1
    for s in result.steps:
        prefix = f"{s.step.name}: " if several else ""
        ex = s.exchange
        if ex is not None:
            allure.attach(request_text(ex.request, ctx.redactor), f"{prefix}request", text)
            head = response_head(ex, ctx.redactor)
            if ex.is_sse:
                final = s.evaluation.final if s.evaluation is not None else None
                # The structure is cleaned, then printed: cleaning printed JSON could break it.
                folded = (
                    json.dumps(ctx.redactor.value(final), indent=2, ensure_ascii=False)
                    if final is not None
                    else "(nothing)"
                )
                if len(folded) > ANSWER_LIMIT:  # an attachment never holds a whole oversized answer
                    folded = f"{folded[:ANSWER_LIMIT]}…[{len(folded) - ANSWER_LIMIT} more characters]"
                body = "final object folded from the stream:\n" + folded
            else:
                body = response_body(ex, ctx.redactor)
            allure.attach(f"{head}\n\n{body}", f"{prefix}response", text)
            if ex.is_sse:
                allure.attach(chunks_text(ex, ctx.redactor), f"{prefix}SSE transcript (arrival offsets)", text)
        for v in s.violations:
            _violation_step(prefix, v, v.fails(ctx.level), ctx.redactor)


def _violation_step(prefix: str, v: Any, failed: bool, redactor: Any) -> None:
    import allure

    tag = "" if v.severity == "error" else f" ({v.severity})"
    message = redactor.text(v.message)
    step = allure.step(f"{prefix}[{v.code}]{tag} at {v.path}: {message}")
    step.__enter__()
    detail = {k: v.as_dict()[k] for k in ("expected", "actual") if k in v.as_dict()}
    if detail:
        allure.attach(
            json.dumps(redactor.value(detail), indent=2, ensure_ascii=False),
            "expected / actual",
            allure.attachment_type.JSON,
        )
    # Closing the step with an AssertionError marks it failed (not broken), without a traceback.
    exc = AssertionError(message) if failed else None
    step.__exit__(type(exc) if exc else None, exc, None)
