"""Faults an operator meets (issue: faults and hostile input), each with a real process where that is the point.

Signals recorded as interrupted with their own exit codes; a full disk and a damaged database reported as such,
the input not blamed; a database from a newer presstrust refused; the DuckDB single-writer lock held by another
process reported as locked (exit 3).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.infra.exits import EXIT_FAILED, EXIT_LOCKED

from .conftest import article, copy_published, labelled_corpus, write_jsonl
from .test_faults import ARGS, LATEST, nightly

pytestmark = pytest.mark.slow  # real presstrust processes, a nightly each


def presstrust(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=900
    )


@pytest.fixture
def published(published_once: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path, list[tuple[object, ...]]]:
    """A copy of the once-published database, its corpus with one new article, and the scores it published."""
    db, corpus = copy_published(published_once, tmp_path / "f")
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute(LATEST).fetchall()
    return db, corpus, before


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_signal_is_recorded_as_interrupted_with_its_own_exit_code(
    published: tuple[Path, Path, list[tuple[object, ...]]], sig: signal.Signals, code: int
) -> None:
    db, corpus, before = published
    proc = nightly(db, corpus, PRESSTRUST_FAILPOINT="featurize.before_commit")
    assert proc.stderr is not None
    for line in proc.stderr:
        if "failpoint featurize.before_commit reached" in line:
            proc.send_signal(sig)
            break
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == code, err
    assert f"interrupted by {sig.name}" in err and "Traceback" not in err
    con = duckdb.connect(str(db), read_only=True)
    last = con.execute(
        "SELECT job, status, error FROM runs WHERE run_id >= (SELECT max(run_id) FROM runs WHERE job = 'nightly')"
    ).fetchall()
    assert {(job, status) for job, status, _ in last} == {
        ("nightly", "interrupted"),
        ("ingest", "ok"),
        ("featurize", "interrupted"),
    }
    assert con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchall() == [(0,)]
    assert con.execute(LATEST).fetchall() == before  # nothing new published


def test_newer_database_is_refused_and_listed(published: tuple[Path, Path, list[tuple[object, ...]]]) -> None:
    db, corpus, before = published
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO schema_migrations VALUES (9999, 'from_the_future', 'x', now()::TIMESTAMP)")
    result = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS)
    assert result.returncode == EXIT_FAILED, result.stderr
    assert "newer presstrust" in result.stderr and "9999" in result.stderr and "Traceback" not in result.stderr
    listed = presstrust("db", "migrate", "--list", "--db", str(db))
    assert "9999_from_the_future" in listed.stdout and "unknown to this code" in listed.stdout
    scores = presstrust("scores", "--live", "--db", str(db))  # the working database (its snapshot is older)
    assert scores.returncode == EXIT_FAILED and "newer presstrust" in scores.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(LATEST).fetchall() == before
    assert con.execute("SELECT count(*) FROM publications").fetchall() == [(1,)]


def damage(db: Path) -> None:
    """Overwrite 64 bytes inside every third 256 KiB block after the header: checksums no longer match."""
    size = db.stat().st_size
    with db.open("r+b") as fh:
        for offset in range(3 * 262_144, size, 3 * 262_144):
            fh.seek(offset + 4096)
            fh.write(bytes(range(64)))


def test_damaged_database_is_reported_as_corruption_not_blamed_on_the_input(
    published: tuple[Path, Path, list[tuple[object, ...]]],
) -> None:
    db, corpus, _ = published
    damage(db)
    ingest = presstrust("ingest", str(corpus / "new.jsonl"), "--db", str(db))
    assert ingest.returncode == EXIT_FAILED, ingest.stderr
    assert "Corrupt database file" in ingest.stderr and "restore it from a backup" in ingest.stderr
    assert "Traceback" not in ingest.stderr and "Current transaction is aborted" not in ingest.stderr
    night = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet")
    assert night.returncode == EXIT_FAILED and "Corrupt database file" in night.stderr


def test_truncated_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    labelled_corpus(tmp_path / "corpus")
    assert presstrust("ingest", str(tmp_path / "corpus"), "--db", str(db), "--quiet").returncode == 0
    db.write_bytes(db.read_bytes()[:100_000])
    for command in (["scores", "--live"], ["ingest", str(tmp_path / "corpus")], ["runs", "--live"]):
        result = presstrust(*command, "--db", str(db))
        assert result.returncode == EXIT_FAILED, (command, result.stderr)
        assert "cannot open database" in result.stderr and "Traceback" not in result.stderr, command


def test_ingest_against_a_database_another_process_writes_exits_locked(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    corpus = labelled_corpus(tmp_path / "corpus")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(db)!r})
                print("holding", flush=True)
                sys.stdin.read()  # until the test is done: however long a loaded machine takes
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        result = presstrust("ingest", str(corpus), "--db", str(db))
        assert result.returncode == EXIT_LOCKED, result.stderr
        assert "in use by another process" in result.stderr and "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.wait()


def _tmpfs(path: Path, size: str) -> bool:
    if shutil.which("mount") is None or os.geteuid() != 0:
        return False
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]).returncode == 0


def test_full_disk_names_its_cause(tmp_path: Path) -> None:
    disk = tmp_path / "small-disk"
    if not _tmpfs(disk, "1m"):  # texts live in Parquet files since migration 0009: fills up during a stage
        pytest.skip("needs root and tmpfs to make a small disk (mount -t tmpfs)")
    try:
        db = disk / "p.duckdb"
        corpus = labelled_corpus(tmp_path / "corpus", per_outlet=200)
        result = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet")
        assert result.returncode == EXIT_FAILED, result.stderr
        assert "No space left on device" in result.stderr and "the disk is full" in result.stderr
        assert "cannot rollback" not in result.stderr.split("(the rollback")[0]  # the root cause comes first
        with duckdb.connect(str(db), read_only=True) as con:
            errors = [e for (e,) in con.execute("SELECT error FROM runs WHERE status = 'failed'").fetchall()]
        assert errors and all(e.split(" (")[0].endswith("No space left on device") for e in errors), errors
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_csv_export_neutralises_formulas(tmp_path: Path) -> None:
    import csv

    db = tmp_path / "x.duckdb"
    # (ingest strips leading tabs and line breaks from titles; csv_safe covers them in other columns too)
    hostile = ['=HYPERLINK("http://example.invalid","x")', "+1+1", "-2+3", "@SUM(A1)", "plain", "a=b"]
    write_jsonl(
        tmp_path / "c.jsonl",
        [article(i, title=title, url=f"https://www.example-news.com/{i}") for i, title in enumerate(hostile)],
    )
    assert presstrust("ingest", str(tmp_path / "c.jsonl"), "--db", str(db), "--quiet").returncode == 0
    result = presstrust("export", "--live", "--db", str(db), "--out", str(tmp_path / "out"), "--format", "csv")
    assert result.returncode == 0, result.stderr
    with (tmp_path / "out" / "articles.csv").open(encoding="utf-8", newline="") as fh:
        titles = sorted(row["title"] for row in csv.DictReader(fh))
    assert titles == sorted(["'" + t for t in hostile[:4]] + ["plain", "a=b"])


def test_transaction_keeps_the_root_cause_when_rollback_fails() -> None:
    from jobs.store.transactions import transaction

    class Broken:
        def begin(self) -> None:
            pass

        def rollback(self) -> None:
            raise duckdb.TransactionException("cannot rollback - no transaction is active")

    with pytest.raises(OSError, match="No space left on device") as info, transaction(Broken()):  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")
    assert "cannot rollback" in " ".join(info.value.__notes__)


def test_outlet_names_are_validated_at_ingest_and_rejects_kept(tmp_path: Path) -> None:
    db = tmp_path / "o.duckdb"
    bad = ["a" * 5000 + ".com", "evil\x1b[2J.com", "no-dot", "under_score.example.com"]
    records = [article(i, outlet=o, url=None) for i, o in enumerate(bad)] + [article(9)]
    write_jsonl(tmp_path / "o.jsonl", records)
    result = presstrust("ingest", str(tmp_path / "o.jsonl"), "--db", str(db))
    assert "read 5 = loaded 2 + updated 0 + duplicates 0 + rejected 3" in result.stdout, result.stdout + result.stderr
    con = duckdb.connect(str(db), read_only=True)
    reasons = [r for (r,) in con.execute("SELECT reason FROM ingest_rejects ORDER BY record_number").fetchall()]
    assert len(reasons) == 3 and all("invalid_outlet:" in r or "unknown_outlet:" in r for r in reasons), reasons
    assert max(len(o) for (o,) in con.execute("SELECT outlet FROM articles").fetchall()) < 100


def test_usage_errors_exit_2(published: tuple[Path, Path, list[tuple[object, ...]]], tmp_path: Path) -> None:
    db, corpus, _ = published
    window = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), "--window-days", "999999999")
    assert window.returncode == 2 and "--window-days" in window.stderr
    bad_labels = tmp_path / "labels.csv"
    bad_labels.write_text("site,rating\nexample.com,x\n", encoding="utf-8")
    fit = presstrust("fit", "--db", str(db), "--labels", str(bad_labels), *ARGS)
    assert fit.returncode == 2 and "expected a 'domain' column" in fit.stderr
    report = tmp_path / "report.html"
    report.write_text("keep me", encoding="utf-8")
    again = presstrust("report", "--db", str(db), "--out", str(report))
    assert again.returncode == 2 and "--force" in again.stderr and report.read_text() == "keep me"


def test_json_logs_are_json_even_on_failure(published: tuple[Path, Path, list[tuple[object, ...]]]) -> None:
    import json

    db, corpus, _ = published
    damage(db)
    result = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet", "--log-format", "json")
    assert result.returncode == EXIT_FAILED
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line parses
    assert any("traceback" in line for line in lines) and any(
        "Corrupt database file" in line["message"] for line in lines
    )


def test_terminal_escapes_in_articles_never_reach_the_terminal(
    published: tuple[Path, Path, list[tuple[object, ...]]], tmp_path: Path
) -> None:
    db, corpus, _ = published
    hostile = article(
        77,
        url="https://www.nytimes.com/2020/06/30/escape",
        title="Clear\x1b[2J\x1b]0;pwned\x07 screen",
        text="Sources said \x1b]8;;http://evil.invalid\x1b\\click\x1b]8;;\x1b\\ it could happen.\x9b31m",
        published_at="2020-06-30T08:00:00Z",
    )
    write_jsonl(corpus / "hostile.jsonl", [hostile])
    assert presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet").returncode == 0
    for command in (
        ["explain-article", "a77", "--no-color"],
        ["explain-article", "a77", "--color"],
        ["explain", "nytimes.com"],
        ["scores"],
    ):
        result = presstrust(*command, "--db", str(db))
        assert result.returncode == 0, (command, result.stderr)
        out = result.stdout
        if "--color" in command:  # rich's own styling codes are ESC [ ... m; nothing else may start with ESC
            out = re.sub("\x1b\\[[0-9;]*m", "", out)
        assert not any(c in out for c in "\x1b\x07\x9b"), command
    shown = presstrust("explain-article", "a77", "--no-color", "--db", str(db)).stdout
    assert "Clear\u241b[2J" in shown


# --- random kill points and hostile records: the invariants hold wherever the nightly dies -------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
_HOSTILE = st.fixed_dictionaries(
    {
        "id": st.one_of(st.none(), st.integers(), _TEXT),
        "url": st.one_of(st.none(), _TEXT, st.just("https://www.nytimes.com/2020/06/15/x")),
        "outlet": st.one_of(st.none(), _TEXT, st.sampled_from(["nytimes.com", "a" * 400 + ".com", "x\x1b.com"])),
        "title": st.one_of(st.none(), _TEXT),
        "text": st.one_of(st.none(), _TEXT, st.just("Officials said it could rain. " * 50)),
        "published_at": st.one_of(st.none(), _TEXT, st.just("2020-06-20T10:00:00Z"), st.integers()),
    }
)


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(delay=st.floats(min_value=0.0, max_value=9.0), hostile=st.lists(_HOSTILE, min_size=1, max_size=6))
def test_random_kill_keeps_the_invariants(
    published_once: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, delay: float, hostile: list[dict]
) -> None:
    import time

    work = tmp_path_factory.mktemp("kill")
    db, corpus = work / "f.duckdb", work / "corpus"
    shutil.copy(published_once[0], db)
    shutil.copytree(published_once[1], corpus)
    write_jsonl(corpus / "hostile.jsonl", hostile)
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute(LATEST).fetchall()
    proc = nightly(db, corpus)
    time.sleep(delay)
    proc.kill()
    proc.communicate()

    def check(con: duckdb.DuckDBPyConnection) -> int:
        publications = con.execute("SELECT count(*) FROM publications").fetchall()[0][0]
        latest = con.execute(LATEST).fetchall()
        if publications == 1:
            assert latest == before  # unchanged until a publish commits
        else:  # a complete publication: every outlet of its run, none of another
            run_ids = {row[-1] for row in latest}
            assert len(run_ids) == 1 and len(latest) == len(before)
        for read, loaded, updated, duplicates, rejected in con.execute(
            "SELECT records_read, loaded, updated, duplicates, rejected FROM ingest_files WHERE status = 'loaded'"
        ).fetchall():
            assert read == loaded + updated + duplicates + rejected
        per_path = con.execute(
            "SELECT path, count(*) FROM ingest_files WHERE status = 'loaded' GROUP BY path HAVING count(*) > 1"
        ).fetchall()
        assert per_path == []  # no file loaded twice
        articles, loaded_sum = con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT sum(loaded) FROM ingest_files WHERE status = 'loaded')"
        ).fetchall()[0]
        assert articles == loaded_sum  # every article came from exactly one committed file
        return int(publications)

    with duckdb.connect(str(db), read_only=True) as con:
        check(con)
    rerun = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet")
    assert rerun.returncode in (0, 1), rerun.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert check(con) >= 2
        rejects = con.execute("SELECT count(*) FROM ingest_rejects WHERE reason IS NULL OR reason = ''").fetchall()
        assert rejects == [(0,)]  # every reject says why


def test_a_window_that_would_shrink_the_publication_is_refused(
    published: tuple[Path, Path, list[tuple[object, ...]]],
) -> None:
    db, corpus, before = published
    future = ["--as-of", "2099-01-01", "--window-days", "90"]
    refused = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *future, "--quiet")
    assert refused.returncode == EXIT_FAILED, refused.stderr
    assert "refusing to publish" in refused.stderr and "--allow-shrink" in refused.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(LATEST).fetchall() == before
        error = con.execute("SELECT error FROM runs WHERE job = 'score' ORDER BY run_id DESC LIMIT 1").fetchall()
        assert "refusing to publish" in error[0][0]
    allowed = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *future, "--allow-shrink", "--quiet")
    # past the guard, an empty window still has nothing to publish: a clear error, not a traceback or an empty table
    assert allowed.returncode == EXIT_FAILED and "nothing to score" in allowed.stderr, allowed.stderr
    assert "Traceback" not in allowed.stderr.split("presstrust nightly:")[-1]
