"""`presstrust claims`: claim sentences per article, traced to their origin and checked for independent
confirmation (features.claims; docs/claims.md). Runs after corroborate (it reads the stories and copies).

1. Extract: the claims of every article that is new or whose content changed since its claims were extracted
   (`claim_articles.content_hash`), in batches, through the same line, sentence, attribution and speculation
   steps as featurize (with each outlet's boilerplate lines as featurize last stored them).
2. Match: the claims of the *scope* (the extracted articles, and the articles dated within the matching window
   of one of them, whose confirmations may change) against their candidates (story-mates, then the nearest
   articles of the window), with the claims of the articles around the scope as context.
3. Write: the scope's claims replace its rows of `claims` in one transaction, with `claim_articles`.

Extraction runs on the engine (`Engine.claim_batches`: in this process, or one Spark task per text file); matching
runs here, whichever the engine: it compares the claims of a few days around the new articles, of every outlet,
with each other (docs/claims.md says what it costs).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import duckdb
import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from features.claims import (
    CLAIMS_SCHEMA,
    LINKS_SCHEMA,
    MatchConfig,
    cited_outlets,
    claim_origins,
    claim_vectors,
    confirm_claims,
    linked_outlets,
    match_inputs,
)
from features.embedding import load_static_embedding
from features.lexicons import Lexicons, load_lexicons
from jobs.engines.base import Engine
from jobs.readers.outlets import citation_names, link_outlets, load_owners
from jobs.store.runs import failure_recorded, finish_run, start_run
from jobs.store.transactions import transaction

log = logging.getLogger(__name__)

_TODO = """
SELECT a.article_id, a.outlet, a.content_hash
FROM article_meta a LEFT JOIN claim_articles c ON c.article_id = a.article_id
WHERE $full OR c.article_id IS NULL OR c.content_hash <> a.content_hash
ORDER BY a.article_id
"""
# every article with its story, copy root and the outlet of its story's first report
_ARTICLES = """
SELECT a.article_id, a.outlet, a.published_at, s.story_id, coalesce(s.copy_of, a.article_id) AS copy_root,
       f.outlet AS story_origin_outlet
FROM article_meta a
LEFT JOIN story_articles s ON s.article_id = a.article_id
LEFT JOIN story_articles f ON f.article_id = substr(s.story_id, 3)
"""
_COLUMNS = ", ".join(f'"{c}"' for c in CLAIMS_SCHEMA)
WRITTEN = [*CLAIMS_SCHEMA, "origin_outlet", "origin", "confirming_outlets_n", "best_cosine", "confirmed_by"]


@dataclass
class ClaimsSummary:
    run_id: int
    extracted: int
    claims_found: int
    scope: int
    claims_written: int
    seconds: float

    @property
    def counts(self) -> dict[str, int]:
        return {
            "articles_extracted": self.extracted,
            "claims_found": self.claims_found,
            "articles_matched": self.scope,
            "claims_written": self.claims_written,
        }

    def line(self) -> str:
        return (
            f"claims run {self.run_id}: {self.extracted} articles read ({self.claims_found} claims), "
            f"{self.scope} articles matched, {self.claims_written} claims rows written in {self.seconds:.1f}s"
        )


def claims(
    con: duckdb.DuckDBPyConnection,
    *,
    engine: Engine,
    full: bool = False,
    config: MatchConfig | None = None,
    batch_size: int = 20_000,
    lexicons: Lexicons | None = None,
) -> ClaimsSummary:
    """Extract the claims of new and changed articles (on `engine`), match them and their window, write what
    changed."""
    started = time.perf_counter()
    config = config or MatchConfig()
    params = {"full": full, "config": repr(config), "batch_size": batch_size, "engine": engine.name}
    run_id = start_run(con, "claims", params)
    summary = ClaimsSummary(run_id, 0, 0, 0, 0, 0.0)
    with failure_recorded(con, run_id, lambda: summary.counts):
        todo = con.sql(_TODO, params={"full": full}).pl()
        fresh = _extract(con, todo, engine=engine, batch_size=batch_size, lexicons=lexicons or load_lexicons())
        summary.extracted, summary.claims_found = todo.height, fresh.height
        if todo.height:
            articles = con.sql(_ARTICLES).pl()
            scope, context = _scope(articles, todo["article_id"], config)
            matched = _match(con, articles, fresh, todo["article_id"], context, config)
            rows = matched.filter(pl.col("article_id").is_in(scope.implode()))
            _write(con, rows, todo, scope, run_id=run_id)
            summary.scope, summary.claims_written = scope.len(), rows.height
    summary.seconds = time.perf_counter() - started
    finish_run(con, run_id, status="ok", counts=summary.counts)
    return summary


def _extract(
    con: duckdb.DuckDBPyConnection, todo: pl.DataFrame, *, engine: Engine, batch_size: int, lexicons: Lexicons
) -> pl.DataFrame:
    """CLAIMS_SCHEMA rows of the articles in `todo`, batch by batch on the engine, with their outlets' boilerplate
    lines as featurize stored them."""
    boilerplate = con.sql(
        "SELECT outlet, line_norm FROM outlet_boilerplate WHERE list_contains($outlets, outlet)",
        params={"outlets": todo["outlet"].unique().to_list()},
    ).pl()
    parts = [pl.DataFrame(schema=CLAIMS_SCHEMA)]
    batches = engine.claim_batches(
        con,
        todo.select("article_id", "outlet"),
        boilerplate=boilerplate,
        lexicons=lexicons,
        cited=cited_outlets(citation_names()),
        batch_size=batch_size,
    )
    for batch in batches:
        parts.append(batch)
        log.debug("claims: %d claims extracted", sum(p.height for p in parts))
    return linked_outlets(pl.concat(parts).lazy(), _links(con, todo).lazy()).collect()


def _links(con: duckdb.DuckDBPyConnection, todo: pl.DataFrame) -> pl.DataFrame:
    """LINKS_SCHEMA rows: the outbound links of the articles in `todo` to outlets the alias data knows, other than
    the article's own outlet."""
    links = con.sql(
        "SELECT article_id, link_n, anchor_text, host FROM article_links WHERE list_contains($ids, article_id)",
        params={"ids": todo["article_id"].to_list()},
    ).pl()
    outlets = link_outlets(links["host"].unique().to_list())
    return (
        links.with_columns(pl.col("host").replace_strict(outlets, default=None, return_dtype=pl.String).alias("outlet"))
        .join(todo.select("article_id", pl.col("outlet").alias("_own")), on="article_id")
        .filter(pl.col("outlet").is_not_null() & (pl.col("outlet") != pl.col("_own")))
        .select(list(LINKS_SCHEMA))
        .cast(dict(LINKS_SCHEMA))
    )


def _scope(articles: pl.DataFrame, new_ids: pl.Series, config: MatchConfig) -> tuple[pl.Series, pl.Series]:
    """The articles whose claims are written (new ones and the dated ones within the window of a new one) and
    the context their candidates come from (within two windows, plus the scope's story-mates)."""
    window = timedelta(days=config.window_days)
    new = articles.filter(pl.col("article_id").is_in(new_ids.implode()))
    days = new["published_at"].drop_nulls().dt.date().unique().sort()

    def near(span: timedelta) -> pl.Expr:
        if days.is_empty():
            return pl.lit(False)
        day = pl.col("published_at").dt.date()
        steps = int(span.days) + 1
        near_days = pl.concat([days + pl.duration(days=d) for d in range(-steps, steps + 1)]).unique()
        return day.is_in(near_days.implode())

    scope = articles.filter(pl.col("article_id").is_in(new_ids.implode()) | near(window))
    stories = scope["story_id"].drop_nulls().unique()
    context = articles.filter(
        pl.col("article_id").is_in(scope["article_id"].implode())
        | near(2 * window)
        | pl.col("story_id").is_in(stories.implode())
    )
    return scope["article_id"], context["article_id"]


def _match(
    con: duckdb.DuckDBPyConnection,
    articles: pl.DataFrame,
    fresh: pl.DataFrame,
    new_ids: pl.Series,
    context: pl.Series,
    config: MatchConfig,
) -> pl.DataFrame:
    """Claims of the context (stored ones, fresh ones for the new articles) with origin and confirmation."""
    stored = con.sql(
        f"SELECT {_COLUMNS} FROM claims WHERE list_contains($ids, article_id)",  # noqa: S608 - declared schema
        params={"ids": context.to_list()},
    ).pl()
    stored = stored.filter(~pl.col("article_id").is_in(new_ids.implode())).cast(dict(CLAIMS_SCHEMA))
    all_claims = pl.concat([stored, fresh.filter(pl.col("article_id").is_in(context.implode()))])
    all_claims = all_claims.sort("article_id", "sentence_no")
    meta = articles.filter(pl.col("article_id").is_in(context.implode()))
    inputs = match_inputs(all_claims, meta, load_owners())
    vectors = claim_vectors(load_static_embedding(), all_claims["sentence"]) if all_claims.height else np.zeros((0, 1))
    with threadpool_limits(limits=1):  # small products: BLAS threads only contend (4-17x the CPU measured)
        confirmations = confirm_claims(inputs, vectors, config)
    with_origin = claim_origins(all_claims.lazy(), articles=meta.lazy()).collect()
    return with_origin.join(confirmations, on=["article_id", "sentence_no"], how="left").select(WRITTEN)


def _write(
    con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, todo: pl.DataFrame, scope: pl.Series, *, run_id: int
) -> None:
    counts = rows.group_by("article_id").agg(pl.len().alias("claims_n"))
    extracted = (
        todo.select("article_id", "content_hash")
        .join(counts, on="article_id", how="left")
        .with_columns(pl.col("claims_n").fill_null(0).cast(pl.Int64))
    )
    con.register("_claims", rows.to_arrow())
    con.register("_extracted", extracted.to_arrow())
    try:
        with transaction(con):
            con.execute("DELETE FROM claims WHERE list_contains($ids, article_id)", {"ids": scope.to_list()})
            con.execute("INSERT INTO claims BY NAME SELECT *, $run_id AS run_id FROM _claims", {"run_id": run_id})
            con.execute("DELETE FROM claim_articles WHERE article_id IN (SELECT article_id FROM _extracted)")
            con.execute(
                "INSERT INTO claim_articles BY NAME SELECT *, $run_id AS run_id FROM _extracted", {"run_id": run_id}
            )
    finally:
        con.unregister("_claims")
        con.unregister("_extracted")
