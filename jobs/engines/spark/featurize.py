"""`featurize --engine spark`: one task per text file, streaming its own texts through the feature pipeline."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from features.lexicons import Lexicons
from features.pipeline import article_features
from jobs.engines.base import FeatureBatch
from jobs.engines.spark.session import ARROW_BATCH_ROWS, session
from jobs.engines.spark.staging import frames, ipc, parts, staging
from jobs.store.texts import TextStoreError, check_files_exist, stream_file_texts, text_files_of

log = logging.getLogger(__name__)

_FEATURES_OUT = "features binary, evidence binary, removed binary"  # one row per Python call
# Spark's Parquet writer first checks its page and row-group sizes after 100 rows: a featurize task's result rows
# (one per Python call, MBs each, a few dozen per task) stayed in one page until the task ended, in the JVM heap
# (1,000,000 articles: "Java heap space" at 3g). Check after every row, and cut row groups at 16 MB.
RESULT_WRITE_OPTIONS = {"parquet.page.size.row.check.min": "1", "parquet.block.size": str(16 * 2**20)}


def featurize_batches(
    con: duckdb.DuckDBPyConnection,
    todo: pl.DataFrame,
    *,
    boilerplate: pl.DataFrame,
    lexicons: Lexicons,
    batch_size: int,
    master: str | None,
) -> Iterator[FeatureBatch]:
    """(ids, features, evidence, removed) per batch of at most batch_size articles, computed by one Spark job.

    One task per text file: it reads its own file's metadata rows and streams the file's texts itself
    (`jobs.store.texts.stream_file_texts`): the JVM holds no texts and no metadata, a task one text file's reader
    and a batch, whatever the corpus's size. The job runs to completion before the first batch is yielded, so a
    failed job writes nothing.
    """
    if todo.height == 0:
        return
    spark = session(master)
    boilerplate_ipc = ipc(boilerplate)

    with staging(con) as folder:
        meta_path = str(folder / "m.parquet")
        files = _export_by_file(con, todo, ("outlet", "title", "authors", "language"), meta_path)
        units = list(files.items())  # task k reads text file units[k]

        def compute(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            learned = pl.read_ipc(io.BytesIO(boilerplate_ipc)).lazy()
            for batch in batches:
                for k in batch.column("id").to_pylist():
                    file_id, path = units[k]
                    meta = pl.scan_parquet(meta_path).filter(pl.col("text_file_id") == file_id).collect()
                    for articles in stream_file_texts(meta.drop("text_file_id"), path, ARROW_BATCH_ROWS):
                        features, evidence, removed = article_features(
                            articles.select("article_id", "outlet", "title", "text", "authors", "language").lazy(),
                            boilerplate=learned,
                            lexicons=lexicons,
                        ).collect()
                        yield pa.RecordBatch.from_pydict(
                            {"features": [ipc(features)], "evidence": [ipc(evidence)], "removed": [ipc(removed)]}
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
    meta, files = text_files_of(con, ids.get_column("article_id"), columns=columns)
    if meta["text_file_id"].null_count():
        raise TextStoreError(f"{meta['text_file_id'].null_count()} article(s) have no text file registered")
    check_files_exist(list(files.values()))
    meta.sort("text_file_id", "article_id").write_parquet(path, row_group_size=ARROW_BATCH_ROWS * 10)
    return files


def _rebatch(out: Path, batch_size: int) -> Iterator[FeatureBatch]:
    """Group the tasks' frames into write batches of at most about batch_size articles."""
    pending: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
    rows = 0
    for batch in (b for part in parts(out) for b in pq.ParquetFile(part).iter_batches(batch_size=16)):
        results = zip(frames(batch, "features"), frames(batch, "evidence"), frames(batch, "removed"), strict=True)
        for part in results:
            if pending and rows + part[0].height > batch_size:
                yield _concat(pending)
                pending, rows = [], 0
            pending.append(part)
            rows += part[0].height
    if pending:
        yield _concat(pending)


def _concat(results: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]) -> FeatureBatch:
    features, evidence, removed = (pl.concat([r[i] for r in results], how="vertical") for i in range(3))
    return FeatureBatch(features.select("article_id"), features, evidence, removed)
