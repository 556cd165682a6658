"""The published snapshot: a read-only copy of the database that readers query while the nightly works.

The nightly works on its own database under its lock. At publish time (after the score stage, with the
database closed, so checkpointed) the database file is copied to `<name>.snapshot.duckdb.tmp-<pid>`,
checked, fsynced and renamed over `<name>.snapshot.duckdb`. A rename is atomic: a reader opens either
the old snapshot or the new one, never a mix, and a reader that holds the old one open keeps reading it
(its open file stays valid after the rename). A kill at any point leaves the last snapshot intact; the
temporary copy it may leave is removed by the next publish.

The copy holds every table (metadata, features, scores, runs, ...) but no article text: its articles
view reads the same immutable Parquet text files as the working database (jobs/store/texts.py), so a
publish copies the database file only (measured in BENCHMARKS.md).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from jobs.infra.failpoints import failpoint
from jobs.store.connection import connect
from jobs.store.errors import DatabaseError, DatabaseMissing


class SnapshotError(DatabaseError):
    """The snapshot could not be published (the previous one is intact) or is missing."""


def snapshot_path(db_path: Path) -> Path:
    """The published snapshot of a database: `<name>.snapshot.duckdb` beside `<name>.duckdb`."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.snapshot.duckdb")


@dataclass(frozen=True)
class Published:
    path: Path
    size_bytes: int
    seconds: float

    def line(self) -> str:
        return f"published snapshot {self.path} ({self.size_bytes / 2**20:.1f} MB) in {self.seconds:.1f}s"


def replace_snapshot(db_path: Path) -> Published:
    """Replace the database's snapshot with a copy of it. The caller holds the run lock and no connection."""
    from jobs.store.texts import fsync_path  # polars and pyarrow: only publishing needs them, never a reader

    started = time.perf_counter()
    db_path = Path(db_path).resolve()
    target = snapshot_path(db_path)
    wal = Path(f"{db_path}.wal")
    if wal.exists() and wal.stat().st_size:
        raise SnapshotError(
            f"{db_path} has an unapplied write-ahead log ({wal}): open it for writing once, then publish"
        )
    for stale in target.parent.glob(f"{target.name}.tmp-*"):  # left by a killed publish
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(db_path, tmp)
        fsync_path(tmp)
        _check(tmp)
        failpoint("publish.before_rename")
        os.replace(tmp, target)
        fsync_path(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    result = Published(target, target.stat().st_size, time.perf_counter() - started)
    return result


def _check(path: Path) -> None:
    """The copy opens read-only, has this code's schema and its published tables and articles view read."""
    try:
        con = connect(path, read_only=True)
    except DatabaseError as exc:
        raise SnapshotError(f"the new snapshot does not open ({exc}); the previous one is unchanged") from exc
    try:
        con.execute("SELECT count(*) FROM latest_scores").fetchall()
        con.execute("SELECT count(*) FROM articles").fetchall()  # every text file it names exists
    except duckdb.Error as exc:
        raise SnapshotError(f"the new snapshot cannot be read ({exc}); the previous one is unchanged") from exc
    finally:
        con.close()


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a published snapshot, with a hint when there is none yet."""
    path = Path(path)
    if not path.exists():
        raise DatabaseMissing(
            f"no published snapshot at {path}: run `presstrust nightly` (or `presstrust publish --db DB`) "
            "first, or read the working database with --live"
        )
    return connect(path, read_only=True)
