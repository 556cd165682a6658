from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from jobs.stages.score import MIN_KEPT_SHARE, ShrinkRefused, check_shrink
from jobs.store.schema import apply_migrations


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    apply_migrations(con)
    return con


def test_first_publication_is_never_refused(con: duckdb.DuckDBPyConnection) -> None:
    check_shrink(con, 1, allow_shrink=False)


def test_shrinking_below_the_share_is_refused_unless_allowed(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO publications VALUES (1, ?, 'm', ?, 365, 72)", [datetime(2026, 1, 1), date(2025, 12, 31)])
    assert MIN_KEPT_SHARE == 0.5
    check_shrink(con, 36, allow_shrink=False)  # half is still fine
    with pytest.raises(ShrinkRefused, match="refusing to publish 19 outlets where the previous publication"):
        check_shrink(con, 19, allow_shrink=False)
    check_shrink(con, 19, allow_shrink=True)
