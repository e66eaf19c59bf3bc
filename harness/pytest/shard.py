"""pytest side of ``--shard K/N`` (harness/shard.py holds the split itself): keep this shard's
part of the selection, and record in summary.json which part it is and which ids it selected,
so `relaycheck report merge` can prove the shards add up to the whole. Registered by
harness.pytest.plugin; under xdist every worker applies the same split (it is deterministic) and the
controller learns the record from the workers' output."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pytest

from harness.pytest.collection import VARIANT_KEY, CaseItem
from harness.shard import Shard, case_key, selection_digest

_OUTPUT = "relaycheck_shard"  # key in xdist's workeroutput


@dataclass(frozen=True)
class ShardRecord:
    """What summary.json says about a shard (its ``shard`` object)."""

    index: int
    total: int
    selected: list[str]  # the case items this shard kept (summary.json ids)
    selection_items: int  # case items in the whole selection, every shard together
    selection_sha256: str  # fingerprint of the whole selection (harness.shard.selection_digest)
    key: str = "case"  # what was hashed: the case (file relative to cases/ and id), see harness/shard.py


RECORD_KEY = pytest.StashKey[ShardRecord]()


def item_key(item: pytest.Item) -> str:
    if isinstance(item, CaseItem):
        case = item.stash[VARIANT_KEY].case
        return case_key(case.file, case.id)
    return item.nodeid  # a plain pytest item collected alongside: kept whole by its own id


class ShardHooks:
    def __init__(self, config: pytest.Config, shard: Shard) -> None:
        self.config = config
        self.shard = shard

    @pytest.hookimpl(trylast=True)  # after -k / -m / other plugins: split what is really selected
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        everything = [i.nodeid for i in items if isinstance(i, CaseItem)]
        kept = [i for i in items if self.shard.owns(item_key(i))]
        dropped = [i for i in items if not self.shard.owns(item_key(i))]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        record = ShardRecord(
            self.shard.index,
            self.shard.total,
            sorted(i.nodeid for i in kept if isinstance(i, CaseItem)),
            len(everything),
            selection_digest(everything),
        )
        config.stash[RECORD_KEY] = record
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller writes the summary
            workeroutput[_OUTPUT] = asdict(record)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist controller: every worker computed the same record; keep the first one."""
        data = getattr(node, "workeroutput", {}).get(_OUTPUT)
        if data and RECORD_KEY not in self.config.stash:
            self.config.stash[RECORD_KEY] = ShardRecord(**data)

    def pytest_report_collectionfinish(self, config: pytest.Config, items: list[pytest.Item]) -> str:
        record = config.stash.get(RECORD_KEY, None)
        if record is None:
            return f"relaycheck: shard {self.shard}"
        return (
            f"relaycheck: shard {self.shard}: {len(record.selected)} of {record.selection_items} "
            f"selected items (split by case)"
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # A shard may own no item at all (more shards than cases): that is a result, not the
        # "no tests collected" failure (exit 5) it would otherwise be; an empty selection stays 5.
        record = self.config.stash.get(RECORD_KEY, None)
        if session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and record and record.selection_items:
            session.exitstatus = pytest.ExitCode.OK


def configure(config: pytest.Config) -> None:
    shard = config.getoption("shard", None)
    if shard is not None:
        config.pluginmanager.register(ShardHooks(config, shard), "relaycheck-shard")


def active(config: pytest.Config) -> bool:
    return config.getoption("shard", None) is not None


def record(config: pytest.Config) -> dict[str, Any] | None:
    """The ``shard`` object of the run's summary (None when not sharded). Without a record
    (xdist workers that all died), the shard still says which it is; merge then reports that it
    cannot tell which items it selected."""
    shard = config.getoption("shard", None)
    if shard is None:
        return None
    found = config.stash.get(RECORD_KEY, None)
    return asdict(found) if found else {"index": shard.index, "total": shard.total}
