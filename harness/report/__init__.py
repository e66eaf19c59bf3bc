"""Reports: the typed item and run records reports are written from (``record``), one writer per
format (``writers``: summary.json, the contract, and matrix.html), diff, merge and trend of
summaries. No pytest here: the allure and JUnit hooks are in ``harness/pytest/report_hooks.py``.
See docs/reports.md."""
