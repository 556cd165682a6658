"""Opening a database: created when writable, migrated, and tidied (text files moved or left by a kill).

DuckDB allows one writing process per file; the nightly's run lock (jobs/store/lock.py) keeps cron runs apart.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from jobs.store.errors import DatabaseError, DatabaseFault, DatabaseInUse, DatabaseMissing
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
    if not read_only and path.exists():
        refuse_damaged(path)
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only, config=_config())
    except (duckdb.Error, OSError) as exc:
        raise _open_error(path, exc) from exc
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


def _open_error(path: Path, exc: BaseException) -> DatabaseError:
    msg = str(exc)
    if isinstance(exc, duckdb.IOException) and "lock" in msg.lower():
        return DatabaseInUse(f"database {path} is in use by another process: {msg}")
    return DatabaseFault(f"cannot open database {path}: {msg}")  # a truncated or foreign file, an unreadable folder


_DAMAGED = (
    "cannot open database {path} for writing: it is damaged ({why}); nothing was written to it: restore it from "
    "a backup (docs/operations.md, 'Back-up and recovery')"
)
_HEADER_BYTES = 3 * 4096  # a DuckDB file: its main header and two database headers, then the blocks
_TABLES = "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
_LAST_BLOCK = (
    "SELECT max(greatest(block_id, coalesce(list_max(additional_block_ids), -1))) "
    "FROM pragma_storage_info(?) WHERE persistent"
)


def refuse_damaged(path: Path) -> None:
    """Before a database file is opened for writing, check it read-only: it opens (its write-ahead log replays),
    its catalog and `schema_migrations` read (their blocks' checksums checked), and the file holds every block its
    tables' segments are stored in. A damaged file raises DatabaseFault and is never opened for writing (DuckDB
    would extend a truncated file and write into it).

    What this cannot see, a bad checksum in a data block no catalog read touches, is found by the query that
    reads it, whose transaction rolls back."""
    try:
        con = duckdb.connect(str(path), read_only=True, config=_config())
    except duckdb.ConnectionException:  # open in this process already, for writing: it was checked then
        return
    except (duckdb.Error, OSError) as exc:
        raise _open_error(path, exc) from exc
    try:
        tables = con.execute(_TABLES).fetchall()
        if ("main", "schema_migrations") in tables:
            con.execute("SELECT * FROM schema_migrations").fetchall()
        last = max((_last_block(con, schema, table) for schema, table in tables), default=-1)
        block_size = int(con.execute("SELECT get_block_size(current_database())").fetchall()[0][0])
    except duckdb.Error as exc:
        raise DatabaseFault(_DAMAGED.format(path=path, why=str(exc).splitlines()[0])) from exc
    finally:
        con.close()
    size, needed = path.stat().st_size, _HEADER_BYTES + (last + 1) * block_size
    if size < needed:
        why = f"the file has {size:,} bytes; its tables use blocks up to #{last}, {needed:,} bytes"
        raise DatabaseFault(_DAMAGED.format(path=path, why=why))


def _last_block(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    """The highest block of the file a table's stored segments use (-1: none)."""
    quoted = ".".join('"' + name.replace('"', '""') + '"' for name in (schema, table))
    last = con.execute(_LAST_BLOCK, [quoted]).fetchall()[0][0]
    return -1 if last is None else int(last)


def _tidy_texts(con: duckdb.DuckDBPyConnection) -> None:
    """On a writing connection: re-point text files after a folder move, remove files a killed load left."""
    from jobs.store.texts import clean_orphans, relocate  # polars: only a writing connection needs it

    if 9 not in applied_migrations(con):  # a database kept at an older schema (tests of migrations)
        return
    relocate(con)
    clean_orphans(con)
