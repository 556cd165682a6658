"""`presstrust corroborate`: cluster articles into stories across outlets, incrementally.

The first run (or `--full`) clusters the whole corpus on the engine (`Engine.cluster_all`: the local engine
streams it through `features.corroboration.StoryStream` in bounded memory, the Spark engine in buckets), and
the result equals the one-shot `corroboration` of all the articles. Later runs resume the clustering at the
first new or changed article (`features.corroboration.recluster_plan`): the articles before it keep their
stories, the stories still joinable there are rebuilt from their members' vectors, and the articles from there
on are clustered again. Only those texts are read, and the text model is fitted on them, so a night's
cost follows its new articles and the clustering window, not the corpus. Story ids follow the
earliest-article rule, so stories that did not change keep their ids. Rows that changed are replaced
in one transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import duckdb
import polars as pl

from features.corroboration import (
    ARTICLE_SCHEMA,
    DEFAULT_CONFIG,
    CorroborationConfig,
    fit_text_model,
    recluster_plan,
    story_table,
    update_stories,
)
from jobs.engines.base import Engine
from jobs.infra.failpoints import failpoint
from jobs.infra.terminal import advance
from jobs.store.runs import failure_recorded, finish_run, start_run
from jobs.store.texts import read_texts
from jobs.store.transactions import transaction

log = logging.getLogger(__name__)

_META = """
SELECT a.article_id, a.outlet, a.published_at, a.source_file AS corpus, a.content_hash,
       s.content_hash AS clustered_hash
FROM article_meta a LEFT JOIN story_articles s ON s.article_id = a.article_id
"""
_PREVIOUS = f"SELECT {', '.join(ARTICLE_SCHEMA)} FROM story_articles"  # noqa: S608 - declared schema


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
    engine: Engine,
) -> CorroborateSummary:
    """Assign new and changed articles to stories; write what changed; record the run.

    A first run or `full` clusters every article on the engine; an incremental run re-clusters the window its
    new articles touch here, whatever the engine (a few days of articles)."""
    started = time.perf_counter()
    run_id = start_run(con, "corroborate", {"full": full, "config": repr(config), "engine": engine.name})
    with failure_recorded(con, run_id):
        meta = con.sql(_META).pl()
        changed = pl.col("clustered_hash").is_null() | (pl.col("clustered_hash") != pl.col("content_hash"))
        new_ids = meta.filter(changed).get_column("article_id")
        previous = con.sql(_PREVIOUS).pl()
        summary = CorroborateSummary(run_id, new_ids.len(), 0, 0, 0, 0, 0.0)
        if new_ids.len() == 0 and not full:
            summary.stories = int(con.execute("SELECT count(*) FROM stories").fetchall()[0][0])
        else:
            base = meta.select("article_id", "outlet", "published_at", "corpus")
            if full or previous.height == 0:  # a first run: every article is new
                assignments, reclustered = engine.cluster_all(con, base, config), base.height
            else:  # incremental runs re-cluster the window new articles touch, here with either engine
                assignments, reclustered = _assign(con, base, previous, new_ids, config=config)
            summary.reclustered = reclustered
            failpoint("corroborate.before_write")
            _write(con, assignments, meta, run_id=run_id, summary=summary)
    summary.seconds = time.perf_counter() - started
    finish_run(con, run_id, status="ok", counts=summary.counts)
    return summary


def _assign(
    con: duckdb.DuckDBPyConnection,
    base: pl.DataFrame,
    previous: pl.DataFrame,
    new_ids: pl.Series,
    *,
    config: CorroborationConfig,
    chunk_days: int = 365,
) -> tuple[pl.DataFrame, int]:
    """Cluster the new articles into the previous assignments, a chunk of chunk_days at a time (then the undated),
    each step reading only the texts of its window.
    """
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
