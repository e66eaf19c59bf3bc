"""Writes the Gemini schemas at both levels from one description (run: python schemas/gemini/build.py).

Why a builder: the two levels must never drift apart, and ``strict`` must stay a subset of
``compatible`` (a strict pass implies a compatible pass, so the hot path validates once).

- ``compatible/``: what the official SDK (google-genai) reads: JSON types of the fields it uses,
  open objects, open enums (strings). Nothing is required that a documented answer may omit: a
  blocked prompt has no ``candidates``, an empty answer no ``parts``, older models no ``responseId``.
- ``strict/``: the wire format as generativelanguage.googleapis.com writes it today: also the
  fields every official answer of the truth set carries (``usageMetadata``, ``modelVersion``,
  ``responseId``) and ``additionalProperties: false``
  on every object known fully. The dialect reports an additional property as a ``schema.extra``
  note (the API adds fields over time), everything else failing only here as ``strict``.

One schema, ``response``, serves a non-streamed body and every stream chunk: each SSE ``data:``
of ``:streamGenerateContent?alt=sse`` is a whole GenerateContentResponse. Written from the API
reference (ai.google.dev/api/generate-content) and the truth set (tests/truth/gemini/), where
the reference and the recordings differ, tolerant of what official traffic does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

INT = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
ARR = {"type": "array"}
OBJ = {"type": "object"}


def obj(props: dict[str, Any], required: tuple[str, ...] = (), strict_required: tuple[str, ...] = ()) -> dict:
    """An object schema; the builder closes it and adds ``strict_required`` at the strict level."""
    return {"type": "object", "properties": props, "_required": required, "_strict_required": strict_required}


MODALITY_COUNT = obj({"modality": STR, "tokenCount": INT})
USAGE = obj(
    {
        "promptTokenCount": INT,
        "cachedContentTokenCount": INT,
        "candidatesTokenCount": INT,
        "toolUsePromptTokenCount": INT,
        "thoughtsTokenCount": INT,
        "totalTokenCount": INT,
        "promptTokensDetails": {"type": "array", "items": MODALITY_COUNT},
        "cacheTokensDetails": {"type": "array", "items": MODALITY_COUNT},
        "candidatesTokensDetails": {"type": "array", "items": MODALITY_COUNT},
        "toolUsePromptTokensDetails": {"type": "array", "items": MODALITY_COUNT},
        "serviceTier": STR,
        "trafficType": STR,
    },
    strict_required=("promptTokenCount", "totalTokenCount"),
)
# args stays untyped here: an args that is not an object is the rule gemini.function_args's to
# name (one fault, one code), not a second, vaguer schema violation.
FUNCTION_CALL = obj(
    {"id": STR, "name": STR, "args": {}, "partialArgs": ARR, "willContinue": {"type": "boolean"}}, ("name",)
)
PART = obj(
    {
        "text": STR,
        "thought": {"type": "boolean"},
        "thoughtSignature": STR,
        "inlineData": obj({"mimeType": STR, "data": STR}),
        "fileData": obj({"mimeType": STR, "fileUri": STR}),
        "functionCall": FUNCTION_CALL,
        "functionResponse": OBJ,
        "executableCode": obj({"language": STR, "code": STR, "id": STR}),
        "codeExecutionResult": obj({"outcome": STR, "output": STR, "id": STR}),
        "toolCall": OBJ,
        "toolResponse": OBJ,
        "videoMetadata": OBJ,
        "partMetadata": OBJ,
        "mediaResolution": OBJ,
    }
)
CONTENT = obj(
    {
        "parts": {"type": "array", "items": PART},
        "role": {"_levels": {"compatible": STR, "strict": {"enum": ["model", "user"]}}},
    }
)
CANDIDATE = obj(
    {
        "content": CONTENT,
        "finishReason": STR,
        "finishMessage": STR,
        "index": INT,
        "safetyRatings": ARR,
        "citationMetadata": OBJ,
        "tokenCount": INT,
        "groundingAttributions": ARR,
        "groundingMetadata": OBJ,
        "avgLogprobs": {"type": "number"},
        "logprobsResult": OBJ,
        "urlContextMetadata": OBJ,
        "urlRetrievalMetadata": OBJ,
    }
)
RESPONSE = obj(
    {
        "candidates": {"type": "array", "items": CANDIDATE},
        "promptFeedback": obj({"blockReason": STR, "safetyRatings": ARR, "blockReasonMessage": STR}),
        "usageMetadata": USAGE,
        "modelVersion": STR,
        "responseId": STR,
        "modelStatus": OBJ,
        "createTime": STR,
    },
    strict_required=("usageMetadata", "modelVersion", "responseId"),
)
ERROR = obj(
    {
        "error": obj(
            {"code": {"type": "integer"}, "message": STR, "status": STR, "details": {"type": "array", "items": OBJ}},
            ("code", "message", "status"),
        )
    },
    ("error",),
)
MODEL = obj(
    {
        "name": STR,
        "baseModelId": STR,
        "version": STR,
        "displayName": STR,
        "description": STR,
        "inputTokenLimit": INT,
        "outputTokenLimit": INT,
        "supportedGenerationMethods": {"type": "array", "items": STR},
        "thinking": {"type": "boolean"},
        "temperature": {"type": "number"},
        "maxTemperature": {"type": "number"},
        "topP": {"type": "number"},
        "topK": INT,
    },
    ("name",),
)
MODELS = obj({"models": {"type": "array", "items": MODEL}, "nextPageToken": STR}, ("models",))

SCHEMAS = {"response": RESPONSE, "error": ERROR, "models": MODELS}


def render(node: Any, level: str) -> Any:
    if isinstance(node, dict):
        if "_levels" in node:  # a field typed loosely for the SDK, exactly for the wire
            return render(node["_levels"][level], level)
        if "_required" in node:
            out = {k: render(v, level) for k, v in node.items() if not k.startswith("_")}
            required = list(node["_required"]) + (list(node["_strict_required"]) if level == "strict" else [])
            if required:
                out["required"] = required
            if level == "strict":
                out["additionalProperties"] = False
            return out
        return {k: render(v, level) for k, v in node.items()}
    return node


def build() -> dict[str, dict[str, Any]]:
    """level/name -> schema."""
    out = {}
    for level in ("compatible", "strict"):
        for name, node in SCHEMAS.items():
            schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": f"gemini {name} ({level})"}
            schema.update(render(node, level))
            out[f"{level}/{name}"] = schema
    return out


def main() -> None:
    for key, schema in build().items():
        path = HERE / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
