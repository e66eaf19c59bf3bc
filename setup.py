"""Build step only (the project is described in pyproject.toml): a wheel carries the JSON Schemas,
the bundled case files and the default gateways.yaml inside the package as ``harness/_data/``, so a
non-editable install runs. The repository keeps them at the top level; harness/resources.py looks in
both places. Editable installs read the checkout directly and need no copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA = ("schemas", "cases", "gateways.yaml")  # = harness.resources.DATA (not imported: build time)


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "harness" / "_data"
        for name in DATA:
            source, dest = HERE / name, target / name
            if source.is_dir():
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildPyWithData})
