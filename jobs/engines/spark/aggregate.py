"""`aggregate --engine spark`: each outlet's feature moments and window summary by `groupBy(outlet).applyInArrow`."""

from __future__ import annotations

import logging
import time

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from features.aggregate import OUTLET_MOMENTS_SCHEMA, OUTLET_WINDOW_SCHEMA
from jobs.engines.base import per_outlet
from jobs.engines.spark.session import session
from jobs.engines.spark.staging import frames, ipc, parts, staging

log = logging.getLogger(__name__)


def outlet_aggregates(
    con: duckdb.DuckDBPyConnection, values: pl.LazyFrame, *, features: list[str], master: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`jobs.engines.base.per_outlet` (each outlet's feature moments and window summary) as one Spark job: the
    per-article values are staged as Parquet and `groupBy(outlet).applyInArrow` calls the same function on each
    outlet's rows. The moments are exact integer sums, so the result is the local engine's."""
    spark = session(master)

    def compute(table: pa.Table) -> pa.Table:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        frame = frame.with_columns(pl.from_epoch("published_at", time_unit="us"))
        moments, windows = per_outlet(frame.lazy(), features=features)
        return pa.table({"moments": [ipc(moments)], "windows": [ipc(windows)]})

    with staging(con) as folder:
        # times as epoch microseconds: Spark would read a naive Parquet timestamp as its own type
        values.with_columns(pl.col("published_at").dt.epoch("us")).sink_parquet(folder / "v.parquet")
        started = time.perf_counter()
        grouped = spark.read.parquet(str(folder / "v.parquet")).groupBy("outlet")
        grouped.applyInArrow(compute, "moments binary, windows binary").write.parquet(str(folder / "out"))
        moments: list[pl.DataFrame] = []
        windows: list[pl.DataFrame] = []
        for part in parts(folder / "out"):
            for batch in pq.ParquetFile(part).iter_batches(batch_size=256):
                moments += frames(batch, "moments")
                windows += frames(batch, "windows")
        log.info("spark aggregate: %d outlets, %.1fs", len(windows), time.perf_counter() - started)
    return (
        pl.concat(moments).sort("outlet", "feature") if moments else pl.DataFrame(schema=OUTLET_MOMENTS_SCHEMA),
        pl.concat(windows).sort("outlet") if windows else pl.DataFrame(schema=OUTLET_WINDOW_SCHEMA),
    )
