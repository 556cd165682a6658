"""The runs table: every job records its parameters, code version, status and counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb

from jobs.infra.clock import now_utc
from jobs.infra.exits import interruption, shielded
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
    """The error as recorded in runs.error: its type, message and notes (the root cause, not a cleanup's error);
    an interruption as `interrupted by SIGINT` (or the signal that came)."""
    notes = getattr(exc, "__notes__", [])
    interrupted = interruption(exc)
    head = f"interrupted by {interrupted.args[0]}" if interrupted is not None else f"{type(exc).__name__}: {exc}"
    return " ".join([head, *notes])


@contextmanager
def failure_recorded(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    counts: Callable[[], Mapping[str, Any]] = dict,
    *,
    with_later_runs: bool = False,
) -> Iterator[None]:
    """Close the run as failed, or interrupted (a signal), with the counts so far and the error; then re-raise.

    An error raised after a signal arrived (DuckDB's `RuntimeError: Query interrupted`) is an interruption, re-raised
    as Interrupted. With `with_later_runs` (a run that holds the database and starts others, the nightly), the rows
    of the runs it started that are still `running` are closed the same way. The recording is shielded from further
    signals. When the database cannot take even that row (a full disk, a damaged file), the original error is
    re-raised with a note, never replaced by the bookkeeping's error; the next nightly closes the row
    (`close_abandoned`).
    """
    try:
        yield
    except BaseException as exc:
        interrupted = interruption(exc)
        status = "interrupted" if interrupted is not None else "failed"
        with shielded():
            try:
                finish_run(con, run_id, status=status, counts=counts(), error=error_text(exc))
                if with_later_runs:
                    _close_later(con, run_id, status=status, error=error_text(exc))
            except duckdb.Error as bookkeeping:
                exc.add_note(f"(recording the run as {status} failed too: {bookkeeping})")
        if interrupted is not None and interrupted is not exc:
            raise interrupted from exc
        raise


def _close_later(con: duckdb.DuckDBPyConnection, run_id: int, *, status: str, error: str) -> None:
    """Close the runs started after `run_id` that are still `running` (its stages) as it closes."""
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, error = ? WHERE run_id > ? AND status = 'running'",
        [now_utc(), status, error, run_id],
    )


ABANDONED = "ended without recording its end (killed, or the database could not be written, e.g. a full disk)"


def close_abandoned(con: duckdb.DuckDBPyConnection, run_id: int) -> int:
    """Close as failed every run before `run_id` still marked `running`, and return how many there were.

    Called by a run that holds the database's run lock and has it open for writing (DuckDB allows one writing
    process), so no other run can be in progress: such a row was left by a process that died (SIGKILL, out of
    memory) or could not write its end (a full disk). Its `finished_at` is when this was found.
    """
    rows = con.execute(
        "UPDATE runs SET finished_at = ?, status = 'failed', error = ? WHERE run_id < ? AND status = 'running' "
        "RETURNING run_id",
        [now_utc(), f"{ABANDONED}; found by run {run_id}", run_id],
    ).fetchall()
    return len(rows)
