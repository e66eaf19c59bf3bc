"""Record and replay that keep the stream: one vcrpy cassette per item, with each chunk's
arrival offset, redacted before it reaches disk, replayed offline. See docs/recording.md."""

from harness.recording.offline import OfflineError, offline
from harness.recording.options import PACINGS, RECORD_MODES, RecordOptions, add_options, describe, from_values
from harness.recording.transport import CassetteTransport, display, item_scope, session_transport, with_notes

__all__ = [
    "PACINGS",
    "RECORD_MODES",
    "CassetteTransport",
    "OfflineError",
    "RecordOptions",
    "add_options",
    "describe",
    "display",
    "from_values",
    "item_scope",
    "offline",
    "session_transport",
    "with_notes",
]
