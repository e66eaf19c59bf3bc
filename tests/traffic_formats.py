"""Hand-made recordings in every format lint-traffic reads, each written from the format's
documented shape (vcrpy's cassette v1, Ruby VCR, go-vcr v1/v2, HAR 1.2 as browsers, Playwright and
Polly.js write it, the corpus JSONL). Bodies are small official-shaped answers written here."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from typing import Any

import yaml

CHAT_URL = "https://api.openai.com/v1/chat/completions"
MESSAGES_URL = "https://api.anthropic.com/v1/messages"
# An API no dialect claims (Gemini countTokens; generateContent is the gemini dialect since issue 12).
OTHER_URL = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:countTokens"

CHAT_REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
CHAT_BODY: dict[str, Any] = {
    "id": "chatcmpl-iK2ZWeqhFWCEPyYngFb51yBMWXaSC",
    "object": "chat.completion",
    "created": 1767225600,  # 2026-01-01
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
    "service_tier": "default",
    "system_fingerprint": "fp_1",
}
MESSAGES_REQUEST = {
    "model": "claude-sonnet-4-20250514",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Hi"}],
}
MESSAGES_BODY: dict[str, Any] = {
    "id": "msg_01rUZoL8g5ubbbPIa84yRnBU",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [{"type": "text", "text": "Hello"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 8, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1},
}
# A relay's answer: a chat.completion served from /v1/messages (object.kind, an error).
BAD_MESSAGES_BODY = CHAT_BODY


@dataclass(frozen=True)
class Rec:
    url: str
    request: dict[str, Any]
    body: bytes
    content_type: str | None = "application/json"
    status: int = 200


def good_chat() -> Rec:
    return Rec(CHAT_URL, CHAT_REQUEST, json.dumps(CHAT_BODY).encode())


def good_messages() -> Rec:
    return Rec(MESSAGES_URL, MESSAGES_REQUEST, json.dumps(MESSAGES_BODY).encode())


def bad_messages() -> Rec:
    return Rec(MESSAGES_URL, MESSAGES_REQUEST, json.dumps(BAD_MESSAGES_BODY).encode())


def other_api() -> Rec:
    return Rec(OTHER_URL, {"contents": []}, b'{"totalTokens": 3}')


def _headers_dict(rec: Rec) -> dict[str, list[str]]:
    return {"Content-Type": [rec.content_type]} if rec.content_type else {}


def vcrpy_yaml(recs: list[Rec], *, binary: bool = False, gzipped: bool = False) -> str:
    """vcrpy's YAML serializer (cassette format v1). ``binary``: bodies as !!binary bytes, as
    vcrpy writes undecodable bodies; ``gzipped``: the wire bytes of a gzip answer, as vcrpy keeps
    them without decode_compressed_response."""
    return yaml.safe_dump(_vcrpy_doc(recs, binary=binary, gzipped=gzipped), sort_keys=True)


def vcrpy_json(recs: list[Rec]) -> str:
    return json.dumps(_vcrpy_doc(recs), indent=4)


def _vcrpy_doc(recs: list[Rec], *, binary: bool = False, gzipped: bool = False) -> dict[str, Any]:
    out = []
    for r in recs:
        headers = _headers_dict(r)
        body: Any = r.body
        if gzipped:
            body = gzip.compress(r.body)
            headers["Content-Encoding"] = ["gzip"]
        elif not binary:
            body = r.body.decode()
        out.append(
            {
                "request": {
                    "body": json.dumps(r.request),
                    "headers": {"Content-Type": ["application/json"]},
                    "method": "POST",
                    "uri": r.url,
                },
                "response": {
                    "body": {"string": body},
                    "headers": headers,
                    "status": {"code": r.status, "message": "OK"},
                },
            }
        )
    return {"interactions": out, "version": 1}


def ruby_vcr(recs: list[Rec], *, base64_bodies: bool = False) -> str:
    """Ruby VCR (YAML serializer): http_interactions, body {encoding, string | base64_string}."""
    out = []
    for r in recs:
        body = (
            {"encoding": "ASCII-8BIT", "base64_string": base64.b64encode(r.body).decode()}
            if base64_bodies
            else {"encoding": "UTF-8", "string": r.body.decode()}
        )
        out.append(
            {
                "request": {
                    "method": "post",
                    "uri": r.url,
                    "body": {"encoding": "UTF-8", "string": json.dumps(r.request)},
                    "headers": {"Content-Type": ["application/json"]},
                },
                "response": {
                    "status": {"code": r.status, "message": "OK"},
                    "headers": _headers_dict(r),
                    "body": body,
                    "http_version": None,
                },
                "recorded_at": "Thu, 01 Jan 2026 10:00:00 GMT",
            }
        )
    return yaml.safe_dump({"http_interactions": out, "recorded_with": "VCR 6.2.0"}, sort_keys=False)


def go_vcr(recs: list[Rec], version: int = 1) -> str:
    """go-vcr: v1 (request url/method/body/headers, response status "200 OK" + code) and v2
    (the same plus id, proto, content_length, duration)."""
    out = []
    for i, r in enumerate(recs):
        req: dict[str, Any] = {
            "body": json.dumps(r.request),
            "form": {},
            "headers": {"Content-Type": ["application/json"]},
            "url": r.url,
            "method": "POST",
        }
        resp: dict[str, Any] = {
            "body": r.body.decode(),
            "headers": _headers_dict(r),
            "status": "200 OK",
            "code": r.status,
        }
        if version == 2:
            req = {"proto": "HTTP/1.1", "proto_major": 1, "proto_minor": 1, "content_length": 10, **req}
            resp = {"proto": "HTTP/2.0", "content_length": -1, "uncompressed": True, **resp, "duration": "512ms"}
            out.append({"id": i, "request": req, "response": resp})
        else:
            out.append({"request": req, "response": {**resp, "duration": "512ms"}})
    return yaml.safe_dump({"version": version, "interactions": out}, sort_keys=False)


def har(recs: list[Rec], *, flavour: str = "browser", files: dict[str, bytes] | None = None) -> str:
    """HAR 1.2. ``polly``: Polly.js (``_id``/``_order``, body as base64 chunks when binary);
    ``playwright-attach``: Playwright's ``content: attach`` (body in a file beside the HAR, named
    by ``_file``; the files are put into ``files``)."""
    entries = []
    for i, r in enumerate(recs):
        headers = [{"name": "content-type", "value": r.content_type}] if r.content_type else []
        content: dict[str, Any] = {"size": len(r.body), "mimeType": r.content_type or "x-unknown"}
        if flavour == "polly":
            half = len(r.body) // 2
            content |= {
                "encoding": "base64",
                "text": json.dumps([base64.b64encode(p).decode() for p in (r.body[:half], r.body[half:])]),
            }
        elif flavour == "playwright-attach" and files is not None:
            name = f"body-{i}.json"
            files[name] = r.body
            content["_file"] = name
        else:
            content["text"] = r.body.decode()
        entry: dict[str, Any] = {
            "startedDateTime": "2026-01-01T10:00:00.000Z",
            "time": 512,
            "request": {
                "method": "POST",
                "url": r.url,
                "httpVersion": "HTTP/1.1",
                "headers": [{"name": "content-type", "value": "application/json"}],
                "queryString": [],
                "postData": {"mimeType": "application/json", "text": json.dumps(r.request)},
            },
            "response": {"status": r.status, "statusText": "OK", "headers": headers, "content": content},
        }
        if flavour == "polly":
            entry = {"_id": f"id{i}", "_order": 0, **entry}
        entries.append(entry)
    creator = {"browser": "Firefox", "polly": "Polly.JS", "playwright-attach": "Playwright"}.get(flavour, flavour)
    return json.dumps(
        {"log": {"version": "1.2", "creator": {"name": creator, "version": "1"}, "entries": entries}}, indent=2
    )


def corpus_jsonl(recs: list[Rec]) -> str:
    lines = []
    for i, r in enumerate(recs):
        path = "/" + r.url.split("/", 3)[3]
        lines.append(
            json.dumps(
                {
                    "source": "hand-made",
                    "interaction_index": i,
                    "host": r.url.split("/")[2],
                    "method": "POST",
                    "url_path": path,
                    "request_body": r.request,
                    "status": r.status,
                    "response_headers": {"content-type": r.content_type},
                    "response_body_text": r.body.decode(),
                }
            )
        )
    return "\n".join(lines) + "\n"


FORMATS = {
    "vcrpy-yaml": vcrpy_yaml,
    "vcrpy-yaml-binary": lambda recs: vcrpy_yaml(recs, binary=True),
    "vcrpy-yaml-gzip": lambda recs: vcrpy_yaml(recs, gzipped=True),
    "vcrpy-json": vcrpy_json,
    "ruby-vcr": ruby_vcr,
    "ruby-vcr-base64": lambda recs: ruby_vcr(recs, base64_bodies=True),
    "go-vcr-v1": go_vcr,
    "go-vcr-v2": lambda recs: go_vcr(recs, 2),
    "har-browser": har,
    "har-polly": lambda recs: har(recs, flavour="polly"),
    "corpus-jsonl": corpus_jsonl,
}
