"""lint-traffic on recordings as people have them: every format (detected by content), folders,
dropped headers, old answers, and broken files (one error per bad record, the rest judged)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from harness import history
from harness.cassettes import TrafficError, read_file, read_text
from harness.engine import evaluate_exchange
from harness.lint import lint_one
from harness.model import Chunk, Exchange, WireRequest
from harness.traffic import RecordedInteraction
from tests import traffic_formats as tf

REPO = Path(__file__).resolve().parent.parent


def relaycheck(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def verdicts(text: str, source: str = "rec") -> list[tuple[str, str]]:
    """(outcome, first code or "") per record read from ``text``; errors as ("error", message)."""
    out = []
    for rec in read_text(text, source):
        if isinstance(rec, TrafficError):
            out.append(("error", rec.message))
            continue
        entry = lint_one(rec, "strict", "official")
        codes = sorted({v["code"] for v in entry["violations"]})
        out.append((entry["outcome"], codes[0] if codes else ""))
    return out


MIX = [tf.good_chat(), tf.bad_messages(), tf.other_api(), tf.good_messages()]
EXPECTED = [("passed", ""), ("failed", "object.kind"), ("skipped", ""), ("passed", "")]


@pytest.mark.parametrize("fmt", sorted(tf.FORMATS))
def test_every_format_is_read_by_content(fmt: str) -> None:
    assert verdicts(tf.FORMATS[fmt](MIX)) == EXPECTED


def test_playwright_attached_bodies(tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    text = tf.har(MIX, flavour="playwright-attach", files=files)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "network.har").write_text(text)
    got = [r for r in read_file(tmp_path / "network.har")]
    assert [lint_one(r, "strict", "official")["outcome"] for r in got] == [e[0] for e in EXPECTED]
    (tmp_path / "body-0.json").unlink()
    first = next(iter(read_file(tmp_path / "network.har")))
    assert isinstance(first, TrafficError) and "body-0.json" in first.message


def test_recording_dates_come_from_the_file() -> None:
    recs = [r for r in read_text(tf.ruby_vcr([tf.good_chat()]), "r") if isinstance(r, RecordedInteraction)]
    assert recs[0].recorded_on == date(2026, 1, 1)
    recs = [r for r in read_text(tf.har([tf.good_messages()]), "h") if isinstance(r, RecordedInteraction)]
    assert recs[0].recorded_on == date(2026, 1, 1)
    # messages carry no date of their own: the recording's is the answer's
    assert lint_one(recs[0], "strict", "official")["answered_on"] == "2026-01-01"


# ---------------------------------------------------------------------------------------------
# headers recorders drop


@pytest.mark.parametrize("content_type", [None, "null"])
def test_no_content_type_recorded_is_inferred_with_a_note(content_type: str | None) -> None:
    sse_cassette = next((REPO / "cassettes" / "local" / "messages").rglob("*stream].yaml"))
    stream = next(r for r in read_file(sse_cassette) if isinstance(r, RecordedInteraction))
    body = stream.exchange.body
    model = stream.exchange.request.json["model"]  # the answer names it (model.rewritten otherwise)
    recs = [tf.good_chat(), tf.Rec(tf.MESSAGES_URL, {**tf.MESSAGES_REQUEST, "stream": True, "model": model}, body)]
    recs = [tf.Rec(r.url, r.request, r.body, content_type=None) for r in recs]
    text = tf.corpus_jsonl(recs)
    if content_type == "null":
        assert '"content-type": null' in text  # the header kept with a null value
    else:
        text = text.replace('"response_headers": {"content-type": null}', '"response_headers": {}')
    entries = [lint_one(r, "strict", "official") for r in read_text(text, "x")]
    assert [e["outcome"] for e in entries] == ["passed", "passed"]
    assert [e["stream"] for e in entries] == [False, True]
    for e in entries:
        assert [n["code"] for n in e["notes"]] == ["content_type.not_recorded"]


def test_a_har_without_content_type_header_or_mime_type() -> None:
    rec = tf.Rec(tf.CHAT_URL, tf.CHAT_REQUEST, json.dumps(tf.CHAT_BODY).encode(), content_type=None)
    text = tf.har([rec])
    assert '"mimeType": "x-unknown"' in text  # what browsers write
    entry = lint_one(next(iter(read_text(text, "h.har"))), "strict", "official")
    assert entry["outcome"] == "passed" and entry["notes"][0]["code"] == "content_type.not_recorded"


def test_a_recorded_wrong_content_type_still_fails() -> None:
    rec = tf.Rec(tf.CHAT_URL, tf.CHAT_REQUEST, json.dumps(tf.CHAT_BODY).encode(), content_type="text/plain")
    assert verdicts(tf.vcrpy_yaml([rec])) == [("failed", "content_type")]


# ---------------------------------------------------------------------------------------------
# the API's history


def _chat_exchange(body: dict[str, Any]) -> Exchange:
    return Exchange(
        WireRequest("POST", tf.CHAT_URL, {}, json.dumps(tf.CHAT_REQUEST).encode()),
        200,
        {"content-type": "application/json"},
        (Chunk(0.0, json.dumps(body).encode()),),
    )


def _without_refusal(created: int) -> dict[str, Any]:
    body = json.loads(json.dumps(tf.CHAT_BODY))
    del body["choices"][0]["message"]["refusal"]
    del body["choices"][0]["message"]["annotations"]
    del body["service_tier"]
    body["created"] = created
    return body


def test_an_answer_older_than_a_field_is_not_blamed_for_lacking_it() -> None:
    old = _chat_exchange(_without_refusal(1719792000))  # 2024-07-01: before refusal existed
    ev = evaluate_exchange(old, "chat", recorded=True)
    assert not ev.failing("strict")
    assert {v.code for v in ev.violations} == {"schema.predates"}
    assert "2024-08-06" in ev.violations[0].message


def test_a_later_answer_without_the_field_fails_strict() -> None:
    new = _chat_exchange(_without_refusal(1767225600))  # 2026-01-01
    ev = evaluate_exchange(new, "chat", recorded=True)
    codes = {v.code for v in ev.failing("strict")}
    assert codes == {"schema", "schema.since"}  # refusal (schema), service_tier + annotations (table)
    assert not ev.failing("compatible")
    since = sorted(v.path for v in ev.violations if v.code == "schema.since")
    assert since == ["$", "$.choices[0].message"]


def test_live_answers_are_judged_against_todays_api() -> None:
    # A live relay claiming an old date is not believed.
    live = evaluate_exchange(_chat_exchange(_without_refusal(1719792000)), "chat")
    assert {v.code for v in live.failing("strict")} == {"schema", "schema.since"}


def test_responses_fields_the_api_added_are_required_after_their_date() -> None:
    base = {"id": "resp_1", "object": "response", "created_at": 0, "status": "completed", "output": []}
    for created, expected in ((1735689600, set()), (1772323200, {"prompt_cache_key", "billing", "completed_at"})):
        missing = {
            v.message.split("'")[1]
            for v in history.adjust(
                [],
                "responses",
                {**base, "created_at": created},
                live=False,
                answered_on=history.answer_date({"created_at": created}),
                body=True,
            )
        }
        assert expected <= missing
        assert "moderation" not in missing  # listed with its evidence, too thin to require
    undated = history.adjust([], "responses", base, live=False, answered_on=None, body=True)
    assert undated == []


# ---------------------------------------------------------------------------------------------
# broken input: one error per bad record, the rest judged


def _corpus_lines() -> list[str]:
    return tf.corpus_jsonl([tf.good_chat(), tf.good_messages()]).splitlines()


@pytest.mark.parametrize(
    "bad,message",
    [
        ('{"source": "x", "response_body_text": "{\\"id', "truncated"),
        ("garbage ! not json", "not a JSON object"),
        ("[1, 2, 3]", "expected a JSON object"),
        ('{"url_path": "/v1/chat/completions", "response_headers": ["content-type"]}', "response_headers"),
        ('{"url_path": "/v1/chat/completions", "status": "two hundred"}', "status"),
    ],
)
def test_a_bad_jsonl_line_is_one_error_with_its_line(bad: str, message: str) -> None:
    good = _corpus_lines()
    records = list(read_text("\n".join([good[0], bad, good[1]]) + "\n", "log.jsonl"))
    assert [type(r).__name__ for r in records] == ["RecordedInteraction", "TrafficError", "RecordedInteraction"]
    assert records[1].where == "line 2" and message in records[1].message, records[1]


def _har_doc() -> dict[str, Any]:
    return json.loads(tf.har([tf.good_chat(), tf.good_messages(), tf.good_chat()]))


@pytest.mark.parametrize(
    "breakage,message",
    [
        (lambda e: e["response"]["content"].update(encoding="base64", text="@@not base64@@"), "not valid base64"),
        (lambda e: e["response"]["headers"].append({"value": "x"}), "has no name"),
        (lambda e: e.update(response="oops"), "response must be an object"),
        (lambda e: e["request"].update(url=None), "request.url"),
        (lambda e: e["response"].update(status="abc"), "status"),
    ],
)
def test_a_bad_har_entry_is_one_error_with_its_index(breakage: Any, message: str) -> None:
    doc = _har_doc()
    breakage(doc["log"]["entries"][1])
    records = list(read_text(json.dumps(doc), "t.har"))
    assert [type(r).__name__ for r in records] == ["RecordedInteraction", "TrafficError", "RecordedInteraction"]
    assert records[1].where == "entry 1" and message in records[1].message, records[1]


def test_null_header_values_are_not_recorded_headers() -> None:
    doc = _har_doc()
    doc["log"]["entries"][0]["response"]["headers"] = [{"name": "content-type", "value": None}]
    doc["log"]["entries"][0]["response"]["content"]["mimeType"] = None
    first = next(iter(read_text(json.dumps(doc), "t.har")))
    entry = lint_one(first, "strict", "official")
    assert entry["outcome"] == "passed" and entry["notes"][0]["code"] == "content_type.not_recorded"


def test_a_base64_body_with_bad_padding_in_a_cassette() -> None:
    text = tf.vcrpy_yaml([tf.good_chat(), tf.good_chat()])
    text = text.replace("string: '{", "encoding: base64\n      string: '{", 1)
    records = list(read_text(text, "c.yaml"))
    assert isinstance(records[0], TrafficError) and "base64" in records[0].message
    assert isinstance(records[1], RecordedInteraction)


def test_yaml_aliases_are_refused() -> None:
    # "billion laughs": each level refers to the previous one 20 times.
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 20)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    bomb += "interactions: *i\nversion: 1\n"
    records = list(read_text(bomb, "bomb.yaml"))
    assert len(records) == 1 and isinstance(records[0], TrafficError) and "aliases" in records[0].message


# ---------------------------------------------------------------------------------------------
# fuzz: truncation at every byte, and garbage


def _fuzz_formats() -> dict[str, str]:
    recs = [tf.good_chat(), tf.good_chat()]
    return {name: fmt(recs) for name, fmt in tf.FORMATS.items() if name in FUZZED}


FUZZED = tuple(sorted(tf.FORMATS))


@pytest.mark.parametrize("fmt", FUZZED)
def test_truncation_at_every_byte_never_crashes_and_keeps_complete_records(fmt: str) -> None:
    text = _fuzz_formats()[fmt]
    assert verdicts(text) == [("passed", ""), ("passed", "")]
    cache: dict[bytes, str] = {}
    first_end = _end_of_first_record(fmt, text)
    for cut in range(len(text)):
        records = list(read_text(text[:cut], "t"))  # must not raise
        judged = []
        for r in records:
            if isinstance(r, RecordedInteraction):
                key = r.exchange.body + r.exchange.request.body
                if key not in cache:
                    cache[key] = lint_one(r, "strict", "official")["outcome"]
                judged.append((r.index, cache[key]))
        if cut >= first_end:
            # the first record is complete in the cut file: it is still judged, and passes
            assert judged and judged[0][1] == "passed", (fmt, cut, records[:2])


def _end_of_first_record(fmt: str, text: str) -> int:
    """Where the first record's text ends in the file."""
    if fmt == "corpus-jsonl":
        return text.index("\n") + 1
    if fmt == "vcrpy-json" or fmt.startswith("har"):
        key = '"interactions"' if fmt == "vcrpy-json" else '"entries"'
        start = text.index("{", text.index("[", text.index(key)))
        return json.JSONDecoder().raw_decode(text, start)[1]
    # YAML: the start of the second item
    starts = [m.start() for m in re.finditer(r"^- (request|id):", text, re.M)]
    return starts[1]


def test_garbage_never_crashes_and_the_intact_record_is_still_judged() -> None:
    import random

    rng = random.Random(7)
    for name, text in _fuzz_formats().items():
        data = bytearray(text.encode())
        intact = _end_of_first_record(name, text)  # garbage only after the first record
        for _ in range(80):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(intact + 1, len(mutated))
                mutated[pos] = rng.choice(b'{}[]":,\n -#&*!|>\x00\xff' + bytes(range(32, 127)))
            records = list(read_text(mutated.decode("utf-8", "replace"), name))  # must not raise
            judged = [lint_one(r, "strict", "official") for r in records if isinstance(r, RecordedInteraction)]
            assert judged and judged[0]["id"].endswith("#0") and judged[0]["outcome"] == "passed", (name, records)
    for junk in ("", "\x00\x01", "{", "[", "---", "- - -", "null", "42", '"text"', "{}", "[]", "interactions: 3"):
        for r in read_text(junk, "junk"):
            assert isinstance(r, TrafficError)


# ---------------------------------------------------------------------------------------------
# the command


def test_a_folder_is_walked_and_bad_files_do_not_lose_verdicts(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.yaml").write_text(tf.vcrpy_yaml([tf.good_chat()]))
    (folder / "nested" / "b").write_text(tf.ruby_vcr([tf.bad_messages(), tf.other_api()]))  # no extension
    (folder / "broken.json").write_text(tf.vcrpy_json([tf.good_chat(), tf.good_messages()])[:-40])
    (folder / "README.md").write_text("# cassettes\n")
    (folder / "conftest.py").write_text("import vcr\n")
    (folder / "notes.yaml").write_text("just: a config\n")  # no recording format: ignored in a walk
    res = relaycheck("lint-traffic", str(folder), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    t = summary["totals"]
    assert (t["passed"], t["failed"], t["skipped"], t["error"]) == (2, 1, 1, 1), summary["totals"]
    err = next(e for e in summary["items"] if e["outcome"] == "error")
    assert err["file"].endswith("broken.json") and err["where"] == "interaction 1"
    assert "ERROR" in res.stdout and "broken.json" in res.stdout
    assert summary["ignored_files"] == [str(folder / "notes.yaml")]


def test_nothing_found_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    res = relaycheck("lint-traffic", str(tmp_path / "empty"), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 2 and "no recorded interaction found" in res.stderr
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(base64.b64decode("////") + b"\n")
    res = relaycheck("lint-traffic", str(garbage), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    res = relaycheck("lint-traffic", str(tmp_path / "missing.har"), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 2 and "no such file" in res.stderr


def test_official_judges_only_the_official_apis(tmp_path: Path) -> None:
    compat = tf.Rec("https://api.anthropic.com/v1/chat/completions", tf.CHAT_REQUEST, tf.bad_messages().body)
    relay = tf.Rec("https://relay.example/v1/messages", tf.MESSAGES_REQUEST, tf.bad_messages().body)
    (tmp_path / "c.yaml").write_text(tf.vcrpy_yaml([tf.good_chat(), compat, relay]))
    res = relaycheck("lint-traffic", "--official", str(tmp_path / "c.yaml"), "--report-dir", str(tmp_path), cwd=REPO)
    assert res.returncode == 0, res.stdout + res.stderr
    items = json.loads((tmp_path / "summary.json").read_text())["items"]
    reasons = sorted(e.get("skip_reason", e["outcome"]) for e in items)
    assert reasons == [
        "not the official chat API: api.anthropic.com",
        "not the official messages API: relay.example",
        "passed",
    ]
    res = relaycheck("lint-traffic", "--host", "relay.example", str(tmp_path / "c.yaml"), "--report-dir", str(tmp_path))
    assert res.returncode == 1 and "FAILED" in res.stdout and "relay.example" not in res.stdout.split("FAILED")[0]


def test_compressed_bodies_as_recorders_keep_them() -> None:
    import gzip
    import zlib

    plain = tf.good_chat().body
    for encoding, data in (("gzip", gzip.compress(plain)), ("deflate", zlib.compress(plain)), ("gzip", plain)):
        doc = json.loads(tf.vcrpy_json([tf.good_chat()]))
        resp = doc["interactions"][0]["response"]
        resp["headers"]["Content-Encoding"] = [encoding]
        resp["body"] = {"encoding": "base64", "string": base64.b64encode(data).decode()}
        assert verdicts(json.dumps(doc)) == [("passed", "")], encoding
    bomb = gzip.compress(b"\0" * (70 * 1024 * 1024))
    doc = json.loads(tf.vcrpy_json([tf.good_chat(), tf.good_chat()]))
    doc["interactions"][0]["response"]["body"] = {"encoding": "base64", "string": base64.b64encode(bomb).decode()}
    got = verdicts(json.dumps(doc))
    assert got[0][0] == "error" and "bomb" in got[0][1] and got[1] == ("passed", "")
    doc = json.loads(tf.vcrpy_json([tf.good_chat()]))
    doc["interactions"][0]["response"]["headers"]["Content-Encoding"] = ["br"]
    not_text = base64.b64encode(b"\x8b\xff\x00").decode()
    doc["interactions"][0]["response"]["body"] = {"encoding": "base64", "string": not_text}
    assert verdicts(json.dumps(doc))[0][0] == "error"
