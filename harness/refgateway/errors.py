"""Error bodies in each dialect's official shape, byte for byte as the corpus shows them.

OpenAI: ``{"error": {"message", "type", "param", "code"}}``; 401/404 on chat come 4-space indented
with a trailing newline and ``charset=utf-8`` (the edge answers those), everything else 2-space
indented with no newline. Anthropic: compact ``{"type":"error","error":{...},"request_id":...}``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from harness.dialects.kit.errors import ANTHROPIC_ERROR_TYPE
from harness.refgateway.common import B58, Ctx, RequestError, chars, dump, json_response

ANTHROPIC_KIND = ANTHROPIC_ERROR_TYPE  # the checker's own table: gateway and checks cannot drift apart

HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def openai_error_obj(err: RequestError) -> dict[str, Any]:
    return {"error": {"message": err.message, "type": err.kind, "param": err.param, "code": err.code}}


def anthropic_error_obj(err: RequestError, seed: bytes) -> dict[str, Any]:
    kind = err.kind if err.kind != "invalid_request_error" else ANTHROPIC_KIND.get(err.status, err.kind)
    return {
        "type": "error",
        "error": {"type": kind, "message": err.message},
        "request_id": "req_011C" + chars(seed, "request_id", 20, B58),
    }


def render_error(dialect: str, err: RequestError, ctx: Ctx | None, seed: bytes = b"") -> Response:
    """The error response for a dialect ("chat", "messages", "responses", "models")."""
    status = err.status
    if ctx is not None and ctx.has("status-400-for-401") and status == 401:
        status = 400
    openai_shape = dialect != "messages" or (ctx is not None and ctx.has("openai-error-on-messages"))
    if ctx is not None and ctx.has("error-in-200"):
        status = 200
    if not openai_shape:
        text = dump(anthropic_error_obj(err, seed))
        return json_response(text, status, ctx)
    obj = openai_error_obj(err)
    if dialect == "chat" and err.status in (401, 404):
        return json_response(dump(obj, indent=4) + "\n", status, ctx, "application/json; charset=utf-8")
    return json_response(dump(obj, indent=2), status, ctx)


def html_error() -> Response:
    return Response(HTML_502, status_code=502, headers={"content-type": "text/html"})
