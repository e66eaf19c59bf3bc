"""Recorded traffic to Exchanges: the shared corpus's JSONL, HAR files (vcrpy cassettes come with
the recording module). Used by ``relaycheck lint-traffic`` and the truth tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.model import Chunk, Exchange, WireRequest

API_BY_PATH = {
    "/v1/chat/completions": "chat",
    "/v1/messages": "messages",
    "/v1/responses": "responses",
}


@dataclass(frozen=True)
class RecordedInteraction:
    source: str
    index: int
    endpoint: str | None  # chat | messages | responses, None for other endpoints
    exchange: Exchange
    request_recorded: bool  # False when the log kept no request body

    @property
    def id(self) -> str:
        return f"{self.source}#{self.index}"


def endpoint_for_path(path: str) -> str | None:
    path = path.rstrip("/")
    for suffix, name in API_BY_PATH.items():
        if path.endswith(suffix):
            return name
    return None


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
    headers = {k.lower(): v for k, v in (row.get("response_headers") or {}).items()}
    text = row.get("response_body_text") or ""
    exchange = Exchange(
        request=request, status=row.get("status"), headers=headers, chunks=(Chunk(0.0, text.encode("utf-8")),)
    )
    endpoint = row.get("api") if row.get("api") in API_BY_PATH.values() else endpoint_for_path(path)
    return RecordedInteraction(
        source=source or str(row.get("source")),
        index=int(row.get("interaction_index") or 0),
        endpoint=endpoint,
        exchange=exchange,
        request_recorded=isinstance(row.get("request_body"), dict),
    )


def load_jsonl(path: Path) -> Iterator[RecordedInteraction]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield from_corpus_row(json.loads(line))


def load_har(path: Path) -> Iterator[RecordedInteraction]:
    data = json.loads(path.read_text(encoding="utf-8"))
    for i, entry in enumerate(data.get("log", {}).get("entries", [])):
        req, resp = entry.get("request", {}), entry.get("response", {})
        from urllib.parse import urlsplit

        url = req.get("url", "")
        post = (req.get("postData") or {}).get("text") or ""
        headers = {h["name"].lower(): h["value"] for h in resp.get("headers", [])}
        content = resp.get("content", {})
        text = content.get("text") or ""
        if content.get("encoding") == "base64":
            import base64

            raw = base64.b64decode(text)
        else:
            raw = text.encode("utf-8")
        if "content-type" not in headers and content.get("mimeType"):
            headers["content-type"] = content["mimeType"]
        exchange = Exchange(
            request=WireRequest(req.get("method", "POST"), url, {}, post.encode("utf-8")),
            status=resp.get("status"),
            headers=headers,
            chunks=(Chunk(0.0, raw),),
        )
        yield RecordedInteraction(str(path), i, endpoint_for_path(urlsplit(url).path), exchange, bool(post))


def load_cassette(path: Path) -> Iterator[RecordedInteraction]:
    """A vcrpy cassette (YAML): interactions with request body and response body/string."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for i, inter in enumerate(data.get("interactions", [])):
        req, resp = inter.get("request", {}), inter.get("response", {})
        body = req.get("body") or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        rbody = (resp.get("body") or {}).get("string", b"")
        if isinstance(rbody, str):
            rbody = rbody.encode("utf-8")
        headers = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in (resp.get("headers") or {}).items()}
        chunks_meta = resp.get("chunks")  # relaycheck's extension: [[offset, text], ...]
        if chunks_meta:
            chunks = tuple(Chunk(float(o), c.encode("utf-8") if isinstance(c, str) else c) for o, c in chunks_meta)
        else:
            chunks = (Chunk(0.0, rbody),)
        from urllib.parse import urlsplit

        url = req.get("uri", "")
        exchange = Exchange(
            request=WireRequest(req.get("method", "POST"), url, {}, body),
            status=(resp.get("status") or {}).get("code"),
            headers=headers,
            chunks=chunks,
        )
        yield RecordedInteraction(str(path), i, endpoint_for_path(urlsplit(url).path), exchange, bool(body))
