"""Transactions: BEGIN ... COMMIT, or ROLLBACK that never hides the error that caused it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

log = logging.getLogger(__name__)


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
