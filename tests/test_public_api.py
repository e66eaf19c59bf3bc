"""The public Python API (harness/__init__.py): every name in ``__all__`` resolves, ``import
harness`` stays cheap, and README's "Embedding the checker" example runs and prints what README
says it prints."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import harness
from tests.conftest import REPO

README = REPO / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- embed:example -->\s*```python\n(.*?)```\s*<!-- embed:end -->", text, re.S)
    assert m, "README lost its embedding example"
    return m.group(1)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    # From outside the repository: the installed package, as an embedding program sees it.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO.parent, timeout=120)


def test_every_public_name_resolves() -> None:
    assert len(set(harness.__all__)) == len(harness.__all__)
    for name in harness.__all__:
        assert getattr(harness, name) is not None, name
    assert harness.get_dialect("chat") is harness.get_dialect("chat")
    assert set(harness.ENDPOINTS) >= {"chat", "messages", "responses"}
    assert {"Exchange", "evaluate_exchange", "Violation"} <= set(dir(harness))


def test_import_harness_is_cheap() -> None:
    res = _run("import json, sys, harness; print(json.dumps(sorted(sys.modules)))")
    assert res.returncode == 0, res.stderr
    loaded = json.loads(res.stdout)
    heavy = [m for m in loaded if m.split(".")[0] in ("pytest", "_pytest", "starlette", "uvicorn", "jsonschema")]
    ours = [m for m in loaded if m.startswith("harness.")]
    assert heavy == [] and ours == []


def test_the_readme_example_runs_and_finds_the_usage_error() -> None:
    code = _example()
    res = _run(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "usage $.usage.total_tokens total_tokens is not prompt_tokens + completion_tokens"
    ]
    # The same answer with consistent usage: nothing to report (the example is not a fixed print).
    fixed = _run(code.replace('"total_tokens": 11', '"total_tokens": 10'))
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout == ""
