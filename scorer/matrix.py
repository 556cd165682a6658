"""The wide per-outlet feature matrix the scorer reads, and its bootstrap over each outlet's articles.

`outlet_matrix` turns a per-article feature frame (one row per article: `outlet` plus numeric feature
columns) into one row per outlet: `outlet`, `n_articles`, then one column per feature holding the
outlet's mean or empirical-Bayes shrunken mean from `features.aggregate.outlet_feature_stats`, then any
outlet-level `extra` columns (e.g. corroboration shares) joined on `outlet`.

`bootstrap_matrices` resamples each outlet's articles with replacement (same count, fixed seed, one
random stream per outlet so an outlet's resamples do not depend on which other outlets are present) and
recomputes the matrix on every resample with the same function, so the score's sampling error can be
read off the spread of the model's predictions over the replicates.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import polars as pl

from features.aggregate import outlet_feature_stats

VALUES = ("mean", "shrunk_mean", "median", "sd")
ID_COLUMNS = frozenset({"outlet", "article_id", "id", "content_version", "published_at", "n_articles", "replicate"})


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


def resample_indices(
    outlets: Sequence[str], *, n_boot: int, seed: int, only: Iterable[str] | None = None
) -> np.ndarray:
    """Row indices (n_boot x len(outlets)) resampling each outlet's rows with replacement within the outlet.

    `outlets` is the outlet of every row, rows of one outlet contiguous (sort first). Rows of outlets not in
    `only` (when given) are kept as they are in every replicate.
    """
    arr = np.asarray(outlets, dtype=object)
    n = len(arr)
    out = np.tile(np.arange(n, dtype=np.int64), (n_boot, 1))
    if n == 0:
        return out
    change = np.flatnonzero(arr[1:] != arr[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    keep = None if only is None else set(only)
    seen: set[str] = set()
    for start, end in zip(starts, ends, strict=True):
        name = str(arr[start])
        if name in seen:
            raise ValueError(f"rows of outlet {name!r} are not contiguous: sort by outlet first")
        seen.add(name)
        if keep is not None and name not in keep:
            continue
        rng = np.random.default_rng(_outlet_seed(seed, name))
        out[:, start:end] = start + rng.integers(0, end - start, size=(n_boot, end - start))
    return out


def bootstrap_matrices(
    article_features: pl.DataFrame,
    *,
    to_matrix: Callable[[pl.DataFrame], pl.DataFrame],
    n_boot: int = 200,
    seed: int = 0,
    outlets: Iterable[str] | None = None,
) -> pl.DataFrame:
    """`to_matrix` applied to n_boot resamples of the articles (within outlet): `replicate` + its columns.

    Deterministic for a given seed and input (rows are sorted by outlet, then article_id when present).
    Only `outlets` are resampled when given (the others stay as they are, e.g. for the shrinkage population);
    only their rows are returned.
    """
    order = ["outlet", "article_id"] if "article_id" in article_features.columns else ["outlet"]
    frame = article_features.sort(order, maintain_order=True)
    wanted = None if outlets is None else sorted(set(outlets))
    idx = resample_indices(frame["outlet"].to_list(), n_boot=n_boot, seed=seed, only=wanted)
    parts = []
    for b in range(n_boot):
        matrix = to_matrix(frame[idx[b]])
        if wanted is not None:
            matrix = matrix.filter(pl.col("outlet").is_in(wanted))
        parts.append(matrix.with_columns(pl.lit(b, dtype=pl.UInt32).alias("replicate")))
    if not parts:
        return to_matrix(frame.head(0)).with_columns(pl.lit(0, dtype=pl.UInt32).alias("replicate")).head(0)
    return pl.concat(parts).select("replicate", pl.exclude("replicate"))


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
