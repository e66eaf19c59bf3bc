"""Fixtures of the interop lab: relaycheck's reference gateway as the upstream every peer relays to."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop import peers


@pytest.fixture(scope="session")
def interop_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("interop-logs")


@pytest.fixture(scope="session")
def upstream(interop_logs: Path) -> Iterator[tuple[str, str]]:
    """(base URL, key) of a clean reference gateway started with `relaycheck serve`."""
    key = "rc-upstream-" + secrets.token_hex(12)
    proc, url = peers.start_refgateway(key, interop_logs)
    try:
        yield url, key
    finally:
        proc.stop()
