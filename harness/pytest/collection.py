"""Case files become pytest items: one real ``pytest.Function`` per case x model x stream x
gateway, so fixtures, ``-k``, ``-m`` and ``-n`` work as everywhere else."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.cases import CaseFileError, load_case_file
from harness.pool import LivePool
from harness.pytest.stash import (  # re-exported: the keys live in one module (no import circle)
    BUDGET_KEY,
    DROPPED_KEY,
    ITEM_RECORD_KEY,
    POOL_KEY,
    RECORD_KEY,
    RESULT_KEY,
    SETTINGS_KEY,
    SOURCE_KEY,
    VARIANT_KEY,
)
from harness.recording import CassetteTransport, RecordOptions, item_scope
from harness.report.record import ItemRecord
from harness.runner import Context, Variant, failure_for, run_variant, with_notes
from harness.settings import Settings
from harness.variants import expand, not_served_reason


def is_case_file(path: Path, root: Path) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = path
    return "cases" in rel.parts[:-1]


class CaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        settings: Settings = self.config.stash[SETTINGS_KEY]
        display = (
            self.path.relative_to(self.config.rootpath).as_posix()
            if self.path.is_relative_to(self.config.rootpath)
            else str(self.path)
        )
        for case in load_case_file(self.path, display):
            outside = [s.endpoint for s in case.steps if s.endpoint not in settings.endpoints]
            if case.endpoint in settings.endpoints and outside:  # said at the end of collection
                self.config.stash.setdefault(DROPPED_KEY, []).append((f"{display}::{case.id}", outside))
            for variant, skip in expand(case, settings.gateway, settings.endpoints):
                yield _item(self, variant, skip)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        # A malformed case file is one line, file:line:col: what is wrong. No traceback.
        if isinstance(excinfo.value, CaseFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)  # type: ignore[arg-type]


def _run(request: pytest.FixtureRequest, relaycheck_context: Any) -> None:
    item = request.node
    variant: Variant = item.stash[VARIANT_KEY]
    pool = item.config.stash.get(POOL_KEY, None)
    source = _source(item, relaycheck_context)  # before the run: recording creates the cassette
    budget = item.config.stash.get(BUDGET_KEY, None) if source != "replayed" else None  # a replay is free
    if pool is not None and item.nodeid in pool:
        pooled = pool.result(item.nodeid)  # run live ahead of this item (no cassette)
        if pooled is None and budget is not None:
            pytest.skip(budget.reason())  # the budget was spent before its turn: never sent
        assert pooled is not None
        result = pooled
    else:
        if budget is not None and budget.exhausted():
            pytest.skip(budget.reason())
        # The item's cassette (record/replay) is open while it runs; a live run has none.
        with item_scope(relaycheck_context.transport, item.nodeid) as replay:
            ctx = relaycheck_context
            if replay.unjudged_streaming is not None:  # the cassette says why; this item's own Context
                ctx = replace(ctx, judge_streaming=False, streaming_skip_reason=replay.unjudged_streaming)
            result = run_variant(variant, ctx)
        result = with_notes(result, replay.notes)
        if budget is not None:
            budget.add(result)
    # The report hooks make the item's record from these when the call reports (report_hooks.py).
    item.stash[RESULT_KEY] = result
    item.stash[SOURCE_KEY] = source
    not_served = not_served_reason(result, relaycheck_context.gateway, relaycheck_context.level)
    if not_served:
        pytest.skip(not_served)
    failure = failure_for(result, item.nodeid, relaycheck_context)
    if failure is not None:
        raise failure


def _source(item: pytest.Item, ctx: Context) -> str:
    """Where this item's answers come from, for summary.json: live, replayed or recorded."""
    rec: RecordOptions | None = item.config.stash.get(RECORD_KEY, None)
    if rec is None:
        return "live"
    path = rec.cassette(ctx.gateway.name, item.nodeid)
    mode = rec.item_mode(path)
    if mode is None:
        return "live"
    if mode == "none" or (mode == "once" and path.is_file()):
        return "replayed"
    return "replayed+recorded" if mode == "new_episodes" else "recorded"


def start_pool(session: pytest.Session, ctx: Context, rec: RecordOptions, workers: int) -> LivePool | None:
    """Without xdist and with concurrency > 1: submit every selected, non-skipped item that runs
    live without a cassette to a thread pool (collection is final once the session fixture is
    set up). Cassette items, and runs under xdist (one item at a time per worker), are not pooled.
    Nor is the built-in gateway: it serves from this process, so its answers cost this process's
    CPU and the GIL, concurrency gains nothing, and a starved reader thread would see a streamed
    answer arrive all at once (a false stream.buffered); see docs/performance.md."""
    if workers <= 1 or hasattr(session.config, "workerinput") or ctx.gateway.builtin:
        return None
    items = [
        (item.nodeid, item.stash[VARIANT_KEY])
        for item in session.items
        if isinstance(item, CaseItem)
        and item.get_closest_marker("skip") is None
        and rec.item_mode(rec.cassette(ctx.gateway.name, item.nodeid)) is None
    ]
    if len(items) < 2:
        return None
    live = ctx.transport.live if isinstance(ctx.transport, CassetteTransport) else ctx.transport
    pool = LivePool(replace(ctx, transport=live), workers, session.config.stash.get(BUDGET_KEY, None))
    pool.submit_all(items)
    session.config.stash[POOL_KEY] = pool
    return pool


class CaseItem(pytest.Function):
    """A real Function (fixtures work) that reports the case's YAML location, not _run's."""

    def reportinfo(self) -> tuple[Path, int, str]:
        variant = self.stash[VARIANT_KEY]
        return self.path, variant.case.location.line - 1, self.name


def dropped_lines(config: pytest.Config) -> list[str]:
    """What --endpoints left out: cases whose steps also use an endpoint not selected."""
    dropped = config.stash.get(DROPPED_KEY, [])
    if not dropped:
        return []
    endpoints = sorted({e for _, outside in dropped for e in outside})
    return [
        f"relaycheck: --endpoints leaves out {len(dropped)} cross-endpoint case(s) whose steps also use "
        f"{', '.join(endpoints)}: {', '.join(case for case, _ in dropped)} (select those endpoints too to run them)"
    ]


def dry_run(session: pytest.Session) -> list[str]:
    """--dry-run: the items that would be sent, with their estimated tokens."""
    from harness.cost import dry_run_lines

    items = [i for i in session.items if isinstance(i, CaseItem)]
    sent = [(i.nodeid, i.stash[VARIANT_KEY]) for i in items if i.get_closest_marker("skip") is None]
    lines = dry_run_lines(sent)
    if len(sent) < len(items):
        lines.append(f"  ({len(items) - len(sent)} more items are skipped before sending: see -rs or a real run)")
    return lines


def _item(parent: CaseFile, variant: Variant, skip: str | None) -> pytest.Function:
    case = variant.case
    item = CaseItem.from_parent(parent, name=f"{case.id}[{variant.param_id}]", callobj=_run)
    item.stash[VARIANT_KEY] = variant
    for feature in case.features:  # registered first, so --strict-markers accepts them
        parent.config.addinivalue_line("markers", f"{feature}: relaycheck feature (from case files)")
    for mark in (case.endpoint, "stream" if variant.stream else "sync", *case.features):
        item.add_marker(getattr(pytest.mark, mark))
    if skip:
        item.add_marker(pytest.mark.skip(reason=skip))
    item.stash[ITEM_RECORD_KEY] = ItemRecord.begin(item.nodeid, variant)  # who it is; the run fills in the rest
    return item
