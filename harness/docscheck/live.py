"""``relaycheck docs --base-url``: run the cases written from the pages against a relay at once,
with the runner ``relaycheck run`` uses (same request building, auth, evaluation, expectations),
and say where each live answer differs in shape from the answer the page documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.cases import load_case_file
from harness.docscheck.casesout import Written, shape_differences
from harness.gateways import ConfigError, Overrides, resolve
from harness.model import Level
from harness.redact import Redactor
from harness.runner import Context, Variant, run_variant
from harness.transport import Transport


def run_live(
    case_file: Path, written: list[Written], base_url: str, auth: str | None, level: Level
) -> tuple[list[dict[str, Any]], bool]:
    gateway = resolve(Overrides(base_url=base_url, auth=auth))
    if not gateway.api_key():
        raise ConfigError(f"--base-url needs the relay's key in ${gateway.api_key_env}")
    redactor = Redactor([gateway.api_key() or ""])
    by_id = {w.case_id: w for w in written}
    transport = Transport(gateway.timeouts)
    ctx = Context(gateway=gateway, base_url=gateway.base_url, transport=transport, redactor=redactor, level=level)
    entries: list[dict[str, Any]] = []
    failed = False
    try:
        for case in load_case_file(case_file):
            w = by_id.get(case.id)
            if w is None:
                continue
            result = run_variant(Variant(case, gateway.name, None, case.stream == "true"), ctx)
            bad = result.failing(level)
            failed = failed or bool(bad)
            where = f"{w.page}:{w.block.line}"
            verdict = "passed" if not bad else "failed " + ",".join(sorted({v.code for v in bad}))
            print(redactor.text(f"{where}: live: {verdict} ({case.id})"))
            for v in bad[:5]:
                print(redactor.text(f"    [{v.code}] {v.path}: {v.message}"))
            notes = []
            step = result.steps[0] if result.steps else None
            final = step.evaluation.final if step is not None and step.evaluation is not None else None
            if w.answer is not None and final is not None and step is not None and (step.exchange.status or 0) < 300:
                for diff in shape_differences(w.answer.value, final):
                    line = f"{w.page}:{w.answer.line}: docs.live_shape: (note) {diff}"
                    print(redactor.text(line))
                    notes.append({"code": "docs.live_shape", "path": "$", "message": diff, "severity": "note"})
            entries.append(
                {
                    "id": f"{where} live",
                    "case": case.id,
                    "file": w.page,
                    "line": w.block.line,
                    "endpoint": w.endpoint,
                    "model": w.block.value.get("model"),
                    "stream": case.stream == "true",
                    "outcome": "failed" if bad else "passed",
                    "status": step.exchange.status if step is not None and step.exchange is not None else None,
                    "violations": [v.as_dict() for v in bad],
                    "notes": notes + [v.as_dict() for v in result.violations if not v.fails(level)],
                }
            )
    finally:
        transport.close()
    return entries, failed
