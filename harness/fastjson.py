"""``json.loads`` with the same result, faster: orjson where it is certain to agree.

The stream checks decode one JSON payload per SSE event; the standard library's decoder was a
quarter of the time of a whole stream check (docs/performance.md). orjson decodes the same text
three times faster, but it differs from ``json.loads`` in a few places, each handled here so the
value (and so every verdict) is exactly what ``json.loads`` gives:

- ``NaN``, ``Infinity``, ``-Infinity``, numbers that overflow a float (``1e400``), escaped lone
  surrogates (``"\\ud800"``), nesting past 1,024 levels: orjson raises where ``json`` accepts (or
  raises RecursionError). Every orjson error is asked again of ``json.loads``, which gives the
  value or the error it always gave.
- integers outside 64 bits come back from orjson as floats (``json`` keeps them exact). They need
  at least 19 digits in a row, so a text holding 19 digits in a row goes to ``json.loads``
  directly (a cheap byte scan: digits mapped to one byte, then one substring search).

Without orjson installed, ``loads`` is ``json.loads``. tests/test_fastjson.py compares both on
the official corpus and on mutated payloads.
"""

from __future__ import annotations

import json
from typing import Any

try:  # pragma: no cover - which branch runs depends on the install
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None

_json_loads = json.loads
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19  # the shortest integer literal that can pass 2**63


def _loads_fast(text: str) -> Any:
    try:
        raw = text.encode("utf-8")
    except (UnicodeEncodeError, AttributeError):  # a lone surrogate in the text; bytes given
        return _json_loads(text)
    if _LONG_RUN in raw.translate(_DIGITS_AS_ZERO):
        return _json_loads(text)
    try:
        return _orjson.loads(raw)  # type: ignore[union-attr]
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return _json_loads(text)


loads = _loads_fast if _orjson is not None else _json_loads
FAST = _orjson is not None  # for the benchmark's printout
