"""The detection matrix: every named fault of the reference gateway must make the bundled suite
fail, and every item it fails must carry a violation code that names the fault.

Engine side (no pytest): the matrix runs the suite's items (the first model of each case, sync
and stream) with :func:`harness.runner.run_variant` against one reference gateway, switching a
fault on per request with the ``x-relaycheck-fault`` header. ``relaycheck detection`` renders
the result as docs/detection.md; tests/test_detection_matrix.py checks it and that the doc is
current, so the Markdown holds nothing that varies between runs (no timings, sorted rows).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from harness.cases import load_case_file
from harness.dialects import registry
from harness.gateways import DEFAULT_FILE, Gateway, Timeouts, load_gateways
from harness.model import Exchange, WireRequest
from harness.redact import Redactor
from harness.refgateway.faults import FAULT_HEADER, FAULT_RECORDS, FAULTS
from harness.runner import Context, Variant, run_variant
from harness.transport import Transport
from harness.variants import expand

ENDPOINTS = registry.names()  # every registered dialect
# Faults caught only when undocumented fields fail the run (`--extras fail`); by default an
# extra field is a `schema.extra` note, because relays add harmless fields all the time.
EXTRAS_FAIL = frozenset({"extra-fields"})

# Read from the one record per fault (harness/refgateway/faults.py: FAULT_RECORDS).
# fault -> the codes that name it. A failing item under the fault must carry at least one.
EXPECTED_CODES: dict[str, frozenset[str]] = {f.name: f.codes for f in FAULT_RECORDS}
# fault -> its row in ../shared/RELAY_DEFECTS.md (faults without one reproduce a grammar rule).
DEFECT_ROWS: dict[str, int] = {f.name: f.defect for f in FAULT_RECORDS if f.defect is not None}


@dataclass(frozen=True)
class Catch:
    """One item that failed under a fault, with the codes of its failing violations."""

    item: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    fault: str
    expected: frozenset[str]
    failed: tuple[Catch, ...]  # every item that failed under the fault, in suite order

    @property
    def caught_by(self) -> tuple[Catch, ...]:
        """Failing items whose codes name the fault."""
        return tuple(c for c in self.failed if self.expected & set(c.codes))

    @property
    def misnamed(self) -> tuple[Catch, ...]:
        """Failing items that carry none of the fault's codes (the report would mislead)."""
        return tuple(c for c in self.failed if not self.expected & set(c.codes))


@dataclass(frozen=True)
class Matrix:
    clean_failures: tuple[Catch, ...]  # items failing with no fault on: must be empty
    rows: tuple[Row, ...]
    items: int  # items run per fault


class _Faulting(Transport):
    """Asks the reference gateway to show a fault on every request of one item."""

    def __init__(self, inner: Transport, fault: str) -> None:
        self.inner, self.fault = inner, fault

    def send(self, request: WireRequest) -> Exchange:
        return self.inner.send(replace(request, headers={**request.headers, FAULT_HEADER: self.fault}))


def suite_items(cases_dir: Path, gateway: Gateway) -> list[tuple[str, Variant]]:
    """(item id, variant) for the first runnable model of each case, sync and stream, in suite
    order; ids are the pytest ids without the ``cases/`` prefix. The collector's own selection
    (``harness.variants.expand``, shared without pytest), cut to the first model that runs."""
    out: list[tuple[str, Variant]] = []
    for path in sorted(cases_dir.rglob("*.yaml")):
        rel = path.relative_to(cases_dir).as_posix()
        for case in load_case_file(path):
            case = replace(case, retries=0)  # a deterministic gateway answers a retry the same way
            runnable = [v for v, skip in expand(case, gateway, ENDPOINTS) if skip is None]
            out += [(f"{rel}::{case.id}[{v.param_id}]", v) for v in runnable if v.model == runnable[0].model]
    return out


def builtin_gateway(api_key: str) -> tuple[Gateway, dict[str, list[str]]]:
    """The built-in 'local' gateway of gateways.yaml and the models it serves per endpoint."""
    local = load_gateways(DEFAULT_FILE)[0]["local"]
    models = {e: [m.name for m in local.models_for(e)] for e in ENDPOINTS}
    return replace(local, api_key_value=api_key, timeouts=Timeouts(2, 10, 20)), models


def run_items(items: list[tuple[str, Variant]], ctx: Context, workers: int) -> tuple[Catch, ...]:
    """The items that fail at the strict level, in item order. Items are independent (each
    case's steps run in order inside one worker), so a small thread pool only overlaps waiting."""

    def one(entry: tuple[str, Variant]) -> Catch | None:
        item_id, variant = entry
        failing = run_variant(variant, ctx).failing("strict")
        return Catch(item_id, tuple(sorted({v.code for v in failing}))) if failing else None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return tuple(c for c in pool.map(one, items) if c is not None)


def fidelity_catches(gateway: Gateway, base_url: str, transport: Transport) -> tuple[Catch, ...]:
    """The fidelity probes (harness/fidelity/) on the first model of each endpoint (and the first
    reasoning model of /v1/responses), against the
    reference gateway's stored baselines: one Catch per inconsistent verdict."""
    from harness.fidelity.probe import Sender
    from harness.fidelity.run import LOCAL_BASELINE, load_baselines, run_probes

    models = {e: [m.name for m in gateway.models_for(e)][:1] for e in ENDPOINTS}
    # The encrypted_content control needs a reasoning model: the first one on /v1/responses too.
    reasoning = [m.name for m in gateway.models_for("responses") if "reasoning" in m.capabilities][:1]
    models["responses"] += [m for m in reasoning if m not in models["responses"]]
    verdicts = run_probes(Sender(gateway, transport, base_url), models, load_baselines(LOCAL_BASELINE))
    return tuple(
        Catch(v.id, tuple(sorted({x.code for x in v.violations}))) for v in verdicts if v.outcome == "inconsistent"
    )


def detection_matrix(
    cases_dir: Path,
    faults: Iterable[str] | None = None,
    *,
    workers: int = 4,
    progress: Callable[[str], None] | None = None,
) -> Matrix:
    """Run the suite clean and once per fault against a fresh reference gateway on loopback;
    ``progress`` gets one line per run (the clean one, then each fault) as it finishes."""
    say = progress or (lambda line: None)
    started = time.monotonic()
    from harness.refgateway import start_in_thread

    key = "rc-detect-" + secrets.token_hex(16)  # lives only in this process
    gateway, models = builtin_gateway(key)
    with start_in_thread(key, models=models) as server:
        gateway = replace(gateway, base_url=server.base_url)
        items = suite_items(cases_dir, gateway)
        transport = Transport(gateway.timeouts)
        redactor = Redactor([key])
        try:
            # "Is it really streaming" is judged only under the buffered-stream fault: the local
            # gateway's streams are too short to judge, and a busy machine (threads here, other
            # test processes) can deliver one in a single read, which would be blamed on
            # whichever fault happens to be on.
            skip = "the detection matrix judges streaming only under the buffered-stream fault"
            clean_ctx = Context(
                gateway, server.base_url, transport, redactor, judge_streaming=False, streaming_skip_reason=skip
            )
            clean = run_items(items, clean_ctx, workers) + fidelity_catches(gateway, server.base_url, transport)
            chosen = sorted(faults if faults is not None else FAULTS)
            say(f"detection: clean run, {len(items)} items, {len(clean)} failing ({time.monotonic() - started:.0f} s)")
            rows = []
            for n, fault in enumerate(chosen, 1):
                ctx = replace(
                    clean_ctx,
                    transport=_Faulting(transport, fault),
                    extras_fail=fault in EXTRAS_FAIL,
                    judge_streaming=fault == "buffered-stream",
                )
                failed = run_items(items, ctx, workers) + fidelity_catches(gateway, server.base_url, ctx.transport)
                rows.append(Row(fault, EXPECTED_CODES.get(fault, frozenset()), failed))
                say(
                    f"detection: {n}/{len(chosen)} {fault}: caught by {len(rows[-1].caught_by)} items "
                    f"({time.monotonic() - started:.0f} s)"
                )
        finally:
            transport.close()
    return Matrix(clean, tuple(rows), len(items))


def render_markdown(matrix: Matrix, examples: int = 3) -> str:
    """docs/detection.md: one row per fault. Deterministic (sorted, no timings) so a test can
    regenerate it and compare."""
    caught = sum(1 for r in matrix.rows if r.caught_by)
    lines = [
        "# Detection matrix",
        "",
        "Generated by `relaycheck detection --output docs/detection.md`; tests/test_detection_matrix.py",
        "fails when it is out of date. Each named fault of the reference gateway (`relaycheck faults`)",
        f"was switched on for the bundled suite ({matrix.items} items: the first model of each case, sync",
        "and stream, strict level). A fault counts as caught when an item fails with one of the fault's",
        "expected codes; every item a fault fails must carry one of them. Whether a stream really",
        "streams (`stream.buffered`) is judged only under `buffered-stream`: the local gateway's streams",
        "are too short to judge otherwise. After the suite, the fidelity probes (`relaycheck fidelity`,",
        "docs/fidelity.md) run on the first model of each endpoint and the first reasoning model of",
        "/v1/responses (the encrypted_content control needs one); an inconsistent verdict counts as a",
        "failing item named `fidelity/<probe>[<endpoint>-<model>]`.",
        "",
        f"**{caught} of {len(matrix.rows)} faults caught**; with no fault, "
        f"{matrix.items - len(matrix.clean_failures)} of {matrix.items} items pass.",
        "",
        "`defect` is the row of RELAY_DEFECTS.md the fault reproduces (blank: a stream-grammar rule).",
        "Faults marked *--extras fail* are caught only in that mode: undocumented fields are notes by",
        "default.",
        "",
        "| fault | what the gateway does | defect | expected code | items caught | examples (codes) |",
        "|---|---|---|---|---|---|",
    ]
    for row in matrix.rows:
        desc = FAULTS.get(row.fault, "").replace("|", "\\|")
        if row.fault in EXTRAS_FAIL:
            desc += " *(--extras fail)*"
        expected = ", ".join(f"`{c}`" for c in sorted(row.expected))
        shown = "<br>".join(f"`{c.item}` ({', '.join(c.codes)})" for c in row.caught_by[:examples])
        count = f"{len(row.caught_by)}" + (f" ({len(row.misnamed)} misnamed)" if row.misnamed else "")
        defect = DEFECT_ROWS.get(row.fault, "")
        lines.append(f"| `{row.fault}` | {desc} | {defect} | {expected} | {count} | {shown or 'NOT CAUGHT'} |")
    return "\n".join(lines) + "\n"
