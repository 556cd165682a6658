"""`--engine spark`: featurize and corroborate as Apache Spark jobs over Parquet, calling the same pure functions.

The local engine reads articles from DuckDB and calls `features.pipeline.article_features` and
`features.corroboration.assign_stories` in this process. This engine exports the metadata a stage needs
to one Parquet file, lets Spark join it with the immutable text files (jobs/textstore.py) and run those
same functions on executors (`mapInArrow` for featurize, `groupBy(bucket).applyInArrow` for corroborate),
and stages the results as Parquet. Only when the Spark job has finished does the driver read the
staged results and write them through the local engine's write path (same transactions, same tables,
same `runs` rows): a failed Spark job raises before anything is written.

Each Python call's result frames travel as Arrow IPC bytes, one binary column per frame and one row per call
(frames of different schemas from one call, and no Spark type mapping of Polars' types).

Corroboration is bucketed in time (docs/scale-out.md): dated articles fall in `bucket_days`-day buckets
(aligned on 1970-01-01, so a bucket's result does not depend on which run computed it). Each bucket is
clustered by `assign_stories` as one group with the articles that can reach into it: from `max_story_span`
before it (a story it continues started no earlier) to the join window after it. A bucket keeps its own
articles' stories; stories crossing an edge are stitched to the id their earlier bucket gave them. All
buckets share one TF-IDF model, fitted on the driver on up to MODEL_SAMPLE articles. On the embedded
sample this gives exactly the stories of one `assign_stories` call over every article with that model
(tests/jobs/test_spark_engine.py). The local engine instead fits a model per window of up to a year, so
the two engines' stories differ where the weights tip a join (measured in BENCHMARKS.md). Undated
articles are clustered per corpus, as locally.
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

from features.corroboration import (
    ARTICLE_SCHEMA,
    CorroborationConfig,
    TextModel,
    assign_stories,
    fit_text_model,
    update_stories,
)
from features.lexicons import Lexicons
from features.pipeline import article_features

log = logging.getLogger(__name__)

ENGINES = ("local", "spark")
DEFAULT_MASTER = "local[2]"
BUCKET_DAYS = 7
ARROW_BATCH_ROWS = 2_000
LOCAL_DRIVER_MEMORY = "3g"  # local mode: the JVM runs the tasks too (Spark's default, 1g, ran out at 200k articles)
MODEL_SAMPLE = 200_000  # articles the corroboration text model is fitted on (driver memory ~ 1 GB at most)
_MODEL_SEED = 13
_US_PER_DAY = 86_400_000_000
_FEATURES_OUT = "features binary, evidence binary, removed binary"  # one row per Python call
_STORIES_OUT = "stories binary"


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
        builder = builder.config("spark.sql.shuffle.partitions", "8").config(  # a cluster keeps its own settings
            "spark.driver.memory", os.environ.get("PRESSTRUST_SPARK_DRIVER_MEMORY", LOCAL_DRIVER_MEMORY)
        )
        # featurize tasks of ~16 MB of compressed text (~5,000 articles): small frames per Python call
        builder = builder.config("spark.sql.files.maxPartitionBytes", str(16 * 2**20))
    started = time.perf_counter()
    spark = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # 2,000 articles per Python call: its result frames travel as one binary value each (10,000, Spark's
        # default, made values of tens of MB that ran the JVM out of memory writing them at 200k articles)
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
        .config("spark.ui.showConsoleProgress", "false")  # no progress bars in cron mail
        .getOrCreate()
    )
    log.debug("spark session %s ready in %.1fs", spark.conf.get("spark.master", "?"), time.perf_counter() - started)
    return spark


@contextmanager
def _staging(con: duckdb.DuckDBPyConnection) -> Iterator[Path]:
    """A scratch folder beside the database (executors must see it: on a cluster, a shared filesystem)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    db_file = rows[0][0] if rows and rows[0][0] else None
    base = Path(
        os.environ.get("PRESSTRUST_SPARK_STAGING") or (Path(db_file).parent if db_file else tempfile.gettempdir())
    )
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


def _frames(batch: pa.RecordBatch, column: str) -> list[pl.DataFrame]:
    return [pl.read_ipc(io.BytesIO(data)) for data in batch.column(column).to_pylist()]


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
    """The exported metadata joined with the texts of the current versions (as the articles view joins them).

    The metadata is broadcast, so each task joins the text file splits it reads: the texts are never shuffled.
    """
    from pyspark.sql import functions as F

    frame = spark.read.parquet(str(meta))
    if not text_files:
        return frame.withColumn("text", F.lit(None).cast("string"))
    texts = spark.read.parquet(*text_files).select("article_id", "content_version", "text")
    return texts.join(F.broadcast(frame), on=["article_id", "content_version"], how="inner")


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
                {"features": [_ipc(features)], "evidence": [_ipc(evidence)], "removed": [_ipc(removed)]}
            )

    with _staging(con) as folder:
        files = _export(
            con, todo, "article_id, content_version, outlet, title, authors, language", folder / "m.parquet"
        )
        started = time.perf_counter()
        articles = _with_texts(spark, folder / "m.parquet", files).select(
            "article_id", "outlet", "title", "text", "authors", "language"
        )
        out = folder / "out"
        articles.mapInArrow(compute, _FEATURES_OUT).write.parquet(str(out))
        log.info("spark featurize: %d articles, %.1fs", todo.height, time.perf_counter() - started)
        yield from _rebatch(out, batch_size)


def _rebatch(out: Path, batch_size: int) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
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


def _text_model(con: duckdb.DuckDBPyConnection, redo: pl.DataFrame, config: CorroborationConfig) -> TextModel:
    """One TF-IDF model for every bucket, fitted on the driver on at most MODEL_SAMPLE of the articles to redo
    (chosen by a hash of article_id, so deterministically): per-bucket weights from a few days of a sparse feed
    would be noisy, and the local engine, too, fits one model per window of up to a year."""
    ids = redo.select("article_id")
    if ids.height > MODEL_SAMPLE:
        ids = ids.sort(pl.col("article_id").hash(_MODEL_SEED)).head(MODEL_SAMPLE)
    con.register("_spark_ids", ids.to_arrow())
    try:
        frame = con.sql(
            "SELECT a.article_id, a.outlet, a.published_at, a.title, a.text FROM articles a "
            "SEMI JOIN _spark_ids i ON i.article_id = a.article_id"
        ).pl()
    finally:
        con.unregister("_spark_ids")
    return fit_text_model(frame, config)


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
    # context: before a bucket, as far back as a story it continues can have started; after it, the join window
    before = (config.max_story_span or config.window) // timedelta(microseconds=1)
    after = config.window // timedelta(microseconds=1)
    base = meta.select(
        "article_id",
        "outlet",
        pl.col("corpus").cast(pl.String).fill_null(""),
        pl.col("published_at").dt.epoch("us").alias("t"),
    ).with_columns(
        (pl.col("t") // bucket_us).alias("bucket"),
        ((pl.col("t") - after) // bucket_us).alias("first"),  # the buckets whose groups hold the article
        ((pl.col("t") + before) // bucket_us).alias("last"),
    )
    # a bucket is redone when a new article is in its group; undated: the article's corpus is redone
    touched = base.filter(pl.col("article_id").is_in(new_ids.implode())) if not full else base
    buckets = touched.select(pl.int_ranges("first", pl.col("last") + 1).explode().drop_nulls().unique())["first"]
    corpora = touched.filter(pl.col("t").is_null())["corpus"].unique()
    redo = base.filter(
        pl.col("bucket").is_in(buckets.implode()) | (pl.col("t").is_null() & pl.col("corpus").is_in(corpora.implode()))
    )
    in_group = pl.int_ranges("first", pl.col("last") + 1).list.eval(pl.element().is_in(buckets.implode())).list.any()
    needed = base.filter(in_group.fill_null(False) | pl.col("article_id").is_in(redo["article_id"].implode()))
    kept = previous.filter(~pl.col("article_id").is_in(redo["article_id"].implode()))
    if redo.height == 0:
        return kept, 0
    model = _text_model(con, redo, config)
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
        bucket = table.column("bucket")[0].as_py()
        rows = frame.filter(pl.col("core") | (pl.col("t") < pl.lit(bucket) * bucket_us))  # own and earlier rows
        stories = assign_stories(articles, config, text_model=model).join(
            rows.select("article_id", "core", pl.lit(bucket, dtype=pl.Int64).alias("bucket")), on="article_id"
        )
        return pa.table({"stories": [_ipc(stories)]})

    with _staging(con) as folder:
        files = _export(con, needed, "article_id, content_version, title", folder / "m.parquet")
        needed.select("article_id", "outlet", "corpus", "t").write_parquet(folder / "k.parquet")
        started = time.perf_counter()
        from pyspark.sql import functions as F

        articles = _with_texts(spark, folder / "m.parquet", files).join(
            spark.read.parquet(str(folder / "k.parquet")), on="article_id"
        )
        t = F.col("t")
        own = F.floor(t / F.lit(bucket_us))
        key = F.explode(
            F.when(t.isNull(), F.array(F.lit(None).cast("long"))).otherwise(
                F.sequence(
                    F.floor((t - F.lit(after)) / F.lit(bucket_us)), F.floor((t + F.lit(before)) / F.lit(bucket_us))
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
        groups.groupBy("bucket", "group_corpus").applyInArrow(cluster, _STORIES_OUT).write.parquet(str(out))
        fresh = [frame for batch in _staged(out) for frame in _frames(batch, "stories")]
        log.info(
            "spark corroborate: %d articles in %d groups, %.1fs",
            redo.height,
            len(fresh),
            time.perf_counter() - started,
        )
    rows = pl.concat(fresh, how="vertical") if fresh else pl.DataFrame(schema={**ARTICLE_SCHEMA, "core": pl.Boolean})
    stitched = _stitch(rows.filter(pl.col("article_id").is_in(needed["article_id"].implode())), kept)
    if stitched.height != redo.height:
        raise RuntimeError(f"spark corroborate returned {stitched.height} rows for {redo.height} articles")
    merged = pl.concat([kept.select(stitched.columns), stitched], how="vertical_relaxed")
    return _features(meta, merged, model, config), redo.height


def _stitch(rows: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """One story id per story across bucket edges (article_id, story_id, copy_of of each bucket's own articles).

    A bucket also returns the rows of the earlier context it saw. Its stories that hold such a context
    article take that article's id in the earlier bucket (already final: buckets go in time order; the
    smallest id when it holds several; a bucket not redone: the id in `kept`), so a story crossing an edge keeps
    the id of its first article.
    """
    seen = kept.join(rows.filter(~pl.col("core")).select("article_id"), on="article_id", how="semi")
    final = dict(zip(seen["article_id"], seen["story_id"], strict=True))  # article_id -> final story id
    out = []
    undated = rows.filter(pl.col("undated"))
    dated = rows.filter(~pl.col("undated"))
    for _, group in sorted(dated.partition_by("bucket", as_dict=True).items(), key=lambda kv: kv[0][0]):
        context = group.filter(~pl.col("core"))
        links = (
            pl.DataFrame(
                {
                    "story_id": context["story_id"],
                    "final": [final.get(a) for a in context["article_id"]],
                },
                schema={"story_id": pl.String, "final": pl.String},
            )
            .drop_nulls()
            .group_by("story_id")
            .agg(pl.col("final").min())
        )
        own = (
            group.filter("core")
            .join(links, on="story_id", how="left")
            .with_columns(pl.coalesce("final", "story_id").alias("story_id"))
        )
        final.update(zip(own["article_id"], own["story_id"], strict=True))
        out.append(own.select("article_id", "story_id", "copy_of"))
    out.append(undated.select("article_id", "story_id", "copy_of"))
    return pl.concat(out, how="vertical")


def _features(
    meta: pl.DataFrame, stitched: pl.DataFrame, model: TextModel, config: CorroborationConfig
) -> pl.DataFrame:
    """ARTICLE_SCHEMA rows of stitched stories: `update_stories` with nothing new re-clusters nothing and
    computes the per-article corroboration features over the given stories (texts are not needed)."""
    articles = meta.select("article_id", "outlet", "published_at", "corpus", title=pl.lit(""), text=pl.lit("")).join(
        stitched.select("article_id"), on="article_id", how="semi"
    )
    previous = stitched.join(articles.select("article_id", "outlet", "published_at"), on="article_id").with_columns(
        undated=pl.col("published_at").is_null()
    )
    return update_stories(articles, previous, [], config, text_model=model)
