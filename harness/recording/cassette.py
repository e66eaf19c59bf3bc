"""Cassettes in vcrpy's own format, with the stream kept.

vcrpy stores an interaction as ``{request: {method, uri, body, headers}, response: {status,
headers, body: {string}}}``. Its httpx stub joins a streamed answer into that one body before
the client sees the first byte, so chunk boundaries and arrival times are lost. Here the
interaction is written from relaycheck's own Exchange (read chunk by chunk by the live
transport, so recording measures TTFT as truly as a plain run) and the response dict gains
one extra key, ``relaycheck``, holding each chunk's arrival offset and size. Everything else
is vcrpy's: Cassette (record modes, play counts), its YAML serializer, a FilesystemPersister
subclass, and matchers with vcrpy's matcher signature. A vcrpy client replaying the same
file simply ignores the extra key and gets the joined body. The extension itself is read and
written by ``harness.recording.stored``, the one reader replay and lint-traffic share.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from vcr.cassette import Cassette
from vcr.matchers import host, method, path, port, query, scheme
from vcr.persisters.filesystem import FilesystemPersister
from vcr.record_mode import RecordMode
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from harness.model import WireRequest
from harness.recording.stored import EXTENSION, split_chunks
from harness.redact import MASK, SECRET_HEADERS, Redactor

# --- where a cassette lives -------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._\[\]@+=-]")
_MAX_NAME = 150


def _safe(part: str) -> str:
    """A file-name-safe form of one path part; a part that had to change gets a short hash of
    the original, so two ids that sanitise alike never share a cassette."""
    safe = _UNSAFE.sub("_", part).lstrip(".") or "_"
    if safe != part or len(safe) > _MAX_NAME:
        safe = f"{safe[:_MAX_NAME]}-{hashlib.sha1(part.encode()).hexdigest()[:8]}"
    return safe


def gateway_dir(root: Path, gateway: str) -> Path:
    """Where a gateway's cassettes live."""
    return root / _safe(gateway)


@functools.lru_cache(maxsize=1024)  # asked three times per item (needs_live, the source, the cassette)
def cassette_path(root: Path, gateway: str, item_id: str) -> Path:
    """``cases/messages/basic.yaml::plain-text[local-m-stream]`` becomes
    ``<root>/<gateway>/messages/basic.yaml/plain-text[local-m-stream].yaml``: stable across runs
    and machines, one file per item, so xdist workers never write the same file."""
    file_part, _, name = item_id.partition("::")
    parts = list(PurePosixPath(file_part).parts)
    if "cases" in parts[:-1]:
        parts = parts[parts.index("cases") + 1 :]
    return root.joinpath(_safe(gateway), *(_safe(p) for p in parts), _safe(name or "item") + ".yaml")


# --- matching -----------------------------------------------------------------------------------


def _parsed(body: Any) -> Any:
    if body is None or body == b"":
        return None
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        return json.loads(body)
    except ValueError:
        return body  # a deliberately malformed body is compared byte for byte


def _canonical(value: Any) -> str:
    # Python's == takes 1 == 1.0 == True; the wire does not.
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)


def _short(value: Any, n: int = 80) -> str:
    text = _canonical(value) if value is not _ABSENT else "(absent)"
    return text if len(text) <= n else text[:n] + "…"


_ABSENT = object()


def json_diff(recorded: Any, now: Any, where: str = "$", limit: int = 8) -> list[str]:
    """Short lines naming the JSON paths where two bodies differ (recorded vs this request)."""
    out: list[str] = []

    def walk(a: Any, b: Any, at: str) -> None:
        if len(out) >= limit or (a is not _ABSENT and b is not _ABSENT and _canonical(a) == _canonical(b)):
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{at}.{key}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{at}[{i}]")
        else:
            out.append(f"{at}: recorded {_short(a)}, now {_short(b)}")

    walk(recorded, now, where)
    return out


def json_body(r1: Request, r2: Request) -> None:
    """vcrpy matcher (this request first, the recorded one second): equal parsed JSON bodies.
    Key order and whitespace do not matter; a value's type does."""
    now, recorded = _parsed(r1.body), _parsed(r2.body)
    if _canonical(now) != _canonical(recorded):
        raise AssertionError("\n".join(json_diff(recorded, now)) or "the bodies differ")


def sent_headers(r1: Request, r2: Request) -> None:
    """vcrpy matcher: the same header names, and the same values of every header that is not
    a secret. A case that drops its key or changes anthropic-version is another request; the
    key itself (random per session for the built-in gateway) is never compared."""
    a = {k.lower(): v for k, v in r1.headers.items()}
    b = {k.lower(): v for k, v in r2.headers.items()}
    diffs = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            diffs.append(
                f"header {name}: recorded {'(present)' if name in b else '(absent)'}, "
                f"now {'(present)' if name in a else '(absent)'}"
            )
        elif name not in SECRET_HEADERS and a[name] != b[name]:
            diffs.append(f"header {name}: recorded {b[name]!r}, now {a[name]!r}")
    if diffs:
        raise AssertionError("\n".join(diffs))


MATCH_ON = (method, path, query, json_body, sent_headers)
# A relay's cassette matches only that relay: another scheme, host or port (another base URL,
# or two bare --base-url runs that share the gateway name "relay") is another relay, never a
# match. The built-in gateway is left out: it listens on a new port in every session.
RELAY_MATCH_ON = (scheme, host, port, *MATCH_ON)


# --- redaction hooks (vcrpy's before_record_request / before_record_response) -------------------


def _redact_bytes(data: bytes, redactor: Redactor) -> bytes:
    return redactor.wire_bytes(data)  # JSON-aware: a redacted body still parses


def redact_request(redactor: Redactor) -> Callable[[Request], Request]:
    last: list[Request] = []  # [request, its redacted copy]: vcrpy filters one request three times

    def hook(request: Request) -> Request:
        if last and last[0] is request:
            return last[1]
        body = request.body
        if isinstance(body, bytes):
            body = _redact_bytes(body, redactor)
        headers = redactor.headers({k: v for k, v in request.headers.items()})
        last[:] = [request, Request(request.method, redactor.text(request.uri), body, headers)]
        return last[1]

    return hook


def redact_chunks(chunks: list[tuple[float, bytes]], redactor: Redactor) -> list[tuple[float, bytes]]:
    """Redact chunk by chunk, so sizes still add up to the stored body. A secret split across
    chunks is only found in the joined text: such chunks are merged (keeping the first one's
    arrival time) until the chunks redact exactly like the whole body."""
    groups = [list(c) for c in chunks]
    joined = b"".join(d for _, d in chunks)
    whole = _redact_bytes(joined, redactor)
    if whole == joined:
        return chunks  # nothing to mask (the usual case): the chunks stay as they arrived
    while len(groups) > 1:
        parts = [_redact_bytes(d, redactor) for _, d in groups]
        if b"".join(parts) == whole:
            break
        pos, i = 0, 0
        for i, part in enumerate(parts[:-1]):  # noqa: B007 - i is used after the loop
            if whole[pos : pos + len(part)] != part:
                break
            pos += len(part)
        groups[i] = [groups[i][0], groups[i][1] + groups[i + 1][1]]
        del groups[i + 1]
    return [(o, _redact_bytes(d, redactor)) for o, d in groups]


def redact_response(redactor: Redactor) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def hook(response: dict[str, Any]) -> dict[str, Any]:
        response["headers"] = {
            k: [MASK] * len(vs) if k.lower() in SECRET_HEADERS else [redactor.text(v) for v in vs]
            for k, vs in response["headers"].items()
        }
        ext = response.get(EXTENSION) or {}
        body = response["body"]["string"] or b""
        chunks = redact_chunks(list(split_chunks(body, ext.get("chunks"))), redactor)
        response["body"]["string"] = redacted = b"".join(d for _, d in chunks)
        if len(redacted) != len(body):
            # The stored headers must describe the stored body (a vcrpy client reads by them).
            for name, values in response["headers"].items():
                if name.lower() == "content-length":
                    response["headers"][name] = [str(len(redacted))] * len(values)
        if EXTENSION in response:
            ext["chunks"] = [f"{o:.6f} {len(d)}" for o, d in chunks]
            if ext.get("error"):
                ext["error"]["message"] = redactor.text(ext["error"]["message"])
        return response

    return hook


# --- WireRequest -> vcrpy Request (the response side is harness.recording.stored) ---------------


def vcr_request(request: WireRequest) -> Request:
    return Request(request.method, request.url, request.body, dict(request.headers))


# --- persistence --------------------------------------------------------------------------------


class AtomicPersister(FilesystemPersister):
    """vcrpy's filesystem persister, safe with several xdist workers: folders are created
    race-free and a cassette is replaced in one step, never seen half-written."""

    @staticmethod
    def save_cassette(cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        data = serialize(cassette_dict, serializer)
        target = Path(cassette_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, target)


class _Cassette(Cassette):
    """vcrpy's Cassette, loading a replay-only cassette without redacting its answers again.

    vcrpy's ``_load`` appends each stored interaction through ``append``, which deep-copies the
    answer and runs the before-record hooks on it: for an answer that was redacted when it was
    written, and is never written back in modes none and once, that is most of the cost of
    loading (a full redaction pass over every body and chunk). The request side still goes
    through its hook, so matching compares this run's request with the recording exactly as
    before, also for a cassette written before a redaction rule was added; every report
    redacts the answer it shows anyway (the run's Redactor)."""

    _verbatim = False

    def _load(self) -> None:
        self._verbatim = self.record_mode in (RecordMode.NONE, RecordMode.ONCE)
        try:
            super()._load()
        finally:
            self._verbatim = False

    def append(self, request: Request, response: dict[str, Any]) -> None:
        if not self._verbatim:
            super().append(request, response)
            return
        request = self._before_record_request(request)
        if request:
            self.data.append((request, response))  # a fresh dict from the file: no copy needed


def open_cassette(path: Path, mode: str, redactor: Redactor, match_on: tuple[Any, ...] = MATCH_ON) -> Cassette:
    """Load (or start) one item's cassette with vcrpy's record mode semantics. ``all`` drops
    interactions this run did not repeat: a cassette belongs to one item, and leftovers would
    only be reported as unused on every replay."""
    return _Cassette.load(
        path=str(path),
        serializer=yamlserializer,
        persister=AtomicPersister,
        record_mode=RecordMode(mode),
        match_on=match_on,
        before_record_request=redact_request(redactor),
        before_record_response=redact_response(redactor),
        drop_unused_requests=mode == "all",
    )
