"""`--engine spark` (jobs/spark_engine.py) against the local engine, on the embedded sample, in Spark local mode."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from features.corroboration import assign_stories, fit_text_model
from jobs import spark_engine
from jobs.cli import cli
from jobs.nightly import EXIT_FAILED
from jobs.snapshot import snapshot_path

from .conftest import labelled_corpus

_REASON = spark_engine.spark_available()
needs_spark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

SAMPLE_ARGS = ["--as-of", "2020-12-31", "--window-days", "3650", "--quiet"]


def nightly(db: Path, *args: str) -> int:
    result = CliRunner().invoke(cli, ["nightly", "--db", str(db), *args], catch_exceptions=False)
    return result.exit_code


@pytest.fixture(scope="module")
def sample_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, duckdb.DuckDBPyConnection]:
    """The embedded sample through the whole nightly, once per engine (spark: local[2])."""
    root = tmp_path_factory.mktemp("engines")
    cons = {}
    for engine in ("local", "spark"):
        db = root / f"{engine}.duckdb"
        assert nightly(db, *SAMPLE_ARGS, "--engine", engine, "--spark-master", "local[2]") == 0
        cons[engine] = duckdb.connect(str(db), read_only=True)
    return cons


def table(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    frame = con.sql(query).pl()
    return frame.sort(frame.columns)


@pytest.mark.spark
@needs_spark
@pytest.mark.parametrize(
    "query",
    [
        "SELECT * EXCLUDE (run_id, computed_at) FROM article_features",
        "SELECT * EXCLUDE (run_id) FROM article_evidence",
        "SELECT * EXCLUDE (run_id) FROM boilerplate_removed",
    ],
)
def test_spark_features_are_the_local_ones(sample_dbs: dict[str, duckdb.DuckDBPyConnection], query: str) -> None:
    local, spark = (table(sample_dbs[e], query) for e in ("local", "spark"))
    assert local.height > 1000
    assert_frame_equal(spark, local, check_exact=True)


@pytest.mark.spark
@needs_spark
def test_spark_publishes_the_local_scores(sample_dbs: dict[str, duckdb.DuckDBPyConnection]) -> None:
    query = "SELECT outlet, status, grade, score, score_low, score_high FROM latest_scores"
    local, spark = (table(sample_dbs[e], query) for e in ("local", "spark"))
    assert local.height > 50 and local["score"].drop_nulls().len() > 50
    # documented rounding (docs/scale-out.md): 1e-9 on a 0-100 score; measured: identical
    assert_frame_equal(spark, local, check_exact=False, rel_tol=0, abs_tol=1e-9)


@pytest.mark.spark
@needs_spark
def test_spark_stories_are_one_clustering_of_the_whole_sample(sample_dbs: dict[str, duckdb.DuckDBPyConnection]) -> None:
    """Buckets, context and stitching give the stories of one assign_stories call over every article with the
    same text model (the local engine fits one model per window instead: its stories differ, BENCHMARKS.md)."""
    con = sample_dbs["spark"]
    articles = con.sql("SELECT article_id, outlet, published_at, source_file AS corpus, title, text FROM articles").pl()
    model = fit_text_model(articles.drop("corpus"))
    expected = assign_stories(articles, text_model=model).drop("published_at", "undated")
    got = con.sql(f"SELECT {', '.join(expected.columns)} FROM story_articles ORDER BY article_id").pl()  # noqa: S608
    assert expected["story_id"].n_unique() < expected.height  # some stories join several articles
    assert_frame_equal(got, expected, check_dtypes=False)
    stories = con.sql("SELECT count(*) AS n, sum(n_articles) AS a FROM stories").fetchall()
    assert stories == [(expected["story_id"].n_unique(), expected.height)]


@pytest.mark.spark
@needs_spark
def test_failed_spark_job_publishes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    labelled_corpus(corpus, per_outlet=20)
    db = tmp_path / "n.duckdb"
    args = ["--corpus", str(corpus), "--as-of", "2020-06-30", "--window-days", "90", "--quiet", "--engine", "spark"]
    assert nightly(db, *args) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT job, parameters FROM runs WHERE job IN ('featurize', 'corroborate')").fetchall()
    assert {job: json.loads(parameters)["engine"] for job, parameters in rows} == {
        "featurize": "spark",
        "corroborate": "spark",
    }
    published = duckdb.connect(str(snapshot_path(db)), read_only=True)
    before = published.sql("SELECT * FROM latest_scores ORDER BY outlet").pl()
    published.close()

    (corpus / "labelled.jsonl").rename(corpus / "old.jsonl")
    labelled_corpus(corpus, per_outlet=25)  # 30 new articles, so featurize has work for Spark

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("executor lost")

    monkeypatch.setattr(spark_engine, "article_features", broken)  # shipped to the executors with the task
    assert nightly(db, *args) == EXIT_FAILED

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM article_meta").fetchall() == [(150,)]  # ingested, then featurize failed
    assert con.execute("SELECT count(*) FROM article_features").fetchall() == [(120,)]
    status = dict(con.execute("SELECT job, status FROM runs WHERE run_id > 7 ORDER BY run_id").fetchall())
    assert status["featurize"] == "failed" and status["nightly"] == "failed" and "score" not in status
    con.close()
    published = duckdb.connect(str(snapshot_path(db)), read_only=True)
    assert_frame_equal(published.sql("SELECT * FROM latest_scores ORDER BY outlet").pl(), before)


def test_engine_spark_without_spark_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_engine, "spark_available", lambda: "no Java runtime")
    result = CliRunner().invoke(cli, ["featurize", "--db", str(tmp_path / "x.duckdb"), "--engine", "spark"])
    assert result.exit_code == 2
    assert "Spark cannot run here: no Java runtime" in result.output
    assert not (tmp_path / "x.duckdb").exists()
