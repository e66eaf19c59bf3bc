"""A non-editable install works: build the wheel, install it into a fresh venv in a temp dir, and
run `relaycheck run` (the whole bundled suite, against the built-in gateway) and `relaycheck
lint-traffic` on a shipped cassette from another directory. Before the schemas, cases and
gateways.yaml were package data, both failed: the wheel carried none of them.

Offline: the wheel is built without build isolation (the dev extra brings setuptools>=68), and
the fresh venv reaches the test environment's dependencies through a .pth file, so nothing is
downloaded. About 20 s."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

setuptools = pytest.importorskip("setuptools", minversion="68", reason="the dev extra installs setuptools>=68")


def _run(*args: str | Path, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_wheel_install_runs_the_suite_and_lint_traffic(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        wheels,
        REPO,
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("relaycheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "harness/__init__.py",  # the public API (a regular package, no longer a namespace one)
        "harness/_data/gateways.yaml",
        "harness/_data/schemas/case.schema.json",
        "harness/fidelity/local_baseline.json",
    ):
        assert needed in names
    assert sum(n.startswith("harness/_data/cases/") for n in names) == len(list((REPO / "cases").rglob("*.yaml")))

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
    python = venv / "bin" / "python"
    purelib = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).stdout.strip()
    )
    installed = _run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    # The dependencies come from this test environment (after the venv's own site-packages, so the
    # installed relaycheck wins over the checkout's editable one, whose finder is not loaded here).
    (purelib / "zz_relaycheck_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(python, "-c", "from harness import resources; print(resources.data_root())", cwd=elsewhere)
    assert Path(where.stdout.strip()) == purelib / "harness" / "_data", where.stderr
    api = _run(
        python, "-c", "import harness; print(harness.__file__, harness.evaluate_exchange.__module__)", cwd=elsewhere
    )
    assert api.stdout.split() == [str(purelib / "harness" / "__init__.py"), "harness.engine"], api.stderr

    relaycheck = venv / "bin" / "relaycheck"
    res = _run(relaycheck, "run", "--report-dir", "reports", cwd=elsewhere)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    summary = json.loads((elsewhere / "reports" / "summary.json").read_text())
    assert summary["run"]["complete"] is True
    assert summary["totals"]["failed"] == summary["totals"]["error"] == 0
    assert summary["totals"]["passed"] > 300  # the whole bundled suite, from the wheel's cases
    assert (elsewhere / "reports" / "matrix.html").is_file()

    cassette = next(p for p in (REPO / "cassettes" / "local" / "chat").rglob("*.yaml") if p.is_file())
    lint = _run(relaycheck, "lint-traffic", cassette, "--report-dir", "lint", cwd=elsewhere)
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    assert json.loads((elsewhere / "lint" / "summary.json").read_text())["totals"]["passed"] >= 1
