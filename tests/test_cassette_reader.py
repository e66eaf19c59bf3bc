"""One reader for relaycheck's cassette format: replay (the CassetteTransport) and
``relaycheck lint-traffic`` (harness.cassettes) see the same shipped stream cassette as the same
Exchanges: chunks with their boundaries and offsets, status, headers, timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.cassettes import TrafficError, read_file
from harness.model import Exchange, WireRequest
from harness.recording import CassetteTransport, RecordOptions
from harness.redact import Redactor
from harness.traffic import RecordedInteraction
from harness.transport import Transport
from tests.conftest import REPO

CASSETTES = REPO / "cassettes"
# item id -> its shipped cassette (one streamed item per wire format; the first has two turns)
SHIPPED = [
    "cases/chat/tools.yaml::tool-round-trip[local-gpt-4.1-stream]",
    "cases/messages/basic.yaml::plain-text[local-claude-sonnet-4-20250514-stream]",
    "cases/responses/basic.yaml::plain-text[local-gpt-4.1-stream]",
]


class NoLive(Transport):
    def send(self, request: WireRequest) -> Exchange:
        raise AssertionError(f"replay reached the live side: {request.url}")


def _replayed(item_id: str) -> tuple[Path, list[Exchange]]:
    """Every interaction of the item's shipped cassette as replay returns it (record mode none:
    offline, each recorded request sent again in order)."""
    options = RecordOptions(mode="none", cassette_dir=CASSETTES, builtin=True)
    transport = CassetteTransport(NoLive(), options, "local", Redactor())
    path = options.cassette("local", item_id)
    recorded = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]
    out = []
    try:
        with transport.item(item_id):
            for inter in recorded:
                req = inter["request"]
                headers = {k: v[0] for k, v in req["headers"].items()}
                body = req["body"].encode() if isinstance(req["body"], str) else req["body"] or b""
                out.append(transport.send(WireRequest(req["method"], req["uri"], headers, body)))
    finally:
        transport.close()
    return path, out


def _view(ex: Exchange) -> dict[str, object]:
    return {
        "status": ex.status,
        "headers": ex.headers,
        "chunks": [(c.offset, c.data) for c in ex.chunks],
        "ttft_ms": ex.ttft_ms,
        "latency_ms": ex.latency_ms,
        "error": (ex.error_code, ex.error),
        "wire_bytes": ex.wire_bytes,
        "request": (ex.request.method, ex.request.url, ex.request.body),
    }


@pytest.mark.parametrize("item_id", SHIPPED)
def test_replay_and_lint_traffic_read_a_shipped_stream_cassette_alike(item_id: str) -> None:
    path, replayed = _replayed(item_id)
    linted = list(read_file(path))
    assert not [r for r in linted if isinstance(r, TrafficError)]
    assert len(linted) == len(replayed) >= 1
    for r, rec in zip(replayed, linted, strict=True):
        assert isinstance(rec, RecordedInteraction)
        assert r.is_sse and r.status == 200
        assert len(r.chunks) > 3  # a real stream: boundaries kept, not one joined body
        assert [c.offset for c in r.chunks] == sorted(c.offset for c in r.chunks)
        assert _view(rec.exchange) == _view(r)


def test_a_cassette_whose_chunks_do_not_add_up_is_an_error_to_lint_traffic(tmp_path: Path) -> None:
    """Hand-edited chunk sizes are reported (as replay reports them), never silently read as
    one chunk."""
    source = CASSETTES / "local" / "messages" / "basic.yaml" / "plain-text[local-claude-sonnet-4-20250514-stream].yaml"
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    doc["interactions"][0]["response"]["relaycheck"]["chunks"].pop()
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    [record] = list(read_file(broken))
    assert isinstance(record, TrafficError)
    assert "chunk sizes add up to" in record.message


def test_older_text_chunks_are_still_read(tmp_path: Path) -> None:
    body = 'data: {"a": 1}\n\ndata: [DONE]\n\n'
    doc = {
        "interactions": [
            {
                "request": {"method": "POST", "uri": "http://r/v1/chat/completions", "body": "{}", "headers": {}},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["text/event-stream"]},
                    "body": {"string": body},
                    "relaycheck": {"chunks": [[0.01, body[:16]], [0.02, body[16:]]]},
                },
            }
        ]
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    [record] = list(read_file(path))
    assert not isinstance(record, TrafficError)
    assert [(c.offset, c.data.decode()) for c in record.exchange.chunks] == [(0.01, body[:16]), (0.02, body[16:])]
    assert record.exchange.ttft_ms == 10.0


# ---- the faster cassette reader reads what vcrpy's reads -------------------------------------

EDGE_YAML = [
    "",  # an empty file
    "interactions: []\nversion: 1\n",
    "a: &x {k: [1, 2.5, null, true, '3']}\nb: *x\n",  # anchors and aliases, scalars of every kind
    "base: &b {x: 1}\nmerged: {<<: *b, y: 2}\n",  # a merge key
    "1: one\n2.5: x\nnull: y\n",  # keys that are not strings
    "body: !!binary |\n  /w==\nt: !!python/tuple [1, 2]\ns: !!python/str x\n",  # vcrpy's tags
    "k: v\nk: w\n",  # a repeated key: the last wins, as in PyYAML
    "r: &r [*r]\n",  # an alias inside itself
]


@pytest.mark.parametrize("text", EDGE_YAML)
def test_fast_reader_equals_vcrpys_on_edge_cases(text: str) -> None:
    from vcr.serializers import yamlserializer

    from harness.recording import fastyaml

    expected = yamlserializer.deserialize(text)
    got = fastyaml.deserialize(text)
    if text.startswith("r:"):  # a cycle: compare its shape (== would recurse forever)
        assert got["r"][0] is got["r"]
        return
    assert got == expected and type(got) is type(expected)


def test_fast_reader_refuses_what_vcrpys_refuses() -> None:
    from harness.recording import fastyaml

    for text in ("? [a, b]\n: pair\n", "x: !!python/object/apply:os.system [echo]\n", "a: [\n"):
        with pytest.raises(yaml.YAMLError):
            fastyaml.deserialize(text)


def test_fast_reader_equals_vcrpys_on_every_bundled_cassette() -> None:
    from vcr.serializers import yamlserializer

    from harness.recording import fastyaml

    files = [p for p in CASSETTES.rglob("*.yaml") if p.is_file()]
    assert len(files) > 100
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert fastyaml.deserialize(text) == yamlserializer.deserialize(text), path
