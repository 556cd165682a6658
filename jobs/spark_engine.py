"""`--engine spark`: featurize and corroborate as Apache Spark jobs over Parquet, calling the same pure functions.

The local engine reads articles from DuckDB and calls `features.pipeline.article_features` and
`features.corroboration.assign_stories` in this process. This engine exports the metadata a stage needs
to one Parquet file, lets Spark join it with the immutable text files (jobs/textstore.py) and run those
same functions on executors (`mapInArrow` for featurize, `groupBy(bucket).applyInArrow` for corroborate),
and stages the results as Parquet. Only when the Spark job has finished does the driver read the
staged results and write them through the local engine's write path (same transactions, same tables,
same `runs` rows): a failed Spark job raises before anything is written.

Each task's result frames travel as Arrow IPC bytes in one binary column (three frames of different
schemas from one call, and no Spark type mapping of Polars' types).

Corroboration is bucketed in time (docs/scale-out.md): dated articles fall in `bucket_days`-day buckets
(aligned on 1970-01-01, so a bucket's result does not depend on which run computed it); each bucket is
clustered with the articles of `context` before and after it (the join window, 2 days by default) and
keeps the rows of its own articles. A story that crosses a bucket edge by more than the context can be
split in two, and each bucket fits its own TF-IDF weights: the stories are close to, not identical
with, the local engine's (measured in BENCHMARKS.md). Undated articles are clustered per corpus, as
locally.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from features.corroboration import ARTICLE_SCHEMA, CorroborationConfig, assign_stories
from features.lexicons import Lexicons
from features.pipeline import article_features

log = logging.getLogger(__name__)

ENGINES = ("local", "spark")
DEFAULT_MASTER = "local[2]"
BUCKET_DAYS = 7
ROWS_PER_TASK = 5_000  # articles per featurize task (Spark splits the input into about rows / this tasks)
_US_PER_DAY = 86_400_000_000
_OUT_SCHEMA = "kind string, data binary"


class SparkUnavailable(RuntimeError):
    """pyspark or a Java runtime is missing: install `presstrust[spark]` and a JRE (docs/scale-out.md)."""


def spark_available() -> str | None:
    """None when Spark can run here, else the reason it cannot (for skips and error messages)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'presstrust[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime (java not on PATH and JAVA_HOME unset)"
    return None


def session(master: str | None = None) -> Any:
    """The process's Spark session (created once; `master` None: local[2] unless spark-submit set one)."""
    reason = spark_available()
    if reason:
        raise SparkUnavailable(reason)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("presstrust")
    if master and master.startswith("sc://"):  # Spark Connect (needs pyspark's connect extra)
        builder = builder.remote(master)
    elif master:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit, which sets the master itself
        builder = builder.master(DEFAULT_MASTER)
    if (master or DEFAULT_MASTER).startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local workers use this environment
    started = time.perf_counter()
    spark = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")  # no progress bars in cron mail
        .getOrCreate()
    )
    log.debug("spark session %s ready in %.1fs", spark.sparkContext.master, time.perf_counter() - started)
    return spark


@contextmanager
def _staging(con: duckdb.DuckDBPyConnection) -> Iterator[Path]:
    """A scratch folder beside the database (executors must see it: on a cluster, a shared filesystem)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    db_file = rows[0][0] if rows and rows[0][0] else None
    base = Path(os.environ.get("PRESSTRUST_SPARK_STAGING") or (Path(db_file).parent if db_file else tempfile.gettempdir()))
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".presstrust-spark-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc(sink)
    return sink.getvalue()


def _frames(batch: pa.RecordBatch, kind: str) -> Iterator[pl.DataFrame]:
    for k, data in zip(batch.column("kind").to_pylist(), batch.column("data").to_pylist(), strict=True):
        if k == kind:
            yield pl.read_ipc(io.BytesIO(data))


def _staged(folder: Path) -> Iterator[pa.RecordBatch]:
    """Record batches of a finished Spark job's Parquet output (only after its _SUCCESS marker)."""
    if not (folder / "_SUCCESS").exists():
        raise RuntimeError(f"the Spark job left no _SUCCESS marker in {folder}")
    for part in sorted(folder.glob("*.parquet")):
        yield from pq.ParquetFile(part).iter_batches(batch_size=16)


def _export(con: duckdb.DuckDBPyConnection, ids: pl.DataFrame, columns: str, path: Path) -> list[str]:
    """Write article_meta columns of `ids` to one Parquet file; return the text files holding their texts."""
    con.register("_spark_ids", ids.select("article_id").to_arrow())
    try:
        meta = con.sql(
            f"SELECT {columns} FROM article_meta m SEMI JOIN _spark_ids i ON i.article_id = m.article_id"  # noqa: S608 - fixed columns
        ).pl()
        files = con.execute(
            "SELECT DISTINCT f.path FROM article_meta m JOIN text_files f ON f.text_file_id = m.text_file_id "
            "SEMI JOIN _spark_ids i ON i.article_id = m.article_id ORDER BY f.path"
        ).fetchall()
    finally:
        con.unregister("_spark_ids")
    meta.write_parquet(path)
    return [p for (p,) in files]


def _with_texts(spark: Any, meta: Path, text_files: list[str]) -> Any:
    """The exported metadata joined with the texts of the current versions (as the articles view joins them)."""
    frame = spark.read.parquet(str(meta))
    if not text_files:
        from pyspark.sql import functions as F

        return frame.withColumn("text", F.lit(None).cast("string"))
    texts = spark.read.parquet(*text_files).select("article_id", "content_version", "text")
    return frame.join(texts, on=["article_id", "content_version"], how="inner")


# ------------------------------------------------------------------------------------------------ featurize


def featurize_batches(
    con: duckdb.DuckDBPyConnection,
    todo: pl.DataFrame,
    *,
    boilerplate: pl.DataFrame,
    lexicons: Lexicons,
    batch_size: int,
    master: str | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(ids, features, evidence, removed) per batch of at most batch_size articles, computed by one Spark job.

    The job runs to completion before the first batch is yielded, so a failed job writes nothing.
    """
    if todo.height == 0:
        return
    spark = session(master)
    boilerplate_ipc = _ipc(boilerplate)

    def compute(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        learned = pl.read_ipc(io.BytesIO(boilerplate_ipc)).lazy()
        for batch in batches:
            articles = pl.from_arrow(batch)
            assert isinstance(articles, pl.DataFrame)
            features, evidence, removed = article_features(
                articles.lazy(), boilerplate=learned, lexicons=lexicons
            ).collect()
            yield pa.RecordBatch.from_pydict(
                {"kind": ["features", "evidence", "removed"], "data": [_ipc(features), _ipc(evidence), _ipc(removed)]}
            )

    with _staging(con) as folder:
        files = _export(con, todo, "article_id, content_version, outlet, title, authors, language", folder / "m.parquet")
        started = time.perf_counter()
        articles = _with_texts(spark, folder / "m.parquet", files).select(
            "article_id", "outlet", "title", "text", "authors", "language"
        )
        tasks = max(spark.sparkContext.defaultParallelism, -(-todo.height // ROWS_PER_TASK))
        out = folder / "out"
        articles.repartition(tasks).mapInArrow(compute, _OUT_SCHEMA).write.parquet(str(out))
        log.info("spark featurize: %d articles in %d tasks, %.1fs", todo.height, tasks, time.perf_counter() - started)
        yield from _rebatch(out, batch_size)


def _rebatch(
    out: Path, batch_size: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """Group the tasks' frames into write batches of at most about batch_size articles."""
    pending: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
    rows = 0
    for batch in _staged(out):
        parts = zip(_frames(batch, "features"), _frames(batch, "evidence"), _frames(batch, "removed"), strict=True)
        for part in parts:
            if pending and rows + part[0].height > batch_size:
                yield _concat(pending)
                pending, rows = [], 0
            pending.append(part)
            rows += part[0].height
    if pending:
        yield _concat(pending)


def _concat(
    parts: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    features, evidence, removed = (pl.concat([p[i] for p in parts], how="vertical") for i in range(3))
    return features.select("article_id"), features, evidence, removed


# ------------------------------------------------------------------------------------------------ corroborate


def assign(
    con: duckdb.DuckDBPyConnection,
    meta: pl.DataFrame,
    previous: pl.DataFrame,
    new_ids: pl.Series,
    *,
    full: bool,
    config: CorroborationConfig,
    master: str | None = None,
    bucket_days: int = BUCKET_DAYS,
) -> tuple[pl.DataFrame, int]:
    """Story assignments (ARTICLE_SCHEMA) for every article, re-clustering the buckets new ones touch.

    `meta` is jobs.corroborate's metadata frame (article_id, outlet, published_at, corpus, ...). Returns the
    assignments and how many articles were re-clustered.
    """
    bucket_us = bucket_days * _US_PER_DAY
    context_us = config.window // timedelta(microseconds=1)
    base = meta.select(
        "article_id",
        "outlet",
        pl.col("corpus").cast(pl.String).fill_null(""),
        pl.col("published_at").dt.epoch("us").alias("t"),
    ).with_columns((pl.col("t") // bucket_us).alias("bucket"))
    # a bucket is redone when a new article is in it or in its context; undated: its corpus is redone
    touched = base.filter(pl.col("article_id").is_in(new_ids.implode())) if not full else base
    dated = touched.filter(pl.col("t").is_not_null())
    buckets = pl.concat(
        [((dated["t"] + d) // bucket_us) for d in (-context_us, 0, context_us)]
    ).unique()
    corpora = touched.filter(pl.col("t").is_null())["corpus"].unique()
    redo = base.filter(
        pl.col("bucket").is_in(buckets.implode()) | (pl.col("t").is_null() & pl.col("corpus").is_in(corpora.implode()))
    )
    needed = base.filter(
        ((pl.col("t") - context_us) // bucket_us).is_in(buckets.implode())
        | ((pl.col("t") + context_us) // bucket_us).is_in(buckets.implode())
        | pl.col("article_id").is_in(redo["article_id"].implode())
    )
    kept = previous.filter(~pl.col("article_id").is_in(redo["article_id"].implode()))
    if redo.height == 0:
        return kept, 0
    spark = session(master)

    def cluster(table: pa.Table) -> pa.Table:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        articles = frame.select(
            "article_id",
            "outlet",
            pl.from_epoch("t", time_unit="us").alias("published_at"),
            "corpus",
            pl.col("title").fill_null(""),
            pl.col("text").fill_null(""),
        )
        stories = assign_stories(articles, config).join(
            frame.filter("core").select("article_id"), on="article_id", how="semi"
        )
        return pa.table({"kind": ["stories"], "data": [_ipc(stories)]})

    with _staging(con) as folder:
        files = _export(
            con, needed, "article_id, content_version, title", folder / "m.parquet"
        )
        keys = pl.DataFrame(
            {"article_id": needed["article_id"], "outlet": needed["outlet"], "corpus": needed["corpus"], "t": needed["t"]}
        )
        keys.write_parquet(folder / "k.parquet")
        started = time.perf_counter()
        from pyspark.sql import functions as F

        articles = _with_texts(spark, folder / "m.parquet", files).join(
            spark.read.parquet(str(folder / "k.parquet")), on="article_id"
        )
        t = F.col("t")
        own = F.floor(t / F.lit(bucket_us))
        key = F.explode(
            F.when(t.isNull(), F.array(F.lit(None).cast("long"))).otherwise(
                F.array_distinct(
                    F.array(own, F.floor((t - F.lit(context_us)) / F.lit(bucket_us)), F.floor((t + F.lit(context_us)) / F.lit(bucket_us)))
                )
            )
        )
        groups = (
            articles.select("*", key.alias("bucket"))
            .withColumn("core", F.col("bucket").eqNullSafe(own) | t.isNull())
            .where(F.col("bucket").isin([int(b) for b in buckets.to_list()]) | t.isNull())
            .withColumn("group_corpus", F.when(t.isNull(), F.col("corpus")).otherwise(F.lit("")))
        )
        out = folder / "out"
        groups.groupBy("bucket", "group_corpus").applyInArrow(cluster, _OUT_SCHEMA).write.parquet(str(out))
        fresh = [frame for batch in _staged(out) for frame in _frames(batch, "stories")]
        log.info(
            "spark corroborate: %d articles in %d buckets, %.1fs", redo.height, len(fresh), time.perf_counter() - started
        )
    redone = pl.concat(fresh, how="vertical") if fresh else pl.DataFrame(schema=ARTICLE_SCHEMA)
    redone = redone.filter(pl.col("article_id").is_in(redo["article_id"].implode()))
    if redone.height != redo.height:
        raise RuntimeError(f"spark corroborate returned {redone.height} rows for {redo.height} articles")
    return pl.concat([kept.select(list(ARTICLE_SCHEMA)), redone], how="vertical_relaxed").sort("article_id"), redo.height
