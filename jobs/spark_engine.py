"""`--engine spark`: ingest, featurize, corroborate and aggregate as Apache Spark jobs, calling the same pure functions.

The local engine calls `jobs.ingest.prepared_batches`, `features.pipeline.article_features`,
`features.corroboration.StoryStream` and `jobs.aggregate.outlet_aggregates` in this process. This engine
exports what a stage needs to Parquet in a staging folder, lets Spark run those same functions on executors
(ingest: `mapInArrow`, a task per input file; featurize: a task per text file, reading its own texts;
corroborate: `mapInArrow` for the text model's document frequencies, `groupBy(bucket).applyInArrow` for the
clustering; aggregate: `groupBy(outlet).applyInArrow`), and stages the results. Only when the Spark job has
finished does the driver read the staged results and write them through the local engine's write path (same
transactions, same tables, same `runs` rows): a failed Spark job raises before anything is written.

Each Python call's result frames travel as Arrow IPC bytes, one binary column per frame and one row per call
(frames of different schemas from one call, and no Spark type mapping of Polars' types).

Corroboration (a first run or `--full`; later runs re-cluster a few days locally, as the local engine does)
gives exactly the local engine's stories: the same text model (document frequencies over every article), and
the dated articles in buckets of whole clustering blocks of the local stream's processing order, each
clustered by a StoryStream started at its bucket's position after a warm-up; the driver accepts a bucket when
the stories open at its start are those the earlier buckets give, and clusters it again otherwise
(`stream_all`, docs/scale-out.md).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from features.corroboration import (
    ARTICLE_SCHEMA,
    CorroborationConfig,
    StoryStream,
    TextModel,
    assign_stories,
    document_frequencies,
    merge_frequencies,
    text_model_from_frequencies,
)
from features.lexicons import Lexicons
from features.pipeline import article_features
from jobs.paths import package_data

if TYPE_CHECKING:
    from jobs.ingest import FilePlan, IngestOptions, PreparedBatch
    from jobs.normalize import NormalizeOptions

log = logging.getLogger(__name__)

ENGINES = ("local", "spark")
DEFAULT_MASTER = "local[2]"
ARROW_BATCH_ROWS = 2_000
LOCAL_DRIVER_MEMORY = "3g"  # local mode: the JVM runs the tasks too (Spark's default, 1g, ran out at 200k articles)
MAX_CORE_BLOCKS = 40  # clustering blocks (512 articles each by default) a corroborate bucket owns, at most
FREQUENCY_ARTICLES = 20_000  # articles whose document frequencies a task sums at a time
MIN_BUCKETS = 8  # corroborate buckets wanted at least, for parallelism (fewer when there are fewer blocks)
PYTHON_ADDRESS_SPACE_MB = 6_144  # address space a Python worker may need (3.8 GB measured on the sample; 8 GB ran)
_FEATURES_OUT = "features binary, evidence binary, removed binary"  # one row per Python call
# Spark's Parquet writer first checks its page and row-group sizes after 100 rows: a featurize task's result rows
# (one per Python call, MBs each, a few dozen per task) stayed in one page until the task ended, in the JVM heap
# (1,000,000 articles: "Java heap space" at 3g). Check after every row, and cut row groups at 16 MB.
RESULT_WRITE_OPTIONS = {"parquet.page.size.row.check.min": "1", "parquet.block.size": str(16 * 2**20)}


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
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # under spark-submit, which sets the master and its settings
    master = master or (None if submitted else DEFAULT_MASTER)
    if master and master.startswith("sc://"):  # Spark Connect (needs pyspark's connect extra)
        builder = builder.remote(master)
    else:
        # executors run this interpreter unless PYSPARK_PYTHON names another (a shipped environment's): right in
        # local mode and where the environment has the same path on every node (Spark's default, python3, is not)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if master:
            builder = builder.master(master)
    if master and master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "8").config(  # a cluster keeps its own settings
            "spark.driver.memory", os.environ.get("PRESSTRUST_SPARK_DRIVER_MEMORY", LOCAL_DRIVER_MEMORY)
        )
        # splits of the text files Spark reads (corroborate) of ~16 MB, or one row group where that is larger
        builder = builder.config("spark.sql.files.maxPartitionBytes", str(16 * 2**20))
        # Spark's own log lines: errors only (jobs/data/spark-log4j2.properties), so a quiet cron run stays quiet
        log4j = package_data("jobs", "data", "spark-log4j2.properties")
        builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j.as_uri()}")
    started = time.perf_counter()
    spark = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # 2,000 articles per Python call: its result frames travel as one binary value each (10,000, Spark's
        # default, made values of tens of MB that ran the JVM out of memory writing them at 200k articles)
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
        .config("spark.ui.showConsoleProgress", "false")  # no progress bars in cron mail
        .config("spark.sql.debug.maxToStringFields", "1000")  # no warning about the width of the feature frames
        .getOrCreate()
    )
    log.debug("spark session %s ready in %.1fs", spark.conf.get("spark.master", "?"), time.perf_counter() - started)
    _check_python_memory(spark)
    return spark


def _check_python_memory(spark: Any) -> None:
    """Warn when spark.executor.pyspark.memory leaves a Python worker less address space than presstrust reserves.

    Spark turns it into an address-space limit (RLIMIT_AS) per Python worker of it over spark.executor.cores;
    polars and pyarrow reserve far more address space than they fill (3.8 GB per worker measured on the sample,
    0.44 GB resident): under the limit, workers fail with "failed to map segment from shared object".
    """
    limit = spark.conf.get("spark.executor.pyspark.memory", None)
    found = re.fullmatch(r"(\d+)([kmgtp]?)(b?)", (limit or "").strip().lower())  # Spark's units; none: MiB
    if not found:
        return
    unit = found[2] or found[3]
    cores = int(spark.conf.get("spark.executor.cores", "1"))
    per_worker = int(found[1]) * {"b": 2**-20, "k": 2**-10, "": 1, "m": 1, "g": 2**10, "t": 2**20, "p": 2**30}[unit]
    per_worker /= cores
    if per_worker < PYTHON_ADDRESS_SPACE_MB:
        log.warning(
            "spark.executor.pyspark.memory=%s over %d cores caps each Python worker's address space at %d MB; "
            "presstrust needs about %d MB: leave it unset or raise it (docs/scale-out.md)",
            limit,
            cores,
            per_worker,
            PYTHON_ADDRESS_SPACE_MB,
        )


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
    frame.write_ipc(sink, compression="zstd")  # evidence of 2,000 articles: 5.6 MB plain, 1.7 MB compressed
    return sink.getvalue()


def _frames(batch: pa.RecordBatch, column: str) -> list[pl.DataFrame]:
    return [pl.read_ipc(io.BytesIO(data)) for data in batch.column(column).to_pylist()]


def _export(con: duckdb.DuckDBPyConnection, ids: pl.DataFrame, columns: tuple[str, ...], path: Path) -> list[str]:
    """Write article_id, content_version and the article_meta `columns` of `ids` to one Parquet file; return the
    text files holding their texts."""
    from jobs.textstore import text_files_of

    meta, files = text_files_of(con, ids.get_column("article_id"), columns=columns)
    meta.drop("text_file_id").write_parquet(path)
    return sorted(files.values())


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


# ------------------------------------------------------------------------------------------------ ingest


@contextmanager
def prepare_files(
    con: duckdb.DuckDBPyConnection,
    plans: list[FilePlan],
    *,
    options: IngestOptions,
    normalize: NormalizeOptions,
    master: str | None = None,
) -> Iterator[Callable[[FilePlan], Iterator[PreparedBatch]]]:
    """Read and normalise files as one Spark job (a task per file, `jobs.ingest.prepared_batches`); yields a
    function giving a file's prepared batches, in order, for the driver to load (`jobs.ingest.ingest_file`).

    The tasks write each batch's rows and rejects as Arrow IPC files to the staging folder and return one small
    row per batch; a file that cannot be read returns its ReadError, raised again when the driver reaches it,
    so the file fails as it does with the local engine. The job runs to completion before anything is loaded.
    """
    from jobs.ingest import PreparedBatch, prepared_batches
    from jobs.readers import ReadError

    with _staging(con) as folder:
        batches_of: dict[str, list[tuple[str, int, str | None, str | None]]] = {}  # path: (stem, n, error, read error)
        if plans:
            spark = session(master)
            prep = folder / "prep"
            prep.mkdir()

            def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
                for rb in batches:
                    for index, path, fmt in zip(
                        *(rb.column(c).to_pylist() for c in ("file", "path", "fmt")), strict=True
                    ):
                        number = 0
                        try:
                            for number, batch in enumerate(prepared_batches(Path(path), fmt, options, normalize), 1):
                                batch.good.write_ipc(prep / f"{index}-{number}.good.arrow", compression="lz4")
                                batch.rejects.write_ipc(prep / f"{index}-{number}.rejects.arrow", compression="lz4")
                                yield _batch_row(index, number, batch.n_records, batch.error, None)
                        except ReadError as exc:
                            yield _batch_row(index, number + 1, 0, None, str(exc))

            files = [(i, str(p.path), p.fmt or "") for i, p in enumerate(plans)]
            started = time.perf_counter()
            listed = spark.createDataFrame(files, "file long, path string, fmt string")
            listed.repartitionByRange(len(files), "file").mapInArrow(read, _INGEST_OUT).write.parquet(
                str(folder / "out")
            )
            rows = pl.read_parquet(_parts(folder / "out")).sort("file", "batch")
            for (index,), group in rows.group_by(["file"], maintain_order=True):
                if group["batch"].to_list() != list(range(1, group.height + 1)):
                    raise RuntimeError(f"spark ingest: the batches of {files[index][1]} came back incomplete")
                batches_of[files[index][1]] = [
                    (f"{index}-{r['batch']}", r["n_records"], r["error"], r["read_error"])
                    for r in group.iter_rows(named=True)
                ]
            log.info(
                "spark ingest: %d files read and normalised (%d records), %.1fs",
                len(files),
                int(rows["n_records"].sum() or 0),
                time.perf_counter() - started,
            )

        def staged(plan: FilePlan) -> Iterator[PreparedBatch]:
            key = str(plan.path)
            if key not in batches_of:
                raise RuntimeError(f"spark ingest: {key} was not read by the Spark job")
            for stem, n_records, error, read_error in batches_of[key]:
                if read_error is not None:
                    raise ReadError(read_error)
                good = pl.read_ipc(prep / f"{stem}.good.arrow")
                rejects = pl.read_ipc(prep / f"{stem}.rejects.arrow")
                yield PreparedBatch(good, rejects, n_records, error)

        yield staged


_INGEST_OUT = "file long, batch long, n_records long, error string, read_error string"


def _batch_row(index: int, number: int, n_records: int, error: str | None, read_error: str | None) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"file": [index], "batch": [number], "n_records": [n_records], "error": [error], "read_error": [read_error]},
        schema=pa.schema(
            [
                ("file", pa.int64()),
                ("batch", pa.int64()),
                ("n_records", pa.int64()),
                ("error", pa.string()),
                ("read_error", pa.string()),
            ]
        ),
    )


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

    One task per text file: it reads its own file's metadata rows and streams the file's texts itself
    (`_file_articles`): the JVM holds no texts and no metadata, a task one text file's reader and a batch, whatever
    the corpus's size. The job runs to completion before the first batch is yielded, so a failed job writes
    nothing.
    """
    if todo.height == 0:
        return
    spark = session(master)
    boilerplate_ipc = _ipc(boilerplate)

    with _staging(con) as folder:
        meta_path = str(folder / "m.parquet")
        files = _export_by_file(con, todo, ("outlet", "title", "authors", "language"), meta_path)
        units = list(files.items())  # task k reads text file units[k]

        def compute(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            learned = pl.read_ipc(io.BytesIO(boilerplate_ipc)).lazy()
            for batch in batches:
                for k in batch.column("id").to_pylist():
                    file_id, path = units[k]
                    meta = pl.scan_parquet(meta_path).filter(pl.col("text_file_id") == file_id).collect()
                    for articles in _file_articles(meta.drop("text_file_id"), path, ARROW_BATCH_ROWS):
                        features, evidence, removed = article_features(
                            articles.select("article_id", "outlet", "title", "text", "authors", "language").lazy(),
                            boilerplate=learned,
                            lexicons=lexicons,
                        ).collect()
                        yield pa.RecordBatch.from_pydict(
                            {"features": [_ipc(features)], "evidence": [_ipc(evidence)], "removed": [_ipc(removed)]}
                        )

        started = time.perf_counter()
        out = folder / "out"
        tasks = spark.range(len(units), numPartitions=len(units))  # one text file per task
        tasks.mapInArrow(compute, _FEATURES_OUT).write.options(**RESULT_WRITE_OPTIONS).parquet(str(out))
        log.info("spark featurize: %d articles, %.1fs", todo.height, time.perf_counter() - started)
        yield from _rebatch(out, batch_size)


def _export_by_file(
    con: duckdb.DuckDBPyConnection, ids: pl.DataFrame, columns: tuple[str, ...], path: str
) -> dict[int, str]:
    """Write article_id, content_version, text_file_id and the article_meta `columns` of `ids` to one Parquet file,
    sorted by text file (a task's filter on its file skips the other row groups); return {text_file_id: path} of
    the text files holding them."""
    from jobs.textstore import TextStoreError, _check_exist, text_files_of

    meta, files = text_files_of(con, ids.get_column("article_id"), columns=columns)
    if meta["text_file_id"].null_count():
        raise TextStoreError(f"{meta['text_file_id'].null_count()} article(s) have no text file registered")
    _check_exist(list(files.values()))
    meta.sort("text_file_id", "article_id").write_parquet(path, row_group_size=ARROW_BATCH_ROWS * 10)
    return files


def _file_articles(meta: pl.DataFrame, path: str, rows: int) -> Iterator[pl.DataFrame]:
    """`meta` (article_id, content_version, other columns) with `text`, from the one text file `path` that holds
    them, about `rows` articles at a time: the file is streamed, so memory is its reader (compressed column chunk,
    dictionary page) and a batch, not its texts. Every row of `meta` must find its text (as in jobs.textstore)."""
    from jobs.textstore import TEXT_COLUMNS, TextStoreError

    meta = meta.with_columns(pl.col("content_version").cast(pl.Int32))
    pending: list[pl.DataFrame] = []
    found = waiting = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=list(TEXT_COLUMNS)):
        texts = pl.from_arrow(batch)
        assert isinstance(texts, pl.DataFrame)
        part = meta.join(texts.cast(pl.Schema(TEXT_COLUMNS)), on=["article_id", "content_version"])
        found += part.height
        waiting += part.height
        if part.height:
            pending.append(part)
        if waiting >= rows:
            yield pl.concat(pending)
            pending, waiting = [], 0
    if pending:
        yield pl.concat(pending)
    if found < meta.height:
        raise TextStoreError(
            f"{meta.height - found} article(s) have no text in the text file registered for them ({path}): "
            "the text files were changed or replaced outside presstrust"
        )


def _rebatch(out: Path, batch_size: int) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """Group the tasks' frames into write batches of at most about batch_size articles."""
    pending: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
    rows = 0
    for batch in (b for part in _parts(out) for b in pq.ParquetFile(part).iter_batches(batch_size=16)):
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


@dataclass(frozen=True)
class _Bucket:
    """Rows [first, end) of the dated processing order one task clusters: a warm-up [first, core_start), the
    core [core_start, core_end) whose stories (by their first article) the bucket owns, and a tail to end that
    holds the later articles of those stories."""

    key: int
    first: int
    core_start: int
    core_end: int
    end: int
    t0: int  # published_at (epoch us) of the core's first article: the clustering state is compared there


def _plan(
    dated_t: np.ndarray, config: CorroborationConfig, core_blocks: int | None, warmup: timedelta
) -> list[_Bucket]:
    """Buckets of whole clustering blocks over the dated articles' times (sorted in processing order)."""
    n, bs = len(dated_t), config.block_size
    n_blocks = -(-n // bs)
    if config.max_story_span is None:  # stories without a span cap can reach back arbitrarily: one bucket
        core_blocks = n_blocks
    elif core_blocks is None:
        core_blocks = min(MAX_CORE_BLOCKS, max(1, -(-n_blocks // MIN_BUCKETS)))
    us = timedelta(microseconds=1)
    back = warmup // us
    ahead = (config.max_story_span or timedelta(0)) // us
    buckets = []
    for key, core_start in enumerate(range(0, n, core_blocks * bs)):
        core_end = min(n, core_start + core_blocks * bs)
        t0 = int(dated_t[core_start])
        first = int(np.searchsorted(dated_t, t0 - back, side="left")) // bs * bs
        last = int(np.searchsorted(dated_t, int(dated_t[core_end - 1]) + ahead, side="right"))
        end = min(n, -(-last // bs) * bs)
        buckets.append(_Bucket(key, first, core_start, core_end, end, t0))
    return buckets


def _cluster_rows(articles: pl.DataFrame, start: int, model: TextModel, config: CorroborationConfig) -> pl.DataFrame:
    """ARTICLE_SCHEMA rows plus `g` (position in the processing order) and `root_g` (its story's first article's)
    of dated articles that are rows start, start + 1, ... of the whole corpus's processing order: the local
    engine's StoryStream (jobs/corroborate.py) started at that position."""
    from jobs.corroborate import text_chars

    frame = articles.with_columns(
        pl.col("title").fill_null(""), pl.col("text").fill_null("").str.slice(0, text_chars(config))
    )
    stream = StoryStream(model, config, start=start)
    rows = pl.concat([stream.push(frame), stream.close()])
    ids = frame.sort("published_at", "article_id").select(
        "article_id", (pl.int_range(pl.len(), dtype=pl.Int64) + start).alias("g")
    )
    roots = ids.select((pl.lit("s_") + pl.col("article_id")).alias("story_id"), pl.col("g").alias("root_g"))
    return rows.join(ids, on="article_id").join(roots, on="story_id", how="left")


def _alive(rows: pl.DataFrame, bucket: _Bucket, config: CorroborationConfig) -> pl.DataFrame:
    """(article_id, story_id) of the rows before the core that belong to stories the clustering state still
    holds when the core's first block starts (the stories whose first and latest article are recent enough)."""
    us = timedelta(microseconds=1)
    span = (config.max_story_span or timedelta(0)) // us
    before = rows.filter(pl.col("g").is_between(bucket.first, bucket.core_start, closed="left")).with_columns(
        pl.col("published_at").dt.epoch("us").alias("t")
    )
    stories = before.group_by("story_id").agg(
        pl.col("t").min().alias("first_t"),
        pl.col("t").max().alias("last_t"),
        (pl.lit("s_") + pl.col("article_id") == pl.col("story_id")).any().alias("has_root"),
    )
    open_ = stories.filter(
        pl.col("has_root")
        & (pl.col("first_t") >= bucket.t0 - span)
        & (pl.col("last_t") >= bucket.t0 - config.window // us)
    )
    return before.join(open_, on="story_id", how="semi").select("article_id", "story_id").sort("article_id")


def stream_all(
    con: duckdb.DuckDBPyConnection,
    base: pl.DataFrame,
    config: CorroborationConfig,
    *,
    master: str | None = None,
    core_blocks: int | None = None,
    warmup: timedelta | None = None,
) -> pl.DataFrame:
    """Story assignments of every article (ARTICLE_SCHEMA), equal to the local engine's first run.

    `base`: article_id, outlet, published_at, corpus of every article. Two Spark jobs: the document frequencies
    of the text model (per task, summed by Spark), then the buckets of `_plan`, each clustered by `_cluster_rows`
    from an empty state at its warm-up start, and the undated articles per corpus by `assign_stories`. The driver
    then takes the buckets in time order: a bucket whose clustering state at its core's start equals the one
    the accepted buckets give (`_alive`: the same open stories with the same articles, so the same sums, as
    the rows and blocks are the same) has exactly the local engine's stories from there on; any other bucket
    is clustered again on the driver from the warm-up start of the last bucket that matched.
    """
    span = config.max_story_span or timedelta(0)
    # at least the span: then every story open at a bucket's start has all its articles in the warm-up
    warmup = max(warmup if warmup is not None else 2 * span + config.window, span)
    plan = base.sort("published_at", "article_id", nulls_last=True)
    dated = (
        plan.filter(pl.col("published_at").is_not_null()).with_row_index("g").with_columns(pl.col("g").cast(pl.Int64))
    )
    buckets = (
        _plan(dated["published_at"].dt.epoch("us").to_numpy(), config, core_blocks, warmup) if dated.height else []
    )
    undated = plan.filter(pl.col("published_at").is_null()).with_columns(pl.col("corpus").cast(pl.String).fill_null(""))
    corpora = sorted(undated["corpus"].unique().to_list())
    members = [
        dated.slice(b.first, b.end - b.first).select("article_id", "g", pl.lit(b.key, dtype=pl.Int64).alias("bucket"))
        for b in buckets
    ]
    members += [
        undated.filter(pl.col("corpus") == c).select(
            "article_id", pl.lit(None, dtype=pl.Int64).alias("g"), pl.lit(-1 - k, dtype=pl.Int64).alias("bucket")
        )
        for k, c in enumerate(corpora)
    ]
    spark = session(master)
    from pyspark.sql import functions as F

    with _staging(con) as folder:
        files = _export(con, base, ("title",), folder / "m.parquet")
        keys = base.select(
            "article_id",
            "outlet",
            pl.col("corpus").cast(pl.String).fill_null(""),
            pl.col("published_at").dt.epoch("us").alias("t"),
        )
        keys.write_parquet(folder / "k.parquet")
        pl.concat(members).write_parquet(folder / "b.parquet")
        started = time.perf_counter()
        texts = _with_texts(spark, folder / "m.parquet", files).select("article_id", "title", "text")

        def frequencies(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            """Document frequencies of a task's articles, summed over its Arrow batches ~20,000 articles at a time
            (as the local engine sums its batches): one row per term and task to shuffle."""
            total: list[pl.DataFrame] = []
            pending: list[pl.DataFrame] = []
            articles = 0
            for batch in batches:
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                pending.append(
                    document_frequencies(frame.with_columns(outlet=pl.lit(""), published_at=pl.lit(None)), config)
                )
                articles += frame.height
                if articles >= FREQUENCY_ARTICLES:
                    total, pending, articles = [merge_frequencies(total + pending)], [], 0
            if total or pending:
                summed = merge_frequencies(total + pending)
                signed = summed.select(pl.col("h").reinterpret(signed=True), pl.col("df").cast(pl.Int64))
                yield from signed.to_arrow().to_batches(max_chunksize=100_000)

        texts.mapInArrow(frequencies, "h long, df long").groupBy("h").agg(F.sum("df").alias("df")).write.parquet(
            str(folder / "df")
        )
        counted = pl.read_parquet(_parts(folder / "df"))
        model = text_model_from_frequencies(
            counted.select(pl.col("h").reinterpret(signed=False), pl.col("df")), base.height, config
        )
        log.info("spark corroborate: text model of %d terms, %.1fs", model.n_terms, time.perf_counter() - started)

        def cluster(table: pa.Table) -> pa.Table:
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            key = int(frame["bucket"][0])
            articles = frame.select(
                "article_id",
                "outlet",
                pl.from_epoch("t", time_unit="us").alias("published_at"),
                "corpus",
                "title",
                "text",
            )
            if key >= 0:
                start = int(frame["g"].min())  # type: ignore[arg-type]
                if frame["g"].max() != start + frame.height - 1 or frame["g"].n_unique() != frame.height:
                    raise RuntimeError(f"bucket {key}: {frame.height} articles are not consecutive (texts missing?)")
                rows = _cluster_rows(articles, start, model, config)
            else:
                rows = assign_stories(articles, config, text_model=model).with_columns(
                    pl.lit(None, dtype=pl.Int64).alias("g"), pl.lit(None, dtype=pl.Int64).alias("root_g")
                )
            if rows.height != frame.height:
                raise RuntimeError(f"bucket {key}: {rows.height} rows clustered for {frame.height} articles")
            return pa.table({"bucket": [key], "rows": [_ipc(rows)]})

        groups = texts.join(spark.read.parquet(str(folder / "k.parquet")), on="article_id").join(
            spark.read.parquet(str(folder / "b.parquet")), on="article_id"
        )
        groups.groupBy("bucket").applyInArrow(cluster, "bucket long, rows binary").write.parquet(str(folder / "out"))
        results: dict[int, pl.DataFrame] = {}
        for part in _parts(folder / "out"):
            for batch in pq.ParquetFile(part).iter_batches(batch_size=16):
                for key, data in zip(batch.column("bucket").to_pylist(), batch.column("rows").to_pylist(), strict=True):
                    if key in results:
                        raise RuntimeError(f"bucket {key} was returned twice")
                    results[key] = pl.read_ipc(io.BytesIO(data))
        expected = {b.key for b in buckets} | {-1 - k for k in range(len(corpora))}
        if set(results) != expected:
            raise RuntimeError(f"spark corroborate returned {len(results)} of {len(expected)} buckets")
        log.info("spark corroborate: %d buckets clustered, %.1fs", len(buckets), time.perf_counter() - started)
    out = _accept(con, dated, buckets, results, model, config)
    out += [results[-1 - k].select(list(ARTICLE_SCHEMA)) for k in range(len(corpora))]
    assignments = pl.concat(out) if out else pl.DataFrame(schema=ARTICLE_SCHEMA)
    if assignments.height != base.height or assignments["article_id"].n_unique() != base.height:
        raise RuntimeError(f"spark corroborate returned {assignments.height} rows for {base.height} articles")
    return assignments


def _accept(
    con: duckdb.DuckDBPyConnection,
    dated: pl.DataFrame,
    buckets: list[_Bucket],
    results: dict[int, pl.DataFrame],
    model: TextModel,
    config: CorroborationConfig,
) -> list[pl.DataFrame]:
    """Each bucket's own stories, in time order: its task's when the task started from the state the earlier
    buckets leave, else clustered again here from the last such task's start (exact, as that task was)."""
    from jobs.textstore import read_texts

    accepted: list[pl.DataFrame] = []
    chain = 0  # warm-up start of the last bucket whose own task matched: a stream from there is exact
    reruns = rerun_rows = 0
    for j, b in enumerate(buckets):
        rows = results[b.key]
        if rows.height != b.end - b.first:  # e.g. text files that no longer hold an article's current version
            raise RuntimeError(f"bucket {b.key}: {rows.height} articles with a text of {b.end - b.first} planned")
        earlier = [accepted[i] for i in range(j - 1, -1, -1) if buckets[i].end > b.first]  # rows before the core
        known = pl.concat(earlier) if earlier else rows.clear()
        if b.first == 0 or _alive(rows, b, config).equals(_alive(known, b, config)):
            chain = b.first
        else:
            segment = dated.slice(chain, b.end - chain)
            texts = read_texts(con, segment["article_id"])
            articles = segment.select("article_id", "outlet", "published_at", "corpus").join(texts, on="article_id")
            rows = _cluster_rows(articles, chain, model, config)
            reruns += 1
            rerun_rows += segment.height
        own = rows.filter(pl.col("root_g").is_between(b.core_start, b.core_end, closed="left"))
        accepted.append(own.select(*ARTICLE_SCHEMA, "g"))
    if reruns:
        log.info(
            "spark corroborate: %d of %d buckets clustered again on the driver (%d rows)",
            reruns,
            len(buckets),
            rerun_rows,
        )
    return [a.drop("g") for a in accepted]


# ------------------------------------------------------------------------------------------------ aggregate


def outlet_aggregates(
    con: duckdb.DuckDBPyConnection, values: pl.LazyFrame, *, features: list[str], master: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`jobs.aggregate.outlet_aggregates` (each outlet's feature moments and window summary) as one Spark job:
    the per-article values are staged as Parquet and `groupBy(outlet).applyInArrow` calls the same function on
    each outlet's rows. The moments are exact integer sums, so the result is the local engine's."""
    from features.aggregate import OUTLET_MOMENTS_SCHEMA, OUTLET_WINDOW_SCHEMA
    from jobs.aggregate import outlet_aggregates as per_outlet

    spark = session(master)

    def compute(table: pa.Table) -> pa.Table:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        frame = frame.with_columns(pl.from_epoch("published_at", time_unit="us"))
        moments, windows = per_outlet(frame.lazy(), features=features)
        return pa.table({"moments": [_ipc(moments)], "windows": [_ipc(windows)]})

    with _staging(con) as folder:
        # times as epoch microseconds: Spark would read a naive Parquet timestamp as its own type
        values.with_columns(pl.col("published_at").dt.epoch("us")).sink_parquet(folder / "v.parquet")
        started = time.perf_counter()
        grouped = spark.read.parquet(str(folder / "v.parquet")).groupBy("outlet")
        grouped.applyInArrow(compute, "moments binary, windows binary").write.parquet(str(folder / "out"))
        moments: list[pl.DataFrame] = []
        windows: list[pl.DataFrame] = []
        for part in _parts(folder / "out"):
            for batch in pq.ParquetFile(part).iter_batches(batch_size=256):
                moments += _frames(batch, "moments")
                windows += _frames(batch, "windows")
        log.info("spark aggregate: %d outlets, %.1fs", len(windows), time.perf_counter() - started)
    return (
        pl.concat(moments).sort("outlet", "feature") if moments else pl.DataFrame(schema=OUTLET_MOMENTS_SCHEMA),
        pl.concat(windows).sort("outlet") if windows else pl.DataFrame(schema=OUTLET_WINDOW_SCHEMA),
    )


def _parts(folder: Path) -> list[Path]:
    """The Parquet files of a finished Spark job's output (only after its _SUCCESS marker)."""
    if not (folder / "_SUCCESS").exists():
        raise RuntimeError(f"the Spark job left no _SUCCESS marker in {folder}")
    return sorted(folder.glob("*.parquet"))
