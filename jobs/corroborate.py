"""`presstrust corroborate`: cluster articles into stories across outlets, incrementally.

The first run (or `--full`) streams the corpus: one scan of the article texts counts the
document frequencies of the text model (fitted on the whole corpus, as `features.corroboration.
corroboration` does) and spills the part of each text that clustering reads to temporary Parquet
files, one set per batch of consecutive articles in time; the batches then go through
`features.corroboration.StoryStream` in time order. Memory is bounded by a batch and the stories
open in the clustering window, not by the corpus, and the result equals the one-shot
`corroboration` of all the articles. Later runs resume the clustering at the first new or changed
article (`features.corroboration.recluster_plan`): the articles before it keep their stories, the
stories still joinable there are rebuilt from their members' vectors, and the articles from there on
are clustered again. Only those texts are read, and the text model is fitted on them, so a night's
cost follows its new articles and the clustering window, not the corpus. Story ids follow the
earliest-article rule, so stories that did not change keep their ids. Rows that changed are replaced
in one transaction.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from features.corroboration import (
    ARTICLE_SCHEMA,
    DEFAULT_CONFIG,
    CorroborationConfig,
    StoryStream,
    assign_stories,
    document_frequencies,
    fit_text_model,
    merge_frequencies,
    recluster_plan,
    story_table,
    text_model_from_frequencies,
    update_stories,
)
from jobs.db import transaction
from jobs.runs import failure_recorded, finish_run, start_run
from jobs.terminal import advance
from jobs.textstore import database_file, iter_texts, read_texts

log = logging.getLogger(__name__)

_META = """
SELECT a.article_id, a.outlet, a.published_at, a.source_file AS corpus, a.content_hash,
       s.content_hash AS clustered_hash
FROM article_meta a LEFT JOIN story_articles s ON s.article_id = a.article_id
"""
_PREVIOUS = f"SELECT {', '.join(ARTICLE_SCHEMA)} FROM story_articles"  # noqa: S608 - declared schema
BATCH_ARTICLES = 20_000
"""Articles per streaming batch of a first run: with the stories open in the window, what memory holds."""


@dataclass
class CorroborateSummary:
    run_id: int
    new: int
    reclustered: int
    articles_changed: int
    stories: int
    stories_changed: int
    seconds: float

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new_or_changed_articles": self.new,
            "articles_reclustered": self.reclustered,
            "story_articles_written": self.articles_changed,
            "stories": self.stories,
            "stories_written": self.stories_changed,
        }

    def line(self) -> str:
        return (
            f"corroborate run {self.run_id}: {self.new} new or changed articles, {self.reclustered} re-clustered, "
            f"{self.articles_changed} story_articles rows and {self.stories_changed} of {self.stories} stories "
            f"written in {self.seconds:.1f}s"
        )


def corroborate(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    config: CorroborationConfig = DEFAULT_CONFIG,
    engine: str = "local",
    spark_master: str | None = None,
) -> CorroborateSummary:
    """Assign new and changed articles to stories; write what changed; record the run.

    engine "spark": a first run or `full` clusters buckets of the stream as Spark tasks (jobs/spark_engine.py), with
    the local stream's result; an incremental run re-clusters its window locally, as the local engine does."""
    started = time.perf_counter()
    run_id = start_run(con, "corroborate", {"full": full, "config": repr(config), "engine": engine})
    with failure_recorded(con, run_id):
        meta = con.sql(_META).pl()
        changed = pl.col("clustered_hash").is_null() | (pl.col("clustered_hash") != pl.col("content_hash"))
        new_ids = meta.filter(changed).get_column("article_id")
        previous = con.sql(_PREVIOUS).pl()
        summary = CorroborateSummary(run_id, new_ids.len(), 0, 0, 0, 0, 0.0)
        if new_ids.len() == 0 and not full:
            summary.stories = int(con.execute("SELECT count(*) FROM stories").fetchall()[0][0])
        else:
            if engine == "spark" and (full or previous.height == 0):
                from jobs import spark_engine

                base = meta.select("article_id", "outlet", "published_at", "corpus")
                assignments = spark_engine.stream_all(con, base, config, master=spark_master)
                reclustered = base.height
            else:  # incremental runs re-cluster the window new articles touch, here with either engine
                assignments, reclustered = _assign(con, meta, previous, new_ids, full=full, config=config)
            summary.reclustered = reclustered
            _write(con, assignments, meta, run_id=run_id, summary=summary)
    summary.seconds = time.perf_counter() - started
    finish_run(con, run_id, status="ok", counts=summary.counts)
    return summary


def _assign(
    con: duckdb.DuckDBPyConnection,
    meta: pl.DataFrame,
    previous: pl.DataFrame,
    new_ids: pl.Series,
    *,
    full: bool,
    config: CorroborationConfig,
    chunk_days: int = 365,
) -> tuple[pl.DataFrame, int]:
    """Cluster every article as one stream (a first run), or the new articles into the previous assignments,
    a chunk of chunk_days at a time (then the undated), each step reading only the texts of its window.
    """
    base = meta.select("article_id", "outlet", "published_at", "corpus")
    if full or previous.height == 0:  # a first run: every article is new
        return _stream_all(con, base, config, BATCH_ARTICLES), base.height
    previous = previous.filter(~pl.col("article_id").is_in(new_ids.implode()))  # changed ones are redone
    new = base.filter(pl.col("article_id").is_in(new_ids.implode()))
    start = new.get_column("published_at").min()
    chunk = (
        (pl.col("published_at") - pl.lit(start)).dt.total_days() // chunk_days
        if start is not None
        else pl.lit(None, dtype=pl.Int64)
    )  # undated articles: chunk null, processed last
    steps = new.with_columns(_chunk=chunk).partition_by("_chunk", maintain_order=False, as_dict=True)
    reclustered = done = 0
    for key in sorted(steps, key=lambda k: (k[0] is None, k[0] or 0)):
        step_ids = steps[key].get_column("article_id")
        advance(done, new.height)
        done += step_ids.len()
        known = pl.concat([previous.get_column("article_id"), step_ids])
        previous, n = _step(con, base.filter(pl.col("article_id").is_in(known.implode())), previous, step_ids, config)
        reclustered += n
    advance(done, new.height)
    return previous, reclustered


def text_chars(config: CorroborationConfig) -> int:
    """Characters of a text that clustering reads (what the tokenisers read, and more)."""
    return max(config.lead_words, config.copy_max_words) * 8 + 16


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


def _stream_all(
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


def _step(
    con: duckdb.DuckDBPyConnection,
    base: pl.DataFrame,
    previous: pl.DataFrame,
    new_ids: pl.Series,
    config: CorroborationConfig,
) -> tuple[pl.DataFrame, int]:
    """One incremental step: resume the clustering at the first new article, reading only the texts it needs
    (`recluster_plan`: the articles clustered again and the earlier members of the stories still joinable)."""
    blank = base.with_columns(title=pl.lit(""), text=pl.lit(""))
    plan = recluster_plan(blank, previous, new_ids, config)
    ids = plan.article_id.filter(pl.Series(plan.texts))
    texts = read_texts(con, ids)
    frame = base.join(texts, on="article_id", how="left").with_columns(
        pl.col("title").fill_null(""), pl.col("text").fill_null("")
    )
    model = fit_text_model(frame.filter(pl.col("article_id").is_in(ids.implode())), config)
    return update_stories(frame, previous, new_ids, config, text_model=model, plan=plan), int(plan.redo.sum())


def _write(
    con: duckdb.DuckDBPyConnection,
    assignments: pl.DataFrame,
    meta: pl.DataFrame,
    *,
    run_id: int,
    summary: CorroborateSummary,
) -> None:
    rows = assignments.join(meta.select("article_id", "content_hash"), on="article_id", how="left")
    stories = story_table(assignments)
    summary.stories = stories.height
    try:
        with transaction(con):
            con.register("_rows", rows.to_arrow())
            con.register("_stories", stories.to_arrow())
            con.execute("""
                CREATE OR REPLACE TEMP TABLE _changed_rows AS
                SELECT r.* FROM _rows r ANTI JOIN story_articles s ON s.article_id = r.article_id
                   AND s.story_id = r.story_id AND s.n_corroborating_outlets = r.n_corroborating_outlets
                   AND s.is_first_report IS NOT DISTINCT FROM r.is_first_report
                   AND s.copy_of IS NOT DISTINCT FROM r.copy_of AND s.content_hash = r.content_hash
                   AND s.published_at IS NOT DISTINCT FROM r.published_at AND s.outlet = r.outlet;
                CREATE OR REPLACE TEMP TABLE _changed_stories AS
                SELECT n.* FROM _stories n ANTI JOIN stories s ON s.story_id = n.story_id AND s.undated = n.undated
                   AND s.first_published_at IS NOT DISTINCT FROM n.first_published_at
                   AND s.last_published_at IS NOT DISTINCT FROM n.last_published_at
                   AND s.n_articles = n.n_articles AND s.n_outlets = n.n_outlets
                   AND s.n_independent_outlets = n.n_independent_outlets;
                DELETE FROM story_articles WHERE article_id IN (SELECT article_id FROM _changed_rows)
                    OR article_id NOT IN (SELECT article_id FROM _rows);
                DELETE FROM stories WHERE story_id IN (SELECT story_id FROM _changed_stories)
                    OR story_id NOT IN (SELECT story_id FROM _stories);
            """)
            con.execute(
                f"INSERT INTO story_articles BY NAME SELECT {', '.join(ARTICLE_SCHEMA)}, content_hash, "
                "$run_id AS run_id "
                "FROM _changed_rows",  # noqa: S608 - columns from the declared schema
                {"run_id": run_id},
            )
            con.execute(
                "INSERT INTO stories BY NAME SELECT *, $run_id AS run_id FROM _changed_stories", {"run_id": run_id}
            )
            summary.articles_changed = int(con.execute("SELECT count(*) FROM _changed_rows").fetchall()[0][0])
            summary.stories_changed = int(con.execute("SELECT count(*) FROM _changed_stories").fetchall()[0][0])
    finally:
        con.unregister("_rows")
        con.unregister("_stories")
