"""``--shard K/N``: one of N deterministic parts of the selected items, for runs spread over
several machines (a CI matrix). No pytest import here; harness/pytest/shard.py applies it.

The split hashes a stable key, never the collection order, so every machine computes the
same parts from the same selection, run after run. The key is the *case* (its file, relative
to the ``cases`` directory, and its id), not the item: all variants of one case (models,
sync/stream) land in the same shard. Variants of a case can share state on the relay side
(stored responses fetched by id, one question asked in several dialects under cases/cross,
multi-step cases), and a case split across machines would also split its rate-limit and
retry behaviour; one case = one place keeps them together, and a cross-endpoint case runs
whole in exactly one shard instead of vanishing from all of them.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as written on the command line (1/4 .. 4/4)
    total: int

    def __str__(self) -> str:  # what `relaycheck run` forwards to pytest
        return f"{self.index}/{self.total}"

    def owns(self, key: str) -> bool:
        return shard_of(key, self.total) == self.index


def parse_shard(value: str) -> Shard:
    """``K/N`` with 1 <= K <= N. argparse (and pytest's option parser, which is argparse)
    turns the ArgumentTypeError into a usage error naming the option."""
    k, sep, n = str(value).partition("/")
    try:
        index, total = int(k), int(n)
    except ValueError:
        index = total = 0
    if not sep or total < 1 or not 1 <= index <= total:
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N (e.g. 2/4), not {value!r}")
    return Shard(index, total)


def shard_of(key: str, total: int) -> int:
    """The 1-based shard a key belongs to: sha256, so Python's per-process hash seed and the
    platform play no part."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % total + 1


def case_key(file: str, case_id: str) -> str:
    """The grouping key of a case: its file relative to the nearest ``cases`` directory (so an
    absolute checkout path, which differs between machines, plays no part) and its id."""
    parts = PurePosixPath(file.replace("\\", "/")).parts
    if "cases" in parts:
        cut = len(parts) - 1 - parts[::-1].index("cases")
        parts = parts[cut + 1 :]
    else:
        parts = parts[-1:]
    return f"{'/'.join(parts)}::{case_id}"


def selection_digest(ids: Iterable[str]) -> str:
    """One fingerprint of a whole selection (order-free): every shard of one run records the
    same value, and `relaycheck report merge` checks that the shards' parts add up to it."""
    h = hashlib.sha256()
    for item_id in sorted(set(ids)):
        h.update(item_id.encode("utf-8") + b"\n")
    return h.hexdigest()
