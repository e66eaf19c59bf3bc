"""One record per fault (harness/refgateway/faults.py): names unique, every field filled, and the
views of it (the gateway's FAULTS, the detection matrix's tables, `relaycheck faults`) say the same."""

from __future__ import annotations

import subprocess
import sys

from harness.codes import all_codes
from harness.detection import DEFECT_ROWS, EXPECTED_CODES
from harness.refgateway.faults import BY_NAME, FAULT_RECORDS, FAULTS, FIDELITY_ONLY
from tests.conftest import REPO


def test_one_well_formed_record_per_fault() -> None:
    names = [f.name for f in FAULT_RECORDS]
    assert len(names) == len(set(names)) == len(BY_NAME) == len(FAULTS)
    known = set(all_codes())
    for f in FAULT_RECORDS:
        assert f.does.strip() and f.codes, f.name
        assert f.codes <= known, (f.name, sorted(f.codes - known))
        assert f.defect is None or f.defect > 0


def test_the_views_are_read_from_the_records() -> None:
    assert FAULTS == {f.name: f.does for f in FAULT_RECORDS}
    assert EXPECTED_CODES == {f.name: f.codes for f in FAULT_RECORDS}
    assert DEFECT_ROWS == {f.name: f.defect for f in FAULT_RECORDS if f.defect is not None}
    assert FIDELITY_ONLY == {f.name for f in FAULT_RECORDS if f.fidelity_only}
    assert FIDELITY_ONLY and all(c.startswith("fidelity.") for n in FIDELITY_ONLY for c in BY_NAME[n].codes)


def test_relaycheck_faults_lists_what_catches_each_fault() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "harness.cli", "faults"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 2 * len(FAULT_RECORDS)
    for name_line, caught_line in zip(lines[::2], lines[1::2], strict=True):
        fault = BY_NAME[name_line.split()[0]]
        assert fault.does in name_line
        assert caught_line.split("caught by: ")[1].split(";")[0] == ", ".join(sorted(fault.codes))
        assert (f"RELAY_DEFECTS #{fault.defect}" in caught_line) == (fault.defect is not None)
