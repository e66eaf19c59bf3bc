"""Violation codes of ``relaycheck docs`` (checking documentation pages, not traffic). A documented
answer is judged by the dialects' own codes (object.kind, schema, id.prefix, ...); these are the
codes for what only a page can get wrong."""

from __future__ import annotations

CODES: dict[str, str] = {
    "docs.unparseable": "docs: a JSON block or SSE transcript on the page that cannot be parsed"
    " (half a block, garbage, not UTF-8)",
    "docs.request.rejected": "docs: a documented request the official API rejects with a 400 (a required field"
    " missing, max_tokens absent on Messages, thinking budget under 1024 or not below max_tokens)",
    "docs.request.tool_shape": "docs: a documented request declares tools in another dialect's shape",
    "docs.request.field": "docs: a documented request parameter from another dialect (an unknown one is a note)",
    "docs.auth": "docs: the page authenticates an endpoint otherwise than the official API (a note)",
    "docs.table.field": "docs: a field table lists another dialect's field name (an unknown one is a note)",
    "docs.claim.stream": "docs: a heading says streaming but no request in its section sends stream: true",
    "docs.claim.stop_reason": "docs: a documented tool-call stop reason that the paired request's tool_choice"
    " (or lack of tools) cannot produce",
    "docs.endpoint": "docs: a request or answer whose endpoint the page does not say (a note: judged by its fields)",
    "docs.pairing": "docs: an answer example that answers another request than the one it follows (a note)",
    "docs.empty": "docs: nothing to check on the page: no request, answer or field table found (a note)",
    "docs.live_shape": "docs --base-url: the live answer differs in shape from the documented one (a note)",
}
