"""Report hooks for the pytest plugin: allure labels, attachments and steps per item, the
transcript kept out of JUnit, matrix.html after summary.json, the live progress display, and
``--fault`` for the built-in gateway. Registered from ``harness.pytest.plugin`` (one call each in
``pytest_addoption`` and ``pytest_configure``); allure is imported only when it is in use."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness.pytest.stash import MATRIX_PATH, META, REPORT_ERRORS, RESULT, RESULT_KEY, SETTINGS_KEY, SUMMARY_PATH
from harness.report.transcript import ANSWER_LIMIT, chunks_text, request_text, response_body, response_head


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
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:  # also for items skipped at setup: they belong in the same allure tree
            if self.allure and META in dict(item.user_properties):
                _allure_labels(json.loads(dict(item.user_properties)[META]))

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
        # The call report already carried the transcript to summary.json; the teardown report is
        # the one JUnit writes its <properties> from, and a transcript does not belong there.
        for i, (name, value) in enumerate(item.user_properties):
            if name == RESULT:
                entry = json.loads(value)
                if entry.pop("transcript", None) is not None:
                    item.user_properties[i] = (RESULT, json.dumps(entry))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = self.config.stash.get(SUMMARY_PATH, None)
        if path is None or self.config.getoption("no_matrix") or hasattr(self.config, "workerinput"):
            return
        from harness.report.html import write_matrix
        from harness.report.summary import load_summary

        with reporting(self.config, "matrix.html"):
            self.config.stash[MATRIX_PATH] = write_matrix(load_summary(path), path.parent / "matrix.html")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        path = self.config.stash.get(MATRIX_PATH, None)
        if path is not None:
            terminalreporter.write_line(f"relaycheck: matrix written to {path}")
        for line in self.config.stash.get(REPORT_ERRORS, []):
            terminalreporter.write_line(line, red=True)


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
