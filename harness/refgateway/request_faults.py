"""Fidelity faults that change the request on its way upstream, before the model sees it:

- ``context-truncated``: prompts longer than CONTEXT_LIMIT tokens lose the start of their first
  user message until they fit (a relay that caps context to save cost, or mis-sizes the window);
- ``tool-result-altered``: every tool result is cut to its first TOOL_RESULT_KEEP characters (a
  relay that caps or re-serialises tool output).

Both leave count_tokens alone (a relay forwarding it untouched). Pure functions on the parsed
body; the dialect modules then answer the altered request as usual."""

from __future__ import annotations

import copy
import re
from typing import Any

from harness.refgateway import tokenizer

CONTEXT_LIMIT = 2048  # tokens of message text the truncating relay keeps
TOOL_RESULT_KEEP = 24  # characters of each tool result the altering relay keeps


def alter(body: dict[str, Any], dialect: str, faults: frozenset[str]) -> dict[str, Any]:
    if not faults & {"context-truncated", "tool-result-altered"}:
        return body
    body = copy.deepcopy(body)
    if "tool-result-altered" in faults:
        _cut_tool_results(body, dialect)
    if "context-truncated" in faults:
        _truncate(body, dialect)
    return body


def _messages(body: dict[str, Any], dialect: str) -> list[Any]:
    if dialect == "responses":
        if isinstance(body.get("input"), str):
            body["input"] = [{"role": "user", "content": body["input"]}]
        return body["input"] if isinstance(body.get("input"), list) else []
    return body["messages"] if isinstance(body.get("messages"), list) else []


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value[:TOOL_RESULT_KEEP]
    if isinstance(value, list):
        return [
            {**b, "text": b["text"][:TOOL_RESULT_KEEP]} if isinstance(b, dict) and isinstance(b.get("text"), str) else b
            for b in value
        ]
    return value


def _cut_tool_results(body: dict[str, Any], dialect: str) -> None:
    for m in _messages(body, dialect):
        if not isinstance(m, dict):
            continue
        if dialect == "chat" and m.get("role") == "tool":
            m["content"] = _cut(m.get("content"))
        elif dialect == "responses" and m.get("type") == "function_call_output":
            m["output"] = _cut(m.get("output"))
        elif dialect == "messages" and isinstance(m.get("content"), list):
            for block in m["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    block["content"] = _cut(block.get("content"))


def _truncate(body: dict[str, Any], dialect: str) -> None:
    family = tokenizer.family_of(str(body.get("model", "")))
    msgs = _messages(body, dialect)
    excess = sum(tokenizer.count_text(s, family) for s in tokenizer.strings_in(msgs)) - CONTEXT_LIMIT
    if excess <= 0:
        return
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = _drop_start(content, excess, family)
            return
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                block["text"] = _drop_start(block["text"], excess, family)
                return


def _drop_start(text: str, excess: int, family: tokenizer.Family) -> str:
    """The text without its first words, at least ``excess`` tokens of them."""
    dropped, words = 0, re.findall(r"\s*\S+", text)
    i = 0
    while i < len(words) and dropped < excess:
        dropped += tokenizer.count_text(words[i], family)
        i += 1
    return "".join(words[i:]).lstrip()
