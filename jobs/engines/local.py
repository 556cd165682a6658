"""The local engine: every operation runs in this process, with the pure functions the Spark engine runs too.

Memory is bounded by design where the corpus can be large: featurize reads a batch of texts at a time, and a
first clustering streams the corpus a text file at a time, spilling what clustering reads beside the database.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from features.claims import CitedOutlets, article_claims
from features.corroboration import (
    ARTICLE_SCHEMA,
    CorroborationConfig,
    StoryStream,
    assign_stories,
    document_frequencies,
    merge_frequencies,
    text_chars,
    text_model_from_frequencies,
)
from features.lexicons import Lexicons
from features.pipeline import article_features
from jobs.engines.base import FeatureBatch, FileBatches, per_outlet
from jobs.readers.prepare import FileReader
from jobs.store.texts import database_file, iter_texts, read_texts

log = logging.getLogger(__name__)

BATCH_ARTICLES = 20_000
"""Articles per streaming batch of a first clustering: with the stories open in the window, what memory holds."""


class LocalEngine:
    """The default engine: this process."""

    name = "local"
    master: str | None = None

    @contextmanager
    def read_files(
        self, con: duckdb.DuckDBPyConnection, files: Sequence[tuple[Path, str]], reader: FileReader
    ) -> Iterator[FileBatches]:
        """Each file is read when the stage loads it (nothing is read ahead)."""
        yield reader.batches

    def featurize_batches(
        self,
        con: duckdb.DuckDBPyConnection,
        todo: pl.DataFrame,
        *,
        boilerplate: pl.DataFrame,
        lexicons: Lexicons,
        batch_size: int,
    ) -> Iterator[FeatureBatch]:
        for first in range(0, todo.height, batch_size):
            ids = todo.slice(first, batch_size)
            articles = read_texts(
                con, ids.get_column("article_id"), columns=("outlet", "title", "authors", "language")
            ).select("article_id", "outlet", "title", "text", "authors", "language")
            frames = article_features(articles.lazy(), boilerplate=boilerplate.lazy(), lexicons=lexicons)
            yield FeatureBatch(ids, *frames.collect())

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
        for first in range(0, todo.height, batch_size):
            texts = read_texts(con, todo.slice(first, batch_size).get_column("article_id"), columns=("outlet", "title"))
            claims = article_claims(texts.lazy(), boilerplate=boilerplate.lazy(), lexicons=lexicons, cited=cited)
            yield claims.collect()

    def cluster_all(
        self, con: duckdb.DuckDBPyConnection, base: pl.DataFrame, config: CorroborationConfig
    ) -> pl.DataFrame:
        return stream_all(con, base, config, BATCH_ARTICLES)

    def outlet_aggregates(
        self, con: duckdb.DuckDBPyConnection, values: pl.LazyFrame, *, features: list[str]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        return per_outlet(values, features=features)


def _text_batches(con: duckdb.DuckDBPyConnection, cut: int, rows: int) -> Iterator[pl.DataFrame]:
    """Every article's id, title and first ``cut`` characters of text, a text file at a time, ``rows`` at a time."""
    for texts in iter_texts(con, cut=cut):
        yield from texts.iter_slices(rows)


def _spill_root(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`<name>.spill/` beside the database (None, the system's temporary folder, for an in-memory one), emptied
    first: what a killed first run left there is removed by the next, which holds the database for writing."""
    db_file = database_file(con)
    if db_file is None:
        return None
    root = db_file.with_name(db_file.stem + ".spill")
    if root.is_dir():
        for stale in root.iterdir():
            log.warning("removing %s, left by an interrupted corroborate run", stale)
            shutil.rmtree(stale, ignore_errors=True)
    root.mkdir(exist_ok=True)
    return root


def stream_all(
    con: duckdb.DuckDBPyConnection, base: pl.DataFrame, config: CorroborationConfig, batch_articles: int
) -> pl.DataFrame:
    """Story assignments of every article, equal to `corroboration` of them all, in bounded memory.

    One scan of the texts counts the text model's document frequencies and spills what clustering reads
    (title, the first words of the text) to Parquet files per batch of `batch_articles` consecutive dated
    articles (undated ones: one more batch); the dated batches then stream through `StoryStream` in time
    order and the undated ones are clustered at the end, as `assign_stories` does.
    """
    plan = base.sort("published_at", "article_id", nulls_last=True).with_columns(
        pl.when(pl.col("published_at").is_null())
        .then(-1)
        .otherwise(pl.int_range(pl.len(), dtype=pl.Int64) // batch_articles)
        .alias("_batch")
    )
    cut = text_chars(config)
    frequencies: pl.DataFrame | None = None
    with tempfile.TemporaryDirectory(prefix="presstrust-corroborate-", dir=_spill_root(con)) as tmp:
        spill = Path(tmp)
        for k, texts in enumerate(_text_batches(con, cut, batch_articles)):
            part = plan.join(texts, on="article_id", how="inner")
            freq = document_frequencies(part, config)
            frequencies = freq if frequencies is None else merge_frequencies([frequencies, freq])
            for (b,), rows in part.partition_by("_batch", as_dict=True).items():
                rows.drop("_batch").write_parquet(spill / f"b{b:+07d}_{k:05d}.parquet", compression="lz4")
        if frequencies is None:
            return pl.DataFrame(schema=ARTICLE_SCHEMA)
        model = text_model_from_frequencies(frequencies, base.height, config)
        del frequencies
        stream = StoryStream(model, config)
        out = []
        n_batches = plan.height // batch_articles + 1
        for b in range(n_batches):
            files = sorted(spill.glob(f"b{b:+07d}_*.parquet"))
            if files:
                out.append(stream.push(pl.read_parquet(files)))
        out.append(stream.close())
        undated = sorted(spill.glob(f"b{-1:+07d}_*.parquet"))
        if undated:
            out.append(assign_stories(pl.read_parquet(undated), config, text_model=model))
    return pl.concat(out)
