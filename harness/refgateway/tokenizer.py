"""The reference gateway's tokenizers: one deterministic, rule-based tokenizer per model family.

Real tokenizers are byte-pair encoders; what a fidelity probe can see of them from outside is how
many tokens a piece of text costs, and that the count of a prompt grows linearly with the number
of repetitions of a fixed unit. These tokenizers keep exactly those two properties, with
different unit costs per family, so that a relay serving another family under a claimed model
name shows a different slope (harness/fidelity/usage.py). They are synthetic: no count here is an
official one.

Text is split into pieces: runs of ASCII letters, runs of digits, single CJK characters, and any
other single non-space character (punctuation, emoji). Whitespace is free. A piece costs:

| family    | letters             | digits              | CJK char | other char |
|-----------|---------------------|---------------------|----------|------------|
| openai    | 1 per 6 (rounded up)| 1 per 3 (rounded up)| 1        | 1          |
| anthropic | 1 per 4 (rounded up)| 1 each              | 2        | 1          |

Every request also costs a fixed overhead per family (the hidden formatting tokens of a chat
template): 3 for openai, 7 for anthropic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

Family = Literal["openai", "anthropic"]
FAMILIES: tuple[Family, ...] = ("openai", "anthropic")
OVERHEAD: dict[Family, int] = {"openai": 3, "anthropic": 7}
_CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
_PIECE = re.compile(rf"[A-Za-z]+|[0-9]+|{_CJK}|\S")
_IS_CJK = re.compile(_CJK)


def family_of(model: str) -> Family:
    """The tokenizer family a model name claims (Claude models: anthropic; the rest: openai)."""
    return "anthropic" if model.lower().startswith("claude") else "openai"


def other(family: Family) -> Family:
    return "openai" if family == "anthropic" else "anthropic"


def _cost(piece: str, family: Family) -> int:
    if piece.isascii() and piece.isalpha():
        per = 6 if family == "openai" else 4
        return -(-len(piece) // per)
    if piece.isascii() and piece.isdigit():
        return -(-len(piece) // 3) if family == "openai" else len(piece)
    if _IS_CJK.fullmatch(piece):
        return 1 if family == "openai" else 2
    return 1  # punctuation, emoji, any other symbol


def count_text(text: str, family: Family) -> int:
    """Tokens of one string (no overhead)."""
    return sum(_cost(p, family) for p in _PIECE.findall(text))


def strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def count_prompt(family: Family, *parts: Any) -> int:
    """Input tokens of a request: the overhead plus every string of the prompt parts (system,
    messages with their roles, tools), so the count grows linearly with the prompt."""
    return OVERHEAD[family] + sum(count_text(s, family) for p in parts for s in strings_in(p))


def pieces_within(text: str, budget: int, family: Family) -> str:
    """The longest prefix of whitespace-separated words whose tokens fit in ``budget``."""
    out, used = [], 0
    for word in re.findall(r"\s*\S+", text):
        cost = count_text(word, family)
        if used + cost > budget:
            break
        out.append(word)
        used += cost
    return "".join(out).strip()


def tokens(text: str, family: Family) -> list[str]:
    """The text cut into its tokens (``count_text`` of them; whitespace rides on the token after it),
    for logprobs. Letter and digit runs are cut into chunks of the family's size."""
    out: list[str] = []
    for m in re.finditer(rf"(\s*)([A-Za-z]+|[0-9]+|{_CJK}|\S)", text):
        space, piece = m.group(1), m.group(2)
        if piece.isascii() and piece.isalpha():
            size = 6 if family == "openai" else 4
        elif piece.isascii() and piece.isdigit():
            size = 3 if family == "openai" else 1
        else:
            size = len(piece)  # one token, however many characters (_cost gives a CJK char 2 for anthropic)
        chunks = [piece[i : i + size] for i in range(0, len(piece), size)]
        if _IS_CJK.fullmatch(piece) and family == "anthropic":
            chunks = [piece, ""]  # two tokens for one character: the second carries no text
        chunks[0] = space + chunks[0]
        out.extend(chunks)
    return out


def prefix_within(text: str, budget: int, family: Family) -> str:
    """The text's first ``budget`` tokens, as a model stopped at its output limit writes them: the
    cut may fall inside a word, and the count of what is left is exactly the budget (or less when
    the text is shorter)."""
    toks = tokens(text, family)[: max(budget, 0)]
    while toks and count_text("".join(toks), family) > budget:
        toks.pop()
    return "".join(toks)
