"""matrix.html in a real browser: Debian's headless chromium loads the page of a faulted run
from file://, runs its script, opens a failing cell (``#item=<id>``) and shows its violations
and transcript. A screenshot goes to reports/ for a human to look at."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import REPO
from tests.test_reports import FAULT, MINI_CASES, relaycheck

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (CI installs it: apt-get install -y chromium)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]  # the page must need no network; make sure it gets none
SCREENSHOT = REPO / "reports" / "matrix-failing-cell.png"


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("browser")
    (root / "cases").mkdir()
    (root / "cases" / "mini.yaml").write_text(MINI_CASES, encoding="utf-8")
    res = relaycheck(
        "run",
        "--cases",
        "cases/mini.yaml",
        "--report-dir",
        "out",
        "--fault",
        FAULT,
        "--no-allure",
        "--no-junit",
        cwd=root,
    )
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr
    items = json.loads((root / "out" / "summary.json").read_text())["items"]
    failing = sorted(e["id"] for e in items if e["outcome"] == "failed")
    opened = next(i for i in failing if "hello-messages" in i and i.endswith("stream]"))  # it has an SSE transcript
    url = (root / "out" / "matrix.html").as_uri() + "#item=" + quote(opened, safe="")
    return {"root": root, "url": url, "failing": failing, "open": opened}


def test_matrix_and_failing_cell_in_the_dom(page: dict[str, Any]) -> None:
    res = chromium(page["root"] / "profile-dom", "--dump-dom", page["url"])
    dom = res.stdout
    assert '<table class="matrix">' in dom, res.stderr[-2000:]
    for item_id in page["failing"]:
        assert f'data-id="{item_id}" data-verdict="strict"' in dom  # usage fails the strict level only
    # Only the page's script sets these: the cell is selected and the panel shows its item.
    assert 'class="cell strict selected"' in dom
    assert f'class="open" data-open="{page["open"]}"' in dom
    panel = dom[dom.index('<aside id="detail"') :]
    assert 'data-code="usage"' in panel and "transcript (arrival offsets)" in panel
    assert "ms] event: message_start" in panel  # the SSE transcript with arrival offsets


def test_screenshot_of_the_open_failing_cell(page: dict[str, Any]) -> None:
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    res = chromium(page["root"] / "profile-shot", "--window-size=1400,1000", f"--screenshot={SCREENSHOT}", page["url"])
    assert SCREENSHOT.is_file(), res.stderr[-2000:]
    data = SCREENSHOT.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000  # a rendered page, not a blank one
