"""Corroboration, per-article features: story ids, copies and corroboration counts of each article
(``assign_stories``), composed from clustering and copy detection.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from features.corroboration.clustering import _cluster_frame
from features.corroboration.config import ARTICLE_SCHEMA, DEFAULT_CONFIG, CorroborationConfig
from features.corroboration.copies import _detect_copies
from features.corroboration.prepare import _prepare
from features.corroboration.text_model import TextModel, _fit_transform, vectorize


def _summarize(base: pl.DataFrame) -> pl.DataFrame:
    """Per-article features from (article_id, outlet, published_at, undated, story_id, copy_of).

    n_corroborating_outlets: distinct outlets, other than the article's own, with a non-copy
    article in the story other than the article's origin (itself, or what it copies).
    """
    origin_outlet = base.select(pl.col("article_id").alias("copy_of"), pl.col("outlet").alias("_origin_outlet"))
    b = base.join(origin_outlet, on="copy_of", how="left")
    b = b.with_columns(
        pl.coalesce("copy_of", "article_id").alias("_root"),
        pl.coalesce("_origin_outlet", "outlet").alias("_root_outlet"),
    )
    originals = b.filter(pl.col("copy_of").is_null())
    per_so = originals.group_by("story_id", "outlet").agg(pl.len().alias("_n_orig"))
    n_indep = per_so.group_by("story_id").agg(pl.len().alias("_n_indep"))
    b = (
        b.join(n_indep, on="story_id", how="left")
        .join(per_so.rename({"_n_orig": "_own_orig"}), on=["story_id", "outlet"], how="left")
        .join(
            per_so.rename({"outlet": "_root_outlet", "_n_orig": "_root_orig"}),
            on=["story_id", "_root_outlet"],
            how="left",
        )
    )
    n_corr = (
        pl.col("_n_indep").fill_null(0).cast(pl.Int64)
        - (pl.col("_own_orig").fill_null(0) > 0).cast(pl.Int64)
        - ((pl.col("_root_outlet") != pl.col("outlet")) & (pl.col("_root_orig") == 1)).cast(pl.Int64)
    )
    first = (
        pl.when(pl.col("undated"))
        .then(None)
        .otherwise(pl.col("published_at") == pl.col("published_at").min().over("story_id"))
    )
    out = b.select(
        "article_id",
        "outlet",
        "published_at",
        "undated",
        "story_id",
        n_corr.clip(lower_bound=0).cast(pl.UInt32).alias("n_corroborating_outlets"),
        first.cast(pl.Boolean).alias("is_first_report"),
        "copy_of",
    )
    return out.sort("article_id").cast(ARTICLE_SCHEMA)  # type: ignore[arg-type]


def _base(df: pl.DataFrame, root: np.ndarray, copy_of: np.ndarray) -> pl.DataFrame:
    ids = df["article_id"]
    story_id = "s_" + ids.gather(root)
    cp = pl.Series("copy_of", copy_of)
    copy_ids = ids.gather(np.where(copy_of >= 0, copy_of, 0))
    return df.select("article_id", "outlet", "published_at", "undated").with_columns(
        story_id.alias("story_id"),
        pl.when(cp >= 0).then(copy_ids).otherwise(None).alias("copy_of"),
    )


def _run(df: pl.DataFrame, config: CorroborationConfig, text_model: TextModel | None) -> pl.DataFrame:
    """Story id and copy_of for a prepared frame (no features yet)."""
    if text_model is None:
        _, X = _fit_transform(df, config)
    else:
        X = vectorize(df, text_model)
    root = _cluster_frame(df, X, config)
    copy_of = _detect_copies(df, root, X, config)
    return _base(df, root, copy_of)


def assign_stories(
    articles: pl.DataFrame | pl.LazyFrame,
    config: CorroborationConfig = DEFAULT_CONFIG,
    text_model: TextModel | None = None,
) -> pl.DataFrame:
    """Cluster articles into stories and compute per-article features (``ARTICLE_SCHEMA``,
    sorted by article_id).  ``text_model`` defaults to one fitted on ``articles``."""
    df = _prepare(articles)
    return _summarize(_run(df, config, text_model))
