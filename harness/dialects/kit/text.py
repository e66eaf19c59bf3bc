"""Text helpers every dialect uses in its messages."""

from __future__ import annotations

import json
from typing import Any


def clip(value: Any, n: int = 160) -> str:
    """A value as text, cut to ``n`` characters: what a violation shows as ``actual``."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= n else text[:n] + "…"
