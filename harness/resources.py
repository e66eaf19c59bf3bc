"""Where relaycheck's own data lives: the JSON Schemas, the bundled case files and the default
gateways.yaml. The repository keeps them at the top level (``schemas/``, ``cases/``,
``gateways.yaml``); a built wheel carries copies inside the package as ``harness/_data/`` (setup.py
copies them at build time), so a non-editable ``pip install .`` finds them too. One lookup, used
by every module that needs one of them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

# What the wheel must carry (setup.py copies exactly these; a test installs a wheel and runs).
DATA = ("schemas", "cases", "gateways.yaml")


@cache
def data_root() -> Path:
    """``harness/_data`` in an installed wheel, else the checkout the package was imported from
    (a source tree or an editable install). By this module's own path: ``harness`` is a namespace
    package (no __init__.py), which importlib.resources resolves unreliably (an editable install
    adds a second, virtual portion), and a wheel always installs as plain files."""
    package = Path(__file__).resolve().parent
    bundled = package / "_data"
    if bundled.is_dir():
        return bundled
    checkout = package.parent
    if (checkout / "schemas").is_dir():
        return checkout
    raise RuntimeError(
        f"relaycheck's data ({', '.join(DATA)}) is neither in {bundled} nor in {checkout}: "
        "reinstall relaycheck (pip install relaycheck or pip install -e .)"
    )


def schemas_dir() -> Path:
    return data_root() / "schemas"


def cases_dir() -> Path:
    return data_root() / "cases"


def gateways_file() -> Path:
    return data_root() / "gateways.yaml"
