from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
from click.testing import CliRunner

from jobs.cli import cli
from jobs.nightly import EXIT_FAILED, EXIT_LOCKED, EXIT_PARTIAL

from .conftest import labelled_corpus

ARGS = ["--as-of", "2020-06-30", "--window-days", "90"]


def corpus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    labelled_corpus(folder)
    return folder


def test_nightly_runs_every_stage_and_records_them(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(db), "--corpus", str(corpus_dir(tmp_path)), *ARGS], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"tables in {db}" in result.output
    con = duckdb.connect(str(db), read_only=True)
    jobs = [j for (j,) in con.execute("SELECT job FROM runs ORDER BY run_id").fetchall()]
    assert jobs == ["nightly", "ingest", "featurize", "corroborate", "aggregate", "fit", "score"]
    status, counts = con.execute("SELECT status, counts FROM runs WHERE job = 'nightly'").fetchall()[0]
    assert status == "ok" and json.loads(counts)["ingest"]["loaded"] == 120
    assert con.execute("SELECT count(*) FROM latest_scores").fetchall() == [(6,)]


def test_second_nightly_exits_at_once_with_its_own_code(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    code = (
        "import time; from pathlib import Path; from jobs.lock import RunLock; "
        f"l = RunLock(Path({str(db)!r})); l.acquire(); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(
            cli, ["nightly", "--db", str(db), "--corpus", str(corpus_dir(tmp_path)), *ARGS], catch_exceptions=False
        )
        assert result.exit_code == EXIT_LOCKED
        assert "another presstrust run holds" in result.output and str(holder.pid) in result.output
    finally:
        holder.kill()
        holder.wait()


def test_corrupt_file_among_good_ones(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = corpus_dir(tmp_path)
    (folder / "broken.parquet").write_bytes(b"PAR1 not really")
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(db), "--corpus", str(folder), *ARGS], catch_exceptions=False
    )
    assert result.exit_code == EXIT_PARTIAL
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchall() == [(120,)]
    assert con.execute("SELECT status FROM runs WHERE job = 'nightly'").fetchall() == [("partial",)]


def test_unwritable_location_gives_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["nightly", "--db", "/dev/null/sub/n.duckdb", "--corpus", str(tmp_path), *ARGS], catch_exceptions=False
    )
    assert result.exit_code == EXIT_FAILED
    assert "/dev/null/sub" in result.output


def test_drifted_outlets_are_listed_in_the_run_summary(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = corpus_dir(tmp_path)
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["nightly", "--db", str(db), "--corpus", str(folder), *ARGS], catch_exceptions=False
        ).exit_code
        == 0
    )
    # construct drift: nytimes.com's previous publication had a narrow interval far below its next score
    con = duckdb.connect(str(db))
    con.execute("UPDATE outlet_scores SET score = 1, score_low = 0, score_high = 2 WHERE outlet = 'nytimes.com'")
    con.close()
    result = runner.invoke(cli, ["nightly", "--db", str(db), "--corpus", str(folder), *ARGS], catch_exceptions=False)
    assert result.exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    counts = json.loads(
        con.execute("SELECT counts FROM runs WHERE job = 'nightly' ORDER BY run_id DESC LIMIT 1").fetchall()[0][0]
    )
    assert counts["score"]["moved_outside_interval"] == ["nytimes.com"]
    flagged = con.execute("SELECT outlet FROM score_changes WHERE outside_previous_interval").fetchall()
    assert flagged == [("nytimes.com",)]
