"""What travels between the driver and the Spark tasks: a staging folder beside the database, result frames as
Arrow IPC bytes (one binary column per frame, one row per Python call), and the output of a finished job."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from jobs.store.texts import database_file, text_files_of


@contextmanager
def staging(con: duckdb.DuckDBPyConnection) -> Iterator[Path]:
    """A scratch folder beside the database (executors must see it: on a cluster, a shared filesystem)."""
    db_file = database_file(con)
    base = Path(os.environ.get("PRESSTRUST_SPARK_STAGING") or (db_file.parent if db_file else tempfile.gettempdir()))
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".presstrust-spark-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc(sink, compression="zstd")  # evidence of 2,000 articles: 5.6 MB plain, 1.7 MB compressed
    return sink.getvalue()


def frames(batch: pa.RecordBatch, column: str) -> list[pl.DataFrame]:
    return [pl.read_ipc(io.BytesIO(data)) for data in batch.column(column).to_pylist()]


def export_meta(con: duckdb.DuckDBPyConnection, ids: pl.DataFrame, columns: tuple[str, ...], path: Path) -> list[str]:
    """Write article_id, content_version and the article_meta `columns` of `ids` to one Parquet file; return the
    text files holding their texts."""
    meta, files = text_files_of(con, ids.get_column("article_id"), columns=columns)
    meta.drop("text_file_id").write_parquet(path)
    return sorted(files.values())


def with_texts(spark: Any, meta: Path, text_files: list[str]) -> Any:
    """The exported metadata joined with the texts of the current versions (as the articles view joins them).

    The metadata is broadcast, so each task joins the text file splits it reads: the texts are never shuffled.
    """
    from pyspark.sql import functions as F

    frame = spark.read.parquet(str(meta))
    if not text_files:
        return frame.withColumn("text", F.lit(None).cast("string"))
    texts = spark.read.parquet(*text_files).select("article_id", "content_version", "text")
    return texts.join(F.broadcast(frame), on=["article_id", "content_version"], how="inner")


def parts(folder: Path) -> list[Path]:
    """The Parquet files of a finished Spark job's output (only after its _SUCCESS marker)."""
    if not (folder / "_SUCCESS").exists():
        raise RuntimeError(f"the Spark job left no _SUCCESS marker in {folder}")
    return sorted(folder.glob("*.parquet"))
