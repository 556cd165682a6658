"""The Spark engine: ingest, featurize, corroborate and aggregate as Apache Spark jobs, calling the same pure functions.

The local engine (jobs/engines/local.py) calls `jobs.readers.prepare.FileReader.batches`,
`features.pipeline.article_features`, `features.corroboration.StoryStream` and `jobs.engines.base.per_outlet`
in this process. This engine exports what a stage needs to Parquet in a staging folder, lets Spark run those
same functions on executors (ingest: `mapInArrow`, a task per input file; featurize: a task per text file,
reading its own texts; corroborate: `mapInArrow` for the text model's document frequencies,
`groupBy(bucket).applyInArrow` for the clustering; claims: a task per text file, as featurize, running
`features.claims.article_claims`; aggregate: `groupBy(outlet).applyInArrow`), and stages the
results. Only when the Spark job has finished does the driver hand the staged results to the stage, which
writes them as it writes the local engine's (same transactions, same tables, same `runs` rows): a failed Spark
job raises before anything is written.

Each Python call's result frames travel as Arrow IPC bytes, one binary column per frame and one row per call
(frames of different schemas from one call, and no Spark type mapping of Polars' types).

Corroboration (a first run or `--full`; later runs re-cluster a few days locally, as the local engine does)
gives exactly the local engine's stories: the same text model (document frequencies over every article), and
the dated articles in buckets of whole clustering blocks of the local stream's processing order, each
clustered by a StoryStream started at its bucket's position after a warm-up; the driver accepts a bucket when
the stories open at its start are those the earlier buckets give, and clusters it again otherwise
(jobs/engines/spark/corroborate.py, docs/scale-out.md).

Modules: `session` (the Spark session; pyspark is imported only there and in the jobs), `staging` (what
travels between driver and tasks), and one module per stage: `ingest`, `featurize`, `corroborate`, `claims`,
`aggregate`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
import polars as pl

from features.claims import CitedOutlets
from features.corroboration import CorroborationConfig
from features.lexicons import Lexicons
from jobs.engines.base import FeatureBatch, FileBatches
from jobs.engines.spark import aggregate, claims, corroborate, featurize, ingest
from jobs.engines.spark.session import SparkUnavailable, spark_available
from jobs.readers.prepare import FileReader

__all__ = ["SparkEngine", "SparkUnavailable", "spark_available"]


class SparkEngine:
    """`--engine spark`: each operation is one or two Spark jobs on `master` (default local[2], or spark-submit's);
    the session starts with the first operation that needs it."""

    name = "spark"
    workers: int | None = None  # Spark schedules its own executors and Python workers

    def __init__(self, master: str | None = None) -> None:
        self.master = master

    def read_files(
        self, con: duckdb.DuckDBPyConnection, files: Sequence[tuple[Path, str]], reader: FileReader
    ) -> AbstractContextManager[FileBatches]:
        return ingest.read_files(con, files, reader, master=self.master)

    def featurize_batches(
        self,
        con: duckdb.DuckDBPyConnection,
        todo: pl.DataFrame,
        *,
        boilerplate: pl.DataFrame,
        lexicons: Lexicons,
        batch_size: int,
    ) -> Iterator[FeatureBatch]:
        return featurize.featurize_batches(
            con, todo, boilerplate=boilerplate, lexicons=lexicons, batch_size=batch_size, master=self.master
        )

    def claim_batches(
        self,
        con: duckdb.DuckDBPyConnection,
        todo: pl.DataFrame,
        *,
        boilerplate: pl.DataFrame,
        lexicons: Lexicons,
        cited: CitedOutlets,
        batch_size: int,
    ) -> Iterator[pl.DataFrame]:
        return claims.claim_batches(
            con,
            todo,
            boilerplate=boilerplate,
            lexicons=lexicons,
            cited=cited,
            batch_size=batch_size,
            master=self.master,
        )

    def cluster_all(
        self, con: duckdb.DuckDBPyConnection, base: pl.DataFrame, config: CorroborationConfig
    ) -> pl.DataFrame:
        return corroborate.cluster_all(con, base, config, master=self.master)

    def outlet_aggregates(
        self, con: duckdb.DuckDBPyConnection, values: pl.LazyFrame, *, features: list[str]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        return aggregate.outlet_aggregates(con, values, features=features, master=self.master)
