from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features.aggregate import (
    OUTLET_MOMENTS_SCHEMA,
    articles_in_window,
    outlet_feature_moments,
    outlet_feature_stats,
    outlet_window_summary,
    window_bounds,
)


def test_window_bounds_include_as_of_day() -> None:
    assert window_bounds(date(2020, 1, 10), 3) == (datetime(2020, 1, 8), datetime(2020, 1, 11))


def test_articles_in_window_and_undated_policy() -> None:
    lf = pl.LazyFrame(
        {
            "article_id": ["old", "in", "edge", "future", "undated"],
            "published_at": [
                datetime(2019, 12, 1),
                datetime(2020, 1, 9),
                datetime(2020, 1, 10, 23, 59),
                datetime(2020, 1, 11),
                None,
            ],
        }
    )
    got = articles_in_window(lf, as_of=date(2020, 1, 10), window_days=30).collect()["article_id"].to_list()
    assert got == ["in", "edge", "undated"]
    got = articles_in_window(lf, as_of=date(2020, 1, 10), window_days=30, undated="exclude").collect()
    assert got["article_id"].to_list() == ["in", "edge"]
    with pytest.raises(ValueError):
        articles_in_window(lf, as_of=date(2020, 1, 10), window_days=30, undated="maybe")


def test_outlet_feature_stats_hand_computed() -> None:
    # outlet a: x = 1, 3 (mean 2, sd sqrt 2); outlet b: x = 5, 5, null (n 2, mean 5, sd 0)
    lf = pl.LazyFrame({"outlet": ["a", "a", "b", "b", "b"], "x_share": [0.1, 0.3, 0.5, 0.5, None]})
    got = outlet_feature_stats(lf, features=["x_share"]).collect()
    within = (0.02 + 0.0) / 2  # pooled: ((2-1)*0.02 + (2-1)*0) / 2
    se2 = within / 2
    tau2 = max(pl.Series([0.2, 0.5]).var() - se2, 0.0)  # type: ignore[operator]
    w = tau2 / (tau2 + se2)
    pop = 0.35
    half_a = 1.6449 * math.sqrt(0.02) / math.sqrt(2)
    expected = pl.DataFrame(
        {
            "outlet": ["a", "b"],
            "feature": ["x_share", "x_share"],
            "n": pl.Series([2, 2], dtype=pl.UInt32),
            "mean": [0.2, 0.5],
            "median": [0.2, 0.5],
            "sd": [math.sqrt(0.02), 0.0],
            "ci_low": [max(0.2 - half_a, 0.0), 0.5],
            "ci_high": [0.2 + half_a, 0.5],
            "shrunk_mean": [pop + w * (0.2 - pop), pop + w * (0.5 - pop)],
            "shrinkage": [1 - w, 1 - w],
        }
    )
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-9)


def test_single_article_outlet_is_shrunk_and_has_no_ci() -> None:
    lf = pl.LazyFrame({"outlet": ["a"] * 50 + ["b"] * 50 + ["c"], "x": [0.0, 1.0] * 50 + [10.0]})
    got = outlet_feature_stats(lf, features=["x"]).collect().filter(pl.col("outlet") == "c").row(0, named=True)
    assert got["ci_low"] is None and got["ci_high"] is None
    assert 0.0 < got["shrinkage"] <= 1.0 and got["shrunk_mean"] < 10.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.floats(0, 1) | st.none()), min_size=1, max_size=40))
def test_shrunk_mean_between_population_and_outlet_mean(rows: list[tuple[str, float | None]]) -> None:
    lf = pl.LazyFrame(
        {"outlet": [r[0] for r in rows], "v_share": [r[1] for r in rows]},
        schema={"outlet": pl.String, "v_share": pl.Float64},
    )
    got = outlet_feature_stats(lf, features=["v_share"]).collect()
    if got.is_empty():
        return
    # one shrinkage target for every outlet, inside the range of the outlet means
    means = got["mean"]
    targets = [
        r["mean"] + (r["shrunk_mean"] - r["mean"]) / r["shrinkage"]
        for r in got.iter_rows(named=True)
        if r["shrinkage"] > 0.01
    ]
    pop = targets[0] if targets else means.mean()
    assert all(abs(t - pop) <= 1e-6 for t in targets)
    assert means.min() - 1e-9 <= pop <= means.max() + 1e-9  # type: ignore[operator]
    for r in got.iter_rows(named=True):
        lo, hi = sorted([pop, r["mean"]])  # type: ignore[type-var]
        assert lo - 1e-9 <= r["shrunk_mean"] <= hi + 1e-9
        assert 0.0 <= r["shrinkage"] <= 1.0
        if r["ci_low"] is not None:
            assert 0.0 <= r["ci_low"] <= r["mean"] + 1e-12 <= r["ci_high"] + 2e-12 <= 1.0 + 3e-12


def test_outlet_feature_moments_hand_computed() -> None:
    lf = pl.LazyFrame({"outlet": ["a", "a", "a", "b"], "x": [0.5, 1.25, None, 2.0], "y_share": [1.0, 0.0, 1.0, None]})
    got = outlet_feature_moments(lf, features=["x", "y_share"]).collect()
    expected = pl.DataFrame(
        {
            "outlet": ["a", "a", "b"],
            "feature": ["x", "y_share", "x"],
            "n": [2, 3, 1],
            "value_sum_q": [1_750_000, 2_000_000, 2_000_000],
            "value_sq_sum_q": [500_000**2 + 1_250_000**2, 2 * 1_000_000**2, 2_000_000**2],
            "median": [0.875, 1.0, 2.0],
        },
        schema=OUTLET_MOMENTS_SCHEMA,
    )
    assert_frame_equal(got, expected)


def test_outlet_window_summary_hand_computed() -> None:
    lf = pl.LazyFrame(
        {
            "outlet": ["a", "a", "a", "b"],
            "published_at": [datetime(2020, 1, 2), None, datetime(2020, 1, 1), None],
            "language": ["de", "en", "de", None],
        }
    )
    got = outlet_window_summary(lf).collect()
    assert got.rows() == [
        ("a", 3, 1, datetime(2020, 1, 1), datetime(2020, 1, 2), 1, "de"),
        ("b", 1, 1, None, None, 0, None),
    ]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.one_of(st.none(), st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)),
        ),
        min_size=1,
        max_size=40,
    ),
    split=st.sets(st.sampled_from(["a", "b", "c", "d"])),
)
def test_moments_computed_per_outlet_group_are_the_moments_of_all(
    rows: list[tuple[str, float | None]], split: set[str]
) -> None:
    """The Spark engine computes moments for groups of outlets apart: together they are the moments of all."""
    lf = pl.LazyFrame(
        {"outlet": [o for o, _ in rows], "x": [v for _, v in rows]}, schema={"outlet": pl.String, "x": pl.Float64}
    )
    parts = [lf.filter(pl.col("outlet").is_in(list(split))), lf.filter(~pl.col("outlet").is_in(list(split)))]
    moments = pl.concat([outlet_feature_moments(p, features=["x"]).collect() for p in parts]).sort("outlet", "feature")
    assert_frame_equal(moments, outlet_feature_moments(lf, features=["x"]).collect(), check_exact=True)


# ------------------------------------------------------------------------------------------------------------
# The between-outlet variance (tau2) behind shrunk_mean, on outlets of known variance
# ------------------------------------------------------------------------------------------------------------


def _simulated_outlets(seed: int, tau: float, small_noise: float) -> tuple[pl.DataFrame, np.ndarray]:
    """200-400 outlets with 1-4 articles and 40-80 with 20-200; outlet effects ~ N(0, tau^2); articles of the
    large outlets ~ N(effect, 1), of the tiny ones ~ N(effect, small_noise) (a little less noisy, as the one-
    article outlets of the shared corpora are). Returns the per-article frame and the article count per outlet."""
    rng = np.random.default_rng(seed)
    n = np.concatenate([rng.integers(1, 5, rng.integers(200, 401)), rng.integers(20, 201, rng.integers(40, 81))])
    effect = rng.normal(0.0, tau, n.size)
    sd = np.where(n < 5, math.sqrt(small_noise), 1.0)
    values = np.concatenate([rng.normal(e, s, k) for e, s, k in zip(effect, sd, n, strict=True)])
    outlets = np.repeat([f"o{i:03d}" for i in range(n.size)], n)
    return pl.DataFrame({"outlet": outlets, "x": values}), n


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    tau=st.floats(0.3, 1.0),
    small_noise=st.floats(0.6, 0.8),
)
@example(seed=1, tau=0.3, small_noise=0.6)
def test_large_outlets_keep_their_own_means_among_many_tiny_ones(seed: int, tau: float, small_noise: float) -> None:
    """With many 1-4 article outlets, tau2 is estimated within a factor 3 of the truth and the outlets with
    >= 20 articles are shrunk at most 0.15 more on average than with the true tau2 and within variance.
    (An unweighted variance of the outlet means minus their average noise puts tau2 at 0 here: shrinkage 1.)"""
    articles, n = _simulated_outlets(seed, tau, small_noise)
    got = outlet_feature_stats(articles.lazy(), features=["x"]).collect().sort("outlet")
    large = got.filter(pl.col("n") >= 20)
    se2_true = 1.0 / large["n"].cast(pl.Float64).to_numpy()
    ideal = float(np.mean(se2_true / (tau**2 + se2_true)))
    assert large["shrinkage"].mean() <= ideal + 0.15  # type: ignore[operator]
    # tau2 implied by any large outlet's shrinkage: se2 (1 - s) / s, se2 = pooled within variance / n
    within = float(np.sum((got["n"] - 1).to_numpy() * got["sd"].fill_null(0.0).to_numpy() ** 2) / np.sum(n - 1))
    s, k = large["shrinkage"][0], large["n"][0]
    tau2 = within / k * (1 - s) / s
    assert 1 / 3 <= tau2 / tau**2 <= 3
    assert large["shrunk_mean"].n_unique() == large.height


def _reference_reml(n: np.ndarray, y: np.ndarray, within: float) -> tuple[float, float]:
    """REML tau2 by the textbook fixed-point iteration (float sums), and the 1 / (tau2 + se2)-weighted mean."""
    se2 = within / n
    tau2 = 0.0
    for _ in range(10_000):
        w = 1 / (tau2 + se2)
        mu = float(np.sum(w * y) / np.sum(w))
        new = max(float(np.sum(w**2 * ((y - mu) ** 2 - se2)) / np.sum(w**2) + 1 / np.sum(w)), 0.0)
        if abs(new - tau2) < 1e-14:
            break
        tau2 = new
    w = 1 / (tau2 + se2)
    return tau2, float(np.sum(w * y) / np.sum(w))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdefg"), st.floats(-10, 10)), min_size=3, max_size=60))
def test_shrinkage_is_reml_with_a_precision_weighted_target(rows: list[tuple[str, float]]) -> None:
    lf = pl.LazyFrame({"outlet": [o for o, _ in rows], "x": [v for _, v in rows]})
    got = outlet_feature_stats(lf, features=["x"]).collect()
    n = got["n"].cast(pl.Float64).to_numpy()
    within_n = float(np.sum(n - 1))
    assume(within_n > 0 and got.height > 1)
    within = float(np.sum((n - 1) * got["sd"].fill_null(0.0).to_numpy() ** 2) / within_n)
    assume(within > 1e-6)
    tau2, mu = _reference_reml(n, got["mean"].to_numpy(), within)
    se2 = within / n
    np.testing.assert_allclose(got["shrinkage"].to_numpy(), se2 / (tau2 + se2), atol=1e-6)
    expected = mu + tau2 / (tau2 + se2) * (got["mean"].to_numpy() - mu)
    np.testing.assert_allclose(got["shrunk_mean"].to_numpy(), expected, atol=1e-6 * (1 + abs(mu)))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.floats(-1e3, 1e3)), min_size=1, max_size=50), st.randoms())
def test_outlet_feature_stats_do_not_depend_on_row_order(rows: list[tuple[str, float]], rnd: Any) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)

    def stats(r: list[tuple[str, float]]) -> pl.DataFrame:
        lf = pl.LazyFrame(
            {"outlet": [o for o, _ in r], "x": [v for _, v in r]}, schema={"outlet": pl.String, "x": pl.Float64}
        )
        return outlet_feature_stats(lf, features=["x"]).collect()

    assert_frame_equal(stats(rows), stats(shuffled), check_exact=True)


def _stats_of(outlets: list[str], values: list[float]) -> pl.DataFrame:
    lf = pl.LazyFrame({"outlet": outlets, "x": values}, schema={"outlet": pl.String, "x": pl.Float64})
    return outlet_feature_stats(lf, features=["x"]).collect()


def test_one_outlet_is_its_own_population() -> None:
    got = _stats_of(["a"] * 4, [1.0, 2.0, 3.0, 6.0]).row(0, named=True)
    assert got["shrinkage"] == 1.0 and got["shrunk_mean"] == pytest.approx(3.0)


def test_one_article_per_outlet_has_no_noise_estimate_so_no_shrinkage() -> None:
    got = _stats_of(["a", "b", "c"], [1.0, 2.0, 6.0])
    assert got["shrinkage"].to_list() == [0.0, 0.0, 0.0]
    assert got["shrunk_mean"].to_list() == pytest.approx([1.0, 2.0, 6.0])


def test_zero_within_outlet_variance_means_no_shrinkage() -> None:
    got = _stats_of(["a", "a", "b", "b", "b", "c"], [1.0, 1.0, 4.0, 4.0, 4.0, 9.0])
    assert got["shrinkage"].to_list() == [0.0, 0.0, 0.0]
    assert got["shrunk_mean"].to_list() == pytest.approx([1.0, 4.0, 9.0])


def test_identical_outlet_means_give_no_between_outlet_variance() -> None:
    got = _stats_of(["a", "a", "b", "b", "b", "b", "c"], [0.0, 2.0, 0.0, 2.0, 1.0, 1.0, 1.0])
    assert got["shrinkage"].to_list() == [1.0, 1.0, 1.0]  # tau2 = 0: everything is noise
    assert got["shrunk_mean"].to_list() == pytest.approx([1.0, 1.0, 1.0])
