"""The local engine: this process, and for featurize a pool of worker processes (jobs/engines/pool.py), with the
pure functions the Spark engine runs too.

Memory is bounded by design where the corpus can be large: featurize hands out tasks of a few thousand articles of
one text file each (the Spark engine's partitioning, by text file), each worker reading its own texts from the
immutable file, and holds at most a few tasks' results; a first clustering streams the corpus a text file at a
time, spilling what clustering reads beside the database.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

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
from jobs.engines.pool import available_cores, ordered_map
from jobs.infra.failpoints import failpoint
from jobs.readers.prepare import FileReader
from jobs.store.texts import (
    TextStoreError,
    check_files_exist,
    database_file,
    iter_texts,
    text_files_of,
)

log = logging.getLogger(__name__)
S = TypeVar("S")
R = TypeVar("R")

BATCH_ARTICLES = 20_000
"""Articles per streaming batch of a first clustering: with the stories open in the window, what memory holds."""
TASK_ARTICLES = 5_000
"""At most this many articles per featurize task (all of one text file): what a worker holds at a time."""
MIN_TASK_ARTICLES = 500
"""Tasks are cut smaller (down to this) when there are fewer than four per worker, so every worker has work."""
_META_COLUMNS = ("outlet", "title", "authors", "language")
_PIPELINE_COLUMNS = ("article_id", "outlet", "title", "text", "authors", "language")
_VERSION = ["article_id", "content_version"]


@dataclass(frozen=True)
class TextTask:
    """Some articles of one text file, with their texts (the pipeline's input columns), and the file's name: a task of
    the per-article work (featurize, claims extraction) in the worker pool."""

    file: str
    articles: pl.DataFrame


@dataclass(frozen=True)
class FeaturizeShared:
    """What every featurize task uses: the outlets' learned boilerplate and the lexicons (sent once per worker)."""

    boilerplate: pl.DataFrame
    lexicons: Lexicons


def featurize_task(shared: FeaturizeShared, task: TextTask) -> FeatureBatch:
    """The ids, features, evidence and removed lines of one task's articles (`features.pipeline.article_features`),
    in a worker."""
    failpoint("featurize.worker")
    frames = article_features(task.articles.lazy(), boilerplate=shared.boilerplate.lazy(), lexicons=shared.lexicons)
    return FeatureBatch(task.articles.select("article_id", "outlet"), *frames.collect())


@dataclass(frozen=True)
class ClaimsShared:
    """What every claims task uses: the outlets' learned boilerplate, the lexicons and the citable outlet names."""

    boilerplate: pl.DataFrame
    lexicons: Lexicons
    cited: CitedOutlets


def claims_task(shared: ClaimsShared, task: TextTask) -> pl.DataFrame:
    """The claim sentences of one task's articles (`features.claims.article_claims`), in a worker."""
    failpoint("claims.worker")
    return article_claims(
        task.articles.lazy(), boilerplate=shared.boilerplate.lazy(), lexicons=shared.lexicons, cited=shared.cited
    ).collect()


def _describe(task: TextTask) -> str:
    return f"{task.articles.height} articles of text file {task.file}"


def task_size(articles: int, workers: int) -> int:
    """Articles per task: TASK_ARTICLES, or fewer (down to MIN_TASK_ARTICLES) to give each worker four tasks."""
    return min(TASK_ARTICLES, max(MIN_TASK_ARTICLES, math.ceil(articles / (4 * workers))))


def text_tasks(con: duckdb.DuckDBPyConnection, todo: pl.DataFrame, *, size: int) -> Iterator[TextTask]:
    """The `todo` articles as tasks of at most `size` articles of one text file each, text file by text file (in
    text_file_id order) and in each file's row order. Each file is streamed once, here, in Polars' native reader's
    batches: memory is a batch and the tasks not yet handed out, not the file (a worker reading its own slice
    would decode the whole file's text column per task: one row group per load)."""
    meta, files = text_files_of(con, todo.get_column("article_id"), columns=_META_COLUMNS)
    if meta["text_file_id"].null_count():
        raise TextStoreError(f"{meta['text_file_id'].null_count()} article(s) have no text file registered")
    check_files_exist(list(files.values()))
    meta = meta.with_columns(pl.col("content_version").cast(pl.Int32))
    for (file_id,), rows in meta.partition_by("text_file_id", as_dict=True, maintain_order=True).items():
        yield from _file_tasks(rows.drop("text_file_id"), files[int(file_id)], size)


def _file_tasks(meta: pl.DataFrame, path: str, size: int) -> Iterator[TextTask]:
    """The articles of `meta` (all in text file `path`) with their texts, `size` at a time, in the file's order."""
    name = Path(path).name
    pending: list[pl.DataFrame] = []
    waiting = found = 0
    texts = pl.scan_parquet(path).select(*_VERSION, "text").cast({"content_version": pl.Int32})
    for batch in texts.collect_batches(chunk_size=size):
        part = batch.join(meta, on=_VERSION, maintain_order="left").select(_PIPELINE_COLUMNS)
        found += part.height
        pending.append(part)
        waiting += part.height
        while waiting >= size:
            ready = pl.concat(pending)
            yield TextTask(name, ready.slice(0, size))
            pending, waiting = [ready.slice(size)], ready.height - size
    if waiting:
        yield TextTask(name, pl.concat(pending))
    if found < meta.height:
        raise TextStoreError(
            f"{meta.height - found} article(s) have no text in the text file registered for them ({path}): "
            "the text files were changed or replaced outside presstrust"
        )


def rebatch(results: Iterable[FeatureBatch], size: int) -> Iterator[FeatureBatch]:
    """The tasks' results, in order, grouped into write batches of at most about `size` articles."""
    pending: list[FeatureBatch] = []
    rows = 0
    for result in results:
        if pending and rows + result.ids.height > size:
            yield _concat(pending)
            pending, rows = [], 0
        pending.append(result)
        rows += result.ids.height
    if pending:
        yield _concat(pending)


def _concat(done: list[FeatureBatch]) -> FeatureBatch:
    return FeatureBatch(*(pl.concat([batch[i] for batch in done]) for i in range(4)))


class LocalEngine:
    """The default engine: this process, and `workers` worker processes for featurize (default: the cores
    available, `jobs.engines.pool.available_cores`; 1: everything in this process)."""

    name = "local"
    master: str | None = None

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.workers: int = workers or available_cores()

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
        """Tasks of one text file's articles each (`featurize_tasks`) mapped over the worker pool; the results in task
        order, in write batches of about `batch_size` articles. A failed task or a dead worker raises `WorkerError`
        before its batch is yielded: what was yielded before it is whole."""
        results = self._map(featurize_task, con, todo, FeaturizeShared(boilerplate, lexicons), TASK_ARTICLES)
        yield from rebatch(results, batch_size)

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
        """The same tasks as featurize's, mapped over the worker pool through `claims_task`; a frame per task (at
        most `batch_size` articles' claims), in task order."""
        yield from self._map(claims_task, con, todo, ClaimsShared(boilerplate, lexicons, cited), batch_size)

    def _map(
        self, fn: Callable[[S, TextTask], R], con: duckdb.DuckDBPyConnection, todo: pl.DataFrame, shared: S, most: int
    ) -> Iterator[R]:
        """`fn(shared, task)` over the text tasks of `todo` (at most `most` articles each), in task order, in the
        pool (in this process when there is one task: no pool to start)."""
        if todo.height == 0:
            return
        size = min(most, task_size(todo.height, self.workers))
        workers = self.workers if todo.height > size else 1
        yield from ordered_map(fn, text_tasks(con, todo, size=size), workers=workers, shared=shared, describe=_describe)

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
