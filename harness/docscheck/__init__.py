"""``relaycheck docs``: where a relay's documentation contradicts the official wire formats.

page.py reads a page (file or URL; Markdown, HTML or copied text); extract.py (with jsonpos.py)
finds what it documents, with line numbers; judge.py runs the checks: request_rules.py (would the
official API accept the documented requests), answers.py (documented answers and SSE transcripts
through ``harness.engine.evaluate_exchange``, like live traffic), pagewide.py (field tables, auth,
streaming claims); vocab.py says which names belong to which dialect, from the schemas.
casesout.py and live.py turn the documented requests into a case file and run it; command.py is
the CLI.
"""
