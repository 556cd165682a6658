from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
from click.testing import CliRunner

from jobs.cli import cli
from jobs.infra.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_PARTIAL, EXIT_USAGE

from ..conftest import labelled_corpus

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
    assert jobs == ["nightly", "ingest", "featurize", "corroborate", "claims", "aggregate", "fit", "score"]
    status, counts = con.execute("SELECT status, counts FROM runs WHERE job = 'nightly'").fetchall()[0]
    assert status == "ok" and json.loads(counts)["ingest"]["loaded"] == 120
    assert con.execute("SELECT count(*) FROM latest_scores").fetchall() == [(6,)]


def test_no_claims_skips_the_claims_stage_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    args = ["nightly", "--db", str(db), "--corpus", str(corpus_dir(tmp_path)), "--no-claims", *ARGS]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    jobs = [j for (j,) in con.execute("SELECT job FROM runs ORDER BY run_id").fetchall()]
    assert "claims" not in jobs and "score" in jobs  # no claims run recorded; the others ran
    counts = json.loads(con.execute("SELECT counts FROM runs WHERE job = 'nightly'").fetchall()[0][0])
    assert counts["claims"]["skipped"] is True
    assert con.execute("SELECT count(*) FROM claims").fetchall() == [(0,)]


def test_second_nightly_exits_at_once_with_its_own_code(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    code = (
        "import sys; from pathlib import Path; from jobs.store.lock import RunLock; "
        f"l = RunLock(Path({str(db)!r})); l.acquire(); print('held', flush=True); sys.stdin.read()"
    )  # holds until the test is done, however long that takes
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
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
        cli,
        ["nightly", "--db", "/dev/null/sub/n.duckdb", "--corpus", str(corpus_dir(tmp_path)), *ARGS],
        catch_exceptions=False,
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


def test_other_db_without_corpus_ingests_nothing_and_ends_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "study.duckdb"  # not the default database: the embedded sample must NOT be loaded into it
    result = CliRunner().invoke(cli, ["nightly", "--db", str(db), *ARGS], catch_exceptions=False)
    assert "no --corpus: nothing new is ingested into" in result.stderr
    # no articles: the fit cannot train (fewer than 3 labelled outlets): one line and exit 2, never a traceback
    assert result.exit_code == EXIT_USAGE
    assert "cannot train" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("presstrust nightly: failed, nothing new published:")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchall() == [(0,)]
    assert con.execute("SELECT status FROM runs WHERE job = 'nightly'").fetchall() == [("failed",)]


def test_few_labelled_outlets_warn_once_and_the_warning_is_in_runs(tmp_path: Path) -> None:
    from jobs.stages.fit import MIN_LABELLED_OUTLETS

    db = tmp_path / "n.duckdb"
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(db), "--corpus", str(corpus_dir(tmp_path)), *ARGS], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    warnings = [line.split(" ", 1)[1] for line in result.stderr.splitlines() if " WARNING " in line]
    assert any("only 6 labelled outlets" in w and f"fewer than {MIN_LABELLED_OUTLETS}" in w for w in warnings)
    # the label file is read by fit and by score: its warnings (and every other) appear once per run
    assert any("labels " in w for w in warnings) and len(warnings) == len(set(warnings)), warnings
    notes = [line.split(" ", 1)[1] for line in result.stderr.splitlines() if " INFO labels " in line]
    assert notes and len(notes) == len(set(notes)), notes
    con = duckdb.connect(str(db), read_only=True)
    fit_counts = json.loads(con.execute("SELECT counts FROM runs WHERE job = 'fit'").fetchall()[0][0])
    assert "only 6 labelled outlets" in fit_counts["warnings"][0]
    nightly_counts = json.loads(con.execute("SELECT counts FROM runs WHERE job = 'nightly'").fetchall()[0][0])
    assert nightly_counts["fit"]["warnings"] == fit_counts["warnings"]


def test_a_label_file_left_in_the_corpus_exits_1_and_is_named(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = corpus_dir(tmp_path)
    (folder / "my_labels.csv").write_text("domain,pc1\nnytimes.com,0.9\nfoxnews.com,0.5\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(db), "--corpus", str(folder), *ARGS], catch_exceptions=False
    )
    assert result.exit_code == EXIT_PARTIAL  # still published from the article file, but exit 1
    assert f"{folder / 'my_labels.csv'}: all 2 records rejected" in result.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM ingest_rejects").fetchall() == [(2,)]  # kept, with the reason
    assert con.execute("SELECT status FROM runs WHERE job = 'nightly'").fetchall() == [("partial",)]
    assert con.execute("SELECT count(*) FROM latest_scores").fetchall() == [(6,)]


def test_the_cron_line_of_the_docs_logs_one_summary_line(tmp_path: Path) -> None:
    """docs/operations.md's cron line (--quiet --log-format json) writes exactly one JSON line on success."""
    import re
    import shlex

    from jobs.infra.paths import PROJECT_ROOT

    doc = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    line = re.search(r"^15 3 \* \* \*.*$", doc, flags=re.M)
    assert line is not None
    words = shlex.split(line.group(0).split("presstrust nightly", 1)[1].split(">>", 1)[0])
    db, folder = tmp_path / "cron.duckdb", corpus_dir(tmp_path)
    swap = {"--db": str(db), "--corpus": str(folder)}
    args = [swap.get(prev, w) for prev, w in zip(["", *words[:-1]], words, strict=True)]
    assert "--quiet" in args and args[args.index("--log-format") + 1] == "json"
    result = CliRunner().invoke(cli, ["nightly", *args, *ARGS], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout == ""
    [summary] = [json.loads(line) for line in result.stderr.splitlines()]
    assert summary["event"] == "summary" and summary["level"] == "info" and summary["exit_code"] == 0
    assert set(summary["stages"]) == {"ingest", "featurize", "corroborate", "claims", "aggregate", "fit", "score"}
    assert summary["stages"]["ingest"]["loaded"] == 120 and summary["stages"]["fit"]["seconds"] >= 0
