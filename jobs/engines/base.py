"""The engine interface: the few operations of the article stages that can run somewhere else than here.

A stage (jobs/stages/) receives an `Engine` and never asks which one it is; the engine is chosen once, in the
CLI, by `jobs.engines.get_engine("local" | "spark", master=...)`. Every engine computes with the same pure
functions (jobs.readers, features) and hands its results back to the stage, which writes them through the one
write path (same transactions, same tables, same `runs` rows). Engines read the database and its text files
but never write them; a failed engine operation raises before the stage writes anything.

Adding an engine: implement these methods (docs/architecture.md, "Engines"), register it in
`jobs.engines.get_engine`, and add it to the equality tests (tests/jobs/engines/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import NamedTuple, Protocol

import duckdb
import polars as pl

from features.aggregate import outlet_feature_moments, outlet_window_summary
from features.claims import CitedOutlets
from features.corroboration import CorroborationConfig
from features.lexicons import Lexicons
from jobs.readers.prepare import FileReader, PreparedBatch

FileBatches = Callable[[Path, str], Iterator[PreparedBatch]]
"""(path, format) -> that input file's prepared batches, in order; raises ReadError for an unreadable file."""


class FeatureBatch(NamedTuple):
    """One write batch of featurize: the articles' ids and their three output frames (features.pipeline)."""

    ids: pl.DataFrame
    features: pl.DataFrame
    evidence: pl.DataFrame
    removed: pl.DataFrame


class Engine(Protocol):
    """Where the per-article work of ingest, featurize, corroborate, claims and aggregate runs."""

    name: str
    """"local" or "spark": recorded in each run's parameters."""
    master: str | None
    """The Spark master URL the engine runs on (None: this process, or what spark-submit gives)."""

    @property
    def workers(self) -> int | None:
        """The local engine's worker processes for featurize (None: the engine schedules its own, as Spark does)."""
        ...

    def read_files(
        self, con: duckdb.DuckDBPyConnection, files: Sequence[tuple[Path, str]], reader: FileReader
    ) -> AbstractContextManager[FileBatches]:
        """Read and normalise `files` ((path, format) pairs); the context gives each file's batches for the stage
        to load, one file per transaction. An engine may read every file before the first is loaded."""
        ...

    def featurize_batches(
        self,
        con: duckdb.DuckDBPyConnection,
        todo: pl.DataFrame,
        *,
        boilerplate: pl.DataFrame,
        lexicons: Lexicons,
        batch_size: int,
    ) -> Iterator[FeatureBatch]:
        """Features, evidence and removed lines of the `todo` articles (article_id, outlet), in batches of at
        most about `batch_size` articles (`features.pipeline.article_features` with the learned boilerplate)."""
        ...

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
        """The claim sentences (features.claims.CLAIMS_SCHEMA) of the `todo` articles (article_id, outlet), in
        batches of the claims of at most about `batch_size` articles (`features.claims.article_claims` with the
        outlets' learned boilerplate lines `boilerplate`: outlet, line_norm)."""
        ...

    def cluster_all(
        self, con: duckdb.DuckDBPyConnection, base: pl.DataFrame, config: CorroborationConfig
    ) -> pl.DataFrame:
        """Story assignments (features.corroboration.ARTICLE_SCHEMA) of every article of `base` (article_id,
        outlet, published_at, corpus), equal to one `StoryStream` over all of them in time order."""
        ...

    def outlet_aggregates(
        self, con: duckdb.DuckDBPyConnection, values: pl.LazyFrame, *, features: list[str]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(feature moments, window summary) of every outlet in `values` (`per_outlet`, whose results for an
        outlet depend on its own rows only)."""
        ...


def per_outlet(values: pl.LazyFrame, *, features: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(moments, window summary) of the outlets in `values`: each outlet's depend on its own rows only, so an
    engine may compute them per outlet group anywhere and concatenate."""
    return (
        outlet_feature_moments(values, features=features).collect(),
        outlet_window_summary(values).collect(),
    )
