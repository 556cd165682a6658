"""The numbered schema migrations (jobs/store/migrations/NNNN_name.sql): which are applied, and applying them.

The DuckDB schema is a public API: it changes only by a new numbered migration, each applied once in its own
transaction with its schema_migrations row; a database written by a newer presstrust is refused.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from jobs.infra.clock import now_utc
from jobs.store.errors import DatabaseError, DatabaseTooNew
from jobs.store.transactions import transaction

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


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


def _pre_step(con: duckdb.DuckDBPyConnection, version: int) -> Any:
    """A migration's data step that SQL alone cannot do, before its transaction (e.g. writing files)."""
    if version == 9:  # the old articles table's texts go to a Parquet file beside the database
        from jobs.store.texts import export_legacy_texts  # polars: only this old migration needs it

        return export_legacy_texts(con)
    return None


def _post_step(con: duckdb.DuckDBPyConnection, version: int, prepared: Any) -> None:
    """A migration's data step that SQL alone cannot do, in its transaction after its SQL."""
    if version == 9:
        from jobs.store.texts import register_legacy_texts

        register_legacy_texts(con, prepared)


def applied_migrations(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str, datetime]]:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = con.execute("SELECT version, checksum, name, applied_at FROM schema_migrations").fetchall()
    return {int(v): (c, n, t) for v, c, n, t in rows}


def migration_status(con: duckdb.DuckDBPyConnection | None) -> list[MigrationStatus]:
    """Every known migration with when it was applied (None = pending); reads only."""
    applied = applied_migrations(con) if con is not None else {}
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
    unknown = sorted(v for v in applied_migrations(con) if v not in known)
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
        COMMENT ON COLUMN schema_migrations.version IS
            'Migration number (the NNNN of jobs/store/migrations/NNNN_name.sql).';
        COMMENT ON COLUMN schema_migrations.name IS 'Migration name.';
        COMMENT ON COLUMN schema_migrations.checksum IS 'sha256 of the migration file when it was applied.';
        COMMENT ON COLUMN schema_migrations.applied_at IS 'UTC time it was applied.';
        """
    )
    refuse_newer(con)
    applied = applied_migrations(con)
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
