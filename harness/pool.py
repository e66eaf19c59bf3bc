"""Live items in flight at once, in one process: a thread pool that runs ``run_variant`` ahead
of pytest's own loop. A live item spends nearly all its time waiting on the relay, so threads
overlap those waits; pytest still reports every item in its place, in its own order, taking
the result from the item's future instead of running it. No pytest here (the collector wires
it in); see docs/performance.md for why a pool and not xdist workers.

Thread safety: ``run_variant`` is engine code over frozen values; the Context it gets is the
one the collector gives it, holding the plain live Transport (httpx.Client is thread-safe), never
the cassette transport, whose per-item state is single-threaded. Items with a cassette are never
pooled.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from harness.cost import TokenBudget
from harness.runner import Context, ItemResult, Variant, run_variant


class LivePool:
    """Submits every given item at once; at most ``workers`` run at the same time."""

    def __init__(self, ctx: Context, workers: int, budget: TokenBudget | None = None) -> None:
        self._ctx = ctx  # frozen and shared: every thread reads the same one
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="relaycheck-item")
        self._futures: dict[str, Future[ItemResult | None]] = {}
        self.workers = workers
        self._budget = budget

    def submit_all(self, items: Iterable[tuple[str, Variant]]) -> None:
        for item_id, variant in items:
            self._futures[item_id] = self._executor.submit(self._one, variant)

    def _one(self, variant: Variant) -> ItemResult | None:
        """Run one item; None when the token budget was spent before its turn (not sent)."""
        if self._budget is not None and self._budget.exhausted():
            return None
        result = run_variant(variant, self._ctx)
        if self._budget is not None:
            self._budget.add(result)
        return result

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._futures

    def result(self, item_id: str) -> ItemResult | None:
        """The item's result, waiting for it; an exception inside run_variant is raised here,
        in the item that caused it."""
        return self._futures.pop(item_id).result()

    def close(self) -> None:
        # Items never reached (-x, an interrupt) are cancelled; running ones finish their request.
        self._executor.shutdown(wait=True, cancel_futures=True)
