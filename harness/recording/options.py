"""Record and replay settings: record mode, replay pacing, where cassettes live, how old a
cassette may get, extra redaction patterns. No pytest here: the plugin and the CLI pass values in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.gateways import DEFAULT_FILE, ConfigError
from harness.recording.cassette import cassette_path

# vcrpy's four modes, plus "auto" (replay an item whose cassette exists, else run it live) and
# "off" (live, cassettes neither read nor written). "off" is the default: a run that nobody
# asked to replay is live, so a dead or different relay can never pass on old recordings.
RECORD_MODES = ("off", "auto", "none", "once", "new_episodes", "all")
DEFAULT_MODE = "off"
PACINGS = ("fast", "real")
DEFAULT_MAX_AGE_DAYS = 30.0


@dataclass(frozen=True)
class RecordOptions:
    mode: str = DEFAULT_MODE
    pacing: str = "fast"
    cassette_dir: Path = Path("cassettes")
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    redact_patterns: tuple[str, ...] = ()
    # The built-in gateway is in-process, deterministic and always there: in auto mode it runs
    # live (what `relaycheck run` promises); its cassettes are replayed by `relaycheck replay`.
    builtin: bool = False

    @property
    def effective_mode(self) -> str:
        return "off" if self.mode == "auto" and self.builtin else self.mode

    def cassette(self, gateway: str, item_id: str) -> Path:
        return cassette_path(self.cassette_dir, gateway, item_id)

    def item_mode(self, path: Path) -> str | None:
        """The vcrpy record mode for one item's cassette; None: live, no cassette at all."""
        if self.effective_mode == "off":
            return None
        if self.mode == "auto":
            return "none" if path.is_file() else None
        return self.mode

    def needs_live(self, gateway: str, item_ids: Iterable[str]) -> bool:
        """Whether any item may have to reach the gateway (so the built-in one must be started)."""
        for item_id in item_ids:
            path = self.cassette(gateway, item_id)
            mode = self.item_mode(path)
            if mode in (None, "new_episodes", "all") or (mode == "once" and not path.is_file()):
                return True
        return False


def add_options(addoption: Callable[..., Any]) -> None:
    """Register the command-line options (``addoption`` is a pytest option group's)."""
    addoption(
        "--record-mode",
        choices=RECORD_MODES,
        default=None,
        help="cassettes: off (default: live, no cassette read or written), none (replay only, offline; "
        "what `relaycheck replay` uses), once, new_episodes, all (re-record; `relaycheck record`), auto "
        "(replay items that have a cassette, run the others live). A cassette replays only for the "
        "base URL it was recorded from",
    )
    addoption(
        "--replay-pacing",
        choices=PACINGS,
        default=None,
        help="fast (default: replay at once; streaming checks not judged) or real (re-emit chunks at "
        "their recorded offsets)",
    )
    addoption("--cassette-dir", default=None, help="where cassettes live (default: <rootdir>/cassettes)")
    addoption(
        "--max-cassette-age",
        type=float,
        default=None,
        metavar="DAYS",
        help=f"a replayed cassette older than this is noted as stale (default {DEFAULT_MAX_AGE_DAYS:g})",
    )
    addoption(
        "--redact-pattern",
        action="append",
        default=None,
        metavar="REGEX",
        help="extra text to mask in cassettes, reports and failures (repeatable; also `redact:` in gateways.yaml)",
    )


def config_patterns(gateways_file: Path | None, gateway: str) -> tuple[str, ...]:
    """``redact:`` lists from gateways.yaml: top level (every gateway) and the gateway's own."""
    path = gateways_file or (Path("gateways.yaml") if Path("gateways.yaml").is_file() else DEFAULT_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ()  # the gateway loader has already reported an unreadable file
    own = ((raw.get("gateways") or {}).get(gateway) or {}).get("redact") or []
    return tuple(str(p) for p in [*(raw.get("redact") or []), *own])


def from_values(
    get: Callable[[str], Any], rootdir: Path, gateway: str, gateways_file: Path | None, builtin: bool = False
) -> RecordOptions:
    """Options from a getter (``config.getoption``), with defaults filled in and patterns checked."""
    patterns = (*config_patterns(gateways_file, gateway), *(get("redact_pattern") or ()))
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ConfigError(f"redact pattern {p!r} is not a regular expression: {exc}") from None
    max_age = get("max_cassette_age")
    return RecordOptions(
        mode=get("record_mode") or DEFAULT_MODE,
        pacing=get("replay_pacing") or "fast",
        cassette_dir=Path(get("cassette_dir") or rootdir / "cassettes"),
        max_age_days=DEFAULT_MAX_AGE_DAYS if max_age is None else max_age,
        redact_patterns=patterns,
        builtin=builtin,
    )


def describe(options: RecordOptions, gateway: str) -> str:
    """One line for the session header: where verdicts come from."""
    where = options.cassette_dir / gateway
    what = {
        "auto": "the built-in gateway runs live (`relaycheck replay` replays its cassettes)"
        if options.builtin
        else f"replay items that have a cassette in {where} (offline, only for the base URL it was "
        "recorded from), run the others live",
        "off": "live, no cassette read or written (replay: `relaycheck replay` or --record-mode)",
        "none": f"replay only from {where}, offline",
        "once": f"replay from {where}; items without a cassette are recorded",
        "new_episodes": f"replay from {where}; requests not in a cassette are recorded",
        "all": f"record every item into {where}",
    }[options.mode]
    return f"relaycheck: record mode {options.mode}: {what}; replay pacing {options.pacing}"
