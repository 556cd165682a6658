"""Corroboration, per-story and per-outlet tables from the per-article features, and all three in one call
(``corroboration``).
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from features.corroboration.articles import assign_stories
from features.corroboration.config import DEFAULT_CONFIG, OUTLET_SCHEMA, STORY_SCHEMA, CorroborationConfig
from features.corroboration.text_model import TextModel


class CorroborationResult(NamedTuple):
    articles: pl.DataFrame  # ARTICLE_SCHEMA
    stories: pl.DataFrame  # STORY_SCHEMA
    outlets: pl.DataFrame  # OUTLET_SCHEMA


def story_table(assignments: pl.DataFrame) -> pl.DataFrame:
    """Per-story table (``STORY_SCHEMA``, sorted by story_id) from ``assign_stories`` output."""
    out = (
        assignments.group_by("story_id")
        .agg(
            pl.col("undated").first(),
            pl.col("published_at").min().alias("first_published_at"),
            pl.col("published_at").max().alias("last_published_at"),
            pl.len().alias("n_articles"),
            pl.col("outlet").n_unique().alias("n_outlets"),
            pl.col("outlet").filter(pl.col("copy_of").is_null()).n_unique().alias("n_independent_outlets"),
        )
        .sort("story_id")
    )
    return out.cast(STORY_SCHEMA)  # type: ignore[arg-type]


def outlet_stats(assignments: pl.DataFrame) -> pl.DataFrame:
    """Per-outlet corroboration profile (``OUTLET_SCHEMA``, sorted by outlet).

    Over the outlet's stories (stories with >= 1 of its articles): corroborated = some article
    of it has >= 1 independent corroborating outlet; exclusive = no other outlet in the story
    at all; first report = one of its articles is among the story's earliest (dated stories
    only).  copies_n counts its articles that copy another outlet's article.  Zero
    denominators give null.
    """
    a = assignments
    story_outlets = a.group_by("story_id").agg(pl.col("outlet").n_unique().alias("_n_out"))
    origin = a.select(pl.col("article_id").alias("copy_of"), pl.col("outlet").alias("_o_out"))
    a = a.join(story_outlets, on="story_id", how="left").join(origin, on="copy_of", how="left")
    a = a.with_columns(
        (pl.col("copy_of").is_not_null() & (pl.col("_o_out") != pl.col("outlet"))).fill_null(False).alias("_copy")
    )
    per_story = a.group_by("outlet", "story_id").agg(
        (pl.col("n_corroborating_outlets").max() >= 1).alias("corr"),
        (pl.col("_n_out").first() == 1).alias("excl"),
        (~pl.col("undated").first()).alias("dated"),
        pl.col("is_first_report").any().alias("first"),
    )
    s = per_story.group_by("outlet").agg(
        pl.len().alias("stories_n"),
        pl.col("corr").sum().alias("corroborated_n"),
        pl.col("excl").sum().alias("exclusive_n"),
        pl.col("dated").sum().alias("dated_stories_n"),
        (pl.col("first") & pl.col("dated")).sum().alias("first_report_n"),
    )
    arts = a.group_by("outlet").agg(pl.len().alias("articles_n"), pl.col("_copy").sum().alias("copies_n"))

    def share(num: str, den: str) -> pl.Expr:
        return (
            pl.when(pl.col(den) > 0).then(pl.col(num).cast(pl.Float64) / pl.col(den).cast(pl.Float64)).otherwise(None)
        )

    out = arts.join(s, on="outlet", how="left").with_columns(
        share("corroborated_n", "stories_n").alias("corroborated_share"),
        share("exclusive_n", "stories_n").alias("exclusive_share"),
        share("first_report_n", "dated_stories_n").alias("first_report_share"),
        share("copies_n", "articles_n").alias("copy_share"),
    )
    return out.select(list(OUTLET_SCHEMA)).sort("outlet").cast(OUTLET_SCHEMA)  # type: ignore[arg-type]


def corroboration(
    articles: pl.DataFrame | pl.LazyFrame,
    config: CorroborationConfig = DEFAULT_CONFIG,
    text_model: TextModel | None = None,
) -> CorroborationResult:
    """Article, story and outlet tables in one call."""
    arts = assign_stories(articles, config, text_model)
    return CorroborationResult(arts, story_table(arts), outlet_stats(arts))
