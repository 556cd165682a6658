"""The database errors every command turns into one line and an exit code (jobs/cli/app.py, docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb


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
    elif "read-only file system" in lowered or "permission denied" in lowered:
        hint = "its folder cannot be written (a read-only mount?): nothing was changed; use a writable --db"
    elif "corrupt" in lowered or "checksum" in lowered or "damaged" in lowered:
        hint = "the database file is damaged: restore it from a backup (docs/operations.md, 'Recovery')"
    else:
        hint = "see docs/operations.md, 'Errors'"
    return f"database {path}: {text} ({hint})"
