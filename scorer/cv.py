"""Cross-validation grouped by outlet, and the metrics the evaluation reports.

`grouped_splits` is repeated GroupKFold (n_splits folds x n_repeats, each repeat a different shuffle of
the groups via its own seed): an outlet (a group) is never in both the training and the test part of a
split, whether rows are outlets or articles. Not leave-one-outlet-out: with ~65 outlets that is too
optimistic for the penalty choice and too noisy to compare estimators. With fewer outlets than folds the
product's fit uses `fold_count`: as many folds as outlets, i.e. leave-one-outlet-out, down to `MIN_OUTLETS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from scorer.grades import GRADE_INDEX, GRADES

MIN_OUTLETS = 3
"""The fewest labelled outlets a grouped cross-validation (and so a fit) can honestly work with: leave-one-outlet-out
on 3 outlets trains each fold on 2 (the fewest that carry a slope) and yields 3 out-of-fold predictions (the
fewest a rank correlation is defined on). With 2, each fold would learn from one outlet (a constant) and the
Spearman would be undefined."""


def fold_count(n_groups: int, wanted: int = 5) -> int:
    """Folds for n_groups outlets: `wanted`, or one per outlet (leave-one-outlet-out) when there are fewer; more
    than `wanted` when its largest test fold would leave fewer than MIN_OUTLETS - 1 outlets to train on (3 outlets
    in 2 folds: a fold of 1).

    Raises ValueError below MIN_OUTLETS."""
    if n_groups < MIN_OUTLETS:
        raise ValueError(f"{n_groups} outlets cannot be cross-validated: at least {MIN_OUTLETS} are needed")
    folds = min(wanted, n_groups)
    while n_groups - -(-n_groups // folds) < MIN_OUTLETS - 1:  # n minus the largest test fold (ceil)
        folds += 1
    return folds


@dataclass(frozen=True)
class Split:
    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def grouped_splits(groups: Sequence[Any], *, n_splits: int = 5, n_repeats: int = 5, seed: int = 0) -> list[Split]:
    """Repeated GroupKFold: n_repeats x n_splits splits; repeat r shuffles the groups with seed + r.

    n_splits may equal the number of groups (leave-one-group-out; every repeat is then the same partition with
    the folds numbered in another order); more folds than groups is a ValueError (see `fold_count`)."""
    g = np.asarray(groups, dtype=object)
    n_groups = len(set(g.tolist()))
    if n_groups < n_splits:
        raise ValueError(f"{n_groups} groups cannot make {n_splits} folds (fold_count chooses a number that can)")
    splits = []
    placeholder = np.zeros((len(g), 1))
    for r in range(n_repeats):
        cv = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
        for f, (train, test) in enumerate(cv.split(placeholder, groups=g)):
            splits.append(Split(r, f, np.asarray(train), np.asarray(test)))
    return splits


def out_of_fold(
    splits: Sequence[Split], n_rows: int, fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """(n_repeats x n_rows) predictions: fit_predict(train_idx, test_idx) -> predictions for test_idx."""
    n_repeats = max(s.repeat for s in splits) + 1
    out = np.full((n_repeats, n_rows), np.nan)
    for s in splits:
        out[s.repeat, s.test] = fit_predict(s.train, s.test)
    return out


def spearman(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation (NaN pairs dropped; NaN when fewer than 3 pairs or a constant side)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan")
    return float(spearmanr(x[ok], y[ok]).statistic)


def mae(pred: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray) -> float:
    p, t = np.asarray(pred, dtype=float), np.asarray(truth, dtype=float)
    ok = ~(np.isnan(p) | np.isnan(t))
    return float(np.mean(np.abs(p[ok] - t[ok]))) if ok.any() else float("nan")


def macro_f1(pred_grades: Sequence[str], true_grades: Sequence[str]) -> float:
    """Macro-F1 over high / mixed / low (every class counts, also one never predicted)."""
    return float(f1_score(list(true_grades), list(pred_grades), labels=list(GRADES), average="macro", zero_division=0))


def grade_mae(pred_grades: Sequence[str], true_grades: Sequence[str]) -> float:
    """Mean absolute difference in grade steps (low=0, mixed=1, high=2)."""
    p = np.array([GRADE_INDEX[g] for g in pred_grades], dtype=float)
    t = np.array([GRADE_INDEX[g] for g in true_grades], dtype=float)
    return float(np.mean(np.abs(p - t))) if len(t) else float("nan")


def coverage(low: np.ndarray, high: np.ndarray, truth: np.ndarray) -> float:
    """Share of truths inside [low, high]."""
    low, high, truth = (np.asarray(v, dtype=float) for v in (low, high, truth))
    return float(np.mean((truth >= low) & (truth <= high)))


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample sd over repeats (NaN ignored)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
