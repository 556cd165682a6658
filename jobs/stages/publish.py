"""Publishing: readers get the database as it is now, by replacing its read-only snapshot (jobs/store/snapshot.py).

"Publish" means this and only this in presstrust. The nightly publishes last, under its own lock; `presstrust
publish` and `presstrust score` publish with `publish`, which takes the database's run lock.
"""

from __future__ import annotations

from pathlib import Path

from jobs.store.connection import connect
from jobs.store.lock import RunLock
from jobs.store.snapshot import Published, replace_snapshot


def publish(db_path: Path, *, repair: bool = False) -> Published:
    """Under the run lock (LockHeld when a run has it), replace the database's snapshot. With `repair`, first open
    the database once for writing (migrations, text files moved or left by a killed load), as `presstrust publish`
    promises; a job that has just written the database has done that already."""
    with RunLock(db_path, job="publish"):
        if repair:
            connect(db_path).close()
        return replace_snapshot(db_path)
