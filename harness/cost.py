"""What a run costs in tokens: an estimate before sending (``--dry-run``), the tokens the relay
reported using (from usage), and ``--token-budget N``, which stops sending new requests once N
tokens are spent (the items not sent are skipped as "not run"). No pytest here."""

from __future__ import annotations

import json
import threading
from typing import Any

from harness.report.metrics import step_usage

DEFAULT_OUTPUT = 4096  # assumed ceiling for a request that names no max_tokens of its own
NOT_RUN = "not run: "


def _ceiling(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        if isinstance(body.get(key), int):
            return int(body[key])
    return DEFAULT_OUTPUT


def estimate(variant: Any) -> tuple[int, int]:
    """(input, output) tokens a variant may spend: its request bodies at ~4 characters a token,
    and each step's output ceiling (max_tokens and its kin). Requests without a JSON body
    (model lists, raw malformed bodies) cost nothing."""
    tokens_in = tokens_out = 0
    for step in variant.case.steps:
        body = step.request.body_template()
        if body is None:
            continue
        if isinstance(body, dict) and variant.model is not None:
            body = {"model": variant.model, **body}
        tokens_in += max(1, len(json.dumps(body, ensure_ascii=False)) // 4)
        tokens_out += _ceiling(body)
    return tokens_in, tokens_out


def used(result: Any) -> tuple[int, int]:
    """(input, output) tokens an item's answers reported in their usage (0 where none did)."""
    pairs = ((s.step.endpoint, s.evaluation.final if s.evaluation else None) for s in result.steps if s.exchange)
    tokens_in, tokens_out = step_usage(pairs)
    return tokens_in or 0, tokens_out or 0


class TokenBudget:
    """Tokens spent so far against a limit; shared by the pool's threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self._lock = threading.Lock()

    def add(self, result: Any) -> None:
        tokens_in, tokens_out = used(result)
        with self._lock:
            self.spent += tokens_in + tokens_out

    def exhausted(self) -> bool:
        with self._lock:
            return self.spent >= self.limit

    def reason(self) -> str:
        return f"{NOT_RUN}the token budget ({self.limit}) is spent ({self.spent} tokens used)"


def dry_run_lines(items: list[tuple[str, Any]]) -> list[str]:
    """One line per item with its estimate, then the totals per model."""
    lines = []
    per_model: dict[str, list[int]] = {}
    for item_id, variant in items:
        tokens_in, tokens_out = estimate(variant)
        lines.append(f"{item_id}  ~{tokens_in} in, <= {tokens_out} out")
        t = per_model.setdefault(variant.model or "request-model", [0, 0, 0])
        t[0] += 1
        t[1] += tokens_in
        t[2] += tokens_out
    lines.append(f"relaycheck dry run: {len(items)} items would be sent; estimated tokens per model:")
    for model, (n, tokens_in, tokens_out) in sorted(per_model.items()):
        lines.append(f"  {model:32} {n:4} items  ~{tokens_in} in, <= {tokens_out} out")
    total_in = sum(t[1] for t in per_model.values())
    total_out = sum(t[2] for t in per_model.values())
    lines.append(
        f"  total: ~{total_in} input tokens, at most {total_out} output tokens (the max_tokens ceilings; "
        "answers are usually far shorter). Nothing was sent."
    )
    return lines
