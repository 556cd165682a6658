"""DuckDB connections and the numbered schema migrations (jobs/migrations/NNNN_name.sql)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# No extension may be fetched at run time: json and parquet are built into the wheel.
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": True,
}
# DuckDB's buffer pool defaults to 80% of RAM; a nightly job should not take the machine.
DEFAULT_MEMORY_LIMIT = "2GB"


def _config() -> dict[str, str | bool | int | float | list[str]]:
    return {**_CONFIG, "memory_limit": os.environ.get("PRESSTRUST_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)}


class DatabaseError(Exception):
    """A database cannot be opened or migrated; the message says which and why."""


class DatabaseFault(DatabaseError):
    """The database itself failed (corrupt, disk full, unwritable, internal error): not the input's fault."""


class DatabaseMissing(DatabaseError):
    """A read-only command was pointed at a database file that does not exist."""


class DatabaseInUse(DatabaseError):
    """Another process holds the database file (DuckDB allows one writer process)."""


class DatabaseTooNew(DatabaseError):
    """The database has migrations this code does not know: it was written by a newer presstrust."""


# DuckDB error classes and message fragments that mean the database or its disk failed, not the data.
_FAULT_TYPES = (duckdb.IOException, duckdb.InternalException, duckdb.FatalException, duckdb.OutOfMemoryException)
_FAULT_TEXT = (
    "corrupt",
    "checksum",
    "no space left",
    "disk full",
    "read-only file system",
    "could not write",
    "could not read",
    "failed to write",
    "database has been invalidated",
)


def is_database_fault(exc: BaseException) -> bool:
    """True when an error is about the database or its disk (corruption, disk full, I/O), not about the input."""
    if isinstance(exc, DatabaseFault | OSError):
        return True
    if not isinstance(exc, duckdb.Error):
        return False
    text = str(exc).lower()
    return isinstance(exc, _FAULT_TYPES) or any(fragment in text for fragment in _FAULT_TEXT)


def fault_message(path: Path | str, exc: BaseException) -> str:
    """One line naming the database and the root cause, with what to do (docs/operations.md)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    if "no space left" in lowered or "disk full" in lowered:
        hint = "the disk is full: free space, then rerun (the last published tables are intact)"
    elif "corrupt" in lowered or "checksum" in lowered:
        hint = "the database file is damaged: restore it from a backup (docs/operations.md, 'Recovery')"
    else:
        hint = "see docs/operations.md, 'Errors'"
    return f"database {path}: {text} ({hint})"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    name: str
    applied_at: datetime | None
    checksum_ok: bool
    known: bool = True  # False: recorded in the database but not shipped with this code (a newer version)


def available_migrations() -> list[Migration]:
    """All migration files, ordered by number; numbers must be unique and consecutive from 1."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise DatabaseError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise DatabaseError(f"migration numbers must run 1..n without gaps, found {versions}")
    return found


def rollback_quietly(con: duckdb.DuckDBPyConnection, cause: BaseException) -> None:
    """ROLLBACK after `cause`; a failing rollback is noted on `cause`, never raised in its place."""
    try:
        con.rollback()
    except duckdb.Error as exc:  # e.g. "no transaction is active" after a disk-full abort
        cause.add_note(f"(the rollback after it failed too: {exc})")
        log.debug("rollback failed after %s: %s", type(cause).__name__, exc)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK and re-raise the block's own error (or the process's interruption)."""
    con.begin()
    try:
        yield
    except BaseException as exc:
        rollback_quietly(con, exc)
        raise
    con.commit()


def now_utc() -> datetime:
    """The current UTC time as a naive datetime (DuckDB TIMESTAMP columns hold UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


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


def _pre_step(con: duckdb.DuckDBPyConnection, version: int) -> Any:
    """A migration's data step that SQL alone cannot do, before its transaction (e.g. writing files)."""
    if version == 9:  # the old articles table's texts go to a Parquet file beside the database
        from jobs.textstore import export_legacy_texts

        return export_legacy_texts(con)
    return None


def _post_step(con: duckdb.DuckDBPyConnection, version: int, prepared: Any) -> None:
    """A migration's data step that SQL alone cannot do, in its transaction after its SQL."""
    if version == 9:
        from jobs.textstore import register_legacy_texts

        register_legacy_texts(con, prepared)


def _tidy_texts(con: duckdb.DuckDBPyConnection) -> None:
    """On a writing connection: re-point text files after a folder move, remove files a killed load left."""
    from jobs.textstore import clean_orphans, relocate

    if 9 not in _applied(con):  # a database kept at an older schema (tests of migrations)
        return
    relocate(con)
    clean_orphans(con)


def _applied(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str, datetime]]:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = con.execute("SELECT version, checksum, name, applied_at FROM schema_migrations").fetchall()
    return {int(v): (c, n, t) for v, c, n, t in rows}


def migration_status(con: duckdb.DuckDBPyConnection | None) -> list[MigrationStatus]:
    """Every known migration with when it was applied (None = pending); reads only."""
    applied = _applied(con) if con is not None else {}
    known = available_migrations()
    statuses = [
        MigrationStatus(
            m.version,
            m.name,
            applied[m.version][2] if m.version in applied else None,
            m.version not in applied or applied[m.version][0] == m.checksum,
        )
        for m in known
    ]
    versions = {m.version for m in known}
    statuses += [
        MigrationStatus(v, name, at, True, known=False)
        for v, (_, name, at) in sorted(applied.items())
        if v not in versions
    ]
    return statuses


def refuse_newer(con: duckdb.DuckDBPyConnection) -> None:
    """Raise DatabaseTooNew when the database records migrations this code does not have."""
    known = {m.version for m in available_migrations()}
    unknown = sorted(v for v in _applied(con) if v not in known)
    if unknown:
        raise DatabaseTooNew(
            f"the database was written by a newer presstrust: it has schema migration(s) "
            f"{', '.join(f'{v:04d}' for v in unknown)}, this code knows up to {max(known):04d}; "
            "upgrade presstrust (nothing was written)"
        )


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply pending migrations in order, each in its own transaction with its schema_migrations row."""
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,
            applied_at TIMESTAMP NOT NULL
        );
        COMMENT ON TABLE schema_migrations IS 'Numbered schema migrations applied to this database.';
        COMMENT ON COLUMN schema_migrations.version IS 'Migration number (the NNNN of jobs/migrations/NNNN_name.sql).';
        COMMENT ON COLUMN schema_migrations.name IS 'Migration name.';
        COMMENT ON COLUMN schema_migrations.checksum IS 'sha256 of the migration file when it was applied.';
        COMMENT ON COLUMN schema_migrations.applied_at IS 'UTC time it was applied.';
        """
    )
    refuse_newer(con)
    applied = _applied(con)
    done = []
    for migration in available_migrations():
        if migration.version in applied:
            if applied[migration.version][0] != migration.checksum:
                raise DatabaseError(
                    f"migration {migration.path.name} was changed after it was applied; "
                    "add a new numbered migration instead"
                )
            continue
        prepared = _pre_step(con, migration.version)
        with transaction(con):
            con.execute(migration.sql)
            _post_step(con, migration.version, prepared)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                [migration.version, migration.name, migration.checksum, now_utc()],
            )
        log.info("applied migration %04d_%s", migration.version, migration.name)
        done.append(migration)
    return done
