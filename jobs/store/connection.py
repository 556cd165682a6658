"""Opening a database: created when writable, migrated, and tidied (text files moved or left by a kill).

DuckDB allows one writing process per file; the nightly's run lock (jobs/store/lock.py) keeps cron runs apart.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from jobs.store.errors import DatabaseFault, DatabaseInUse, DatabaseMissing
from jobs.store.schema import applied_migrations, apply_migrations, refuse_newer

# No extension may be fetched at run time: json and parquet are built into the wheel.
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": True,
}
# DuckDB's buffer pool defaults to 80% of RAM; a nightly job should not take the machine.
DEFAULT_MEMORY_LIMIT = "2GB"


def _config() -> dict[str, str | bool | int | float | list[str]]:
    return {**_CONFIG, "memory_limit": os.environ.get("PRESSTRUST_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)}


def connect(path: Path | str, *, read_only: bool = False, migrate: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the database (creating it and its folder when writable) and apply pending migrations.

    With migrate=True a database written by a newer presstrust (unknown migrations) is refused, read-only too.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseMissing(f"database {path} does not exist (run `presstrust nightly --db {path}` first?)")
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only, config=_config())
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise DatabaseInUse(f"database {path} is in use by another process: {msg}") from exc
        raise DatabaseFault(f"cannot open database {path}: {msg}") from exc
    except (duckdb.Error, OSError) as exc:  # a truncated or foreign file, an unreadable folder
        raise DatabaseFault(f"cannot open database {path}: {exc}") from exc
    try:
        if migrate and read_only:
            refuse_newer(con)
        elif migrate:
            apply_migrations(con)
            _tidy_texts(con)
    except BaseException:
        con.close()
        raise
    return con


def _tidy_texts(con: duckdb.DuckDBPyConnection) -> None:
    """On a writing connection: re-point text files after a folder move, remove files a killed load left."""
    from jobs.store.texts import clean_orphans, relocate  # polars: only a writing connection needs it

    if 9 not in applied_migrations(con):  # a database kept at an older schema (tests of migrations)
        return
    relocate(con)
    clean_orphans(con)
