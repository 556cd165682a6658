"""scorer.combine: the weight rule, the interval, the grade rules and their thresholds (hand-computed cases)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorer.combine import (
    FIRM,
    UNCERTAIN,
    choose_thresholds,
    choose_weight,
    combined_se,
    conformal_min_n,
    conformal_quantile,
    fast_macro_f1,
    grade_confidence,
    grade_scores,
    interval_bounds,
    z_of,
)
from scorer.cv import macro_f1


def test_interval_on_a_hand_computed_case() -> None:
    # q = 0.3, se = 0.1, z(90%) = 1.6449: half-width sqrt(0.09 + 0.164485^2) = sqrt(0.117055) = 0.342134
    low, high = interval_bounds(np.array([0.5, 0.5]), quantile=0.3, se=np.array([0.1, np.nan]), coverage=0.9)
    assert z_of(0.9) == pytest.approx(1.644854, abs=1e-6)
    assert low[0] == pytest.approx(0.5 - 0.342134, abs=1e-6) and high[0] == pytest.approx(0.5 + 0.342134, abs=1e-6)
    assert (low[1], high[1]) == pytest.approx((0.2, 0.8))  # no sampling error known: the model error alone


def test_combined_se_weights_the_layers() -> None:
    # a = 0.6: sqrt((0.6 * 0.05)^2 + (0.4 * 0.1)^2) = sqrt(0.0009 + 0.0016) = 0.05
    assert combined_se(0.6, np.array([0.05]), np.array([0.1]))[0] == pytest.approx(0.05)
    assert combined_se(1.0, np.array([0.05]), np.array([np.nan]))[0] == pytest.approx(0.05)


def test_conformal_quantile_rank() -> None:
    # n = 9, coverage 0.9: rank ceil(10 * 0.9) = 9 -> the largest |residual|
    r = np.array([0.1, -0.2, 0.3, -0.4, 0.05, 0.15, -0.25, 0.35, -0.5])
    assert conformal_quantile(r, 0.9) == 0.5
    assert conformal_quantile(r, 0.5) == 0.25  # rank ceil(10 * 0.5) = 5 of 0.05 0.1 0.15 0.2 0.25 ...
    assert math.isinf(conformal_quantile(r[:3], 0.9))


def test_weight_is_chosen_by_error_and_ties_prefer_text() -> None:
    y = np.array([0.2, 0.5, 0.9])
    assert choose_weight(y, y + 0.3, y) == 1.0  # the text layer is exact
    assert choose_weight(y + 0.3, y, y) == 0.0  # the cue model is exact
    assert choose_weight(y - 0.1, y + 0.1, y) == 0.5  # errors cancel at a = 0.5
    assert choose_weight(y, y, y) == 1.0  # a tie


def test_grade_rules() -> None:
    grades = grade_scores(np.array([0.2, 0.58, 0.7199, 0.72, np.nan]), (0.58, 0.72))
    assert list(grades) == ["low", "mixed", "mixed", "high", None]
    conf = grade_confidence(np.array([0.60, 0.50, 0.1]), np.array([0.70, 0.80, 0.5]), (0.58, 0.72))
    assert list(conf) == [FIRM, UNCERTAIN, FIRM]


def test_thresholds_reproduce_separable_grades() -> None:
    pred = np.array([0.1, 0.2, 0.45, 0.5, 0.55, 0.8, 0.9])
    truth = ["low", "low", "mixed", "mixed", "mixed", "high", "high"]
    lo, hi = choose_thresholds(pred, truth + [])
    assert 0.2 < lo <= 0.45 and 0.55 < hi <= 0.8
    assert list(grade_scores(pred, (lo, hi))) == truth
    # outlets without an expert grade do not count
    lo2, hi2 = choose_thresholds(np.r_[pred, 0.05], [*truth, None])
    assert (lo2, hi2) == (lo, hi)


@given(st.lists(st.sampled_from(["high", "mixed", "low"]), min_size=1, max_size=30), st.randoms())
def test_fast_macro_f1_equals_scikit_learn(truth: list[str], rnd: object) -> None:
    pred = list(truth)
    rnd.shuffle(pred)  # type: ignore[attr-defined]
    a, b = np.array(pred, dtype=object), np.array(truth, dtype=object)
    assert fast_macro_f1(a, b) == pytest.approx(macro_f1(pred, truth))


@given(coverage=st.floats(min_value=0.05, max_value=0.99), residuals=st.integers(min_value=0, max_value=120))
def test_conformal_quantile_is_finite_from_conformal_min_n_residuals_on(coverage: float, residuals: int) -> None:
    finite = math.isfinite(conformal_quantile(np.linspace(0.0, 1.0, residuals), coverage))
    assert finite == (residuals >= conformal_min_n(coverage))
