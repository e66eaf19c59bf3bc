"""Recorded traffic as people have it: detect the format of a file by its content (never its
extension) and turn each recorded interaction into a ``RecordedInteraction``.

Formats: the shared corpus's JSONL, HAR (browsers, Playwright, Polly.js), vcrpy cassettes (YAML
or JSON serializer; bodies as text, ``{string: ...}``, ``!!binary``, base64 or ``parsed_body``),
Ruby VCR (``http_interactions``, ``body: {encoding, string | base64_string}``), go-vcr (v1/v2
``interactions`` with ``url``/``code``) and relaycheck's own cassettes (vcrpy plus chunk times),
read by ``harness.recording.stored``, the reader replay uses.

A record that cannot be read becomes one ``TrafficError`` (file plus line or index) and the
reader goes on with the next one: one bad record must never cost the verdicts of the others.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.model import Chunk, Exchange, WireRequest
from harness.recording import stored
from harness.traffic import RecordedInteraction, endpoint_for_path, from_corpus_row

# Files larger than this are not read (a stray video in a cassette folder).
MAX_FILE_BYTES = 256 * 1024 * 1024
# Never opened by a directory walk: code, docs and media that sit beside cassettes.
SKIP_SUFFIXES = frozenset(
    {".py", ".pyc", ".rb", ".go", ".js", ".ts", ".md", ".rst", ".txt", ".png", ".jpg", ".jpeg", ".gif", ".pdf"}
    | {".mp3", ".wav", ".zip", ".gz", ".lock", ".toml", ".cfg", ".ini"}
)


@dataclass(frozen=True)
class TrafficError:
    """One record (or a whole file) that could not be read."""

    source: str
    where: str  # "line 3", "interaction 2", "entry 0" or "" for the whole file
    message: str
    recognized: bool = True  # False: the file is no recording format at all (a README in the folder)

    @property
    def id(self) -> str:
        return f"{self.source}:{self.where.replace(' ', '')}" if self.where else self.source


Record = RecordedInteraction | TrafficError


class _Bad(ValueError):
    """A record is malformed; the message says how."""


# ---------------------------------------------------------------------------------------------
# walking and detection


def walk(paths: list[Path]) -> tuple[list[Path], list[TrafficError]]:
    """Files to read: files as given, directories walked (sorted, hidden entries skipped)."""
    files: list[Path] = []
    errors: list[TrafficError] = []
    for path in paths:
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                rel = f.relative_to(path).parts
                hidden = any(p.startswith(".") or p == "__pycache__" for p in rel)
                if f.is_file() and not hidden and f.suffix.lower() not in SKIP_SUFFIXES:
                    files.append(f)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(TrafficError(str(path), "", "no such file or directory"))
    return files, errors


def read_file(path: Path) -> Iterator[Record]:
    """Every interaction of one file, whatever its format; errors as records, never raised."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            yield TrafficError(source, "", f"file of {size} bytes is larger than {MAX_FILE_BYTES}")
            return
        raw = path.read_bytes()
    except OSError as exc:
        yield TrafficError(source, "", f"cannot read: {exc.strerror or exc}")
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield TrafficError(source, "", f"not UTF-8 text (byte {exc.start}): not a recording format", recognized=False)
        return
    yield from read_text(text, source)


def load_jsonl(path: Path) -> Iterator[RecordedInteraction]:
    """The interactions of a corpus JSONL file, strictly: a bad line raises (the truth tests want
    every line). ``relaycheck lint-traffic`` uses ``read_file``, which reports bad records and
    goes on."""
    for record in read_file(path):
        if isinstance(record, TrafficError):
            raise ValueError(f"{record.id}: {record.message}")
        yield record


def read_text(text: str, source: str) -> Iterator[Record]:
    stripped = text.lstrip()
    if not stripped:
        return
    if stripped[0] in "{[":
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if doc is not None:
            yield from _read_document(doc, source, "JSON")
        elif _first_line_is_json(stripped):
            yield from _read_jsonl(text, source)
        else:
            yield from _salvage_json(text, source)
        return
    try:
        doc = _load_yaml(text)
    except Exception as exc:
        yield from _salvage_yaml(text, source, exc)
        return
    yield from _read_document(doc, source, "YAML")


def _first_line_is_json(text: str) -> bool:
    try:
        return isinstance(json.loads(text.split("\n", 1)[0]), dict)
    except ValueError:
        return False


_LIST_KEY = re.compile(r'"(entries|http_interactions|interactions)"\s*:\s*\[')
_CONVERT = {"entries": ("entry", "_har_entry"), "http_interactions": ("interaction", "_ruby_vcr")}


def _salvage_json(text: str, source: str) -> Iterator[Record]:
    """A JSON recording that does not parse as a whole (truncated, one corrupt entry): judge
    every entry that still decodes on its own, then report where reading stopped."""
    m = _LIST_KEY.search(text)
    if m is None:
        yield TrafficError(
            source, "", "not valid JSON (truncated or corrupt), and no list of interactions found", recognized=False
        )
        return
    label, name = _CONVERT.get(m.group(1), ("interaction", "_vcr_interaction"))
    convert = globals()[name]
    decoder = json.JSONDecoder()
    pos, i = m.end(), 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos < len(text) and text[pos] == "]":
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError:
            yield TrafficError(source, f"{label} {i}", "the file is truncated or corrupt from here on")
            return
        yield _one(source, f"{label} {i}", lambda item=item, i=i: convert(item, source, i))
        i += 1
    yield TrafficError(source, "", "not valid JSON after the list of interactions (truncated or corrupt)")


_ITEM = re.compile(r"^(?P<indent> *)- ", re.M)


def _salvage_yaml(text: str, source: str, exc: Exception) -> Iterator[Record]:
    """A YAML cassette that does not parse as a whole: parse each list item on its own (the
    recorders write one ``- request:`` item per interaction), so one broken item costs one
    error and the others are still judged."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unreadable"])[0]
    whole = TrafficError(source, f"line {mark.line + 1}" if mark is not None else "", f"not readable YAML: {problem}")
    keys = re.search(r"^(http_interactions|interactions):[ \t]*$", text, re.M)
    first = _ITEM.search(text, keys.end()) if keys else None
    if keys is None or first is None:
        yield dataclasses.replace(whole, recognized=False)
        return
    indent = first.group("indent")
    lines = text[first.start() :].split("\n")
    lines = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    items: list[tuple[int, str]] = []
    line_no = text[: first.start()].count("\n") + 1
    for n, line in enumerate(lines, line_no):
        if line.startswith(indent + "- "):
            items.append((n, line))
        elif line.strip() and not line.startswith(indent + " ") and not (indent == "" and line[0] == " "):
            break  # the next top-level key: the list is over
        elif items:
            items[-1] = (items[-1][0], items[-1][1] + line)
    ruby = keys.group(1) == "http_interactions"
    convert = _ruby_vcr if ruby else _vcr_interaction
    for i, (n, chunk) in enumerate(items):
        try:
            parsed = _load_yaml(textwrap.dedent(chunk) if indent else chunk)
        except Exception as err:
            what = getattr(err, "problem", None) or (str(err).splitlines() or ["unreadable"])[0]
            yield TrafficError(source, f"line {n}", f"interaction {i} is not readable YAML: {what}")
            continue
        item = parsed[0] if isinstance(parsed, list) and parsed else parsed
        yield _one(source, f"interaction {i}", lambda item=item, i=i: convert(item, source, i))


def _read_document(doc: Any, source: str, kind: str) -> Iterator[Record]:
    if isinstance(doc, dict):
        if isinstance(doc.get("log"), dict) and "entries" in doc["log"]:
            yield from _records(doc["log"]["entries"], source, "entry", _har_entry)
            return
        if "http_interactions" in doc:
            yield from _records(doc["http_interactions"], source, "interaction", _ruby_vcr)
            return
        if "interactions" in doc:
            yield from _records(doc["interactions"], source, "interaction", _vcr_interaction)
            return
        if "response_body_text" in doc or "url_path" in doc:  # a one-line corpus file
            yield from _records([doc], source, "line", _corpus_row, start=1)
            return
    yield TrafficError(
        source,
        "",
        f"{kind} document is not a known recording format "
        "(HAR log.entries, vcrpy/go-vcr interactions, Ruby VCR http_interactions, corpus JSONL)",
        recognized=False,
    )


def _records(items: Any, source: str, label: str, convert: Any, start: int = 0) -> Iterator[Record]:
    if not isinstance(items, list):
        yield TrafficError(source, "", f"expected a list of {label}s, found {_kind(items)}")
        return
    for i, item in enumerate(items, start):
        yield _one(source, f"{label} {i}", lambda item=item, i=i: convert(item, source, i))


def _one(source: str, where: str, build: Any) -> Record:
    try:
        return build()
    except _Bad as exc:
        return TrafficError(source, where, str(exc))
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        # A shape we did not foresee: still one error for this record, never a traceback.
        return TrafficError(source, where, f"malformed record ({type(exc).__name__}: {exc})")


def _read_jsonl(text: str, source: str) -> Iterator[Record]:
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines: U+2028 is no line end here
        if not line.strip():
            continue

        def build(line: str = line, n: int = n) -> RecordedInteraction:
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise _Bad(f"not a JSON object (truncated or corrupt line): {exc.msg}") from None
            return _corpus_row(row, source, n)

        yield _one(source, f"line {n}", build)


class _Loader:
    """A safe YAML loader that also reads tags vcrpy's older serializers wrote
    (``!!python/unicode``, ``!!python/str``, ``!!python/bytes``) as plain values."""

    cls: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls.cls is None:
            import yaml

            base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

            class Loader(base):  # type: ignore[misc, valid-type]
                pass

            def python_tag(loader: Any, suffix: str, node: Any) -> Any:
                if isinstance(node, yaml.ScalarNode):
                    value = loader.construct_scalar(node)
                    return value.encode("latin-1", "replace") if suffix == "bytes" else value
                if isinstance(node, yaml.SequenceNode):
                    return loader.construct_sequence(node)
                return loader.construct_mapping(node)

            Loader.add_multi_constructor("tag:yaml.org,2002:python/", python_tag)
            cls.cls = Loader
        return cls.cls


# YAML aliases can expand exponentially ("billion laughs"); a cassette has no use for many.
MAX_YAML_ALIASES = 100


def _load_yaml(text: str) -> Any:
    import yaml

    if text.count("*") > MAX_YAML_ALIASES:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        aliases = sum(1 for ev in yaml.parse(text, Loader=loader) if isinstance(ev, yaml.AliasEvent))
        if aliases > MAX_YAML_ALIASES:
            raise ValueError(f"{aliases} YAML aliases (more than {MAX_YAML_ALIASES}): refused")
    return yaml.load(text, Loader=_Loader.get())


# ---------------------------------------------------------------------------------------------
# the formats


def _corpus_row(row: Any, source: str, n: int) -> RecordedInteraction:
    if not isinstance(row, dict):
        raise _Bad(f"expected a JSON object, found {_kind(row)}")
    for key in ("response_body_text", "url_path", "host", "method", "source"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise _Bad(f"{key} must be a string, found {_kind(row[key])}")
    if row.get("response_headers") is not None and not isinstance(row["response_headers"], dict):
        raise _Bad(f"response_headers must be an object, found {_kind(row['response_headers'])}")
    status = row.get("status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
        raise _Bad(f"status must be an integer, found {_kind(status)}")
    index = row.get("interaction_index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise _Bad(f"interaction_index must be an integer, found {_kind(index)}")
    fixed = dict(row, response_headers=_headers(row.get("response_headers")))
    if row.get("source") is None:
        fixed["source"] = source
        fixed.setdefault("interaction_index", n)
    return from_corpus_row(fixed)


def _har_entry(entry: Any, source: str, i: int) -> RecordedInteraction:
    entry = _obj(entry, "entry")
    req = _obj(entry.get("request"), "request")
    resp = _obj(entry.get("response"), "response")
    url = _str(req.get("url"), "request.url")
    post = _obj(req.get("postData") or {}, "request.postData")
    req_body = _str(post.get("text") or "", "postData.text").encode("utf-8")
    headers = _headers(resp.get("headers"))
    content = _obj(resp.get("content") or {}, "response.content")
    mime = content.get("mimeType")
    if "content-type" not in headers and isinstance(mime, str) and mime and mime != "x-unknown":
        headers["content-type"] = mime  # "x-unknown" is what browsers write when they do not know
    raw = _har_content(content, source)
    return _interaction(
        source,
        i,
        method=req.get("method"),
        url=url,
        body=req_body,
        status=_status(resp.get("status")),
        headers=headers,
        raw=raw,
        recorded=_date(entry.get("startedDateTime")),
    )


def _har_content(content: Mapping[str, Any], source: str) -> bytes:
    text = content.get("text")
    if text is None and isinstance(content.get("_file"), str):
        # Playwright with `content: "attach"`: the body is a file beside the HAR.
        attached = Path(source).parent / content["_file"]
        try:
            return attached.read_bytes()
        except OSError:
            raise _Bad(f"the body file {content['_file']!r} named by the HAR is missing") from None
    text = _str(text or "", "content.text")
    if content.get("encoding") == "base64":
        if text.startswith("["):  # Polly.js: a JSON array of base64 chunks
            try:
                parts = json.loads(text)
            except ValueError:
                raise _Bad("content.text is not a JSON array of base64 chunks") from None
            return b"".join(_b64(p, "content.text chunk") for p in parts)
        return _b64(text, "content.text")
    return text.encode("utf-8")


def _vcr_interaction(inter: Any, source: str, i: int) -> RecordedInteraction:
    inter = _obj(inter, "interaction")
    req = _obj(inter.get("request"), "request")
    resp = _obj(inter.get("response"), "response")
    if stored.is_relaycheck(resp):
        return _relaycheck_interaction(inter, req, resp, source, i)
    headers = _headers(resp.get("headers"))
    if "uri" in req or isinstance(resp.get("status"), dict):  # vcrpy
        url = _str(req.get("uri"), "request.uri")
        status = _status((resp.get("status") or {}).get("code") if isinstance(resp.get("status"), dict) else None)
    else:  # go-vcr v1/v2: url, and code beside a "200 OK" status line
        url = _str(req.get("url"), "request.url")
        status = _status(resp.get("code") if "code" in resp else _status_line(resp.get("status")))
    return _interaction(
        source,
        i,
        method=req.get("method"),
        url=url,
        body=_body_bytes(req.get("body"), req, "request.body"),
        status=status,
        headers=headers,
        raw=_body_bytes(resp.get("body"), resp, "response.body"),
        recorded=_date(inter.get("recorded_at")) or _date(headers.get("date")),
    )


def _relaycheck_interaction(
    inter: dict[str, Any], req: dict[str, Any], resp: dict[str, Any], source: str, i: int
) -> RecordedInteraction:
    """relaycheck's own cassette: read by the reader replay uses, so both see the same chunks,
    offsets, status, headers and timings (the body is stored decoded: nothing to inflate)."""
    url = _str(req.get("uri"), "request.uri")
    body = _body_bytes(req.get("body"), req, "request.body")
    method = req.get("method")
    method = method.upper() if isinstance(method, str) and method else "POST"
    exchange = stored.exchange_from(WireRequest(method, url, {}, body), resp)
    recorded = _date(resp[stored.EXTENSION].get("recorded_at")) or _date(inter.get("recorded_at"))
    path = urlsplit(url).path
    return RecordedInteraction(source, i, endpoint_for_path(path, method), exchange, bool(body), recorded_on=recorded)


def _ruby_vcr(inter: Any, source: str, i: int) -> RecordedInteraction:
    inter = _obj(inter, "interaction")
    req = _obj(inter.get("request"), "request")
    resp = _obj(inter.get("response"), "response")
    status = resp.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    headers = _headers(resp.get("headers"))
    return _interaction(
        source,
        i,
        method=req.get("method"),
        url=_str(req.get("uri"), "request.uri"),
        body=_body_bytes(req.get("body"), req, "request.body"),
        status=_status(code),
        headers=headers,
        raw=_body_bytes(resp.get("body"), resp, "response.body"),
        recorded=_date(inter.get("recorded_at")) or _date(headers.get("date")),
    )


# ---------------------------------------------------------------------------------------------
# pieces


def _interaction(
    source: str,
    index: int,
    *,
    method: Any,
    url: str,
    body: bytes,
    status: int | None,
    headers: dict[str, str],
    raw: bytes,
    recorded: date | None,
) -> RecordedInteraction:
    raw, headers = _decompressed(raw, headers)
    method = method.upper() if isinstance(method, str) and method else "POST"
    exchange = Exchange(
        request=WireRequest(method, url, {}, body),
        status=status,
        headers=headers,
        chunks=(Chunk(0.0, raw),),
    )
    path = urlsplit(url).path
    return RecordedInteraction(
        source, index, endpoint_for_path(path, method), exchange, bool(body), recorded_on=recorded
    )


def _body_bytes(body: Any, holder: Mapping[str, Any], what: str) -> bytes:
    """A body in any of the shapes recorders write it."""
    if body is None and "parsed_body" in holder:  # pydantic-ai's serializer: the JSON, re-dumped
        body = holder["parsed_body"]
        return b"" if body is None else json.dumps(body).encode("utf-8")
    if isinstance(body, dict):
        if "base64_string" in body:  # Ruby VCR, binary bodies
            return _b64(body["base64_string"], f"{what}.base64_string")
        if "string" in body:
            value = body["string"]
            if isinstance(body.get("encoding"), str) and body["encoding"].lower() == "base64":
                return _b64(value, f"{what}.string")
            return _bytes(value, f"{what}.string")
        if "parsed_body" in body:
            return json.dumps(body["parsed_body"]).encode("utf-8")
        if not body:
            return b""
        raise _Bad(f"{what} has none of string, base64_string, parsed_body (keys: {sorted(body)[:5]})")
    return _bytes(body, what)


def _bytes(value: Any, what: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (dict, list)):  # a JSON body stored as structure
        return json.dumps(value).encode("utf-8")
    raise _Bad(f"{what} must be text, found {_kind(value)}")


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise _Bad(f"{what} must be base64 text, found {_kind(value)}")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _Bad(f"{what} is not valid base64") from None


def _headers(raw: Any) -> dict[str, str]:
    """Lower-cased name -> first value. Dicts of strings or lists (vcrpy, go-vcr, Ruby VCR) and
    HAR's name/value lists. A null value means the recorder kept the name and dropped the value:
    the header counts as not recorded."""
    out: dict[str, str] = {}
    if raw is None:
        return out
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = []
        for i, h in enumerate(raw):
            if not isinstance(h, dict):
                raise _Bad(f"headers[{i}] must be an object with name and value, found {_kind(h)}")
            if not isinstance(h.get("name"), str):
                raise _Bad(f"headers[{i}] has no name")
            pairs.append((h["name"], h.get("value")))
    else:
        raise _Bad(f"headers must be an object or a list, found {_kind(raw)}")
    for name, value in pairs:
        if isinstance(value, list):
            value = next((v for v in value if v is not None), None)
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise _Bad(f"header {name!r} must be text, found {_kind(value)}")
        out.setdefault(str(name).lower(), value)
    return out


# A recorded body is never expected to inflate beyond this (a gzip bomb is an error, not a verdict).
MAX_DECODED_BYTES = 64 * 1024 * 1024


def _decompressed(raw: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """Recorders that keep the wire bytes keep them compressed (vcrpy without
    decode_compressed_response): decode what the header names (the transport's decoders), and
    gzip by its magic. A body the recorder already decoded (the header kept, the bytes plain
    text) is taken as it is. The header stays: it says how the answer came over the wire."""
    from harness import decoding

    header = headers.get("content-encoding")
    if raw.startswith(b"\x1f\x8b") and not decoding.encodings(header):
        header = "gzip"
    if not raw or not decoding.encodings(header):
        return raw, headers
    try:
        decoder = decoding.decoder_for(header, MAX_DECODED_BYTES)
        data = decoder.decode(raw) + decoder.flush()
    except decoding.TooLarge:
        raise _Bad(f"the body inflates beyond {MAX_DECODED_BYTES} bytes (a compression bomb?)") from None
    except (decoding.DecodeError, ValueError, OSError) as exc:
        if _is_text(raw):
            return raw, headers
        raise _Bad(f"the body is marked {header} but does not decode ({exc})") from None
    return data, {k: v for k, v in headers.items() if k != "content-length"}


def _is_text(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{what} must be an object, found {_kind(value)}")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{what} must be text, found {_kind(value)}")
    return value


def _status(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _Bad(f"status must be a number, found {_kind(value)}")
    try:
        code = int(value)
    except ValueError:
        raise _Bad(f"status {value!r} is not a number") from None
    if not 100 <= code <= 599:
        raise _Bad(f"status {code} is not an HTTP status")
    return code


def _status_line(value: Any) -> Any:
    if isinstance(value, str) and value[:3].isdigit():
        return value[:3]
    return value


def _date(value: Any) -> date | None:
    """A recording time in any of the usual spellings (ISO 8601, RFC 1123, epoch seconds)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e11:
        return datetime.fromtimestamp(value, tz=UTC).date()
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
