"""`relaycheck report trend`: nights over time from summary.json files, as one self-contained
page; checked on the data and in headless chromium (a screenshot goes to reports/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report.summary import build_summary, write_summary
from harness.report.trend import collect, failing_since, render, series
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = REPO / "reports" / "trend.png"
NIGHTS = ("2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30")


def _item(item_id: str, model: str, outcome: str, ttft: float, latency: float, codes: tuple[str, ...] = ()) -> dict:
    return {
        "id": item_id,
        "case": item_id.split("::")[-1],
        "gateway": "relay",
        "model": model,
        "endpoint": "messages",
        "stream": True,
        "outcome": outcome,
        "violations": [{"code": c, "path": "$", "message": "m"} for c in codes],
        "ttft_ms": ttft,
        "latency_ms": latency,
    }


def write_nights(root: Path) -> list[Path]:
    """Four nights: `tools` starts failing on the third night and still fails; `thinking` failed
    on the first night only; the other model is clean; latency creeps up."""
    paths = []
    for n, night in enumerate(NIGHTS):
        items = []
        for k in range(10):
            items.append(_item(f"c.yaml::plain-{k}[relay-a-stream]", "a", "passed", 100 + 10 * n + k, 400 + 50 * n + k))
            items.append(_item(f"c.yaml::plain-{k}[relay-b-stream]", "b", "passed", 80 + k, 300 + k))
        broken = n >= 2
        items.append(
            _item(
                "c.yaml::tools[relay-a-stream]",
                "a",
                "failed" if broken else "passed",
                120,
                900,
                ("grammar.messages.delta_type",) if broken else (),
            )
        )
        items.append(
            _item(
                "c.yaml::thinking[relay-a-stream]",
                "a",
                "failed" if n == 0 else "passed",
                150,
                800,
                ("grammar.messages.thinking_signature",) if n == 0 else (),
            )
        )
        summary = build_summary(items, gateway="relay", level="strict", started=0)
        summary["started"] = f"{night}T03:17:00Z"
        path = root / night / "summary.json"
        write_summary(path, summary)
        (root / night / "diff.json").write_text("{}")  # not a summary: passed over in a folder
        paths.append(path)
    return paths


def test_series_and_the_night_each_failure_started(tmp_path: Path) -> None:
    write_nights(tmp_path)
    nights = collect([tmp_path])
    assert [n.label[:10] for n in nights] == list(NIGHTS)
    data = series(nights)
    a = data[("relay", "a")]
    assert [round(p["pass_rate"], 3) for p in a] == [round(11 / 12, 3), 1.0, round(11 / 12, 3), round(11 / 12, 3)]
    assert a[2]["codes"] == {"grammar.messages.delta_type": 1} and a[1]["codes"] == {}
    assert a[0]["latency_p50"] < a[3]["latency_p50"] and a[3]["ttft_p95"] >= a[3]["ttft_p50"]
    since = failing_since(nights)
    assert since == {
        ("relay", "a"): [("c.yaml::tools[relay-a-stream]", "2026-11-29T03:17:00Z", ["grammar.messages.delta_type"])]
    }
    html = render(nights)
    assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained
    assert 'data-model="b"' in html and "Nothing fails on the latest night." in html


def test_cli_from_files_and_folders(tmp_path: Path) -> None:
    paths = write_nights(tmp_path / "nights")
    out = tmp_path / "trend.html"
    env = {k: v for k, v in os.environ.items() if k != "RELAYCHECK_API_KEY"}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "report",
            "trend",
            *map(str, paths[:2]),
            str(tmp_path / "nights"),
            "-o",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "trend of 6 nights" in res.stdout  # the two files given twice are two more points, as given
    bad = subprocess.run(
        [sys.executable, "-m", "harness.cli", "report", "trend", str(tmp_path / "nothing-here")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "relaycheck: error:" in bad.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: apt-get install -y chromium)")
def test_trend_page_in_headless_chromium(tmp_path: Path) -> None:
    from tests.test_report_browser import chromium

    write_nights(tmp_path / "nights")
    page = tmp_path / "trend.html"
    page.write_text(render(collect([tmp_path / "nights"])), encoding="utf-8")
    dom = chromium(tmp_path / "profile-dom", "--dump-dom", page.as_uri()).stdout
    assert dom.count('<section class="model"') == 2
    assert dom.count('data-series="pass_rate"') == 8 and dom.count('data-series="latency_p95"') == 8
    assert '<tr data-id="c.yaml::tools[relay-a-stream]"><td>' in dom and "2026-11-29T03:17:00Z" in dom
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    res = chromium(tmp_path / "profile-shot", "--window-size=1300,1100", f"--screenshot={SCREENSHOT}", page.as_uri())
    assert SCREENSHOT.is_file(), res.stderr[-2000:]
    data = SCREENSHOT.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
