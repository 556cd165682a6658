"""Per-outlet aggregation of per-article features for an as-of date and a time window.

Pure Polars: the window is given (`as_of`), never read from a clock. Output is long (one row per
outlet and feature) so that adding a feature never changes a table's shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import polars as pl

from features.language import ENGLISH
from features.registry import feature

UNDATED_POLICIES = ("include", "exclude")
VALUE_SCALE = 1_000_000  # feature values are summed at a resolution of 1e-6 (VALUE_RESOLUTION)
VALUE_RESOLUTION = 1 / VALUE_SCALE
INTERNAL_SCALE = 1_000_000_000  # resolution of the per-feature sums over outlets

WINDOW_SCHEMA_EXTRA = {"in_window_dated": pl.Boolean()}

OUTLET_FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "outlet": pl.String(),
    "feature": pl.String(),
    "n": pl.UInt32(),
    "mean": pl.Float64(),
    "median": pl.Float64(),
    "sd": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "shrunk_mean": pl.Float64(),
    "shrinkage": pl.Float64(),
}


def window_bounds(as_of: date, window_days: int) -> tuple[datetime, datetime]:
    """[start, end) of the window: the window_days days up to and including as_of."""
    end = datetime.combine(as_of + timedelta(days=1), time())
    return end - timedelta(days=window_days), end


def articles_in_window(
    articles: pl.LazyFrame, *, as_of: date, window_days: int, undated: str = "include"
) -> pl.LazyFrame:
    """Articles published in the window_days up to as_of; undated ones kept or dropped by `undated`."""
    if undated not in UNDATED_POLICIES:
        raise ValueError(f"undated must be one of {UNDATED_POLICIES}, got {undated!r}")
    start, end = window_bounds(as_of, window_days)
    published = pl.col("published_at")
    dated = published.is_not_null() & (published >= start) & (published < end)
    keep = dated | published.is_null() if undated == "include" else dated
    return articles.filter(keep)


def exact_sum(expr: pl.Expr, scale: float) -> pl.Expr:
    """Sum of expr quantised to 1/scale, added as 128-bit integers: exact, so independent of summation order."""
    # times the reciprocal, not "/ scale": Polars divides by a constant either way depending on the data's
    # layout (x * (1 / c) or x / c, an ulp apart); a product is the same on every path
    return (expr * scale).round(0).cast(pl.Int128).sum().cast(pl.Float64) * (1 / scale)


FEATURES_PER_PASS = 8

# Per outlet and feature, everything the statistics need from its articles: the count, the exact integer
# sums of the values and of their squares (values quantised to VALUE_RESOLUTION) and the median. An outlet's
# moments depend on its own articles only, so they can be computed per outlet anywhere (jobs/engines/spark/).
OUTLET_MOMENTS_SCHEMA: dict[str, pl.DataType] = {
    "outlet": pl.String(),
    "feature": pl.String(),
    "n": pl.UInt32(),
    "value_sum_q": pl.Int128(),
    "value_sq_sum_q": pl.Int128(),
    "median": pl.Float64(),
}


@feature(version="1", output_schema=OUTLET_MOMENTS_SCHEMA)
def outlet_feature_moments(article_features: pl.LazyFrame, *, features: Sequence[str]) -> pl.LazyFrame:
    """Per outlet and feature: n, exact integer sums of the quantised values and their squares, and the median."""
    value = pl.col("value")
    # Float sums in a parallel group-by depend on how rows were split between threads. Values are
    # quantised to VALUE_RESOLUTION and summed as integers instead, so the same input always gives the
    # same output (the project's determinism rule); the variance comes from exact integer moments.
    q = (value * VALUE_SCALE).round(0).cast(pl.Int128)

    def moments_of(names: Sequence[str]) -> pl.LazyFrame:
        return (
            article_features.select("outlet", *[pl.col(f).cast(pl.Float64) for f in names])
            .unpivot(index="outlet", on=list(names), variable_name="feature", value_name="value")
            .filter(value.is_not_null() & value.is_finite())
            .group_by("outlet", "feature")
            .agg(n=pl.len().cast(pl.UInt32), value_sum_q=q.sum(), value_sq_sum_q=(q * q).sum(), median=value.median())
        )

    # a few features at a time, one after the other: the long frame is a row per article and feature
    # (all features at once took 4.5 GB at 1,000,000 articles)
    chunks = [features[i : i + FEATURES_PER_PASS] for i in range(0, len(features), FEATURES_PER_PASS)]
    moments = pl.concat([moments_of(c) for c in chunks], parallel=False) if chunks else moments_of([])
    return moments.select(list(OUTLET_MOMENTS_SCHEMA)).sort("outlet", "feature")


REML_MAX_ITERATIONS = 200
REML_TOLERANCE = 1e-10  # relative to tau2 + within_var


def _target_weight(tau2: pl.Expr) -> pl.Expr:
    """v, proportional to 1 / (tau2 + se2) with se2 = within_var / n: v = n (1 + r) / (n r + 1), r = tau2 / within_var.

    In [1, n]: n (the article count) when tau2 = 0, 1 (every outlet alike) when within_var = 0 or unknown.
    """
    n = pl.col("n").cast(pl.Float64)
    within = pl.col("within_var")
    r = tau2 / within
    return pl.when(within > 0).then(n * (1 + r) / (n * r + 1)).otherwise(1.0)


def _reml_step(with_se: pl.DataFrame, tau2: pl.DataFrame) -> pl.DataFrame:
    """One REML fixed-point step per feature: tau2 <- sum w^2 ((mean - mu)^2 - se2) / sum w^2 + 1 / sum w, clamped
    at 0, with w = 1 / (tau2 + se2) and mu the w-weighted mean (Viechtbauer 2005); also returns mu as pop_mean.

    Written with v = w (tau2 + within_var) (`_target_weight`), which stays in [1, n]. Every sum is an exact
    integer sum of quantised terms, so the step does not depend on the row order."""
    v = _target_weight(pl.col("tau2"))
    frame = with_se.join(tau2, on="feature", how="left").with_columns(v=v)
    v = pl.col("v")
    centred = frame.join(
        frame.group_by("feature").agg(
            pop_mean=exact_sum(v * pl.col("mean"), INTERNAL_SCALE) / exact_sum(v, INTERNAL_SCALE)
        ),
        on="feature",
        how="left",
    )
    sq = v * v * ((pl.col("mean") - pl.col("pop_mean")) ** 2 - pl.col("se2"))
    step = exact_sum(sq, INTERNAL_SCALE) / exact_sum(v * v, INTERNAL_SCALE) + (
        pl.col("tau2").first() + pl.col("within_var").first()
    ) / exact_sum(v, INTERNAL_SCALE)
    return (
        centred.group_by("feature")
        .agg(
            tau2=pl.when((pl.len() > 1) & (pl.col("within_var").first() > 0)).then(pl.max_horizontal(step, 0.0)),
            pop_mean=pl.col("pop_mean").first(),
        )
        .with_columns(pl.col("tau2").fill_null(0.0))
        .sort("feature")
    )


def _population(with_se: pl.DataFrame) -> pl.DataFrame:
    """Per feature: tau2, the between-outlet variance (REML), and pop_mean, the shrinkage target.

    Each outlet mean has sampling noise se2 = within_var / n. REML weights every outlet by 1 / (tau2 + se2):
    the many outlets with one or a few articles count little, and once tau2 exceeds their noise the large
    outlets count alike (a few outlets with thousands of articles do not decide it either). An unweighted
    variance of the outlet means minus their average noise is driven by the tiny outlets and hits 0 as soon
    as they are a little less noisy than the pooled within_var says. Iterated from tau2 = 0 (a fixed number of
    steps at most, the same sums each time: deterministic). The target is the 1 / (tau2 + se2)-weighted mean
    of the outlet means (`_reml_step`). tau2 = 0 with one outlet, or without a within-outlet variance."""
    tau2 = with_se.select("feature").unique().sort("feature").with_columns(tau2=pl.lit(0.0))
    for _ in range(REML_MAX_ITERATIONS):
        new = _reml_step(with_se, tau2.select("feature", "tau2"))
        scale = new.join(with_se.group_by("feature").agg(pl.col("within_var").first()), on="feature", how="left")
        change = (new["tau2"] - tau2["tau2"]).abs() / (scale["tau2"] + scale["within_var"].fill_null(0.0) + 1e-300)
        tau2 = new
        if change.max() is None or change.max() <= REML_TOLERANCE:  # type: ignore[operator]
            break
    return tau2


@feature(version="2", output_schema=OUTLET_FEATURE_SCHEMA)
def pooled_outlet_stats(moments: pl.LazyFrame, *, z: float = 1.6449, min_n_for_ci: int = 2) -> pl.LazyFrame:
    """From every outlet's moments: mean, sd, a normal ~90% CI of the mean and an empirical-Bayes mean per feature."""
    n = pl.col("n").cast(pl.Float64)
    n_int = pl.col("n").cast(pl.Int128)
    numerator = (n_int * pl.col("value_sq_sum_q") - pl.col("value_sum_q") * pl.col("value_sum_q")).cast(pl.Float64)
    stats = moments.with_columns(
        # no division by a constant (see exact_sum): the same result whatever the row order
        mean=pl.col("value_sum_q").cast(pl.Float64) / (n * VALUE_SCALE),
        sd=pl.when(pl.col("n") >= 2).then((numerator / (n * (n - 1))).sqrt() * VALUE_RESOLUTION),
    )
    # Pooled within-outlet variance per feature: the sampling noise of an outlet's mean is within_var / n.
    pooled = stats.group_by("feature").agg(
        within_var=pl.when((n - 1).sum() > 0).then(
            exact_sum((n - 1) * pl.col("sd").fill_null(0) ** 2, INTERNAL_SCALE) / (n - 1).sum()
        ),
    )
    with_se = stats.join(pooled, on="feature", how="left").with_columns(se2=pl.col("within_var") / n).collect()
    half = z * pl.col("sd") / n.sqrt()
    is_share = pl.col("feature").str.ends_with("_share")
    low = pl.col("mean") - half
    high = pl.col("mean") + half
    weight = pl.when(pl.col("tau2") + pl.col("se2") > 0).then(pl.col("tau2") / (pl.col("tau2") + pl.col("se2")))
    return (
        with_se.lazy()
        .join(_population(with_se).lazy(), on="feature", how="left")
        .with_columns(
            ci_low=pl.when(pl.col("n") >= min_n_for_ci).then(pl.when(is_share).then(low.clip(0, 1)).otherwise(low)),
            ci_high=pl.when(pl.col("n") >= min_n_for_ci).then(pl.when(is_share).then(high.clip(0, 1)).otherwise(high)),
            shrinkage=(1 - weight).fill_null(0.0),
            shrunk_mean=(pl.col("pop_mean") + weight.fill_null(1.0) * (pl.col("mean") - pl.col("pop_mean"))),
        )
        .select(list(OUTLET_FEATURE_SCHEMA))
        .sort("outlet", "feature")
    )


@feature(version="4", output_schema=OUTLET_FEATURE_SCHEMA)
def outlet_feature_stats(
    article_features: pl.LazyFrame, *, features: Sequence[str], z: float = 1.6449, min_n_for_ci: int = 2
) -> pl.LazyFrame:
    """Per outlet and feature: n, mean, median, sd, a normal ~90% CI of the mean and an empirical-Bayes mean."""
    moments = outlet_feature_moments(article_features, features=features)
    return pooled_outlet_stats(moments, z=z, min_n_for_ci=min_n_for_ci)


OUTLET_WINDOW_SCHEMA: dict[str, pl.DataType] = {
    "outlet": pl.String(),
    "n_articles": pl.Int64(),
    "n_undated": pl.Int64(),
    "first_published_at": pl.Datetime("us"),
    "last_published_at": pl.Datetime("us"),
    "n_english": pl.Int64(),
    "main_language": pl.String(),
}


@feature(version="1", output_schema=OUTLET_WINDOW_SCHEMA)
def outlet_window_summary(window: pl.LazyFrame) -> pl.LazyFrame:
    """Per outlet: articles in the window, undated ones, first and last date, English ones and the main language."""
    return (
        window.group_by("outlet")
        .agg(
            n_articles=pl.len().cast(pl.Int64),
            n_undated=pl.col("published_at").null_count().cast(pl.Int64),
            first_published_at=pl.col("published_at").min().cast(pl.Datetime("us")),
            last_published_at=pl.col("published_at").max().cast(pl.Datetime("us")),
            n_english=(pl.col("language") == ENGLISH).sum().cast(pl.Int64),
            main_language=pl.col("language").drop_nulls().mode().sort().first(),
        )
        .sort("outlet")
    )


CORROBORATION_UNITS_SCHEMA: dict[str, pl.DataType] = {
    "outlet": pl.String(),
    "article_id": pl.String(),
    "corroborated_share": pl.Float64(),
    "exclusive_share": pl.Float64(),
    "first_report_share": pl.Float64(),
    "copy_share": pl.Float64(),
}


@feature(version="1", output_schema=CORROBORATION_UNITS_SCHEMA)
def corroboration_units(story_articles: pl.LazyFrame) -> pl.LazyFrame:
    """0/1 indicators whose outlet means are the corroboration shares (story ones once per outlet and story)."""
    in_story = ["outlet", "story_id"]
    n_outlets = pl.col("outlet").n_unique().over("story_id")
    origin = story_articles.select(pl.col("article_id").alias("copy_of"), pl.col("outlet").alias("_origin_outlet"))
    first_of_outlet = pl.col("article_id") == pl.col("article_id").min().over(in_story)
    per_story = {
        # some article of the outlet in the story is confirmed by >= 1 independent other outlet
        "corroborated_share": pl.col("n_corroborating_outlets").max().over(in_story) >= 1,
        # no other outlet covers the story at all
        "exclusive_share": n_outlets == 1,
        # one of its articles is among the story's earliest (dated stories only)
        "first_report_share": pl.when(~pl.col("undated")).then(pl.col("is_first_report").any().over(in_story)),
    }
    return (
        story_articles.join(origin, on="copy_of", how="left")
        .with_columns(
            *[pl.when(first_of_outlet).then(e.cast(pl.Float64)).alias(name) for name, e in per_story.items()],
            # per article: it nearly copies another outlet's article
            copy_share=(pl.col("copy_of").is_not_null() & (pl.col("_origin_outlet") != pl.col("outlet")))
            .fill_null(False)
            .cast(pl.Float64),
        )
        .select(list(CORROBORATION_UNITS_SCHEMA))
        .sort("outlet", "article_id")
    )
