"""Where a claim comes from, and the per-article claim units the per-outlet claim rates are means of.

Origin of a claim (`claim_origins`), the first rule that applies:
1. `sentence`: the outlet the sentence itself cites ("first reported by RIA Novosti");
2. `article`: the first outlet the article cites in any claim sentence (the article's stated source: "According
   to Ria Novosti, the news extends as follows: ..." covers the sentences after it);
3. `story`: the outlet of the story's first report, when that is another outlet (the article follows it);
4. `own`: the article's own outlet.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from features.registry import feature

ORIGINS = ("sentence", "article", "story", "own")
ORIGIN_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {"origin_outlet": pl.String, "origin": pl.String}
CLAIM_UNITS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "article_id": pl.String,
    # share of the article's claims whose origin is another, low-rated outlet (null: no claims)
    "low_rated_origin_claim_share": pl.Float64,
    # share of its unnamed-source claims no independent outlet confirms (null: no unnamed-source claim)
    "unconfirmed_unnamed_claim_share": pl.Float64,
    # share of its speculative claims an independent outlet confirms (null: no speculative claim)
    "confirmed_speculative_claim_share": pl.Float64,
}


@feature(version="1", output_schema=ORIGIN_SCHEMA, adds_columns=True)
def claim_origins(claims: pl.LazyFrame, *, articles: pl.LazyFrame) -> pl.LazyFrame:
    """Add origin_outlet and origin (sentence, article, story or own) to claims (CLAIMS_SCHEMA rows)."""
    # articles: article_id, outlet, story_origin_outlet (outlet of the story's first report, null if unknown)
    article_cited = (
        claims.filter(pl.col("cited_outlet").is_not_null())
        .sort("article_id", "sentence_no")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("cited_outlet").first().alias("_article_cited"))
    )
    names = claims.collect_schema().names()
    story = pl.col("story_origin_outlet")
    story_other = pl.when(story != pl.col("outlet")).then(story)
    return (
        claims.join(article_cited, on="article_id", how="left")
        .join(articles.select("article_id", "outlet", "story_origin_outlet"), on="article_id", how="left")
        .with_columns(
            pl.coalesce("cited_outlet", "_article_cited", story_other, "outlet").alias("origin_outlet"),
            pl.when(pl.col("cited_outlet").is_not_null())
            .then(pl.lit("sentence"))
            .when(pl.col("_article_cited").is_not_null())
            .then(pl.lit("article"))
            .when(story_other.is_not_null())
            .then(pl.lit("story"))
            .otherwise(pl.lit("own"))
            .alias("origin"),
        )
        .select(*names, "origin_outlet", "origin")
    )


@feature(version="1", output_schema=CLAIM_UNITS_SCHEMA)
def claim_units(claims: pl.LazyFrame, *, low_rated: Collection[str]) -> pl.LazyFrame:
    """Per article: low-rated-origin, unconfirmed-unnamed and confirmed-speculative shares of its claims."""
    # claims: article_id, outlet, origin_outlet, unnamed, speculative, confirming_outlets_n
    confirmed = pl.col("confirming_outlets_n") > 0
    low = pl.col("origin_outlet").is_in(sorted(low_rated)) & (pl.col("origin_outlet") != pl.col("outlet"))

    def mean_where(value: pl.Expr, where: pl.Expr) -> pl.Expr:
        return value.cast(pl.Float64).filter(where).mean()

    return (
        claims.group_by("article_id")
        .agg(
            low.cast(pl.Float64).mean().alias("low_rated_origin_claim_share"),
            mean_where(~confirmed, pl.col("unnamed")).alias("unconfirmed_unnamed_claim_share"),
            mean_where(confirmed, pl.col("speculative")).alias("confirmed_speculative_claim_share"),
        )
        .sort("article_id")
    )
