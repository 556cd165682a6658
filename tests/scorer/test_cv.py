from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scorer.cv import (
    MIN_OUTLETS,
    coverage,
    fold_count,
    grade_mae,
    grouped_splits,
    macro_f1,
    mae,
    out_of_fold,
    spearman,
)
from scorer.grades import grades_of
from scorer.lean import lean_report


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=8), min_size=5, max_size=25),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_grouped_splits_never_share_an_outlet(sizes: list[int], seed: int) -> None:
    groups = [f"o{i}" for i, n in enumerate(sizes) for _ in range(n)]  # article-level rows
    splits = grouped_splits(groups, n_splits=5, n_repeats=3, seed=seed)
    g = np.array(groups)
    assert len(splits) == 15
    for s in splits:
        assert not set(g[s.train]) & set(g[s.test])
        assert len(s.train) + len(s.test) == len(groups)
    for r in range(3):
        tested = np.concatenate([s.test for s in splits if s.repeat == r])
        assert sorted(tested) == list(range(len(groups)))  # each row tested exactly once per repeat


def test_grouped_splits_are_seeded_and_repeats_differ() -> None:
    outlets = [f"o{i}" for i in range(40)]
    a = grouped_splits(outlets, seed=1)
    b = grouped_splits(outlets, seed=1)
    assert all(np.array_equal(x.test, y.test) for x, y in zip(a, b, strict=True))
    first = {tuple(sorted(s.test)) for s in a if s.repeat == 0}
    second = {tuple(sorted(s.test)) for s in a if s.repeat == 1}
    assert first != second
    with pytest.raises(ValueError):
        grouped_splits(["a", "b"], n_splits=5)


def test_out_of_fold_fills_every_row_once_per_repeat() -> None:
    outlets = [f"o{i}" for i in range(12)]
    splits = grouped_splits(outlets, n_splits=3, n_repeats=2, seed=0)
    oof = out_of_fold(splits, 12, lambda train, test: test.astype(float))
    assert np.array_equal(oof, np.tile(np.arange(12.0), (2, 1)))


def test_metrics() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert mae([0.1, 0.5], [0.2, 0.2]) == pytest.approx(0.2)
    assert macro_f1(["high", "low"], ["high", "low"]) == pytest.approx(2 / 3)  # 'mixed' absent counts as 0
    assert grade_mae(["high", "low"], ["low", "low"]) == 1.0
    assert coverage(np.array([0, 0]), np.array([1, 1]), np.array([0.5, 2])) == 0.5
    assert list(grades_of(np.array([0.6, 0.59, 0.3, 0.29]))) == ["high", "mixed", "mixed", "low"]
    assert list(grades_of(np.array([60.0, 29.0]), scale=100)) == ["high", "low"]


def test_lean_report_detects_a_lean_only_score() -> None:
    rng = np.random.default_rng(0)
    right = np.r_[np.ones(20), np.zeros(40)]
    labels = 0.7 - 0.2 * right + rng.normal(0, 0.1, 60)
    lean_only = -right + rng.normal(0, 1e-3, 60)  # follows lean, ranks nothing within groups
    report = lean_report(lean_only, labels, right)
    assert abs(report["rho_scores_right_share"]) > abs(report["rho_labels_right_share"])
    assert abs(report["rho_within_right"]) < 0.5 and abs(report["rho_within_other"]) < 0.5
    good = lean_report(labels, labels, right)
    assert good["rho_within_right"] == pytest.approx(1.0) and good["rho_within_other"] == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(n_groups=st.integers(min_value=0, max_value=12), wanted=st.integers(min_value=2, max_value=10))
@example(n_groups=3, wanted=2)  # 2 folds of 3 outlets would train one fold on 1 outlet
def test_fold_count_is_leave_one_outlet_out_below_the_wanted_folds(n_groups: int, wanted: int) -> None:
    if n_groups < MIN_OUTLETS:
        with pytest.raises(ValueError, match=f"at least {MIN_OUTLETS}"):
            fold_count(n_groups, wanted)
        return
    folds = fold_count(n_groups, wanted)
    fewest = min(wanted, n_groups)
    enough = n_groups - -(-n_groups // fewest) >= MIN_OUTLETS - 1  # the wanted folds each train on 2 outlets
    assert folds == fewest if enough else fewest < folds <= n_groups
    outlets = [f"o{i}" for i in range(n_groups)]
    splits = grouped_splits(outlets, n_splits=folds, n_repeats=2, seed=n_groups)
    assert len(splits) == 2 * folds
    for s in splits:
        assert len(s.train) >= MIN_OUTLETS - 1 and not set(s.train) & set(s.test)  # a slope needs 2 outlets
    if folds == n_groups:  # leave-one-outlet-out: every test part is one outlet
        assert all(len(s.test) == 1 for s in splits)
