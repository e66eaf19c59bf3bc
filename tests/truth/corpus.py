"""Access to ../shared/corpus (official traffic), shared by the truth tests."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from harness.cassettes import load_jsonl
from harness.traffic import RecordedInteraction

REPO = Path(__file__).resolve().parents[2]


def corpus_path() -> Path | None:
    env = os.environ.get("RELAYCHECK_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "corpus" / "interactions.jsonl")
    for path in candidates:
        if path.is_file():
            return path
    return None


@cache
def interactions() -> tuple[RecordedInteraction, ...]:
    path = corpus_path()
    return tuple(load_jsonl(path)) if path else ()


def by_endpoint(endpoint: str, *, stream: bool | None = None) -> list[RecordedInteraction]:
    out = []
    for it in interactions():
        if it.endpoint != endpoint:
            continue
        if stream is not None and it.exchange.is_sse != stream:
            continue
        out.append(it)
    return out


SKIP_REASON = "the shared corpus (../shared/corpus/interactions.jsonl or $RELAYCHECK_CORPUS) is not on this machine"
