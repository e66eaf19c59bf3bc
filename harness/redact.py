"""Secrets never leave the process: keys are replaced before anything is printed or written.

Three entry points, by what is being cleaned:

- :meth:`Redactor.value` walks a structure (dicts, lists, strings) and cleans each string. Anything
  that is later serialised (summary.json, attachments) is cleaned this way, never as serialised
  text: a regex over JSON text can eat an escape and leave JSON that no longer parses.
- :meth:`Redactor.wire` cleans bytes as they went over the wire (bodies, SSE chunks) without
  breaking their framing: where the text (or an SSE ``data:`` line) parses as JSON, each JSON
  string is decoded, cleaned and re-encoded, everything else stays byte for byte.
- :meth:`Redactor.text` cleans free text (terminal lines, failure messages, tracebacks).

Besides the key itself, the forms a relay or a traceback turns it into are masked: any letter
case, URL-encoded, JSON ``\\u``-escaped, base64 of the key or of anything containing it (``Basic``
credentials of ``user:key``), and a key cut short by a truncating repr (``'sk-abc…'``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
        "proxy-authorization",
        "anthropic-organization-id",
        "x-goog-api-key",
    }
)
MASK = "[REDACTED]"
# One pass over the text (this runs on every chunk written and every report line) for what is
# masked even when nobody named the value:
# - keys passed in a URL (?key=..., Gemini and some relays; ?api-key=..., Azure; token= of a
#   signed URL). The value stops at a backslash as well as at a quote: in JSON text that is an
#   escape, and eating half of it breaks the document;
# - OpenAI organisation and project ids: not keys, but they name the account a recording came from;
# - shapes of real keys (a relay echoing a key, a Bearer header pasted into an error message).
_BUILTIN = re.compile(
    r"(?P<url>[?&](?i:key|api[-_]?key|apikey|access[-_]?token|token)=)[^&#\s\"'\\]+"
    r"|\b(?:org-[A-Za-z0-9]{16,}|proj_[A-Za-z0-9]{16,})\b"
    r"|\b(?P<bearer>Bearer)\s+[A-Za-z0-9._~+/=-]{12,}"
    r"|(?<![A-Za-z0-9])sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"
)
# A JSON string literal. Over a document that parses, scanning with this finds exactly its strings.
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{8,}=*")  # a run that may be base64 (either alphabet)
# A secret cut short by a repr or a message (pytest's saferepr, ``_short`` in expect.py):
# shorter pieces than this are not treated as the secret.
_MIN_PIECE = 8
_ESCAPE = re.compile(r"\\.")
_CUT = re.compile(r"(?:…|\.\.\.)")


def _might_hold_key(value: str) -> bool:
    """Cheap substring tests that every _BUILTIN match needs: most text (model output, JSON
    events) has none of them, and the regex then need not scan it at all."""
    if "sk-" in value or "Bearer" in value or "org-" in value or "proj_" in value:
        return True
    if "=" not in value:
        return False
    lowered = value.lower()
    return "key=" in lowered or "token=" in lowered


# The deliberately wrong key of `auth: wrong-key` cases (harness.runner.WRONG_KEY) is public: it
# is printed as sent, so a reproduce command fails the way the case did.
PUBLIC_KEY_PREFIX = "rc-wrong-key-"


def _mask(m: re.Match[str]) -> str:
    if m.group("bearer") and m.group(0).split()[-1].startswith(PUBLIC_KEY_PREFIX):
        return m.group(0)
    if m.group("url"):
        return m.group("url") + MASK
    return "Bearer " + MASK if m.group("bearer") else MASK


def literal_forms(secret: str) -> set[str]:
    """The key as text a relay or a library may print it in (matched ignoring letter case)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    forms.add("".join(f"\\u{ord(c):04x}" for c in secret))  # JSON with every character escaped
    return {f for f in forms if f}


def base64_cores(secret: str) -> set[str]:
    """The part of a base64 text that encodes ``secret`` whatever precedes or follows it: one per
    alignment (0, 1 or 2 bytes before it modulo 3), standard and URL-safe alphabets. Found in a
    longer base64 token (``Basic dXNlcjprZXk=``), the whole token is masked."""
    data = secret.encode("utf-8")
    cores = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + data).decode().rstrip("=")
        skip = (0, 2, 3)[pad]  # characters that carry bits of the bytes before the secret
        end = len(encoded) - (1 if (pad + len(data)) % 3 else 0)  # ... or of the bytes after it
        core = encoded[skip:end]
        if len(core) >= _MIN_PIECE:
            cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self.patterns = [re.compile(p) for p in patterns]
        self._literal: re.Pattern[str] | None = None
        self._cores: list[str] = []
        self._pieces: list[str] = []
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:  # a traceback with locals (pytest -l) must not show the keys
        return f"Redactor({len(self.secrets)} secrets, {len(self.patterns)} patterns)"

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 4 or secret in self.secrets:
            return
        self.secrets.append(secret)
        forms = set().union(*(literal_forms(s) for s in self.secrets))
        # Longest first, so a form that contains another is masked whole.
        alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        self._literal = re.compile(alternatives, re.IGNORECASE)
        self._cores = sorted(set().union(*(base64_cores(s) for s in self.secrets)), key=len, reverse=True)
        # Lower-cased forms: the cheap substring test before the regex, and the pieces a cut may leave.
        self._pieces = sorted({f.lower() for s in self.secrets for f in literal_forms(s)}, key=len, reverse=True)

    # --- free text ---------------------------------------------------------------------------

    def text(self, value: str) -> str:
        # Substring tests first: this runs on every chunk and report line, and most hold no secret.
        if self._literal is not None:
            lowered = value.lower()
            if any(piece in lowered for piece in self._pieces):
                value = self._literal.sub(MASK, value)
            if any(core in value for core in self._cores):
                value = _B64_TOKEN.sub(self._base64_token, value)
            if "\\u" in value or "\\/" in value:
                value = _JSON_STRING.sub(self._escaped_string, value)
            if "…" in value or "..." in value:
                value = self._cut_pieces(value)
        for pattern in self.patterns:
            value = pattern.sub(MASK, value)
        return _BUILTIN.sub(_mask, value) if _might_hold_key(value) else value

    def _base64_token(self, m: re.Match[str]) -> str:
        token = m.group(0)
        return MASK if any(core in token for core in self._cores) else token

    def _escaped_string(self, m: re.Match[str]) -> str:
        """A JSON string inside free text whose escapes may spell a key (``rc\\u002dkey``)."""
        token = m.group(0)
        if "\\" not in token:
            return token
        try:
            decoded = json.loads(token)
        except ValueError:
            return token
        cleaned = self.text(decoded)
        return token if cleaned == decoded else json.dumps(cleaned, ensure_ascii=token.isascii())

    def _cut_pieces(self, value: str) -> str:
        """Mask the start of a secret right before a cut (``sk-abc…``) and its end right after one
        (saferepr keeps both ends: ``'sk-abc...xyz'``)."""
        lowered = value.lower()
        spans = []
        for cut in _CUT.finditer(value):
            at, to = cut.start(), cut.end()
            before = lowered[at - _MIN_PIECE : at] if at >= _MIN_PIECE else ""
            after = lowered[to : to + _MIN_PIECE] if len(value) - to >= _MIN_PIECE else ""
            if not any((before and before in p) or (after and after in p) for p in self._pieces):
                continue  # neither side of this cut looks like a piece of a secret: the usual case
            sizes = [(p, n) for p in self._pieces for n in range(_MIN_PIECE, len(p))]
            head = max((n for p, n in sizes if lowered.endswith(p[:n], 0, at)), default=0)
            tail = max((n for p, n in sizes if lowered.startswith(p[-n:], to)), default=0)
            spans += [(at - head, at)] * bool(head) + [(to, to + tail)] * bool(tail)
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in reversed(merged):
            value = value[:start] + MASK + value[end:]
        return value

    # --- structures and wire bytes -----------------------------------------------------------

    def value(self, obj: Any) -> Any:
        """The structure with every string (keys of objects too) cleaned; other values unchanged."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.value(v) for v in obj]
        return obj

    def wire(self, text: str) -> str:
        """Wire text cleaned without breaking it: a JSON document or an SSE ``data:`` line that
        parses keeps its exact bytes except for the strings that held a secret; other lines are
        cleaned as text (which never touches a quote or a backslash)."""
        if "\\u" not in text and "\\/" not in text:
            # Fast path: with every other escape made a space, the text as text holds nothing to
            # mask, so no decoded JSON string can (a \u or \/ escape could spell a key: no shortcut).
            probe = _ESCAPE.sub(" ", text) if "\\" in text else text
            if self.text(probe) == probe:
                return text
        if _parses(text):
            return _JSON_STRING.sub(self._json_string, text)
        out = []
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            prefix = "data:" if body.startswith("data:") else ""
            payload = body[len(prefix) :]
            if prefix and _parses(payload):
                out.append(prefix + _JSON_STRING.sub(self._json_string, payload) + line[len(body) :])
            else:
                out.append(self.text(line))
        return "".join(out)

    def _json_string(self, m: re.Match[str]) -> str:
        token = m.group(0)
        try:
            decoded = json.loads(token)
        except ValueError:
            return self.text(token)
        cleaned = self.text(decoded)
        return token if cleaned == decoded else json.dumps(cleaned, ensure_ascii=token.isascii())

    def wire_bytes(self, data: bytes) -> bytes:
        # surrogateescape: invalid UTF-8 (a case in itself) survives redaction byte for byte.
        return self.wire(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (MASK if k.lower() in SECRET_HEADERS else self.text(v)) for k, v in headers.items()}


def _parses(text: str) -> bool:
    if not text.strip() or text.lstrip()[0] not in '{["':
        return False  # bare numbers and literals hold no secret; skip the parse
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
