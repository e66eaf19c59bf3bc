"""Cassettes read faster, to the same data as vcrpy's YAML serializer.

vcrpy's loader (libyaml's C parser with PyYAML's safe constructor, plus a few vcrpy tags) spends
half of a cassette's load in the constructor's generic machinery (docs/performance.md). A
cassette is nearly all mappings with string keys, lists and strings: those are built here
directly from the parsed nodes; every other node (binary bodies, numbers, nulls, vcrpy's
tags, merge keys, anything unusual) goes to vcrpy's own constructor, so the result is the same
(tests/test_cassette_reader.py compares both on every bundled cassette). Writing is vcrpy's.
"""

from __future__ import annotations

from typing import Any

from vcr.serializers import yamlserializer
from vcr.serializers.yamlserializer import _CassetteLoader

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"

serialize = yamlserializer.serialize


def deserialize(cassette_string: str) -> Any:
    loader = _CassetteLoader(cassette_string)
    try:
        node = loader.get_single_node()
        return None if node is None else _build(node, loader)
    except RecursionError:  # an alias that contains itself: the constructor's own way
        return yamlserializer.deserialize(cassette_string)
    finally:
        loader.dispose()


def _build(node: Any, loader: Any) -> Any:
    tag = node.tag
    if tag == STR:
        return node.value
    if tag == MAP:
        out = {}
        for key, value in node.value:
            if key.tag != STR:  # a merge key (<<) or a key that is not a string
                return loader.construct_object(node, deep=True)
            out[key.value] = _build(value, loader)
        return out
    if tag == SEQ:
        return [_build(item, loader) for item in node.value]
    return loader.construct_object(node, deep=True)
