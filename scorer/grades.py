"""Collapsed reliability grades (high / mixed / low) and the thresholds that define them.

One set of thresholds for labels and scores: a score in [0, 1] (0-100 for published scores) is `high` at
>= 0.60, `mixed` at >= 0.30, else `low`. They are rounded from the thresholds (0.28, 0.62) that maximise the
macro-F1 of Lin et al. (2023) pc1 against MBFC 2026 factual-reporting grades collapsed to three
(very-high+high -> high, mostly-factual+mixed -> mixed, low+very-low -> low) over the 5,771 domains both
rate uniquely (macro-F1 0.72 there, 0.69 with the rounded thresholds; see docs/evaluation.md).
"""

from __future__ import annotations

import numpy as np
import polars as pl

GRADES = ("high", "mixed", "low")
"""Collapsed grades, best first."""

GRADE_THRESHOLDS: dict[str, float] = {"high": 0.60, "mixed": 0.30}
"""Lower bounds on the [0, 1] label scale (multiply by 100 for the published score)."""

GRADE_INDEX = {"low": 0, "mixed": 1, "high": 2}
"""Ordinal position of a grade (for grade-step MAE)."""


def grade_of(score: pl.Expr, *, scale: float = 1.0) -> pl.Expr:
    """Collapsed grade of a score expression on [0, scale] (1 for labels, 100 for scores); null/NaN -> null."""
    return (
        pl.when(score.is_null() | score.is_nan())
        .then(pl.lit(None, dtype=pl.String))
        .when(score >= GRADE_THRESHOLDS["high"] * scale)
        .then(pl.lit("high"))
        .when(score >= GRADE_THRESHOLDS["mixed"] * scale)
        .then(pl.lit("mixed"))
        .otherwise(pl.lit("low"))
    )


def grades_of(scores: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    """NumPy version of `grade_of` (scores must not be NaN)."""
    scores = np.asarray(scores, dtype=float)
    return np.where(
        scores >= GRADE_THRESHOLDS["high"] * scale,
        "high",
        np.where(scores >= GRADE_THRESHOLDS["mixed"] * scale, "mixed", "low"),
    )


SCORE_THRESHOLDS: tuple[float, float] = (0.48, 0.70)
"""(low/mixed, mixed/high) thresholds for PUBLISHED scores on the [0, 1] scale (x 100 for the 0-100 score).

Not the label thresholds above: even calibrated (scorer.two_layer), predictions are pulled towards the mean, so a
score of 0.60 is not an outlet rated 0.60. Chosen by the evaluation (`python -m evaluation`,
`scorer.combine.choose_thresholds`) on the training outlets' inner out-of-fold predictions so that grades agree
best (macro-F1) with MBFC's collapsed grades: the median of the 25 folds' choices (one fit's choice is unstable:
0.37-0.50 for low/mixed); the cross-validated macro-F1 of grades chosen this way inside each fold is in
docs/evaluation.md. MBFC's ratings are used for this choice only and are not shipped.
"""
