"""The runs table: every job records its parameters, code version, status and counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb

from jobs.infra.clock import now_utc
from jobs.infra.version import code_version


def start_run(con: duckdb.DuckDBPyConnection, job: str, parameters: Mapping[str, Any]) -> int:
    """Insert a 'running' row (committed at once, so a killed job leaves a trace) and return its run_id."""
    row = con.execute(
        "INSERT INTO runs (job, parameters, code_version, started_at, status) "
        "VALUES (?, ?, ?, ?, 'running') RETURNING run_id",
        [job, json.dumps(parameters, sort_keys=True, default=str), code_version(), now_utc()],
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    *,
    status: str,
    counts: Mapping[str, Any],
    error: str | None = None,
) -> None:
    """Close a run with its final status ('ok', 'partial', 'failed' or 'interrupted') and counts."""
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, counts = ?, error = ? WHERE run_id = ?",
        [now_utc(), status, json.dumps(counts, sort_keys=True), error, run_id],
    )


def error_text(exc: BaseException) -> str:
    """The error as recorded in runs.error: its type, message and notes (the root cause, not a cleanup's error)."""
    notes = getattr(exc, "__notes__", [])
    return " ".join([f"{type(exc).__name__}: {exc}", *notes])


@contextmanager
def failure_recorded(
    con: duckdb.DuckDBPyConnection, run_id: int, counts: Callable[[], Mapping[str, Any]] = dict
) -> Iterator[None]:
    """Close the run as failed, or interrupted (a signal), with the counts so far and the error; then re-raise.

    When the database cannot take even that row (a full disk, a damaged file), the original error is
    re-raised with a note, never replaced by the bookkeeping's error.
    """
    try:
        yield
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        try:
            finish_run(con, run_id, status=status, counts=counts(), error=error_text(exc))
        except duckdb.Error as bookkeeping:
            exc.add_note(f"(recording the run as {status} failed too: {bookkeeping})")
        raise
