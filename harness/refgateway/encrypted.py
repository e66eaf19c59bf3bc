"""Reasoning items' ``encrypted_content`` (Responses, ``include: ["reasoning.encrypted_content"]``).

The official API hands back the reasoning of a stateless (``store: false``) turn as an opaque
token (a Fernet token: it starts ``gAAAAA``) and verifies it when the item is sent back: one
changed character gets 400 ``invalid_encrypted_content`` ("The encrypted content gAAA...DQ==
could not be verified.", openai/codex#8145). The reference gateway issues a token of the same
look (the item id and its reasoning, encrypted, with an HMAC under a secret drawn per process)
and checks it the same way. Fault encrypted-content-not-verified: any token is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from harness.refgateway.common import RequestError

INCLUDE = "reasoning.encrypted_content"
_SECRET = secrets.token_bytes(32)  # per process: a token from another gateway process is not ours
_PREFIX = b"\x80" + bytes(4)  # a Fernet token's version byte and timestamp high bytes: "gAAAAA..."


def _stream(iv: bytes, n: int) -> bytes:
    blocks = (hashlib.sha256(_SECRET + iv + i.to_bytes(4, "big")).digest() for i in range(n // 32 + 1))
    return b"".join(blocks)[:n]


def issue(item_id: str, reasoning: str) -> str:
    """An opaque token: version byte, IV, HMAC of the plain payload, the payload encrypted."""
    payload = json.dumps({"id": item_id, "r": reasoning}, separators=(",", ":")).encode()
    iv = hashlib.sha256(payload).digest()[:8]  # deterministic: the same request, the same bytes
    mac = hmac.new(_SECRET, payload, hashlib.sha256).digest()
    sealed = bytes(a ^ b for a, b in zip(payload, _stream(iv, len(payload)), strict=True))
    return base64.urlsafe_b64encode(_PREFIX + iv + mac + sealed).decode()


def valid(token: Any) -> bool:
    if not isinstance(token, str):
        return False
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except ValueError:
        return False
    head = len(_PREFIX)
    if len(raw) < head + 40 or raw[:head] != _PREFIX:
        return False
    iv, mac, sealed = raw[head : head + 8], raw[head + 8 : head + 40], raw[head + 40 :]
    payload = bytes(a ^ b for a, b in zip(sealed, _stream(iv, len(sealed)), strict=True))
    return hmac.compare_digest(mac, hmac.new(_SECRET, payload, hashlib.sha256).digest())


def check(items: list[dict[str, Any]]) -> None:
    """The official 400 for a reasoning item whose encrypted_content is not one this gateway issued."""
    for item in items:
        if item.get("type") != "reasoning" or item.get("encrypted_content") is None:
            continue
        token = item["encrypted_content"]
        if not valid(token):
            shown = f"{token[:4]}...{token[-4:]}" if isinstance(token, str) else str(token)
            raise RequestError(
                400, f"The encrypted content {shown} could not be verified.", code="invalid_encrypted_content"
            )
