"""Corroboration, input normalisation: validate the articles, normalise their types and sort them into
processing order (dated articles by time, then undated ones by corpus).
"""

from __future__ import annotations

import polars as pl

_REQUIRED = ("article_id", "outlet", "published_at", "title", "text")


def _prepare(articles: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Validate, normalise types and sort into processing order.

    Processing order: dated articles by (published_at, article_id), then undated ones by
    (corpus, article_id).  Column ``_i`` is the row position in that order.
    """
    df = articles.collect() if isinstance(articles, pl.LazyFrame) else articles
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"articles lack required columns: {missing}")
    ts = df.schema["published_at"]
    if ts == pl.Date:
        pub = pl.col("published_at").cast(pl.Datetime("us"))
    elif isinstance(ts, pl.Datetime):
        pub = pl.col("published_at")
        if ts.time_zone is not None:
            pub = pub.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        pub = pub.dt.cast_time_unit("us")
    elif ts == pl.Null:
        pub = pl.col("published_at").cast(pl.Datetime("us"))
    else:
        raise TypeError(f"published_at must be Datetime or Date, got {ts}")
    corpus = pl.col("corpus").cast(pl.String).fill_null("") if "corpus" in df.columns else pl.lit("", dtype=pl.String)
    out = df.select(
        pl.col("article_id").cast(pl.String),
        pl.col("outlet").cast(pl.String),
        pub.alias("published_at"),
        pl.col("title").cast(pl.String).fill_null(""),
        pl.col("text").cast(pl.String).fill_null(""),
        corpus.alias("corpus"),
    )
    if out["article_id"].null_count() or out["outlet"].null_count():
        raise ValueError("article_id and outlet must not be null")
    if out["article_id"].n_unique() != out.height:
        raise ValueError("article_id must be unique")
    out = out.with_columns(pl.col("published_at").is_null().alias("undated"))
    # dated: by (published_at, article_id); undated: by (corpus, article_id)
    group = pl.when(pl.col("undated")).then(pl.col("corpus")).otherwise(pl.lit(""))
    out = out.sort(
        [pl.col("undated"), pl.col("published_at"), group, pl.col("article_id")],
        nulls_last=True,
        maintain_order=True,
    )
    return out.with_row_index("_i")
