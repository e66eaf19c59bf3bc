"""YAML aliases in case files are bounded: a "billion laughs" file is one file:line:col error,
quickly and in little memory, not gigabytes; a recursive alias is an error, not a RecursionError.
Ordinary anchors (a body repeated a few times) still load."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.cases import CaseFileError, load_case_file
from harness.yamlpos import MAX_ALIAS_EXPANSION

LAUGHS = """\
cases:
  - id: laughs
    description: billion laughs
    endpoint: chat
    request:
      body:
        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
        g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
        h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
        i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""

# Loads the file in a child whose address space is capped at 1 GiB: before the limit existed the
# expansion (9^9 strings) ran out of memory there instead of eating the shared machine.
CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from harness.cases import CaseFileError, load_case_file
from pathlib import Path
t = time.perf_counter()
try:
    load_case_file(Path(sys.argv[1]), "laughs.yaml")
    out = {"error": None}
except CaseFileError as exc:
    out = {"error": str(exc)}
except MemoryError:
    out = {"error": "MemoryError"}
out["seconds"] = time.perf_counter() - t
# VmHWM, not ru_maxrss: Linux carries the forking parent's peak over exec into ru_maxrss.
status = open("/proc/self/status").read().split("VmHWM:")[1]
out["maxrss_kib"] = int(status.split()[0])
print(json.dumps(out))
"""


def test_billion_laughs_is_refused_quickly_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout)
    # The first alias that takes the expansion over the limit: the first *d (line 11), after the
    # aliases of b, c and d added 90 + 819 + 7,380 nodes.
    assert out["error"] == (
        f"laughs.yaml:11:16: invalid YAML: aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes"
    ), out
    assert out["seconds"] < 5, out
    assert out["maxrss_kib"] < 200 * 1024, out


def test_recursive_alias_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rec.yaml"
    path.write_text("cases:\n  - &c {id: x, description: y, endpoint: chat, request: {body: [*c]}}\n")
    with pytest.raises(CaseFileError) as err:
        load_case_file(path, "rec.yaml")
    assert str(err.value) == (
        "rec.yaml:2:65: invalid YAML: an alias refers to a node that contains it (a recursive structure)"
    )


def test_ordinary_anchors_still_load(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            defaults: {endpoint: chat}
            cases:
              - id: one
                description: first
                request: {body: &body {max_tokens: 16, messages: [{role: user, content: hi}]}}
              - id: two
                description: second, same body
                request: {body: *body}
            """
        )
    )
    one, two = load_case_file(path)
    assert one.steps[0].request.body_template() == two.steps[0].request.body_template()
    assert two.steps[0].request.body_template()["max_tokens"] == 16
