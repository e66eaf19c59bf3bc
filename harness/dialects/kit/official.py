"""What official answers look like beyond their JSON Schema, measured on the shared corpus of
official recordings (1,472 interactions): the shape of ids past their prefix, the model an answer
names against the model asked for, stop reasons against the token limit, text free of U+FFFD,
and error objects whose ``param`` / ``code`` carry a field name and an error code.

Every rule here is ``strict``: the official SDKs parse such answers, but the bytes are not what
the official API sends, and each one is how a relay gives itself away (RELAY_DEFECTS R31, R34,
R37, R39). The figures in the comments are the corpus counts each rule is built on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.dialects.kit.rules import rule
from harness.model import Violation

# Body of an id after its prefix. Corpus: chatcmpl- 6,814 ids, all 29 base62 characters; call_
# 474, all 24 base62; msg_/toolu_/srvtoolu_/mcptoolu_ 676, all 24 base62; resp_ and Responses
# item ids 1,420, all lowercase hex of 32, 48 or 50 characters.
_BASE62_29 = re.compile(r"[A-Za-z0-9]{29}")
_BASE62_24 = re.compile(r"[A-Za-z0-9]{24}")
_HEX = re.compile(r"[0-9a-f]{32,50}")

ID_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "chatcmpl-": (_BASE62_29, "29 letters and digits"),
    "call_": (_BASE62_24, "24 letters and digits"),
    "msg_": (_BASE62_24, "24 letters and digits"),
    "toolu_": (_BASE62_24, "24 letters and digits"),
    "srvtoolu_": (_BASE62_24, "24 letters and digits"),
    "mcptoolu_": (_BASE62_24, "24 letters and digits"),
    "resp_": (_HEX, "32 to 50 lowercase hex digits"),
}
# Responses output items share the response id's hex shape (msg_ there is hex, not base62).
RESPONSES_ITEM = (_HEX, "32 to 50 lowercase hex digits")


@rule(
    "id.shape",
    "strict",
    (
        "an id with the official prefix but not the official length/alphabet (chatcmpl-<uuid4>, "
        "msg_<timestamp>, msg_msg_…, a 450-character resp_ id)"
    ),
)
def id_shape(
    value: Any, prefix: str, path: str, what: str, shape: tuple[re.Pattern[str], str] | None = None
) -> list[Violation]:
    """An id that carries ``prefix`` (a wrong prefix is ``id.prefix``'s business) but whose rest
    is not the official shape."""
    if not isinstance(value, str) or not value.startswith(prefix):
        return []
    pattern, words = shape or ID_SHAPES[prefix]
    rest = value[len(prefix) :]
    if pattern.fullmatch(rest):
        return []
    return [
        Violation(
            "id.shape",
            path,
            f"{what} id is not an official one: after {prefix!r} the official API sends {words}",
            expected=f"{prefix}<{words}>",
            actual=value if len(value) <= 80 else f"{value[:60]}… ({len(value)} characters)",
            severity="strict",
        )
    ]


# ---- model ---------------------------------------------------------------------------------------

# An alias the official API resolves to a snapshot: "claude-sonnet-4-0" answers
# "claude-sonnet-4-20250514", "claude-3-5-haiku-latest" answers "claude-3-5-haiku-20241022".
_ALIAS_TAIL = re.compile(r"-(?:latest|0)$")


@rule("model.rewritten", "strict", "the answer's model is not the requested one nor a dated snapshot of it")
def model_rewritten(requested: Any, answered: Any, path: str) -> list[Violation]:
    """The official answer names the requested model or a snapshot of it: the requested name is a
    prefix of the answered one once an alias tail (-latest, -0) is dropped. Corpus: 51 distinct
    (requested, answered) pairs over the three dialects, all of this form (gpt-4o ->
    gpt-4o-2024-08-06, gpt-5.6 -> gpt-5.6-sol, claude-haiku-4-5 -> claude-haiku-4-5-20251001)."""
    if not isinstance(requested, str) or not isinstance(answered, str) or not requested:
        return []
    if answered.startswith(requested) or answered.startswith(_ALIAS_TAIL.sub("", requested)):
        return []
    # Some relays route "vendor/model"; the official API never answers with a vendor path.
    return [
        Violation(
            "model.rewritten",
            path,
            "the answer names another model than the one requested",
            expected=f"{requested} (or a dated snapshot of it)",
            actual=answered,
            severity="strict",
        )
    ]


# ---- stop reason against the token limit ---------------------------------------------------------


@rule(
    "stop.truncated_as_complete",
    "strict",
    (
        "the answer used the whole token limit but says it stopped naturally (max_tokens mapped to "
        "end_turn / stop / completed)"
    ),
)
def truncated_as_complete(limit: Any, used: Any, reason: Any, natural: frozenset[str], path: str) -> list[Violation]:
    """``used`` reached ``limit`` but ``reason`` is a natural stop. Corpus: 0 of 278 answers to a
    request with a token limit stopped naturally at the limit; the 9 that reached it said
    length / max_tokens."""
    if not (isinstance(limit, int) and isinstance(used, int) and limit > 0):
        return []
    if used >= limit and isinstance(reason, str) and reason in natural:
        return [
            Violation(
                "stop.truncated_as_complete",
                path,
                f"all {limit} allowed output tokens used, yet the answer says {reason!r}",
                expected="the truncation stop reason (length / max_tokens / incomplete)",
                actual=reason,
                severity="strict",
            )
        ]
    return []


# ---- text ----------------------------------------------------------------------------------------


@rule(
    "text.replacement_char",
    "strict",
    "U+FFFD in the answer text: multi-byte UTF-8 split across chunks and decoded per chunk",
)
def replacement_char(text: Any, path: str) -> list[Violation]:
    """Corpus: 0 of 1,399 chat/messages/responses answers contain U+FFFD."""
    if not isinstance(text, str) or "\ufffd" not in text:
        return []
    at = text.index("\ufffd")
    return [
        Violation(
            "text.replacement_char",
            path,
            f"U+FFFD in the text ({text.count(chr(0xFFFD))}x): bytes of a multi-byte character were decoded apart",
            actual=text[max(0, at - 30) : at + 30],
            severity="strict",
        )
    ]


# ---- error objects -------------------------------------------------------------------------------

_STATUS_LIKE = re.compile(r"\d{3}")
_NONE_STRINGS = frozenset({"None", "none", "null", "NULL", "undefined", ""})


@rule("error.fields", "strict", 'an error object\'s param / code of the wrong kind (the string "None", a status code)')
def error_fields(err: Any, path: str) -> list[Violation]:
    """OpenAI ``error.param`` names a request field or is null; ``error.code`` is a snake_case
    code or null. Corpus: 52 official error bodies, param always null or a field path, code null
    or a word (model_not_found, invalid_api_key …), never a number or the text "None"."""
    if not isinstance(err, Mapping):
        return []
    out = []
    for key in ("param", "code"):
        value = err.get(key)
        why = None
        if isinstance(value, str) and value in _NONE_STRINGS:
            why = f"{key} is the string {value!r} where the official API sends null"
        elif key == "code" and (isinstance(value, int) or (isinstance(value, str) and _STATUS_LIKE.fullmatch(value))):
            why = "code is an HTTP status, not an error code"
        if why:
            out.append(
                Violation(
                    "error.fields",
                    f"{path}.{key}",
                    why,
                    expected="null or " + ("a request field name" if key == "param" else "a code like invalid_api_key"),
                    actual=value,
                    severity="strict",
                )
            )
    return out
