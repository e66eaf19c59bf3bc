"""Probe 6, differential against official recordings (`relaycheck compare`, docs/fidelity.md).

A baseline is the cassette folder of one gateway, ``<cassette-dir>/<gateway>``, written by
``relaycheck record`` against the official API: one relaycheck cassette per item. The relay is
recorded the same way (compare records it live, or reads a folder given with ``--replay``).
Items pair up by case file, case id, model and stream mode (the gateway's name, part of every
item id, is left out), their interactions in order; each pair is compared on what the official
API keeps deterministic (harness/fidelity/facts.py), never on the text. An item recorded on one
side only is reported as such, never dropped. No pytest here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.cassettes import TrafficError, read_file
from harness.fidelity.facts import Facts, facts, server_side_input, server_tools
from harness.fidelity.probe import Verdict
from harness.gateways import ConfigError
from harness.model import Violation

# <case>[<gateway>-<model>-<stream|sync>], plus the short hash a sanitised name gets.
_NAME = re.compile(r"^(?P<case>[^\[]*)\[(?P<param>.*)-(?P<mode>stream|sync)\](?:-[0-9a-f]{8})?$")
CODES = ("status", "input_tokens", "cache", "stop_reason", "tool_calls", "shape", "thinking")
CODE_NAMES = tuple(f"fidelity.compare.{c}" for c in CODES)  # registered in harness/codes.py


@dataclass(frozen=True)
class Item:
    """One item's recording: its interactions' facts in order."""

    key: str  # "messages/basic.yaml::plain-text[claude-sonnet-4-6-stream]"
    endpoint: str
    model: str
    stream: bool
    facts: tuple[tuple[str, Facts], ...]  # (request path, facts) per interaction
    source: str


@dataclass(frozen=True)
class ItemResult:
    """One item compared, or recorded on one side only (``only`` says which)."""

    key: str
    endpoint: str
    model: str
    stream: bool
    violations: tuple[Violation, ...] = ()
    compared: int = 0  # interactions compared
    only: str | None = None  # "baseline" | "relay"
    note: str | None = None

    @property
    def outcome(self) -> str:
        if self.violations:
            return "failed"
        return "passed" if self.compared and self.only is None else "skipped"


@dataclass(frozen=True)
class Recording:
    items: dict[str, Item]
    errors: tuple[TrafficError, ...] = field(default=())


def load(folder: Path) -> Recording:
    """Every cassette under a gateway's cassette folder. A file that cannot be read is an error
    record (reported), never a crash and never a silently smaller baseline."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(
            f"{folder}: no such folder (a baseline is a gateway's cassette folder: <cassette-dir>/<gateway>)"
        )
    items: dict[str, Item] = {}
    errors: list[TrafficError] = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.is_dir() or any(p.startswith(".") for p in path.relative_to(folder).parts):
            continue
        records = list(read_file(path))
        bad = [r for r in records if isinstance(r, TrafficError)]
        if bad:
            errors.extend(bad)
            continue
        item = _item(folder, path, records)
        if item is None:
            errors.append(TrafficError(str(path), "", "not a relaycheck item cassette (name or content)"))
        else:
            items[item.key] = item
    if not items and not errors:
        raise ConfigError(f"{folder}: no cassettes (record one with: relaycheck record --cassette-dir DIR)")
    return Recording(items, tuple(errors))


def _item(folder: Path, path: Path, records: list[Any]) -> Item | None:
    m = _NAME.match(path.stem)
    if m is None or not records:
        return None
    first = records[0]
    request = first.exchange.request.json
    model = request.get("model") if isinstance(request, dict) else None
    if not isinstance(model, str) or not model:
        model = "request-model"
    case_file = path.parent.relative_to(folder).as_posix()
    endpoint = first.endpoint or next((r.endpoint for r in records if r.endpoint), None)
    if endpoint is None:  # count_tokens belongs to Messages; /v1/models to no dialect
        endpoint = "messages" if "/messages/" in urlsplit(first.exchange.request.url).path else "other"
    pairs = tuple(
        (urlsplit(r.exchange.request.url).path, facts(r.exchange, r.endpoint, urlsplit(r.exchange.request.url).path))
        for r in records
    )
    key = f"{case_file}::{m['case']}[{model}-{m['mode']}]"
    return Item(key, endpoint, model, m["mode"] == "stream", pairs, str(path))


def compare(baseline: Recording, relay: Recording) -> list[ItemResult]:
    """Every item of either side, in key order."""
    out = []
    for key in sorted(baseline.items.keys() | relay.items.keys()):
        b, r = baseline.items.get(key), relay.items.get(key)
        if b is None or r is None:
            one = b or r
            assert one is not None
            side = "baseline" if r is None else "relay"
            out.append(
                ItemResult(key, one.endpoint, one.model, one.stream, only=side, note=f"recorded in the {side} only")
            )
            continue
        out.append(compare_item(b, r))
    return out


def compare_item(b: Item, r: Item) -> ItemResult:
    found: list[Violation] = []
    if len(b.facts) != len(r.facts):
        found.append(
            _v(
                "shape",
                "interactions",
                f"the baseline made {len(b.facts)} request(s) for this item, the relay run {len(r.facts)}"
                + (" (the suite retries an item whose expectations fail)" if _retried(b, r) else ""),
                len(b.facts),
                len(r.facts),
            )
        )
    compared = 0
    for i, ((path, fb), (_, fr)) in enumerate(zip(b.facts, r.facts, strict=False)):
        if fb.error is not None and fb.status is None:
            continue  # the official API never answered while recording: nothing to hold the relay to
        compared += 1
        found.extend(compare_facts(fb, fr, f"interactions[{i}]", path))
    note = None if compared else "the baseline recorded no answer for this item"
    return ItemResult(b.key, b.endpoint, b.model, b.stream, tuple(found), compared, note=note)


def compare_facts(b: Facts, r: Facts, where: str, path: str = "") -> list[Violation]:
    """The differences between the baseline's answer and the relay's to the same item step
    (the baseline's answer must exist: a recording without one holds the relay to nothing)."""
    if b.status != r.status or r.error is not None:
        said = r.error or f"HTTP {r.status}"
        return [
            _v("status", f"{where}.status", f"the baseline got HTTP {b.status}, the relay {said}", b.status, r.status)
        ]
    if not (b.ok and r.ok):
        return []  # the same error status on both sides: nothing more is deterministic
    out: list[Violation] = []
    if b.input_tokens is not None and b.request == r.request and not server_side_input(b.request):
        # Only for equal requests (a later step carries the earlier answer, which differs), and
        # not when the server adds content of its own (web search results, a fetched document).
        if r.input_tokens != b.input_tokens:
            extra = "" if r.input_tokens is None else f" ({r.input_tokens - b.input_tokens:+d})"
            out.append(
                _v(
                    "input_tokens",
                    f"{where}.usage",
                    f"the same request cost {b.input_tokens} input tokens on the baseline, {r.input_tokens} on the "
                    f"relay{extra}",
                    b.input_tokens,
                    r.input_tokens,
                )
            )
    if b.cache is not None and sum(b.cache) > 0 and (r.cache is None or sum(r.cache) == 0):
        out.append(
            _v(
                "cache",
                f"{where}.usage",
                f"the baseline wrote/read {b.cache[0]}/{b.cache[1]} tokens of prompt cache, the relay "
                + ("reports no cache counts" if r.cache is None else "0/0"),
                list(b.cache),
                list(r.cache) if r.cache is not None else None,
            )
        )
    if server_tools(b.request):
        # The server decides how often its own tools run (web search): blocks, tool calls and
        # stop reason differ between two official answers to the same request.
        return out + _thinking(b, r, where)
    if b.stop != r.stop:
        out.append(
            _v(
                "stop_reason",
                f"{where}.stop_reason",
                f"stop {_stop(b.stop)} on the baseline, {_stop(r.stop)} on the relay",
                _stop(b.stop),
                _stop(r.stop),
            )
        )
    if b.tools != r.tools:
        out.append(
            _v(
                "tool_calls",
                f"{where}.tool_calls",
                f"tool calls {_tools(b.tools)} on the baseline, {_tools(r.tools)} on the relay",
                _tools(b.tools),
                _tools(r.tools),
            )
        )
    if b.blocks != r.blocks:
        out.append(
            _v(
                "shape",
                f"{where}.content",
                f"content {list(b.blocks)} on the baseline, {list(r.blocks)} on the relay",
                list(b.blocks),
                list(r.blocks),
            )
        )
    elif b.events is not None and r.events is not None and b.events != r.events:
        out.append(
            _v(
                "shape",
                f"{where}.events",
                f"stream events differ from {_first_difference(b.events, r.events)}",
                list(b.events),
                list(r.events),
            )
        )
    return out + _thinking(b, r, where)


def _thinking(b: Facts, r: Facts, where: str) -> list[Violation]:
    """The baseline thinks (and signs it): the relay's answer must too."""
    if b.thinking is None or not b.thinking[0]:
        return []
    thinks, signed = r.thinking or (False, False)
    if thinks and (signed or not b.thinking[1]):
        return []
    what = "no thinking" if not thinks else "thinking without a signature"
    message = f"the baseline thinks{' and signs it' if b.thinking[1] else ''}, the relay answers with {what}"
    return [_v("thinking", f"{where}.thinking", message, "signed thinking" if b.thinking[1] else "thinking", what)]


def _retried(b: Item, r: Item) -> bool:
    """More requests by a whole multiple: the runner's retries of a failing item (retry-until)."""
    return len(b.facts) > 0 and len(r.facts) > len(b.facts) and len(r.facts) % len(b.facts) == 0


def _v(code: str, path: str, message: str, expected: Any, actual: Any) -> Violation:
    return Violation(f"fidelity.compare.{code}", path, message, expected=expected, actual=actual)


def _stop(stop: tuple[str | None, str | None] | None) -> str:
    if stop is None:
        return "(none)"
    reason, sequence = stop
    return f"{reason} ({sequence!r})" if sequence is not None else str(reason)


def _tools(tools: Sequence[tuple[str, tuple[str, ...]]]) -> str:
    return "[" + ", ".join(f"{name}({', '.join(keys)})" for name, keys in tools) + "]"


def _first_difference(b: Sequence[str], r: Sequence[str]) -> str:
    i = next((i for i, (x, y) in enumerate(zip(b, r, strict=False)) if x != y), min(len(b), len(r)))
    left = b[i] if i < len(b) else "(end)"
    right = r[i] if i < len(r) else "(end)"
    return f"event {i}: {left} on the baseline, {right} on the relay"


def verdicts(results: Iterable[ItemResult]) -> list[Verdict]:
    """One ``compare`` verdict per endpoint and model: inconsistent when an item differs,
    consistent when every paired item was compared without a difference, inconclusive when
    nothing could be compared."""
    groups: dict[tuple[str, str], list[ItemResult]] = {}
    for r in results:
        groups.setdefault((r.endpoint, r.model), []).append(r)
    out = []
    for (endpoint, model), rs in sorted(groups.items()):
        compared = [r for r in rs if r.only is None and r.compared]
        failed = [r for r in rs if r.violations]
        codes = Counter(v.code for r in failed for v in r.violations)
        numbers = {
            "items_compared": len(compared),
            "items_differing": len(failed),
            "only_in_baseline": sum(1 for r in rs if r.only == "baseline"),
            "only_in_relay": sum(1 for r in rs if r.only == "relay"),
            "differences": dict(sorted(codes.items())),
        }
        missing = "".join(
            f"; {numbers[k]} only in the {side}"
            for k, side in (("only_in_baseline", "baseline"), ("only_in_relay", "relay run"))
            if numbers[k]
        )
        if failed:
            firsts = {v.code: v for r in failed for v in reversed(r.violations)}
            what = ", ".join(f"{c.removeprefix('fidelity.compare.')} {n}" for c, n in sorted(codes.items()))
            reason = f"{len(failed)} of {len(compared)} items differ from the baseline ({what}){missing}"
            out.append(
                Verdict(
                    "compare",
                    endpoint,
                    model,
                    "inconsistent",
                    reason,
                    numbers,
                    tuple(firsts[c] for c in sorted(firsts)),
                )
            )
        elif compared:
            reason = f"{len(compared)} item(s) agree with the baseline{missing}"
            out.append(Verdict("compare", endpoint, model, "consistent", reason, numbers))
        else:
            reason = f"no item recorded on both sides{missing}"
            out.append(Verdict("compare", endpoint, model, "inconclusive", reason, numbers))
    return out
