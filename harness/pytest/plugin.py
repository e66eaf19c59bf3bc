"""pytest hooks only: options, collection entry, the session fixture, report hooks.

Registered through the ``pytest11`` entry point, so ``pytest cases/`` works after install.
"""

from __future__ import annotations

import gc
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import options, recording, resilience
from harness.breaker import Breaker
from harness.dialects import registry
from harness.exitcodes import collection_error, is_case_file_error, signals_deferred
from harness.failure import ConformanceFailure
from harness.gateways import ConfigError
from harness.pytest import report_hooks
from harness.pytest import shard as shard_hooks
from harness.pytest.collection import (
    BUDGET_KEY,
    SETTINGS_KEY,
    CaseFile,
    CaseItem,
    dropped_lines,
    dry_run,
    is_case_file,
    start_pool,
)
from harness.pytest.stash import RECORD_KEY, REPORT_ATTR, SUMMARY_PATH
from harness.recording.cassette import gateway_dir
from harness.redact import Redactor
from harness.report import writers
from harness.report.completeness import describe_run
from harness.report.digest import render_digest
from harness.report.record import ItemRecord, RunRecord
from harness.runner import Context
from harness.settings import Settings, from_options
from harness.transport import Transport

_OPTIONS = (
    "gateway",
    "base_url",
    "api_key",
    "auth",
    "models",
    "endpoints",
    "report_dir",
    "gateways_file",
    "level",
    "profile",
    "anthropic_version",
    "max_answer_bytes",
)
_MARKERS = {
    "chat": "OpenAI Chat Completions items",
    "messages": "Anthropic Messages items",
    "responses": "OpenAI Responses items",
    "stream": "streamed items",
    "sync": "non-streamed items",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser.getgroup("relaycheck", "relaycheck: conformance of LLM API relays").addoption)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in _MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    for name in registry.names():  # one marker per registered dialect (gemini, ...)
        if name not in _MARKERS:
            config.addinivalue_line("markers", f"{name}: {name} items")
    opts = {name: config.getoption(name) for name in _OPTIONS}
    if config.getoption("sdk_check", False):
        from harness import sdkcheck

        missing = sdkcheck.available()
        if missing:
            raise pytest.UsageError(missing)
    try:
        config.stash[SETTINGS_KEY] = settings = from_options(opts)
        gateways_file = config.getoption("gateways_file")
        config.stash[RECORD_KEY] = recording.from_values(
            config.getoption,
            config.rootpath,
            settings.gateway.name,
            Path(gateways_file) if gateways_file else None,
            builtin=settings.gateway.builtin,
        )
    except ConfigError as exc:
        raise pytest.UsageError(f"relaycheck: {exc}") from None
    if config.getoption("fault") and config.stash[RECORD_KEY].mode == "none":
        # A replay answers from cassettes and never starts the gateway: the fault would be ignored.
        raise pytest.UsageError(
            "relaycheck: --fault needs the live built-in gateway; a replay (--record-mode none) never starts it"
        )
    budget = config.getoption("token_budget")
    if budget is not None:
        if budget <= 0:
            raise pytest.UsageError(f"relaycheck: --token-budget must be a positive number, not {budget}")
        from harness.cost import TokenBudget

        config.stash[BUDGET_KEY] = TokenBudget(budget)
    backend = _rate_limit_backend(config, settings.gateway)
    if backend and (config.getoption("rate_limit") or settings.gateway.rate_limit_rpm):
        from harness import shared_limit

        try:  # once, at start: an unreachable or misspelt backend is one usage error, not N failed items
            if hasattr(config, "workerinput"):
                shared_limit.resolve_url(backend)  # the controller pinged it already
            else:
                shared_limit.check(backend)
        except ConfigError as exc:
            raise pytest.UsageError(f"relaycheck: {exc}") from None
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(RunCollector(config), "relaycheck-summary")
        _warn_without_key(settings.gateway, config.stash[RECORD_KEY].mode)
    _freeze()  # the modules imported so far (pytest, httpx, allure, ours): collection need not walk them
    shard_hooks.configure(config)  # --shard K/N
    report_hooks.configure(config)  # allure, JUnit hygiene, matrix.html, progress; checks --fault


def _rate_limit_backend(config: pytest.Config, gateway: Any) -> str | None:
    return config.getoption("rate_limit_backend") or gateway.rate_limit_backend


def _warn_without_key(gateway: Any, record_mode: str | None) -> None:
    """One line on stderr when a live relay is tested without a key: every item would fail
    with 401s that look like the relay's fault."""
    if gateway.builtin or gateway.api_key() or record_mode == "none":
        return
    sys.stderr.write(
        f"relaycheck: warning: no API key for gateway {gateway.name!r}: ${gateway.api_key_env} is not set "
        "and no --api-key was given; requests go out unauthenticated\n"
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # A YAML file is a case file inside a `cases/` directory, or when named on the command line.
    config = parent.config
    named = file_path.suffix in (".yaml", ".yml") and any(
        Path(arg.split("::")[0]).resolve() == file_path for arg in config.args
    )
    if named or is_case_file(file_path, config.rootpath):
        return CaseFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """--dry-run: list what would be sent and what it may cost, then stop (nothing is sent)."""
    if not session.config.getoption("dry_run") or hasattr(session.config, "workerinput"):
        return None
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in dry_run(session):
        if reporter is not None:
            reporter.write_line(line)
        else:
            print(line)
    return True


_frozen: list[bool] = []  # whether this process froze the collector's view (one entry per session)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # What exists once collection is over (modules, items, their cases) lives until the session
    # ends. Moved out of the cyclic collector's sight, so its full collections, which otherwise
    # walk all of it again each time the run's own objects have grown by a quarter, stay short:
    # 9 % of a 3,000-item replay's CPU time before, growing with the item count.
    if any(isinstance(item, CaseItem) for item in session.items):
        _freeze()


def _freeze() -> None:
    gc.freeze()
    _frozen.append(True)


@pytest.hookimpl(trylast=True)  # after pytest's own collections at unconfigure, which then skip it all
def pytest_unconfigure(config: pytest.Config) -> None:
    if _frozen:  # back to normal, for whoever runs more in this process (pytester, an IDE)
        _frozen.clear()
        gc.unfreeze()


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return dropped_lines(config)


def pytest_report_header(config: pytest.Config) -> str:
    return recording.describe(config.stash[RECORD_KEY], config.stash[SETTINGS_KEY].gateway.name)


@pytest.fixture(scope="session")
def relaycheck_context(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> Iterator[Context]:
    """The gateway under test, the transport and the redactor, shared by all items of a
    process (each xdist worker has its own)."""
    settings: Settings = pytestconfig.stash[SETTINGS_KEY]
    rec: recording.RecordOptions = pytestconfig.stash[RECORD_KEY]
    gateway = settings.gateway
    server = None
    live = rec.needs_live(gateway.name, [item.nodeid for item in request.session.items])
    if gateway.builtin:
        from dataclasses import replace

        key = "rc-local-" + secrets.token_hex(16)  # lives only in this process
        models = {e: [m.name for m in gateway.models_for(e)] for e in registry.names()}
        # The gateway does what the tags say (and refuses the rest), so they are its real capabilities.
        tags = {e: {m.name: m.capabilities for m in gateway.models_for(e) if m.declared} for e in models}
        gateway = replace(gateway, api_key_value=key)
        if live:  # a run replayed entirely from cassettes starts no gateway: nothing listens or connects
            from harness.refgateway import start_in_thread  # starlette and uvicorn: only when it runs

            faults = tuple(pytestconfig.getoption("fault") or ())
            server = start_in_thread(key, models=models, faults=faults, capability_map=tags)
        base_url = server.base_url if server else "http://relaycheck-replay.invalid"
    else:
        base_url = gateway.base_url
    redactor = Redactor(gateway.secrets(), rec.redact_patterns)
    live_transport = Transport(gateway.timeouts, max_bytes=gateway.max_answer_bytes)
    transport = recording.session_transport(live_transport, rec, gateway.name, redactor)
    pool = None
    try:
        rpm = pytestconfig.getoption("rate_limit") or gateway.rate_limit_rpm
        retry, limiter = resilience.for_gateway(
            gateway.name,
            base_url,
            gateway.retries,
            gateway.retry_budget_s,
            rpm,
            backend=_rate_limit_backend(pytestconfig, gateway),
            api_key=gateway.api_key(),
        )
        ctx = Context(
            gateway=gateway,
            base_url=base_url,
            transport=transport,
            redactor=redactor,
            level=settings.level,
            profile=settings.profile,
            retry=retry,
            limiter=limiter,
            extras_fail=pytestconfig.getoption("extras") == "fail",
            sdk_check=bool(pytestconfig.getoption("sdk_check")),
            breaker=Breaker(gateway.unreachable_after),
        )
        pool = start_pool(request.session, ctx, rec, pytestconfig.getoption("concurrency") or gateway.concurrency)
        yield ctx
    finally:
        if pool is not None:
            pool.close()
        transport.close()
        if server is not None:
            server.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Any:
    # Every report (summary.json, junit.xml, matrix.html) is written here: a second Ctrl-C or
    # SIGTERM must not cut one in half.
    with signals_deferred():
        return (yield)


# trylast: the innermost wrapper, so allure and JUnit read the report as cleaned here.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, ConformanceFailure):
        report.longrepr = str(call.excinfo.value)  # the violations say it all; no traceback
    elif report.skipped and call.when == "call" and isinstance(report.longrepr, tuple):
        # Skipped while running (not served, token budget): point at the case, not at harness code.
        path, line = item.reportinfo()[:2]
        report.longrepr = (str(path), (line or 0) + 1, report.longrepr[2])
    if report.failed or report.sections:
        # Any other traceback may show a key: in an exception message, or in a frame's locals
        # under -l/--showlocals (a repr cut short keeps the key's start). Cleaned as text.
        _redact_report(report, _redactor(item))
    return report


def _redactor(item: pytest.Item) -> Redactor:
    ctx = getattr(item, "funcargs", {}).get("relaycheck_context")
    if isinstance(ctx, Context):
        return ctx.redactor  # it also knows the built-in gateway's per-session key
    settings: Settings = item.config.stash[SETTINGS_KEY]
    return Redactor(settings.gateway.secrets(), item.config.stash[RECORD_KEY].redact_patterns)


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    if report.failed and report.longrepr is not None:
        text = str(report.longrepr)
        cleaned = redactor.text(text)
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


class RunCollector:
    """Keeps each item's record as its reports arrive (also from xdist workers, whose records
    travel on the reports) and, at the end of the session, hands the run's record to every
    report writer (harness/report/writers.py): the one place reports are written."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.items: dict[str, ItemRecord] = {}
        self.started = time.time()
        self.selected: int | None = None  # None: not known (collection never finished)
        self.collection_errors: list[dict[str, Any]] = []
        self.interrupted = False
        self.run: dict[str, Any] | None = None
        self.digest: dict[str, Any] | None = None
        self.written: dict[str, Path] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, REPORT_ATTR, None)
        if isinstance(record, ItemRecord):  # the latest phase's record says it all
            self.items[record.id] = record

    # Case items only: the plugin is loaded in every pytest session, also ones without cases.
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selected = sum(1 for item in session.items if isinstance(item, CaseItem))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        # Each worker collects the whole selection.
        self.selected = max(self.selected or 0, sum(1 for i in ids if ".yaml::" in i or ".yml::" in i))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and is_case_file_error(report.nodeid, str(report.longrepr)):
            self.collection_errors.append(collection_error(report.nodeid, str(report.longrepr)))

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = self._record()
        if run is None:
            return  # nothing of relaycheck's ran (e.g. a pytest session of other tests)
        with report_hooks.reporting(self.config, "any report (the run's summary could not be built)"):
            summary = run.summary  # the run serialized once; every writer reads it
            self.digest, self.run = summary["digest"], summary["run"]
        if self.run is None:
            return
        settings: Settings = self.config.stash[SETTINGS_KEY]
        off = frozenset({"matrix"} if self.config.getoption("no_matrix") else ())
        for writer in writers.chosen(off):
            with report_hooks.reporting(self.config, writer.name):
                self.written[writer.title] = writer.write(run, settings.report_dir)
        if "summary" in self.written:
            self.config.stash[SUMMARY_PATH] = self.written["summary"]

    def _record(self) -> RunRecord | None:
        settings: Settings = self.config.stash[SETTINGS_KEY]
        items = tuple(self.items.values())
        ran = not (self.config.option.collectonly or self.config.getoption("dry_run"))
        if (
            not items
            and not self.collection_errors
            and not (self.interrupted and self.selected)
            and not (ran and shard_hooks.active(self.config))  # a shard that owns nothing says so
        ):
            return None
        return RunRecord(
            items,
            gateway=settings.gateway.name,
            level=settings.level,
            started=self.started,
            selected=self.selected,
            interrupted=self.interrupted,
            collection_errors=tuple(self.collection_errors),
            shard=shard_hooks.record(self.config),
            matrix=None if self.config.getoption("no_matrix") else str(settings.report_dir / "matrix.html"),
            builtin=settings.gateway.builtin,
            faults=tuple(self.config.getoption("fault") or ()),
            redactor=Redactor(settings.gateway.secrets(), self.config.stash[RECORD_KEY].redact_patterns),
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        measured = [r.measured for r in self.items.values() if r.measured is not None]
        ran = [r for r in self.items.values() if r.outcome != "skipped"]
        replayed = [r for r in ran if r.measured is not None and r.measured.source.startswith("replayed")]
        if replayed:
            # A replayed verdict is not the relay's answer today: never let it pass for one.
            rec: recording.RecordOptions = self.config.stash[RECORD_KEY]
            where = recording.display(gateway_dir(rec.cassette_dir, self.config.stash[SETTINGS_KEY].gateway.name))
            terminalreporter.write_line(
                f"relaycheck: {len(replayed)} of {len(ran)} items replayed from {where} (not live)", yellow=True
            )
        # Cassette notes never fail an item, so say here what would otherwise hide in the JSON.
        for code, text in _CASSETTE_NOTES.items():
            items = [
                r.id for r in self.items.values() if r.measured and any(n["code"] == code for n in r.measured.notes)
            ]
            if items:
                terminalreporter.write_line(f"relaycheck: {len(items)} item(s) {text}, e.g. {items[0]}")
        # Said once here (from the entries, so xdist workers' items count too); each item that
        # was not sent carries only a one-line failure.
        down = [v["message"] for m in measured for v in m.violations if v["code"] == "transport.unreachable"]
        if down:
            name = self.config.stash[SETTINGS_KEY].gateway.name
            headline = down[0].split("; not sent")[0]
            terminalreporter.write_line(
                f"relaycheck: {name}: {headline}; {len(down)} item(s) not sent", red=True, bold=True
            )
        for title, path in self.written.items():
            terminalreporter.write_line(f"relaycheck: {title} written to {path}")
        if self.run is not None and not self.run["complete"]:
            terminalreporter.write_line(f"relaycheck: INCOMPLETE run: {describe_run(self.run)}", red=True, bold=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # After pytest's own summary lines, so the digest is the last thing on the screen.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if self.digest is not None and reporter is not None:
            reporter.write_line("")
            for line in render_digest(self.digest):
                reporter.write_line(line)


_CASSETTE_NOTES = {
    "replay.stale": "replayed a stale cassette (re-record them: relaycheck record)",
    "replay.unused": "left recorded interactions unused",
}
