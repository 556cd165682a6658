"""`corroborate --engine spark` (a first run or --full): the stream cut into buckets of clustering blocks, each
clustered by a Spark task; the driver accepts a bucket whose start state matches (docs/scale-out.md)."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

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
    text_chars,
    text_model_from_frequencies,
)
from jobs.engines.spark.session import session
from jobs.engines.spark.staging import export_meta, ipc, parts, staging, with_texts
from jobs.store.texts import read_texts

log = logging.getLogger(__name__)

MAX_CORE_BLOCKS = 40  # clustering blocks (512 articles each by default) a corroborate bucket owns, at most
FREQUENCY_ARTICLES = 20_000  # articles whose document frequencies a task sums at a time
MIN_BUCKETS = 8  # corroborate buckets wanted at least, for parallelism (fewer when there are fewer blocks)


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
    engine's StoryStream (jobs/engines/local.py) started at that position."""
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


def cluster_all(
    con: duckdb.DuckDBPyConnection,
    base: pl.DataFrame,
    config: CorroborationConfig,
    *,
    master: str | None,
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
    spark = session(master)
    with staging(con) as folder:
        files = export_meta(con, base, ("title",), folder / "m.parquet")
        _stage_keys(base, _members(dated, undated, buckets, corpora), folder)
        started = time.perf_counter()
        texts = with_texts(spark, folder / "m.parquet", files).select("article_id", "title", "text")
        model = _text_model(spark, texts, folder, base.height, config)
        log.info("spark corroborate: text model of %d terms, %.1fs", model.n_terms, time.perf_counter() - started)
        results = _cluster_buckets(spark, texts, folder, model, config)
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


def _members(dated: pl.DataFrame, undated: pl.DataFrame, buckets: list[_Bucket], corpora: list[str]) -> pl.DataFrame:
    """article_id, g (position in the dated processing order; null for undated), bucket of every task's articles:
    a dated bucket's rows [first, end), and one bucket (-1, -2, ...) of undated articles per corpus."""
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
    return (
        pl.concat(members)
        if members
        else pl.DataFrame(schema={"article_id": pl.String, "g": pl.Int64, "bucket": pl.Int64})
    )


def _stage_keys(base: pl.DataFrame, members: pl.DataFrame, folder: Path) -> None:
    """The articles' keys (k.parquet: outlet, corpus, time as epoch us) and bucket members (b.parquet)."""
    keys = base.select(
        "article_id",
        "outlet",
        pl.col("corpus").cast(pl.String).fill_null(""),
        pl.col("published_at").dt.epoch("us").alias("t"),
    )
    keys.write_parquet(folder / "k.parquet")
    members.write_parquet(folder / "b.parquet")


def _text_model(spark: Any, texts: Any, folder: Path, n_articles: int, config: CorroborationConfig) -> TextModel:
    """The text model over every article: document frequencies per task, summed by Spark (one Spark job)."""
    from pyspark.sql import functions as F

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
    counted = pl.read_parquet(parts(folder / "df"))
    return text_model_from_frequencies(
        counted.select(pl.col("h").reinterpret(signed=False), pl.col("df")), n_articles, config
    )


def _cluster_buckets(
    spark: Any, texts: Any, folder: Path, model: TextModel, config: CorroborationConfig
) -> dict[int, pl.DataFrame]:
    """Each bucket clustered by one task (`groupBy(bucket).applyInArrow`): its rows, by bucket key."""

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
        return pa.table({"bucket": [key], "rows": [ipc(rows)]})

    groups = texts.join(spark.read.parquet(str(folder / "k.parquet")), on="article_id").join(
        spark.read.parquet(str(folder / "b.parquet")), on="article_id"
    )
    groups.groupBy("bucket").applyInArrow(cluster, "bucket long, rows binary").write.parquet(str(folder / "out"))
    results: dict[int, pl.DataFrame] = {}
    for part in parts(folder / "out"):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=16):
            for key, data in zip(batch.column("bucket").to_pylist(), batch.column("rows").to_pylist(), strict=True):
                if key in results:
                    raise RuntimeError(f"bucket {key} was returned twice")
                results[key] = pl.read_ipc(io.BytesIO(data))
    return results


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
