"""Whether a run finished: summary.json's ``run`` record. A run that was interrupted, or whose
case files did not all load, must never read like a complete one."""

from __future__ import annotations

from typing import Any

# The error of an item that started and never reported its result (Ctrl-C or SIGTERM mid-item).
UNFINISHED = "interrupted: the item did not finish (Ctrl-C or SIGTERM), so it was not judged"


def run_record(
    selected: int | None, entries: list[dict[str, Any]], interrupted: bool, collection_errors: list[dict[str, Any]]
) -> dict[str, Any]:
    """``selected``: items chosen to run (None when collection never finished); ``finished``:
    items with a verdict (passed, failed, skipped or a judged error); ``unfinished``: started and
    cut off; ``not_run``: selected and never started. Complete: all selected finished, nothing
    interrupted, every case file loaded."""
    unfinished = sum(1 for e in entries if e.get("error") == UNFINISHED)
    finished = len(entries) - unfinished
    not_run = max(0, selected - len(entries)) if selected is not None else None
    complete = not interrupted and not collection_errors and not unfinished and not not_run and selected is not None
    return {
        "run": {
            "complete": complete,
            "interrupted": interrupted,
            "selected": selected,
            "finished": finished,
            "unfinished": unfinished,
            "not_run": not_run,
            "collection_errors": len(collection_errors),
        },
        "collection_errors": collection_errors,
    }


def describe_run(run: dict[str, Any]) -> str:
    parts = [f"{run['finished']} of {run['selected'] if run['selected'] is not None else '?'} selected items finished"]
    if run.get("interrupted"):
        parts.append("interrupted")
    if run.get("unfinished"):
        parts.append(f"{run['unfinished']} cut off mid-item (counted as errors)")
    if run.get("not_run"):
        parts.append(f"{run['not_run']} never ran")
    if run.get("collection_errors"):
        parts.append(f"{run['collection_errors']} case file(s) failed to load")
    return ", ".join(parts)
