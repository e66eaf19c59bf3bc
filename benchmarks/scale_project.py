"""Projects the scale benchmark runs: the bundled suite replicated into a temp dir (recorded
once, then replayed), the same requests as Tavern YAML tests, a bare pytest floor of trivial
YAML items, and a synthetic set of single-request streamed cases for the live run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent

# Keeps the first N runnable items (BENCH_ITEMS) of a replicated suite, so every tool measures
# exactly the same count. Items past N are deselected, as `-k` would.
LIMIT_CONFTEST = """\
import os


def pytest_collection_modifyitems(config, items):
    limit = int(os.environ.get("BENCH_ITEMS", "0"))
    if not limit:
        return
    runnable = [i for i in items if i.get_closest_marker("skip") is None][:limit]
    keep = set(runnable)
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = runnable
"""

# The pytest docs' "non-python tests" example: a conftest that turns YAML entries into items.
FLOOR_CONFTEST = """\
import pytest
import yaml


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".yaml" and file_path.name.startswith("test"):
        return YamlFile.from_parent(parent, path=file_path)


class YamlFile(pytest.File):
    def collect(self):
        raw = yaml.safe_load(self.path.open(encoding="utf-8"))
        for name, spec in sorted(raw.items()):
            yield YamlItem.from_parent(self, name=name, spec=spec)


class YamlItem(pytest.Item):
    def __init__(self, *, spec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec

    def runtest(self):
        for name, value in sorted(self.spec.items()):
            if name != value:
                raise AssertionError(f"{name} != {value}")

    def reportinfo(self):
        return self.path, 0, f"usecase: {self.name}"
"""


def replicated_suite(root: Path, copies: int) -> Path:
    """``copies`` copies of the bundled cases/ under root/cases/rep<k>/ (node ids differ by path)."""
    root.mkdir(parents=True, exist_ok=True)
    for k in range(copies):
        shutil.copytree(REPO / "cases", root / "cases" / f"rep{k}", dirs_exist_ok=True)
    (root / "conftest.py").write_text(LIMIT_CONFTEST, encoding="utf-8")
    return root


def floor_project(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "conftest.py").write_text(FLOOR_CONFTEST, encoding="utf-8")
    entries = {f"item{i:04d}": {"some": "some", "other": "other"} for i in range(n)}
    (root / "test_floor.yaml").write_text(yaml.safe_dump(entries), encoding="utf-8")
    return root


def cassette_requests(cassettes: list[Path]) -> list[list[dict[str, Any]]]:
    """Each item's recorded requests (method, path, headers, body) and answer statuses."""
    out = []
    for path in cassettes:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        stages = []
        for inter in data["interactions"]:
            req, resp = inter["request"], inter["response"]
            path_part = "/" + req["uri"].split("/", 3)[3]
            headers = {k: v[0] for k, v in req["headers"].items()}
            stages.append(
                {
                    "method": req["method"],
                    "path": path_part,
                    "headers": headers,
                    "body": req["body"],
                    "status": resp["status"]["code"],
                }
            )
        out.append(stages)
    return out


def _unmask(name: str, value: str, key: str) -> str:
    """The cassette's masked key replaced by the benchmark gateway's (a deliberately wrong key
    was never masked and stays wrong)."""
    if "[REDACTED]" not in value:
        return value
    return f"Bearer {key}" if name.lower() == "authorization" else key


def tavern_project(root: Path, items: list[list[dict[str, Any]]], base_url: str, key: str) -> Path:
    """One Tavern test per item, one stage per recorded request: the same request to the
    reference gateway, checking the status (and a JSON body where the answer is JSON)."""
    root.mkdir(parents=True, exist_ok=True)
    docs = []
    for n, stages in enumerate(items):
        tstages = []
        for s, st in enumerate(stages):
            # The redactor masks any Bearer-shaped value, a deliberately wrong key too: a step
            # recorded as refused (401) gets a wrong key again.
            given = "rc-wrong-key-0000000000000000" if st["status"] == 401 else key
            headers = {k: _unmask(k, v, given) for k, v in st["headers"].items()}
            request: dict[str, Any] = {"url": base_url + st["path"], "method": st["method"], "headers": headers}
            if st["body"]:
                try:
                    request["json"] = json.loads(st["body"])
                except ValueError:
                    request["data"] = st["body"]
            tstages.append({"name": f"step {s}", "request": request, "response": {"status_code": st["status"]}})
        docs.append({"test_name": f"item {n}", "stages": tstages})
    text = yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False)
    (root / "test_items.tavern.yaml").write_text(text, encoding="utf-8")
    return root


def live_project(root: Path, n: int, base_url: str, concurrency: int) -> Path:
    """n single-request streamed cases spread over the three endpoints, one model each."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "gateways.yaml").write_text(
        yaml.safe_dump(
            {
                "default": "slow",
                "gateways": {
                    "slow": {
                        "base_url": base_url,
                        "auth": "x-api-key",
                        "api_key_env": "RELAYCHECK_BENCH_KEY",
                        "concurrency": concurrency,
                        "retries": 0,
                        "timeouts": {"connect": 5, "first_byte": 30, "total": 60},
                        "models": {
                            "chat": ["gpt-4o"],
                            "messages": ["claude-sonnet-4-20250514"],
                            "responses": ["gpt-4o"],
                        },
                    }
                },
            }
        )
    )
    bodies = {
        "chat": {"max_tokens": 64, "messages": [{"role": "user", "content": "Say hello {i}."}]},
        "messages": {"max_tokens": 64, "messages": [{"role": "user", "content": "Say hello {i}."}]},
        "responses": {"max_output_tokens": 64, "input": "Say hello {i}."},
    }
    cases = []
    for i in range(n):
        endpoint = ("chat", "messages", "responses")[i % 3]
        body = json.loads(json.dumps(bodies[endpoint]).replace("{i}", str(i)))
        cases.append(
            {
                "id": f"s{i:03d}",
                "description": f"streamed hello {i}",
                "endpoint": endpoint,
                "stream": True,
                "request": {"body": body},
                "expect": {"status": 200},
            }
        )
    (root / "cases").mkdir(exist_ok=True)
    (root / "cases" / "live.yaml").write_text(yaml.safe_dump({"cases": cases}, sort_keys=False))
    return root
