"""The wide per-outlet feature matrix the scorer reads, and a seeded subsample of each outlet's articles.

`outlet_matrix` turns a per-article feature frame (one row per article: `outlet` plus numeric feature
columns) into one row per outlet: `outlet`, `n_articles`, then one column per feature holding the
outlet's mean or empirical-Bayes shrunken mean from `features.aggregate.outlet_feature_stats`, then any
outlet-level `extra` columns (e.g. corroboration shares) joined on `outlet`.

`subsample_articles` keeps at most k articles per outlet, with one random stream per outlet so an outlet's
subsample does not depend on which other outlets are present (the learning curve of the evaluation).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

from features.aggregate import outlet_feature_stats

VALUES = ("mean", "shrunk_mean", "median", "sd")
ID_COLUMNS = frozenset({"outlet", "article_id", "id", "content_version", "published_at", "n_articles"})


def numeric_feature_columns(frame: pl.DataFrame | pl.LazyFrame, *, exclude: Iterable[str] = ()) -> list[str]:
    """Numeric (or boolean) columns of a per-article frame that are not identifiers, in frame order."""
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    skip = ID_COLUMNS | set(exclude)
    return [name for name, dtype in schema.items() if name not in skip and (dtype.is_numeric() or dtype == pl.Boolean)]


def outlet_matrix(
    article_features: pl.DataFrame | pl.LazyFrame,
    *,
    features: Sequence[str],
    value: str | Sequence[str] = "shrunk_mean",
    extra: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per outlet: `outlet`, `n_articles`, the features' `value` (mean / shrunk_mean / median / sd), `extra`.

    With several values, the first gives columns named like the features and each other one columns named
    `{feature}__{value}` (e.g. `hedges_per_1k_words__sd`). A feature with no value for an outlet is null
    there (the model's imputer fills it). Sorted by outlet.
    """
    values = [value] if isinstance(value, str) else list(value)
    if not values or any(v not in VALUES for v in values):
        raise ValueError(f"value must be one or more of {VALUES}, got {value!r}")
    lf = article_features.lazy() if isinstance(article_features, pl.DataFrame) else article_features
    lf = lf.with_columns([pl.col(f).cast(pl.Float64) for f in features])
    counts = lf.group_by("outlet").agg(pl.len().cast(pl.UInt32).alias("n_articles"))
    stats = outlet_feature_stats(lf, features=list(features)).select("outlet", "feature", *values).collect()
    out = counts.collect()
    columns: list[str] = []
    for i, v in enumerate(values):
        names = {f: f if i == 0 else f"{f}__{v}" for f in features}
        wide = (
            stats.pivot(on="feature", index="outlet", values=v, on_columns=list(features))
            if stats.height
            else pl.DataFrame({"outlet": []}, schema={"outlet": pl.String})
        )
        wide = wide.with_columns([pl.lit(None, dtype=pl.Float64).alias(f) for f in features if f not in wide.columns])
        wide = wide.select("outlet", *[pl.col(f).cast(pl.Float64).alias(names[f]) for f in features])
        out = out.join(wide, on="outlet", how="left")
        columns.extend(names.values())
    out = out.select("outlet", "n_articles", *columns)
    if extra is not None:
        extra_cols = [c for c in extra.columns if c != "outlet"]
        clash = set(extra_cols) & set(out.columns)
        if clash:
            raise ValueError(f"extra columns clash with feature columns: {sorted(clash)}")
        out = out.join(
            extra.select("outlet", *[pl.col(c).cast(pl.Float64) for c in extra_cols]), on="outlet", how="left"
        )
    return out.sort("outlet")


def _outlet_seed(seed: int, outlet: str) -> list[int]:
    return [seed, zlib.crc32(outlet.encode("utf-8"))]


def subsample_articles(
    article_features: pl.DataFrame, *, k: int, seed: int, outlets: Iterable[str] | None = None
) -> pl.DataFrame:
    """At most k articles per outlet (without replacement, seeded per outlet); other outlets kept whole.

    Only `outlets` (when given) are subsampled. Used for the learning curve: how many articles an outlet needs.
    """
    order = ["outlet", "article_id"] if "article_id" in article_features.columns else ["outlet"]
    frame = article_features.sort(order, maintain_order=True)
    names = frame["outlet"].to_numpy()
    keep_mask = np.ones(frame.height, dtype=bool)
    wanted = None if outlets is None else set(outlets)
    if frame.height:
        change = np.flatnonzero(names[1:] != names[:-1]) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [frame.height]])
        for start, end in zip(starts, ends, strict=True):
            name = str(names[start])
            if (wanted is not None and name not in wanted) or end - start <= k:
                continue
            rng = np.random.default_rng([*_outlet_seed(seed, name), k])
            chosen = rng.choice(end - start, size=k, replace=False)
            keep_mask[start:end] = False
            keep_mask[start + chosen] = True
    return frame.filter(pl.Series(keep_mask))
