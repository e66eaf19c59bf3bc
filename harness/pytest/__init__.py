"""The pytest layer: the only modules that import pytest at module level (the plugin, case-file
collection, report hooks, the progress display, ``--shard`` and the stash keys they share).

Registered through the ``pytest11`` entry point ``harness.pytest.plugin``. Every module here
uses absolute imports, so ``import pytest`` inside it is the real pytest, never this package.
"""
