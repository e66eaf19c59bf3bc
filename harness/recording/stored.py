"""relaycheck's cassette format, read and written in one place.

A relaycheck cassette is a vcrpy cassette whose response dict has one extra key,
``relaycheck``: each chunk as ``"offset-in-seconds size-in-bytes"`` (older files: ``[offset,
text]`` pairs), TTFT, latency, a transport error, and, for an answer that came compressed, the
wire encoding and size (the body itself is stored decoded). Replay (``harness.recording``) and
``relaycheck lint-traffic`` (``harness.cassettes``) both read a response through
``exchange_from``, so the same file is the same Exchange to both: same chunks, offsets, status
and headers. Kept free of vcrpy and httpx so the traffic reader stays cheap to import.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

from harness.model import Chunk, Exchange, WireRequest

EXTENSION = "relaycheck"  # the one key added to vcrpy's response dict


def is_relaycheck(response: Any) -> bool:
    """True for a response dict written by relaycheck (vcrpy's shape plus the extension)."""
    return isinstance(response, dict) and isinstance(response.get(EXTENSION), dict)


def response_dict(exchange: Exchange) -> dict[str, Any]:
    """The Exchange as a vcrpy response dict plus the extension (what recording stores)."""
    status = exchange.status
    try:
        reason = HTTPStatus(status).phrase if status is not None else ""
    except ValueError:
        reason = ""
    # The body is stored decoded (redaction must see the text, and a vcrpy client must be able to
    # read it), so the headers that describe the wire form move into the extension.
    encoded = exchange.content_encoding is not None
    wire = {"content-encoding", "content-length"} if encoded else set()
    return {
        "status": {"code": status, "message": reason},
        "headers": {k: [v] for k, v in exchange.headers.items() if k not in wire},
        "body": {"string": exchange.body},
        EXTENSION: {
            **(
                {"content_encoding": exchange.headers["content-encoding"], "wire_bytes": exchange.wire_bytes}
                if encoded
                else {}
            ),
            # "offset-in-seconds size-in-bytes", one line per chunk as it arrived.
            "chunks": [f"{c.offset:.6f} {len(c.data)}" for c in exchange.chunks],
            "ttft_ms": _ms(exchange.ttft_ms),
            "latency_ms": _ms(exchange.latency_ms),
            "error": {"code": exchange.error_code, "message": exchange.error} if exchange.error else None,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def split_chunks(body: bytes, chunks: list[Any] | None) -> list[tuple[float, bytes]]:
    """The stored body cut back into its chunks. A cassette without the extension (plain
    vcrpy) gives one chunk at offset 0. Raises ValueError when the chunks do not add up to the
    body: a cassette edited by hand is reported, never replayed as something else."""
    if not chunks:
        return [(0.0, body)] if body else []
    if not isinstance(chunks, list):
        raise ValueError(f"relaycheck.chunks must be a list, found {type(chunks).__name__}")
    out, pos = [], 0
    for line in chunks:
        if isinstance(line, str):  # "offset size"
            offset, size = line.split()
            data = body[pos : pos + int(size)]
        elif isinstance(line, list) and len(line) == 2:  # older files: [offset, text]
            offset, text = line
            data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
            if body[pos : pos + len(data)] != data:
                raise ValueError(f"chunk {len(out)} is not the body's bytes at {pos}")
        else:
            raise ValueError(f"chunk {len(out)} is neither 'offset size' nor [offset, text]: {line!r}")
        out.append((float(offset), data))
        pos += len(data)
    if pos != len(body):
        raise ValueError(f"chunk sizes add up to {pos} bytes but the body has {len(body)}")
    return out


def _body(response: dict[str, Any]) -> bytes:
    body = response.get("body")
    value = body.get("string") if isinstance(body, dict) else body
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes):
        return value
    raise ValueError(f"response.body.string must be text, found {type(value).__name__}")


def _headers(raw: Any) -> dict[str, str]:
    """Lower-cased names; several values of one name joined as HTTP joins them. A null value
    (the recorder kept the name, not the value) counts as not recorded."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"response.headers must be an object, found {type(raw).__name__}")
    out: dict[str, str] = {}
    for name, values in raw.items():
        values = values if isinstance(values, list) else [values]
        kept = [str(v) for v in values if v is not None]
        if kept:
            out[str(name).lower()] = ", ".join(kept)
    return out


def _status(response: dict[str, Any]) -> int | None:
    status = response.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    if code is None:
        return None  # a transport failure: no answer was ever received
    if isinstance(code, bool) or not isinstance(code, int):
        raise ValueError(f"response.status.code must be an integer, found {code!r}")
    return code


def exchange_from(request: WireRequest, response: dict[str, Any]) -> Exchange:
    """The recorded answer as an Exchange for ``request`` (the one sent now, or the recorded
    one), with the recorded arrival offsets. Raises ValueError on a malformed response."""
    ext = response.get(EXTENSION) or {}
    if not isinstance(ext, dict):
        raise ValueError(f"response.{EXTENSION} must be an object")
    body = _body(response)
    chunks = tuple(Chunk(o, d) for o, d in split_chunks(body, ext.get("chunks")))
    error = ext.get("error") or {}
    headers = _headers(response.get("headers"))
    if ext.get("content_encoding"):
        headers["content-encoding"] = ext["content_encoding"]
    return Exchange(
        request=request,
        status=_status(response),
        headers=headers,
        chunks=chunks,
        ttft_ms=ext.get("ttft_ms", chunks[0].offset * 1000 if chunks else None),
        latency_ms=ext.get("latency_ms"),
        error=error.get("message"),
        error_code=error.get("code"),
        wire_bytes=ext.get("wire_bytes"),
    )
