"""Every key the pytest-facing modules share, in one module: the plugin, the collector, the report
hooks, the progress display and the exit-code watch read them from here instead of from each
other, so the pytest layer has no import circle (issue 12). pytest-facing: imports pytest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.cost import TokenBudget
from harness.pool import LivePool
from harness.recording.options import RecordOptions
from harness.report.record import ItemRecord
from harness.runner import Variant
from harness.settings import Settings

# The attribute of a case item's TestReport that carries its ItemRecord (harness/report/record.py)
# to the run's collector, also from xdist workers (report_hooks converts it at the process border).
REPORT_ATTR = "relaycheck_record"

# session (config.stash)
SETTINGS_KEY = pytest.StashKey[Settings]()
SUMMARY_PATH = pytest.StashKey[Path]()
RECORD_KEY = pytest.StashKey[RecordOptions]()
POOL_KEY = pytest.StashKey[LivePool]()
BUDGET_KEY = pytest.StashKey[TokenBudget]()  # --token-budget N
DROPPED_KEY = pytest.StashKey[list[tuple[str, list[str]]]]()  # cross-endpoint cases --endpoints left out
REPORT_ERRORS = pytest.StashKey[list[str]]()  # one line per report that could not be written

# item (item.stash)
VARIANT_KEY = pytest.StashKey[Variant]()
RESULT_KEY = pytest.StashKey[Any]()  # the runner's ItemResult, once the item ran
SOURCE_KEY = pytest.StashKey[str]()  # where its answers came from: live, replayed, recorded, ...
ITEM_RECORD_KEY = pytest.StashKey[ItemRecord]()  # made at collection, completed by each phase's report
