"""`--engine spark` (jobs/engines/spark/) against the local engine, on the embedded sample, in Spark local mode."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from features.corroboration import CorroborationConfig
from jobs.cli import cli
from jobs.engines.local import stream_all
from jobs.engines.spark import corroborate as spark_corroborate
from jobs.engines.spark import featurize as spark_featurize
from jobs.engines.spark import ingest as spark_ingest
from jobs.engines.spark import session as spark_session
from jobs.infra import paths
from jobs.infra.exits import EXIT_FAILED
from jobs.store.snapshot import snapshot_path
from jobs.store.texts import TextStoreError, stream_file_texts

from ..conftest import labelled_corpus

_REASON = spark_session.spark_available()
needs_spark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

SAMPLE_ARGS = ["--corpus", str(paths.SAMPLE_DIR), "--as-of", "2020-12-31", "--window-days", "3650", "--quiet"]


def nightly(db: Path, *args: str) -> int:
    result = CliRunner().invoke(cli, ["nightly", "--db", str(db), *args], catch_exceptions=False)
    return result.exit_code


@pytest.fixture(scope="module")
def sample_dbs(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, duckdb.DuckDBPyConnection]:
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


# every table a nightly writes from the articles, without the columns that name a run or a time of day
PUBLISHED = [
    "SELECT * EXCLUDE (run_id, computed_at) FROM article_features",
    "SELECT * EXCLUDE (run_id) FROM article_evidence",
    "SELECT * EXCLUDE (run_id) FROM boilerplate_removed",
    "SELECT * EXCLUDE (run_id) FROM story_articles",
    "SELECT * EXCLUDE (run_id) FROM stories",
    "SELECT * EXCLUDE (run_id) FROM claims",
    "SELECT * EXCLUDE (run_id) FROM claim_articles",
    "SELECT * EXCLUDE (run_id) FROM outlet_features",
    "SELECT * EXCLUDE (run_id) FROM outlet_windows",
    "SELECT * FROM article_cues",
    "SELECT * FROM article_text_scores",
    "SELECT * EXCLUDE (run_id) FROM outlet_scores",
    "SELECT * EXCLUDE (run_id, published_at) FROM latest_scores",
]


@pytest.mark.spark
@needs_spark
@pytest.mark.parametrize("query", PUBLISHED)
def test_spark_publishes_the_local_tables(sample_dbs: dict[str, duckdb.DuckDBPyConnection], query: str) -> None:
    """Bit for bit: the same functions on the same rows (docs/scale-out.md: no rounding difference measured)."""
    local, spark = (table(sample_dbs[e], query) for e in ("local", "spark"))
    assert local.height > 50
    assert_frame_equal(spark, local, check_exact=True)


@pytest.mark.spark
@needs_spark
def test_the_sample_tables_are_not_trivial(sample_dbs: dict[str, duckdb.DuckDBPyConnection]) -> None:
    con = sample_dbs["spark"]
    assert con.sql("SELECT count(*) FROM story_articles").fetchall() == [(2462,)]
    multi, copies = con.sql(
        "SELECT count(*) FILTER (n_articles > 1), (SELECT count(copy_of) FROM story_articles) FROM stories"
    ).fetchall()[0]
    assert multi > 100 and copies > 0
    assert con.sql("SELECT count(score) FROM latest_scores").fetchall()[0][0] > 50


def _stream_inputs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql("SELECT article_id, outlet, published_at, source_file AS corpus FROM articles").pl()


@pytest.mark.spark
@needs_spark
@pytest.mark.parametrize("checked", ["as is", "every bucket refused"])
def test_spark_buckets_give_the_local_stream(
    sample_dbs: dict[str, duckdb.DuckDBPyConnection],
    checked: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Small blocks make many buckets. As is, each bucket's warm-up reaches the local stream's state (the driver
    accepts every task); when the driver refuses every task, it clusters each bucket again from the last start
    it trusts: the result is the local stream's either way."""
    con = sample_dbs["local"]
    config = CorroborationConfig(block_size=64)
    base = _stream_inputs(con)
    expected = stream_all(con, base, config, 500)
    if checked != "as is":
        refusals = iter(range(10**6))
        monkeypatch.setattr(spark_corroborate, "_alive", lambda *args: pl.DataFrame({"n": [next(refusals)]}))
    with caplog.at_level(logging.INFO, logger="jobs.engines.spark"):
        got = spark_corroborate.cluster_all(con, base, config, master="local[2]", core_blocks=2)
    assert_frame_equal(got.sort("article_id"), expected.sort("article_id"), check_exact=True)
    reruns = [r.getMessage() for r in caplog.records if "clustered again" in r.getMessage()]
    assert bool(reruns) == (checked != "as is"), reruns


def test_open_stories_compare_articles_and_ids() -> None:
    """The state check: the stories open at the core's start (first article within the span, latest within the
    window), with their articles; a story begun before the warm-up is not the task's to compare."""
    day = 86_400_000_000
    bucket = spark_corroborate._Bucket(key=1, first=0, core_start=4, core_end=8, end=8, t0=20 * day)
    config = CorroborationConfig()

    def rows(stories: list[str], days: list[int]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "article_id": ["a", "b", "c", "d"],
                "story_id": stories,
                "g": [0, 1, 2, 3],
                "published_at": [datetime(1970, 1, 1) + timedelta(days=d) for d in days],
            }
        )

    seq = rows(["s_a", "s_a", "s_c", "s_d"], [10, 15, 19, 19])  # s_a: begun too long ago; s_c, s_d open
    assert spark_corroborate._alive(seq, bucket, config)["article_id"].to_list() == ["c", "d"]
    same_open = rows(["s_a", "s_b", "s_c", "s_d"], [10, 15, 19, 19])  # differs only in a closed story
    assert spark_corroborate._alive(same_open, bucket, config).equals(spark_corroborate._alive(seq, bucket, config))
    merged = rows(["s_a", "s_a", "s_c", "s_c"], [10, 15, 19, 19])  # c and d in one open story
    assert not spark_corroborate._alive(merged, bucket, config).equals(spark_corroborate._alive(seq, bucket, config))
    before_warmup = seq.with_columns(pl.col("story_id").replace({"s_c": "s_z"}))  # s_z began before the warm-up
    assert spark_corroborate._alive(before_warmup, bucket, config)["article_id"].to_list() == ["d"]


@pytest.mark.spark
@needs_spark
def test_failed_spark_corroborate_writes_nothing(
    sample_dbs: dict[str, duckdb.DuckDBPyConnection], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "c.duckdb"
    source = sample_dbs["local"].sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    shutil.copyfile(source.fetchall()[0][0], db)  # its text files stay where they are (registered by path)
    before = duckdb.connect(str(db), read_only=True)
    stories = before.sql("SELECT * FROM story_articles ORDER BY article_id").pl()
    before.close()

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("executor lost")

    monkeypatch.setattr(spark_corroborate, "document_frequencies", broken)  # shipped to the executors with the task
    result = CliRunner().invoke(cli, ["corroborate", "--db", str(db), "--full", "--engine", "spark", "-q"])
    assert result.exit_code != 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert_frame_equal(con.sql("SELECT * FROM story_articles ORDER BY article_id").pl(), stories)
        assert con.execute(
            "SELECT status FROM runs WHERE job = 'corroborate' ORDER BY run_id DESC LIMIT 1"
        ).fetchall() == [("failed",)]


@pytest.mark.spark
@needs_spark
@pytest.mark.usefixtures("spark")
def test_failed_spark_job_publishes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    labelled_corpus(corpus, per_outlet=20)
    db = tmp_path / "n.duckdb"
    args = ["--corpus", str(corpus), "--as-of", "2020-06-30", "--window-days", "90", "--quiet", "--engine", "spark"]
    assert nightly(db, *args) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT job, parameters FROM runs WHERE job IN ('featurize', 'corroborate')").fetchall()
        (first_runs,) = con.execute("SELECT max(run_id) FROM runs").fetchall()[0]  # the first nightly's runs
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

    monkeypatch.setattr(spark_featurize, "article_features", broken)  # shipped to the executors with the task
    assert nightly(db, *args) == EXIT_FAILED

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM article_meta").fetchall() == [(150,)]  # ingested, then featurize failed
    assert con.execute("SELECT count(*) FROM article_features").fetchall() == [(120,)]
    status = dict(con.execute("SELECT job, status FROM runs WHERE run_id > ? ORDER BY run_id", [first_runs]).fetchall())
    assert status["featurize"] == "failed" and status["nightly"] == "failed" and "score" not in status
    con.close()
    published = duckdb.connect(str(snapshot_path(db)), read_only=True)
    assert_frame_equal(published.sql("SELECT * FROM latest_scores ORDER BY outlet").pl(), before)


def test_engine_spark_without_spark_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_session, "spark_available", lambda: "no Java runtime")
    result = CliRunner().invoke(cli, ["featurize", "--db", str(tmp_path / "x.duckdb"), "--engine", "spark"])
    assert result.exit_code == 2
    assert "Spark cannot run here: no Java runtime" in result.output
    assert not (tmp_path / "x.duckdb").exists()


def _messy_inputs(folder: Path) -> Path:
    """Every kind of input trouble in one folder: rejects, a repeat, an unreadable file, a truncated one, a
    changed version of an article, a file whose content is another's, a batch size that splits files, and a URL
    with userinfo (removed and counted on either engine), and WARC files of real pages with a revisit record and a
    record cut short (skipped and rejected, by reason, on either engine)."""
    from ..conftest import article, write_jsonl
    from ..stages.test_ingest import mixed_jsonl

    folder.mkdir()
    mixed_jsonl(folder / "a_mixed.jsonl")
    write_jsonl(folder / "b_good.jsonl", [article(i) for i in range(100, 130)])
    changed = [
        article(100, text="A new body for story 100."),
        article(200, url="https://al:pw@example-news.com/story/200"),
    ]
    write_jsonl(folder / "c_changed.jsonl", changed)
    shutil.copyfile(folder / "b_good.jsonl", folder / "d_same_content.jsonl")
    (folder / "e_corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    body = "".join(json.dumps(article(i)) + "\n" for i in range(300, 600)).encode()
    (folder / "f_truncated.jsonl.gz").write_bytes(gzip.compress(body)[:-200])
    pl.DataFrame([article(i) for i in range(700, 720)]).write_parquet(folder / "g.parquet")
    warc = Path(__file__).parents[2] / "fixtures" / "warc"  # real pages: revisits skipped, a record cut short
    for name in ("crawler-dechunked.warc.gz", "truncated.warc.gz"):
        shutil.copyfile(warc / name, folder / f"h_{name}")
    return folder


INGESTED = [
    "SELECT * EXCLUDE (load_id, ingested_at, text_file_id, updated_load_id, updated_at) FROM article_meta",
    "SELECT * EXCLUDE (load_id, rejected_at) FROM ingest_rejects",
    "SELECT * EXCLUDE (load_id, started_at, finished_at) FROM ingest_files",
    "SELECT article_id, content_version, text FROM articles",
]


@pytest.mark.spark
@needs_spark
@pytest.mark.usefixtures("spark")
def test_spark_ingest_loads_what_the_local_engine_loads(tmp_path: Path) -> None:
    """Rejects with their reasons and raw records, duplicates, updates, skipped and failed files, the counts and
    the texts: the same with either engine (Spark reads and normalises; the driver loads each file)."""
    inputs = _messy_inputs(tmp_path / "in")
    lines = {}
    for engine in ("local", "spark"):
        args = ["ingest", str(inputs), "--db", str(tmp_path / f"{engine}.duckdb"), "--batch-size", "7"]
        result = CliRunner().invoke(
            cli, [*args, "--max-text-chars", "1000", "--engine", engine], catch_exceptions=False
        )
        assert result.exit_code == 1  # the corrupt and the truncated file fail; the others load
        summary = next(line for line in result.output.splitlines() if line.startswith("ingest run"))
        lines[engine] = summary.split(" in ")[0]
    assert lines["spark"] == lines["local"]
    # mixed 17 records (7 loaded, 2 duplicates, 8 rejected), 30 good, 1 changed + 1 new, 20 from Parquet; one
    # file skipped (the content of another), two failed; the WARCs: 4 records (2 loaded, a revisit skipped, the
    # listing rejected) and 2 (the article a duplicate, the cut record rejected: partial)
    expected = (
        "9 files (5 loaded, 1 skipped, 2 failed, 1 partial); read 75 = loaded 60 + updated 1 + duplicates 3"
        " + skipped 1 + rejected 10"
    )
    assert expected in lines["local"] and "; userinfo removed from 1 URLs" in lines["local"], lines["local"]
    local, spark = (duckdb.connect(str(tmp_path / f"{e}.duckdb"), read_only=True) for e in ("local", "spark"))
    for query in INGESTED:
        assert_frame_equal(table(spark, query), table(local, query), check_exact=True)
    statuses = dict(spark.sql("SELECT regexp_extract(path, '[^/]+$'), status FROM ingest_files").fetchall())
    assert statuses["e_corrupt.parquet"] == "failed" and statuses["f_truncated.jsonl.gz"] == "failed"
    assert statuses["h_truncated.warc.gz"] == "partial"
    warc = "SELECT regexp_extract(path, '[^/]+$'), records_read, skipped FROM ingest_files WHERE path LIKE '%.warc.gz'"
    assert sorted(spark.sql(warc).fetchall()) == [("h_crawler-dechunked.warc.gz", 4, 1), ("h_truncated.warc.gz", 2, 0)]
    assert spark.sql("SELECT count(*) FROM ingest_rejects WHERE reason = 'truncated_record'").fetchall() == [(1,)]


def test_a_featurize_task_streams_its_text_file(tmp_path: Path) -> None:
    """A task holds at most about two batches of its text file's articles (not the file), gets each wanted
    article once with its own version's text, and fails when an article's text is not in its file."""
    path = tmp_path / "t.parquet"
    ids = [f"a{i:04d}" for i in range(1_000)]
    texts = pl.DataFrame({"article_id": ids * 2, "content_version": [1] * 1_000 + [2] * 1_000})
    texts = texts.with_columns(text=pl.col("article_id") + "/v" + pl.col("content_version").cast(pl.String))
    texts.write_parquet(path, row_group_size=300)
    wanted = pl.DataFrame({"article_id": ids[::3], "content_version": [2, 1] * 167, "outlet": "x.com"})

    parts = list(stream_file_texts(wanted, str(path), 100))
    assert max(p.height for p in parts) < 2 * 100 and len(parts) > 3
    got = pl.concat(parts).sort("article_id")
    assert got["article_id"].to_list() == ids[::3]
    assert got["text"].to_list() == [f"{a}/v{v}" for a, v in zip(ids[::3], [2, 1] * 167, strict=True)]
    assert got["outlet"].unique().to_list() == ["x.com"]

    with pytest.raises(TextStoreError, match="1 article"):
        lost = wanted.with_columns(  # one article's current version is not in the file
            content_version=pl.when(pl.int_range(pl.len()) == 0).then(3).otherwise("content_version")
        )
        list(stream_file_texts(lost, str(path), 100))


@pytest.mark.spark
@needs_spark
@pytest.mark.usefixtures("spark")
def test_failed_spark_ingest_loads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A task that fails (not a bad input: a lost executor, a bug) fails the job before any file is loaded."""

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("executor lost")

    monkeypatch.setattr(spark_ingest, "_stage_file", broken)  # shipped to the executors with the task
    db = tmp_path / "i.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(paths.SAMPLE_DIR), "--db", str(db), "--engine", "spark", "-q"])
    assert result.exit_code != 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM article_meta").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM ingest_files").fetchall() == [(0,)]
        assert con.execute("SELECT status FROM runs WHERE job = 'ingest'").fetchall() == [("failed",)]


@pytest.mark.spark
@needs_spark
def test_quiet_spark_run_prints_nothing(sample_dbs: dict[str, duckdb.DuckDBPyConnection], tmp_path: Path) -> None:
    """Cron mails whatever a --quiet run prints: Spark's own INFO and WARN lines are kept out (errors only)."""
    import subprocess
    import sys

    source = sample_dbs["local"].sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    db = tmp_path / "q.duckdb"
    shutil.copyfile(source.fetchall()[0][0], db)
    args = ["aggregate", "--db", str(db), "--as-of", "2020-12-31", "--window-days", "3650", "--engine", "spark", "-q"]
    done = subprocess.run([sys.executable, "-m", "jobs", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    # the JVM itself names the incubator module Spark 4 loads; nothing else may be said
    said = [line for line in done.stderr.splitlines() if "Using incubator modules" not in line]
    assert said == [], said


@pytest.mark.spark
@pytest.mark.shared
@needs_spark
@pytest.mark.usefixtures("spark")
def test_spark_stages_on_a_shared_corpus_equal_the_local_ones(shared_data: Path, tmp_path: Path) -> None:
    """The newer shared corpus (6,301 articles: state media, health and conspiracy sites, German outlets) through
    ingest, featurize, corroborate and aggregate with each engine: every table the same (the AllSides corpus was
    compared by the benchmark, BENCHMARKS.md: it takes minutes on Spark)."""
    corpus = shared_data / "corpora" / "extra_2010_2021.parquet"
    stages = [
        ["ingest", str(corpus)],
        ["featurize"],
        ["corroborate"],
        ["aggregate", "--as-of", "2021-12-31", "--window-days", "36500"],
    ]
    for engine in ("local", "spark"):
        db = str(tmp_path / f"{engine}.duckdb")
        for stage in stages:
            result = CliRunner().invoke(cli, [*stage, "--db", db, "--engine", engine, "-q"], catch_exceptions=False)
            assert result.exit_code == 0, (stage, result.output)
    local, spark = (duckdb.connect(str(tmp_path / f"{e}.duckdb"), read_only=True) for e in ("local", "spark"))
    assert local.sql("SELECT count(*) FROM article_features").fetchall()[0][0] > 6000
    for query in INGESTED + PUBLISHED[:7]:
        assert_frame_equal(table(spark, query), table(local, query), check_exact=True)


@pytest.mark.spark
@needs_spark
def test_result_rows_are_written_in_bounded_row_groups(spark: Any, tmp_path: Path) -> None:
    """Spark's Parquet writer first checks its buffer after 100 rows: a task's few dozen result rows of MBs each
    stayed in one page in the JVM heap until the task ended. With RESULT_WRITE_OPTIONS it flushes them in row
    groups of at most 16 MB (plus one row), whatever the task's size."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    def rows(batches: object) -> object:
        for _ in range(40):
            yield pa.RecordBatch.from_pydict({"x": [os.urandom(2**20)]})  # incompressible, 1 MB

    for name, options in (("default", {}), ("bounded", spark_featurize.RESULT_WRITE_OPTIONS)):
        spark.range(1, numPartitions=1).mapInArrow(rows, "x binary").write.options(**options).parquet(
            str(tmp_path / name)
        )
    sizes = {
        name: [
            meta.row_group(i).total_byte_size
            for part in sorted((tmp_path / name).glob("*.parquet"))
            for meta in [pq.ParquetFile(part).metadata]
            for i in range(meta.num_row_groups)
        ]
        for name in ("default", "bounded")
    }
    assert len(sizes["default"]) == 1 and sizes["default"][0] > 40 * 2**20  # the task's whole output at once
    assert len(sizes["bounded"]) >= 3 and max(sizes["bounded"]) <= 17 * 2**20
