"""OpenAI Chat Completions (POST /v1/chat/completions): ``body`` (bodies, errors, the dialect
object) and ``stream`` (the chunk grammar and accumulator)."""

from harness.dialects.chat.body import CODES, DIALECT, ChatDialect, check_final, schema_check, text_tool_call

__all__ = ["CODES", "DIALECT", "ChatDialect", "check_final", "schema_check", "text_tool_call"]
