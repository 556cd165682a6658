"""A per-database run lock for cron jobs.

The lock is an flock on `<db>.lock`. The kernel releases an flock when its process dies, even by
SIGKILL, so a lock file left by a killed run is stale by construction: the next run takes it over
(and logs who held it). The file records the holder's job, pid, host and start time for the message a
second, concurrent run prints, and for `presstrust runs`, which shows the run in progress from it
(`holder`: read without locking, so a reader never delays a run).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from pathlib import Path
from types import TracebackType

from jobs.infra.clock import now_utc

log = logging.getLogger(__name__)


class LockHeld(Exception):
    """Another live process holds the lock; the message names it."""


class RunLock:
    def __init__(self, db_path: Path, *, job: str = "run") -> None:
        self.path = Path(f"{db_path}.lock")
        self.job = job
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise LockHeld(f"another presstrust run holds {self.path}: {holder or 'unknown holder'}") from None
        previous = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        if previous:
            log.warning("taking over a stale lock left by a run that ended without releasing it: %s", previous)
        record = json.dumps(
            {"job": self.job, "pid": os.getpid(), "host": socket.gethostname(), "started_at": now_utc().isoformat()}
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # an empty file means: released cleanly
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def holder(db_path: Path) -> dict[str, object] | None:
    """The record of the live run that holds the database's run lock now, or None (none, or it was killed).

    Read without taking the lock. A process on this host is checked to be alive; one on another host (a
    shared folder) is taken at its word.
    """
    try:
        text = Path(f"{db_path}.lock").read_text(encoding="utf-8").strip()
        record = json.loads(text) if text else None
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("pid"), int):
        return None
    if record.get("host") == socket.gethostname():
        try:
            os.kill(record["pid"], 0)
        except ProcessLookupError:
            return None  # killed without releasing: the next run takes the lock over
        except PermissionError:
            pass  # alive, another user's
    return record
