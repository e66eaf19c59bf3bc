"""Old report files removed off the critical path.

allure-pytest's ``--clean-alluredir`` deletes the previous run's results file by file before the
first item runs: three to four files per item of the last run, seconds for a large suite on a
slow or busy disk. The directory is renamed aside instead (one rename, instant) and deleted by a
thread while this run goes on; the command waits for it before it exits, so nothing is left."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path


def discard_in_background(path: Path) -> threading.Thread | None:
    """Rename ``path`` aside and delete it in a thread (join it before exiting). None when there
    is nothing to remove or it cannot be renamed: then the usual cleaning applies."""
    if not path.is_dir():
        return None
    aside = path.with_name(f".{path.name}.old-{os.getpid()}")
    try:
        path.rename(aside)
    except OSError:
        return None
    thread = threading.Thread(target=shutil.rmtree, args=(aside,), kwargs={"ignore_errors": True}, daemon=True)
    thread.start()
    return thread
