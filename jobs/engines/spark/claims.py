"""`claims --engine spark`: the claim sentences of new articles, one task per text file (as featurize).

Each task reads its own text file's metadata rows and streams the file's texts itself, through
`features.claims.article_claims` (the same line, sentence, attribution and speculation steps as the local engine).
Matching stays in the claims stage: it compares the claims of a few days around the new articles with each other
(a product per article and its candidates), which needs the claims of every outlet of those days in one place.
"""

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

from features.claims import CLAIMS_SCHEMA, CitedOutlets, article_claims
from features.lexicons import Lexicons
from jobs.engines.spark.featurize import RESULT_WRITE_OPTIONS, _export_by_file
from jobs.engines.spark.session import ARROW_BATCH_ROWS, session
from jobs.engines.spark.staging import frames, ipc, parts, staging
from jobs.store.texts import stream_file_texts

log = logging.getLogger(__name__)

_CLAIMS_OUT = "articles long, claims binary"  # one row per Python call


def claim_batches(
    con: duckdb.DuckDBPyConnection,
    todo: pl.DataFrame,
    *,
    boilerplate: pl.DataFrame,
    lexicons: Lexicons,
    cited: CitedOutlets,
    batch_size: int,
    master: str | None,
) -> Iterator[pl.DataFrame]:
    """CLAIMS_SCHEMA rows of the `todo` articles, in batches of the claims of at most about batch_size articles,
    computed by one Spark job (a task per text file) that runs to completion before the first batch is yielded."""
    if todo.height == 0:
        return
    spark = session(master)
    boilerplate_ipc = ipc(boilerplate)

    with staging(con) as folder:
        meta_path = str(folder / "m.parquet")
        units = list(_export_by_file(con, todo, ("outlet", "title"), meta_path).items())

        def compute(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            learned = pl.read_ipc(io.BytesIO(boilerplate_ipc)).lazy()
            for batch in batches:
                for k in batch.column("id").to_pylist():
                    file_id, path = units[k]
                    meta = pl.scan_parquet(meta_path).filter(pl.col("text_file_id") == file_id).collect()
                    for articles in stream_file_texts(meta.drop("text_file_id"), path, ARROW_BATCH_ROWS):
                        found = article_claims(
                            articles.select("article_id", "outlet", "title", "text").lazy(),
                            boilerplate=learned,
                            lexicons=lexicons,
                            cited=cited,
                        ).collect()
                        yield pa.RecordBatch.from_pydict({"articles": [articles.height], "claims": [ipc(found)]})

        started = time.perf_counter()
        out = folder / "out"
        tasks = spark.range(len(units), numPartitions=len(units))
        tasks.mapInArrow(compute, _CLAIMS_OUT).write.options(**RESULT_WRITE_OPTIONS).parquet(str(out))
        log.info("spark claims: %d articles, %.1fs", todo.height, time.perf_counter() - started)
        yield from _rebatch(out, batch_size)


def _rebatch(out: Path, batch_size: int) -> Iterator[pl.DataFrame]:
    """The tasks' claim frames, grouped into batches of the claims of at most about batch_size articles."""
    pending: list[pl.DataFrame] = []
    articles = 0
    for batch in (b for part in parts(out) for b in pq.ParquetFile(part).iter_batches(batch_size=16)):
        for n, found in zip(batch.column("articles").to_pylist(), frames(batch, "claims"), strict=True):
            if pending and articles + n > batch_size:
                yield pl.concat(pending, how="vertical")
                pending, articles = [], 0
            pending.append(found.cast(dict(CLAIMS_SCHEMA)))  # type: ignore[arg-type]
            articles += n
    if pending:
        yield pl.concat(pending, how="vertical")
