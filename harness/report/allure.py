"""allure-results written by relaycheck itself (allure 2's result format), one item at a time.

allure-pytest drives allure-commons through a dozen per-item hooks and writes each result and
attachment through its plugin manager: about 1.6 ms of CPU per item, more than the rest of a
replay's reporting together (docs/performance.md). ``relaycheck run``/``replay`` turn its
plugin off and write the same files from the item's record here: ``<uuid>-result.json`` (name,
fullName, historyId, testCaseId, status, statusDetails, start, stop, labels, parameters,
description, steps, attachments) and one ``<uuid>-attachment.<ext>`` per attachment. Plain
``pytest --alluredir`` keeps allure-pytest, fed through ``render`` with the same content.

Each item's files are written as soon as it finishes (in the process that ran it, as allure-pytest
does under xdist), so nothing accumulates in memory. Every string is redacted by value before it is
written. No pytest here.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.redact import Redactor
from harness.report.record import ItemRecord
from harness.report.transcript import ANSWER_LIMIT, chunks_text, request_text, response_body, response_head

if TYPE_CHECKING:  # annotations only
    from harness.runner import ItemResult

TEXT = ("text/plain", "txt")
JSON = ("application/json", "json")
# record.outcome -> allure status: an error of the harness or the relay is "broken", as in allure-pytest
STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "error": "broken"}


@dataclass(frozen=True)
class Attachment:
    name: str
    content: str
    mime: str
    ext: str


@dataclass(frozen=True)
class Step:
    """One violation (or note) of the item: failed when it fails the run's level."""

    name: str
    failed: bool
    message: str
    attachments: tuple[Attachment, ...]


def render(result: ItemResult, redactor: Redactor, level: str) -> tuple[list[Attachment], list[Step]]:
    """Per step of the case: the request (secrets masked), the response, the SSE transcript with
    arrival offsets; then one allure step per violation, with its expected / actual."""
    attachments: list[Attachment] = []
    steps: list[Step] = []
    several = len(result.steps) > 1
    for s in result.steps:
        prefix = f"{s.step.name}: " if several else ""
        ex = s.exchange
        if ex is not None:
            attachments.append(Attachment(f"{prefix}request", request_text(ex.request, redactor), *TEXT))
            head = response_head(ex, redactor)
            if ex.is_sse:
                final = s.evaluation.final if s.evaluation is not None else None
                # The structure is cleaned, then printed: cleaning printed JSON could break it.
                folded = (
                    json.dumps(redactor.value(final), indent=2, ensure_ascii=False)
                    if final is not None
                    else "(nothing)"
                )
                if len(folded) > ANSWER_LIMIT:  # an attachment never holds a whole oversized answer
                    folded = f"{folded[:ANSWER_LIMIT]}…[{len(folded) - ANSWER_LIMIT} more characters]"
                body = "final object folded from the stream:\n" + folded
            else:
                body = response_body(ex, redactor)
            attachments.append(Attachment(f"{prefix}response", f"{head}\n\n{body}", *TEXT))
            if ex.is_sse:
                attachments.append(
                    Attachment(f"{prefix}SSE transcript (arrival offsets)", chunks_text(ex, redactor), *TEXT)
                )
        for v in s.violations:
            tag = "" if v.severity == "error" else f" ({v.severity})"
            message = redactor.text(v.message)
            data = v.as_dict()
            detail = {k: data[k] for k in ("expected", "actual") if k in data}
            extra = (
                (
                    Attachment(
                        "expected / actual", json.dumps(redactor.value(detail), indent=2, ensure_ascii=False), *JSON
                    ),
                )
                if detail
                else ()
            )
            steps.append(Step(f"{prefix}[{v.code}]{tag} at {v.path}: {message}", v.fails(level), message, extra))
    return attachments, steps


def labels(record: ItemRecord) -> list[tuple[str, str]]:
    """relaycheck's labels of an item (also its parameters, the first four), in allure's order."""
    stream = "stream" if record.stream else "sync"
    own = [
        ("gateway", record.gateway),
        ("endpoint", record.endpoint),
        ("model", record.model or "request-model"),
        ("stream", stream),
    ]
    return own + [("feature", f) for f in record.features]


def description(record: ItemRecord) -> str:
    return f"case {record.case!r} defined at {record.file}:{record.line}"


class AllureResults:
    """Writes one item's allure files into ``out_dir``, created at once (as allure-pytest does, and
    emptied first with ``clean``)."""

    def __init__(self, out_dir: Path, clean: bool = False) -> None:
        self.out_dir = out_dir.absolute()  # the run may change directory; the option was given from here
        if clean and self.out_dir.is_dir():
            shutil.rmtree(self.out_dir, ignore_errors=True)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._host = platform.node()
        self._language = f"{platform.python_implementation().lower()}{platform.python_version_tuple()[0]}"

    def write_item(
        self,
        record: ItemRecord,
        *,
        name: str,
        package: str,
        tags: list[str],
        start: int,
        stop: int,
        attachments: list[Attachment],
        steps: list[Step],
        details: str | None,
        redactor: Redactor,
    ) -> Path:
        full_name = f"{package}#{name}"
        own = labels(record)
        status = STATUS[record.outcome]
        result: dict[str, Any] = {
            "name": name,
            "status": status,
            "description": description(record),
            "attachments": [self._attach(a) for a in attachments],
            "steps": [self._step(s, start, stop) for s in steps],
            "parameters": [{"name": k, "value": repr(v)} for k, v in own[:4]],
            "start": start,
            "stop": stop,
        }
        if details:  # the failure report (violations, no traceback), the error, or the skip reason
            first = details.strip().splitlines()[0] if details.strip() else details
            result["statusDetails"] = {"message": first if status == "skipped" else details, "trace": details}
        uid = str(uuid.uuid4())
        result["uuid"] = uid
        # Stable across runs: what allure groups an item's history by.
        result["historyId"] = _md5(full_name, *(f"{k}={v}" for k, v in own[:4]))
        result["testCaseId"] = _md5(full_name)
        result["fullName"] = full_name
        result["labels"] = [
            {"name": k, "value": v}
            for k, v in (
                *own,
                ("parentSuite", record.gateway),
                ("suite", record.endpoint),
                ("subSuite", record.case),
                *(("tag", t) for t in tags),
                ("host", self._host),
                ("thread", f"{os.getpid()}-{threading.current_thread().name}"),
                ("framework", "pytest"),
                ("language", self._language),
                ("package", package),
            )
        ]
        result["titlePath"] = list(Path(record.file).parts)
        # Labels and messages too, each JSON string by its value (``wire`` keeps the document valid;
        # its fast path skips the per-string pass when the text as a whole holds nothing to mask).
        path = self.out_dir / f"{uid}-result.json"
        path.write_text(redactor.wire(json.dumps(result, ensure_ascii=False)), encoding="utf-8")
        return path

    def _attach(self, a: Attachment) -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.{a.ext}"
        (self.out_dir / source).write_text(a.content, encoding="utf-8")
        return {"name": a.name, "source": source, "type": a.mime}

    def _step(self, s: Step, start: int, stop: int) -> dict[str, Any]:
        step: dict[str, Any] = {
            "name": s.name,
            "status": "failed" if s.failed else "passed",
            "attachments": [self._attach(a) for a in s.attachments],
            "parameters": [],
            "start": start,
            "stop": stop,
        }
        if s.failed:
            step["statusDetails"] = {"message": s.message, "trace": ""}
        return step


def _md5(*parts: str) -> str:
    return hashlib.md5("".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()
