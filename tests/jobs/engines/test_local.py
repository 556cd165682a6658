"""The local engine's featurize (and claims extraction) over its worker pool: the same tables as one batch in one
process, for any number of workers, and a worker killed mid-featurize fails the nightly cleanly."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from features.claims import CLAIMS_SCHEMA, article_claims, cited_outlets
from features.lexicons import Lexicons, load_lexicons
from features.pipeline import article_features
from jobs.cli import cli
from jobs.engines import local
from jobs.engines.base import FeatureBatch
from jobs.engines.local import LocalEngine, text_tasks
from jobs.infra import paths
from jobs.infra.exits import EXIT_FAILED
from jobs.readers.outlets import citation_names
from jobs.stages.featurize import featurize
from jobs.store.connection import connect
from jobs.store.snapshot import snapshot_path
from jobs.store.texts import TextStoreError, read_texts

from ..conftest import PUBLISHED_ARGS, copy_published, labelled_corpus

FEATURIZED = [
    "SELECT * EXCLUDE (run_id, computed_at) FROM article_features",
    "SELECT * EXCLUDE (run_id) FROM article_evidence",
    "SELECT * EXCLUDE (run_id) FROM boilerplate_removed",
]


class OneBatchEngine(LocalEngine):
    """The local engine as it was before the pool: every text read through the connection, one pipeline call per
    batch of article ids, in this process."""

    def featurize_batches(
        self,
        con: duckdb.DuckDBPyConnection,
        todo: pl.DataFrame,
        *,
        boilerplate: pl.DataFrame,
        lexicons: Lexicons,
        batch_size: int,
    ) -> Iterator[FeatureBatch]:
        for first in range(0, todo.height, batch_size):
            ids = todo.slice(first, batch_size)
            articles = read_texts(
                con, ids.get_column("article_id"), columns=("outlet", "title", "authors", "language")
            ).select("article_id", "outlet", "title", "text", "authors", "language")
            frames = article_features(articles.lazy(), boilerplate=boilerplate.lazy(), lexicons=lexicons)
            yield FeatureBatch(ids, *frames.collect())


def _table(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    frame = con.sql(query).pl()
    return frame.sort(frame.columns)


@pytest.fixture(scope="module")
def featurized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, duckdb.DuckDBPyConnection]:
    """The embedded sample ingested, then featurized by the old one-batch engine, by 1 worker and by 2 workers."""
    root = tmp_path_factory.mktemp("local-workers")
    cons = {}
    for name, engine in (("before", OneBatchEngine(1)), ("workers1", LocalEngine(1)), ("workers2", LocalEngine(2))):
        db = root / f"{name}.duckdb"
        result = CliRunner().invoke(cli, ["ingest", str(paths.SAMPLE_DIR), "--db", str(db), "-q"])
        assert result.exit_code == 0, result.output
        with connect(db) as con:
            featurize(con, engine=engine)
        cons[name] = duckdb.connect(str(db), read_only=True)
    return cons


@pytest.mark.parametrize("query", FEATURIZED)
@pytest.mark.parametrize("workers", ["workers1", "workers2"])
def test_any_number_of_workers_gives_the_one_batch_tables(
    featurized: dict[str, duckdb.DuckDBPyConnection], query: str, workers: str
) -> None:
    before = _table(featurized["before"], query)
    assert before.height > 2_000
    assert_frame_equal(_table(featurized[workers], query), before, check_exact=True)


def test_the_runs_record_the_workers(featurized: dict[str, duckdb.DuckDBPyConnection]) -> None:
    for name, workers in (("workers1", 1), ("workers2", 2)):
        (parameters,) = featurized[name].sql("SELECT parameters FROM runs WHERE job = 'featurize'").fetchall()[0]
        assert json.loads(parameters)["workers"] == workers


def test_tasks_carry_the_articles_of_one_text_file(featurized: dict[str, duckdb.DuckDBPyConnection]) -> None:
    con = featurized["before"]
    todo = con.sql("SELECT article_id, outlet FROM article_meta ORDER BY article_id").pl()
    size = local.task_size(todo.height, 2)
    tasks = list(text_tasks(con, todo, size=size))
    assert size == local.MIN_TASK_ARTICLES and len(tasks) >= 5  # the sample is split so that both workers have work
    every = pl.concat([t.articles for t in tasks])
    expected = read_texts(con, todo.get_column("article_id"), columns=("outlet", "title", "authors", "language"))
    assert_frame_equal(every.sort("article_id"), expected.select(every.columns), check_exact=True)
    for task in tasks:
        assert 0 < task.articles.height <= size
        stored = con.sql(
            "SELECT DISTINCT f.path FROM article_meta m JOIN text_files f USING (text_file_id) "
            "WHERE list_contains($ids, m.article_id)",
            params={"ids": task.articles.get_column("article_id").to_list()},
        ).fetchall()
        assert [Path(p).name for (p,) in stored] == [task.file]  # one text file per task, the one holding them


def test_a_missing_text_is_an_error(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    labelled_corpus(tmp_path / "corpus", per_outlet=3)
    assert CliRunner().invoke(cli, ["ingest", str(tmp_path / "corpus"), "--db", str(db), "-q"]).exit_code == 0
    (text_file,) = (tmp_path / "m.texts").iterdir()
    pl.read_parquet(text_file).slice(1).write_parquet(text_file)  # one text removed behind presstrust's back
    with connect(db) as con:
        todo = con.sql("SELECT article_id, outlet FROM article_meta").pl()
        with pytest.raises(TextStoreError, match="1 article"):
            list(text_tasks(con, todo, size=5))


def test_default_workers_are_the_available_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "available_cores", lambda: 3)
    assert LocalEngine().workers == 3
    assert LocalEngine(1).workers == 1
    with pytest.raises(ValueError, match="at least 1"):
        LocalEngine(0)


def test_workers_option_and_environment_reach_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "w.duckdb"
    labelled_corpus(tmp_path / "corpus", per_outlet=3)
    assert CliRunner().invoke(cli, ["ingest", str(tmp_path / "corpus"), "--db", str(db), "-q"]).exit_code == 0
    monkeypatch.setenv("PRESSTRUST_WORKERS", "2")
    assert CliRunner().invoke(cli, ["featurize", "--db", str(db), "-q"]).exit_code == 0
    assert CliRunner().invoke(cli, ["featurize", "--db", str(db), "-q", "--force", "--workers", "1"]).exit_code == 0
    bad = CliRunner().invoke(cli, ["featurize", "--db", str(db), "--workers", "0"])
    assert bad.exit_code == 2
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql("SELECT parameters FROM runs WHERE job = 'featurize' ORDER BY run_id").fetchall()
    assert [json.loads(p)["workers"] for (p,) in rows] == [2, 1]


def _kill_a_worker(done: threading.Event, killed: list[int], marks: Path) -> None:
    """Wait until a pool worker stands in the failpoint (it marks its arrival in `marks`), then SIGKILL it.

    Only a worker that has reached the failpoint: one killed while it starts (before it has read what the parent
    sends it) leaves the parent blocked in CPython's spawn, which keeps the pipe's read end open while it writes."""
    deadline = time.monotonic() + 300
    while not done.is_set() and time.monotonic() < deadline:
        arrived = sorted(marks.glob("featurize.worker.*"))
        if arrived:
            pid = int(arrived[0].suffix[1:])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.2)


def test_a_worker_killed_mid_featurize_fails_the_nightly_cleanly(
    published_once: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, corpus = copy_published(published_once, tmp_path / "kill")
    labelled_corpus(tmp_path / "more", per_outlet=26)
    (tmp_path / "more" / "labelled.jsonl").rename(corpus / "more.jsonl")  # 37 new articles
    with duckdb.connect(str(snapshot_path(db)), read_only=True) as published:
        before = published.sql("SELECT * FROM latest_scores ORDER BY outlet").pl()
    with duckdb.connect(str(db), read_only=True) as con:
        (last_run,) = con.sql("SELECT max(run_id) FROM runs").fetchall()[0]
    monkeypatch.setattr(local, "MIN_TASK_ARTICLES", 1)  # several tasks, so that the pool runs
    monkeypatch.setattr(local, "TASK_ARTICLES", 5)
    args = ["nightly", "--db", str(db), "--corpus", str(corpus), *PUBLISHED_ARGS, "--quiet", "--workers", "2"]

    monkeypatch.setenv("PRESSTRUST_FAILPOINT", "featurize.worker")
    monkeypatch.setenv("PRESSTRUST_FAILPOINT_SECONDS", "120")
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("PRESSTRUST_FAILPOINT_MARK", str(marks))
    done, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_a_worker, args=(done, killed, marks))
    killer.start()
    started = time.monotonic()
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        done.set()
        killer.join()
    assert killed, "no worker process was seen"
    assert result.exit_code == EXIT_FAILED, result.output
    assert time.monotonic() - started < 100  # the other worker was stopped, not waited for
    lines = [line for line in result.output.splitlines() if "presstrust nightly" in line]
    assert len(lines) == 1 and "worker process ended abruptly" in lines[0], result.output
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]
    with duckdb.connect(str(db), read_only=True) as con:
        status = dict(
            con.sql("SELECT job, status FROM runs WHERE run_id > ? ORDER BY run_id", params=[last_run]).fetchall()
        )
        (computed,) = con.sql("SELECT count(*) FROM article_features").fetchall()[0]
        (ingested,) = con.sql("SELECT count(*) FROM article_meta").fetchall()[0]
    assert status["featurize"] == "failed" and status["nightly"] == "failed" and "score" not in status
    assert computed < ingested  # the new articles' features were not written
    with duckdb.connect(str(snapshot_path(db)), read_only=True) as published:
        assert_frame_equal(published.sql("SELECT * FROM latest_scores ORDER BY outlet").pl(), before)

    monkeypatch.delenv("PRESSTRUST_FAILPOINT")
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    clean_db, clean_corpus = copy_published(published_once, tmp_path / "clean")
    (clean_corpus / "more.jsonl").write_bytes((corpus / "more.jsonl").read_bytes())
    clean = CliRunner().invoke(cli, [*args[:2], str(clean_db), "--corpus", str(clean_corpus), *args[5:]])
    assert clean.exit_code == 0, clean.output
    with duckdb.connect(str(db), read_only=True) as con, duckdb.connect(str(clean_db), read_only=True) as other:
        for query in FEATURIZED:
            assert_frame_equal(_table(con, query), _table(other, query), check_exact=True)


def broken_task(shared: object, task: object) -> object:
    """A featurize task that fails in the worker (imported there by name, like the real one)."""
    raise ValueError("the pipeline broke\nits traceback")


def test_a_failing_task_is_one_line_and_a_failed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "f.duckdb"
    labelled_corpus(tmp_path / "corpus", per_outlet=10)
    assert CliRunner().invoke(cli, ["ingest", str(tmp_path / "corpus"), "--db", str(db), "-q"]).exit_code == 0
    (text_file,) = (tmp_path / "f.texts").iterdir()
    monkeypatch.setattr(local, "featurize_task", broken_task)
    monkeypatch.setattr(local, "MIN_TASK_ARTICLES", 1)
    monkeypatch.setattr(local, "TASK_ARTICLES", 10)
    result = CliRunner().invoke(cli, ["featurize", "--db", str(db), "-q", "--workers", "2"])
    assert result.exit_code == EXIT_FAILED
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0] == (
        f"presstrust featurize: task 1 (8 articles of text file {text_file.name}) failed in a worker: "
        "ValueError: the pipeline broke"
    )
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT status FROM runs WHERE job = 'featurize'").fetchall() == [("failed",)]
        assert con.sql("SELECT count(*) FROM article_features").fetchall() == [(0,)]


def test_claims_over_the_pool_are_the_claims_of_one_call(featurized: dict[str, duckdb.DuckDBPyConnection]) -> None:
    con = featurized["workers1"]
    todo = con.sql("SELECT article_id, outlet FROM article_meta ORDER BY article_id").pl()
    boilerplate = pl.DataFrame(schema={"outlet": pl.String, "line_norm": pl.String})
    lexicons, cited = load_lexicons(), cited_outlets(citation_names())
    texts = read_texts(con, todo.get_column("article_id"), columns=("outlet", "title"))
    one = article_claims(texts.lazy(), boilerplate=boilerplate.lazy(), lexicons=lexicons, cited=cited).collect()
    assert one.height > 1_000
    batches = list(
        LocalEngine(2).claim_batches(con, todo, boilerplate=boilerplate, lexicons=lexicons, cited=cited, batch_size=40)
    )
    assert len(batches) > 2 and all(b.get_column("article_id").n_unique() <= 40 for b in batches)
    pooled = pl.concat(batches)
    assert pooled.columns == list(CLAIMS_SCHEMA)
    assert_frame_equal(pooled.sort(pooled.columns), one.sort(one.columns), check_exact=True)
