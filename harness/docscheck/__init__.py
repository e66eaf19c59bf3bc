"""``relaycheck docs``: where a relay's documentation contradicts the official wire formats.

page.py reads a page (file or URL; Markdown, HTML or copied text), extract.py finds what it
documents with line numbers, judge.py judges each piece with the dialects' own rules (a documented
answer goes through ``harness.engine.evaluate_exchange`` like live traffic), casesout.py and live.py
turn the documented requests into a case file and run it, command.py is the CLI.
"""
