"""Reports: summary.json (the contract), matrix.html, diff and merge of summaries, allure and
JUnit hooks for the pytest plugin. See docs/reports.md."""
