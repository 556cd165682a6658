from __future__ import annotations

import math
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
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
    pop = got["mean"].mean()
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
