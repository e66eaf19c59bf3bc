"""OpenAI Chat Completions (POST /v1/chat/completions): ``body`` (bodies, errors, the dialect
object) and ``stream`` (the chunk grammar and accumulator)."""

from harness.dialects.chat import stream  # noqa: F401  (its rules register on import)
from harness.dialects.chat.body import DIALECT, ChatDialect, check_final, schema_check, text_tool_call
from harness.dialects.kit.rules import owned_by

# code -> title of every rule this dialect declares (the code table is built from the rules).
CODES: dict[str, str] = owned_by(__name__)

__all__ = ["CODES", "DIALECT", "ChatDialect", "check_final", "schema_check", "text_tool_call"]
