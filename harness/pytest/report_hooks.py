"""Report hooks for the pytest plugin: each item's record (harness/report/record.py) completed as
its phases report and carried on the reports (across xdist too), relaycheck's JUnit properties,
allure labels, attachments and steps per item, the live progress display, and ``--fault`` for the
built-in gateway. The report files themselves are written in one place, at the end of the run
(``RunCollector`` in plugin.py, through harness/report/writers.py). Registered from
``harness.pytest.plugin`` (``configure``); allure is imported only when it is in use."""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.pytest.stash import (
    ITEM_RECORD_KEY,
    RECORD_KEY,
    REPORT_ATTR,
    REPORT_ERRORS,
    RESULT_KEY,
    SETTINGS_KEY,
    SOURCE_KEY,
)
from harness.report.record import ItemRecord, Phase, measure

if TYPE_CHECKING:
    from harness.report.allure import AllureResults

# JUnit <properties> of a case item: who it is, and what it measured (without the transcript)
JUNIT_META = "relaycheck.meta"
JUNIT_RESULT = "relaycheck.result"
DETAILS_KEY = pytest.StashKey[str]()  # an item's first failure or skip text, for our allure writer
CONTEXT_KEY = pytest.StashKey[Any]()  # the session's Context, kept from the item's call for the writer


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
        alluredir = getattr(config.option, "allure_report_dir", None)
        # allure-pytest loaded (plain `pytest --alluredir`): fed through allure's API per item.
        # Turned off (`relaycheck run`/`replay`, or -p no:allure_pytest): our own writer, which
        # writes the same results from the item's record without allure's per-item machinery.
        own = bool(alluredir) and not config.pluginmanager.has_plugin("allure_pytest")
        self.allure = bool(alluredir) and not own
        self.writer: AllureResults | None = None
        self.session_ctx: Any = None
        if own:
            from harness.report.allure import AllureResults

            # Emptied once, by the controller: an xdist worker starting late must not delete what
            # another one already wrote.
            clean = (
                bool(getattr(config.option, "clean_alluredir", False))
                and not config.option.collectonly
                and not hasattr(config, "workerinput")
            )
            self.writer = AllureResults(Path(alluredir), clean)

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
        text = _text(report)
        record = record.after(call.when, _phase(report), text)
        if self.writer is not None and text and DETAILS_KEY not in item.stash:
            item.stash[DETAILS_KEY] = text  # the first failure or skip: allure's statusDetails
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
                _allure_labels(record)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            result = item.stash.get(RESULT_KEY, None)
            ctx = getattr(item, "funcargs", {}).get("relaycheck_context")
            if self.allure and result is not None and ctx is not None:
                _allure_result(result, ctx)
            if self.writer is not None and ctx is not None:
                item.stash[CONTEXT_KEY] = ctx  # the item's funcargs are gone once it has finished
                self.session_ctx = ctx  # for items skipped before their call (the same Context)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        start = int(time.time() * 1000)
        try:
            return (yield)
        finally:
            if self.writer is not None:
                with reporting(self.config, f"the allure result of {item.nodeid}"):
                    self._write_allure(item, start)
                if CONTEXT_KEY in item.stash:
                    del item.stash[CONTEXT_KEY]
            # Every report of the item is out. Its full result (exchanges, bodies, parsed events)
            # would otherwise stay on the item until the session ends: memory growing per item.
            if RESULT_KEY in item.stash:
                del item.stash[RESULT_KEY]

    def _write_allure(self, item: pytest.Item, start: int) -> None:
        record = item.stash.get(ITEM_RECORD_KEY, None)
        if record is None or self.writer is None:  # not a case item
            return
        from harness.report.allure import render

        ctx = item.stash.get(CONTEXT_KEY, None)
        known = ctx or self.session_ctx
        redactor = known.redactor if known is not None else _fallback_redactor(item.config)
        result = item.stash.get(RESULT_KEY, None)
        attachments, steps = render(result, redactor, ctx.level) if result is not None and ctx is not None else ([], [])
        self.writer.write_item(
            record,
            name=item.name,
            package=_package(item),
            tags=_tags(item),
            start=start,
            stop=int(time.time() * 1000),
            attachments=attachments,
            steps=steps,
            details=item.stash.get(DETAILS_KEY, None),
            redactor=redactor,
        )

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


def _fallback_redactor(config: pytest.Config) -> Any:
    """Before any item has run (so no session Context yet): the gateway's secrets and patterns."""
    from harness.redact import Redactor

    settings = config.stash[SETTINGS_KEY]
    return Redactor(settings.gateway.secrets(), config.stash[RECORD_KEY].redact_patterns)


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


def _allure_labels(record: ItemRecord) -> None:
    """allure-pytest's path (plain ``pytest --alluredir``): the labels through allure's API."""
    import allure

    from harness.report.allure import description, labels

    own = labels(record)
    for name, value in own[:4]:
        allure.dynamic.label(name, value)
        allure.dynamic.parameter(name, value)
    if record.features:
        allure.dynamic.feature(*record.features)
    allure.dynamic.parent_suite(record.gateway)
    allure.dynamic.suite(record.endpoint)
    allure.dynamic.sub_suite(record.case)
    allure.dynamic.description(description(record))


def _allure_result(result: Any, ctx: Any) -> None:
    """allure-pytest's path: the attachments and violation steps (harness/report/allure.py
    renders them, for both paths) through allure's API."""
    import allure

    from harness.report.allure import render

    attachments, steps = render(result, ctx.redactor, ctx.level)
    for a in attachments:
        allure.attach(a.content, a.name, allure.attachment_type.TEXT)
    for s in steps:
        step = allure.step(s.name)
        step.__enter__()
        for a in s.attachments:
            allure.attach(a.content, a.name, allure.attachment_type.JSON)
        # Closing the step with an AssertionError marks it failed (not broken), without a traceback.
        exc = AssertionError(s.message) if s.failed else None
        step.__exit__(type(exc) if exc else None, exc, None)


def _package(item: pytest.Item) -> str:
    """allure-pytest's package of an item: its file's path, dotted, without the suffix."""
    path = item.nodeid.split("::", 1)[0]
    return path.rsplit(".", 1)[0].replace("/", ".")


def _tags(item: pytest.Item) -> list[str]:
    return [m.name for m in item.own_markers if m.name not in _NOT_TAGS]


_NOT_TAGS = frozenset({"skip", "skipif", "xfail", "usefixtures", "filterwarnings", "parametrize"})
