"""Google Gemini's generateContent / streamGenerateContent (v1beta) as a dialect."""

from harness.dialects.gemini.dialect import DIALECT
from harness.dialects.gemini.rules import CODES

__all__ = ["CODES", "DIALECT"]
