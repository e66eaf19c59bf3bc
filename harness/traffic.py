"""Recorded traffic to Exchanges: the interaction type and the corpus JSONL row. The readers for
every format (detected by content), and ``load_jsonl`` for the truth tests, are in
``harness.cassettes``, which imports this module (never the other way round)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from harness.dialects import registry
from harness.model import Chunk, Exchange, WireRequest


@dataclass(frozen=True)
class RecordedInteraction:
    source: str
    index: int
    endpoint: str | None  # a registered dialect's name, None for other endpoints
    exchange: Exchange
    request_recorded: bool  # False when the log kept no request body
    recorded_on: date | None = None  # when it was recorded, as far as the file says

    @property
    def id(self) -> str:
        return f"{self.source}#{self.index}"


def endpoint_for_path(path: str, method: str = "POST") -> str | None:
    """The registered dialect whose endpoint ``path`` names (the dialect decides: a base prefix,
    a query or a model inside the path are its business)."""
    dialect = registry.for_path(method, path)
    return dialect.name if dialect is not None else None


def _request_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def from_corpus_row(row: dict[str, Any], source: str | None = None) -> RecordedInteraction:
    """One line of ``interactions.jsonl`` (see shared/corpus/README.md)."""
    path = row.get("url_path") or ""
    request = WireRequest(
        method=row.get("method") or "POST",
        url=f"https://{row.get('host') or 'recorded'}{path}",
        headers={},
        body=_request_bytes(row.get("request_body")),
    )
    # A null value (recorders keep the name and drop the value) counts as not recorded.
    headers = {str(k).lower(): str(v) for k, v in (row.get("response_headers") or {}).items() if v is not None}
    text = row.get("response_body_text") or ""
    exchange = Exchange(
        request=request, status=row.get("status"), headers=headers, chunks=(Chunk(0.0, text.encode("utf-8")),)
    )
    api = row.get("api")
    endpoint = api if api in registry.names() else endpoint_for_path(path, request.method)
    return RecordedInteraction(
        source=source or str(row.get("source")),
        index=int(row.get("interaction_index") or 0),
        endpoint=endpoint,
        exchange=exchange,
        request_recorded=isinstance(row.get("request_body"), dict),
    )
