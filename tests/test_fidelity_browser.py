"""The fidelity section of matrix.html in a real browser (Debian's headless chromium, as
tests/test_report_browser.py): a `relaycheck fidelity` run of the built-in gateway with a hidden
prompt injected shows its inconsistent verdict, with its numbers and code, at the top of the page.
A screenshot goes to reports/ for a human to look at."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO
from tests.test_report_browser import chromium, pytestmark  # noqa: F401 (skipped without chromium)
from tests.test_reports import relaycheck

SCREENSHOT = REPO / "reports" / "matrix-fidelity.png"


def test_fidelity_section_at_the_top_of_the_matrix(tmp_path: Path) -> None:
    res = relaycheck(
        "fidelity", "--endpoints", "chat", "--models", "gpt-4o", "--fault", "injected-system-prompt",
        "--report-dir", "out", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 1, res.stdout + res.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["digest"]["fidelity"]["counts"]["inconsistent"] == 1
    page = (tmp_path / "out" / "matrix.html").as_uri()
    dom = chromium(tmp_path / "profile-dom", "--dump-dom", page).stdout
    section = dom[dom.index('<section class="fidelity"') : dom.index("</section>", dom.index('class="fidelity"'))]
    assert dom.index('<section class="fidelity"') < dom.index('<div class="scores">')  # at the top
    row = section[section.index('<tr data-verdict="inconsistent"') :]
    assert "fidelity.usage.injected_prompt" in row and "40 tokens above" in row and "intercept" in row
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    chromium(tmp_path / "profile-shot", "--window-size=1400,1000", f"--screenshot={SCREENSHOT}", page + "#fidelity")
    assert SCREENSHOT.is_file() and SCREENSHOT.read_bytes().startswith(b"\x89PNG")
