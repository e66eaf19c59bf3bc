"""fastjson.loads must return exactly what json.loads returns (value, types, key order) or
raise where it raises, so the stream checks give the same verdicts with or without orjson."""

from __future__ import annotations

import json
import math
import random

import pytest

from harness import fastjson
from tests.truth import corpus


def _outcome(fn, text):
    try:
        value = fn(text)
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc).__name__ == "RecursionError")
    return ("ok", _typed(value))


def _typed(value):
    """The value with every scalar's type beside it (1 == 1.0 == True in Python) and key order kept."""
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, float):
        return ("float", value.hex())  # exact bits, -0.0 apart from 0.0
    return (type(value).__name__, value)


def _same(text: str) -> None:
    assert _outcome(fastjson.loads, text) == _outcome(json.loads, text), text[:200]


EDGES = [
    "NaN",
    "[Infinity]",
    "-Infinity",
    "1e400",
    "-1e400",
    "[1.5e-400]",
    "2.5e-324",
    "-0",
    "-0.0",
    "0.1e1",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "9223372036854775808",
    "123456789012345678901234567890",
    '{"n": 100000000000000000000}',
    "9007199254740993",
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud83d\\ude80"',
    '"\\u0000"',
    '"\x01"',
    '{"a":1,"b":2,"a":3}',
    " 1 ",
    "1 2",
    "\ufeff1",
    '{"a":1}\x00',
    "",
    "   ",
    "[",
    '{"a":}',
    "tru",
    "true",
    "null",
    '"é🚀"',
    "[" * 1100 + "]" * 1100,
    "[" * 400 + "]" * 400,
    '"\ud800"',
    "1.7976931348623157e308",
    "1.7976931348623157e309",
    "0.30000000000000004",
    "1e-7",
    "12345678901234567e3",
]


@pytest.mark.parametrize("text", EDGES, ids=range(len(EDGES)))
def test_edge_cases(text: str) -> None:
    _same(text)


def test_random_numbers() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
        frac = "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20))) if rng.random() < 0.5 else ""
        exp = f"e{rng.choice(['', '-', '+'])}{rng.randint(0, 330)}" if rng.random() < 0.3 else ""
        sign = "-" if rng.random() < 0.5 else ""
        _same(f'{{"v": {sign}{digits}{frac}{exp}}}')
        _same(repr(rng.uniform(-1e300, 1e300)))


@pytest.mark.skipif(corpus.corpus_path() is None, reason=corpus.SKIP_REASON)
def test_official_payloads_and_mutations() -> None:
    """Every SSE payload of the corpus, and 5,000 mutated ones (bytes cut, characters swapped in):
    the same value or the same refusal."""
    from harness import sse

    payloads = [ev.data for it in corpus.interactions() if it.exchange.is_sse for ev in sse.parse(it.exchange.body)[0]]
    assert len(payloads) > 1000
    for text in payloads:
        _same(text)
    rng = random.Random(11)
    pieces = [
        "",
        "NaN",
        "Infinity",
        "1e999",
        "99999999999999999999",
        "\\ud800",
        "\\",
        '"',
        ",",
        "}",
        "]",
        "{",
        "\x00",
        "\x1f",
        "é",
        " ",
        "\n",
        "-",
        "0",
        ".",
        "e",
        "true",
        "nul",
    ]
    for _ in range(5000):
        text = rng.choice(payloads)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(pieces) + text[at + rng.randint(0, 3) :]
        _same(text)
