from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from jobs.store import schema
from jobs.store.connection import connect
from jobs.store.errors import DatabaseError
from jobs.store.schema import apply_migrations, available_migrations, migration_status


def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    con = connect(tmp_path / "a.duckdb")
    rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [m.version for m in available_migrations()]
    assert apply_migrations(con) == []  # nothing pending on the second call
    assert all(s.applied_at is not None and s.checksum_ok for s in migration_status(con))


def test_every_table_and_column_is_documented(con: duckdb.DuckDBPyConnection) -> None:
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal AND NOT temporary "
        "AND (comment IS NULL OR comment = '')"
    ).fetchall()
    columns = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal "
        "AND database_name = current_database() "
        "AND (comment IS NULL OR comment = '')"
    ).fetchall()
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal "
        "AND database_name = current_database() "
        "AND (comment IS NULL OR comment = '')"
    ).fetchall()
    assert tables == [] and columns == [] and views == []


def test_list_does_not_write(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    assert all(s.applied_at is None for s in migration_status(None))
    assert not path.exists()
    with pytest.raises(DatabaseError, match="does not exist"):
        connect(path, read_only=True)


def test_changed_migration_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connect(tmp_path / "a.duckdb").close()
    edited = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, edited)
    first = sorted(edited.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", edited)
    with pytest.raises(DatabaseError, match="changed after it was applied"):
        connect(tmp_path / "a.duckdb")


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, broken)
    n = len(list(broken.glob("*.sql")))
    (broken / f"{n + 1:04d}_broken.sql").write_text("CREATE TABLE half (x INT); SELECT * FROM no_such_table;")
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", broken)
    with pytest.raises(duckdb.Error):
        connect(tmp_path / "b.duckdb")
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchall() == [(n,)]
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half'").fetchall() == [(0,)]


def test_locked_database_gives_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({str(path)!r}); print('ok', flush=True); sys.stdin.read()",
        ],  # holds until the test is done, however long that takes
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseError, match="in use by another process"):
            connect(path)
    finally:
        holder.kill()
        holder.wait()


def test_schema_doc_is_current() -> None:
    from click.testing import CliRunner

    from jobs.cli import cli
    from jobs.infra.paths import PROJECT_ROOT

    result = CliRunner().invoke(cli, ["db", "schema"], catch_exceptions=False)
    assert result.exit_code == 0
    current = (PROJECT_ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert result.output == current, "docs/schema.md is out of date: run `presstrust db schema --out docs/schema.md`"
