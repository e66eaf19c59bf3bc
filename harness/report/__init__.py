"""Reports: summary.json now; allure labels, JUnit, matrix.html and diffs build on it."""
