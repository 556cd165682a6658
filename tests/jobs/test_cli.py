from __future__ import annotations

import json
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner

from jobs import paths
from jobs.cli import cli

from .conftest import article, write_jsonl


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("command", [(), *all_commands(cli)], ids=lambda c: " ".join(c) or "presstrust")
def test_every_command_has_help_with_example(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_ingest_summary_line_and_exit_codes(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    good = write_jsonl(tmp_path / "good.jsonl", [article(1), article(2)])
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(good), "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "read 2 = loaded 2 + updated 0 + duplicates 0 + rejected 0" in result.output
    quiet = runner.invoke(cli, ["ingest", str(good), "--db", str(db), "--quiet"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.output == ""
    missing = runner.invoke(cli, ["ingest", str(tmp_path / "nope.jsonl"), "--db", str(db)], catch_exceptions=False)
    assert missing.exit_code == 1 and "1 failed" in missing.output


def test_ingest_env_db_and_bad_map(tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    good = write_jsonl(tmp_path / "good.jsonl", [article(1)])
    runner = CliRunner(env={"PRESSTRUST_DB": str(db)})
    assert runner.invoke(cli, ["ingest", str(good)], catch_exceptions=False).exit_code == 0
    assert db.exists()
    bad = runner.invoke(cli, ["ingest", str(good), "--map", "nonsense=x"], catch_exceptions=False)
    assert bad.exit_code == 2 and "unknown field" in bad.output
    # JSON records may lack a mapped key: the field is null, and the record is rejected with the reason;
    # a file whose every record is rejected makes the exit code 1
    unmapped = runner.invoke(cli, ["ingest", str(good), "--map", "text=nope", "--force"], catch_exceptions=False)
    assert unmapped.exit_code == 1 and "rejected 1" in unmapped.output
    assert "1 with every record rejected" in unmapped.output
    # a tabular file without the mapped column fails as a whole, with a clear error
    table = tmp_path / "t.csv"
    table.write_text("url,text\nhttps://a.com/1,x\n", encoding="utf-8")
    failed = runner.invoke(cli, ["ingest", str(table), "--map", "text=nope"], catch_exceptions=False)
    assert failed.exit_code == 1
    con = duckdb.connect(str(db), read_only=True)
    error = con.execute("SELECT error FROM ingest_files WHERE status = 'failed'").fetchall()[0][0]
    assert "t.csv" in error and "no column 'nope'" in error


def test_migrate_list_reads_only(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    runner = CliRunner()
    listed = runner.invoke(cli, ["db", "migrate", "--list", "--db", str(db)], catch_exceptions=False)
    assert "0001_foundation  pending" in listed.output and not db.exists()
    runner.invoke(cli, ["db", "migrate", "--db", str(db)], catch_exceptions=False)
    before = db.stat().st_mtime_ns
    listed = runner.invoke(cli, ["db", "migrate", "--list", "--db", str(db)], catch_exceptions=False)
    assert "0001_foundation  applied" in listed.output
    assert db.stat().st_mtime_ns == before


def test_golden_sample_end_to_end(tmp_path: Path) -> None:
    """The shipped sample loads completely, covers >= 40 labelled outlets, and reloads as pure duplicates."""
    db = tmp_path / "sample.duckdb"
    runner = CliRunner()
    n = 2462  # 1,992 AllSides + 469 extra_2010_2021 articles + the seed article (jobs/data/sample/PROVENANCE.md)
    first = runner.invoke(cli, ["ingest", str(paths.SAMPLE_DIR), "--db", str(db)], catch_exceptions=False)
    assert f"read {n} = loaded {n} + updated 0 + duplicates 0 + rejected 0" in first.output
    again = runner.invoke(cli, ["ingest", str(paths.SAMPLE_DIR), "--db", str(db), "--force"], catch_exceptions=False)
    assert f"read {n} = loaded 0 + updated 0 + duplicates {n} + rejected 0" in again.output
    con = duckdb.connect(str(db), read_only=True)
    labelled = con.execute(
        "SELECT count(*) FROM (SELECT outlet, count(*) AS n FROM articles GROUP BY outlet) a "
        "JOIN read_csv(?) l ON l.domain = a.outlet WHERE a.n >= 20",
        [str(paths.LABELS_FILE)],
    ).fetchall()[0][0]
    assert labelled >= 40
    seed = con.execute("SELECT title FROM articles WHERE source_id = 'seed-000-8c9f463cf267f3af'").fetchall()
    assert seed and seed[0][0].startswith("UK PM Confirms Coalition")
    runs = con.execute("SELECT job, status, counts FROM runs ORDER BY run_id").fetchall()
    assert [(j, s) for j, s, _ in runs] == [("ingest", "ok"), ("ingest", "ok")]
    assert json.loads(runs[0][2])["loaded"] == n
    languages = dict(con.execute("SELECT language, count(*) FROM articles GROUP BY 1").fetchall())
    assert languages == {"en": 469 - 60, "de": 60, None: 1993}  # the extra corpus gives codes, AllSides none


def test_shared_corpora_load_out_of_the_box(tmp_path: Path, shared_data: Path) -> None:
    db = tmp_path / "shared.duckdb"
    corpora = shared_data / "corpora"
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(corpora / "allsides_2012_2020.parquet"),
            str(corpora / "pac_story_pairs.jsonl.gz"),
            "--db",
            str(db),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    rejects = dict(con.execute("SELECT reason, count(*) FROM ingest_rejects GROUP BY reason").fetchall())
    # only the two AllSides placeholder "outlets" in PAC cannot be mapped to a domain
    assert sum(rejects.values()) <= 2, rejects
    n_pac = con.execute("SELECT count(*) FROM articles WHERE source_id LIKE 'STORY_%'").fetchall()[0][0]
    assert n_pac >= 302
    assert con.execute("SELECT count(DISTINCT outlet) FROM articles").fetchall()[0][0] > 300
