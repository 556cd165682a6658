"""Combining the text layer and the cue model, the ~90% interval, and the grade rules.

- **Combination**: published prediction = a x text + (1 - a) x cue, with the weight `a` in [0, 1] chosen on
  the training outlets' inner out-of-fold predictions (lowest mean absolute error; `choose_weight`).
- **Interval** (`interval_bounds`): pred +- sqrt((q sigma)^2 + (z x se)^2). q sigma = the model error: q is the
  split-conformal quantile (`conformal_quantile`) of the training outlets' inner out-of-fold residuals, each
  divided by sigma(d), and sigma(d) = s0 + s1 x d grows with the outlet's distance d from the training outlets
  (locally weighted conformal; `scorer.two_layer.fit_spread`, sigma = 1 when it does not rise); se = the outlet's
  sampling standard error: for the text layer sd(s_i) / sqrt(n) of its stored per-article contributions, for the
  cue model a delta-method propagation of each feature's sd / sqrt(n) through the fitted model
  (`cue_standard_error`); combined as sqrt((a se_text)^2 + ((1 - a) se_cue)^2) and stretched by the calibration.
  z = the normal quantile of the coverage (1.645 for 90%). No resampling: one pass over stored numbers.
- **Grades** (`grade_scores`): high / mixed / low from two score thresholds chosen so that grades agree with
  MBFC's collapsed grades on the training outlets' out-of-fold predictions (`choose_thresholds`, in
  evaluation only: MBFC is never shipped; the chosen numbers are `scorer.grades.SCORE_THRESHOLDS`).
  `grade_confidence` is `firm` when the whole interval lies in the score's grade, else `uncertain`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import norm

WEIGHT_GRID = tuple(float(a) for a in np.round(np.linspace(0.0, 1.0, 21), 2))
FIRM = "firm"
UNCERTAIN = "uncertain"


def choose_weight(text: np.ndarray, cue: np.ndarray, y: np.ndarray, grid: Sequence[float] = WEIGHT_GRID) -> float:
    """The weight a of the text layer (a x text + (1 - a) x cue) with the lowest MAE on these predictions.

    Outlets missing either prediction are left out; ties go to the larger a. Without usable rows: 1.0 when
    the text predictions exist, else 0.0.
    """
    text, cue, y = (np.asarray(v, dtype=float) for v in (text, cue, y))
    ok = ~(np.isnan(text) | np.isnan(cue) | np.isnan(y))
    if not ok.any():
        return 1.0 if not np.all(np.isnan(text)) else 0.0
    errors = [float(np.mean(np.abs(a * text[ok] + (1 - a) * cue[ok] - y[ok]))) for a in grid]
    best = min(errors)
    return max(a for a, e in zip(grid, errors, strict=True) if e <= best * (1 + 1e-12))


def conformal_quantile(residuals: np.ndarray, coverage: float) -> float:
    """Split-conformal quantile of |residuals|: the ceil((n + 1) * coverage)-th smallest (inf if n too small)."""
    r = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    r = r[~np.isnan(r)]
    n = len(r)
    if n == 0:
        return math.inf
    rank = math.ceil((n + 1) * coverage)
    return float(r[rank - 1]) if rank <= n else math.inf


def conformal_min_n(coverage: float) -> int:
    """The fewest residuals for which `conformal_quantile` is finite at this coverage (9 for 0.9): with fewer, a
    split-conformal bound of that coverage does not exist and the interval is the whole scale."""
    n = 1
    while math.ceil((n + 1) * coverage) > n:
        n += 1
    return n


def z_of(coverage: float) -> float:
    """Two-sided normal quantile for a central `coverage` interval (1.645 for 0.9)."""
    return float(norm.ppf(0.5 + coverage / 2.0))


def combined_se(weight: float, se_text: np.ndarray, se_cue: np.ndarray) -> np.ndarray:
    """Sampling SE of a x text + (1 - a) x cue, the layers' errors taken as independent; NaN parts count 0."""
    t = np.nan_to_num(np.asarray(se_text, dtype=float), nan=0.0)
    c = np.nan_to_num(np.asarray(se_cue, dtype=float), nan=0.0)
    return np.sqrt((weight * t) ** 2 + ((1.0 - weight) * c) ** 2)


def interval_bounds(
    pred: np.ndarray, *, quantile: float | np.ndarray, se: np.ndarray, coverage: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """pred -+ sqrt(quantile^2 + (z se)^2) on the label scale (se NaN counts as 0; quantile per row or one: the
    model error q x sigma(d) of scorer.two_layer)."""
    pred = np.asarray(pred, dtype=float)
    se = np.nan_to_num(np.asarray(se, dtype=float), nan=0.0)
    half = np.sqrt(quantile**2 + (z_of(coverage) * se) ** 2)
    return pred - half, pred + half


def grade_scores(scores: np.ndarray, thresholds: tuple[float, float]) -> np.ndarray:
    """high (>= thresholds[1]), mixed (>= thresholds[0]), low; on the scale of `thresholds`; NaN -> None."""
    s = np.asarray(scores, dtype=float)
    low, high = thresholds
    out = np.where(s >= high, "high", np.where(s >= low, "mixed", "low")).astype(object)
    out[np.isnan(s)] = None
    return out


def grade_confidence(low: np.ndarray, high: np.ndarray, thresholds: tuple[float, float]) -> np.ndarray:
    """`firm` when both interval ends have the same grade, else `uncertain` (None where an end is NaN)."""
    a = grade_scores(low, thresholds)
    b = grade_scores(high, thresholds)
    out = np.where(a == b, FIRM, UNCERTAIN).astype(object)
    out[np.isnan(np.asarray(low, dtype=float)) | np.isnan(np.asarray(high, dtype=float))] = None
    return out


def fast_macro_f1(pred: np.ndarray, truth: np.ndarray) -> float:
    """Macro-F1 over high / mixed / low (as scorer.cv.macro_f1, without scikit-learn's input checks)."""
    scores = []
    for g in ("high", "mixed", "low"):
        tp = float(np.sum((pred == g) & (truth == g)))
        fp = float(np.sum((pred == g) & (truth != g)))
        fn = float(np.sum((pred != g) & (truth == g)))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def choose_thresholds(
    pred: np.ndarray, grades: Sequence[str | None], grid: Sequence[float] | None = None
) -> tuple[float, float]:
    """(low, high) score thresholds maximising macro-F1 of the predicted grades against `grades`.

    Only outlets with a grade count. Ties: the pair closest to the middle of the tied range (stable).
    """
    p = np.asarray(pred, dtype=float)
    has = np.array([g is not None for g in grades]) & ~np.isnan(p)
    truth = np.array([g for g, h in zip(grades, has, strict=True) if h], dtype=object)
    values = p[has]
    candidates = np.round(np.arange(0.05, 0.96, 0.01), 2) if grid is None else np.asarray(grid, dtype=float)
    best, pairs = -1.0, []
    for i, lo in enumerate(candidates):
        for hi in candidates[i + 1 :]:
            f1 = fast_macro_f1(grade_scores(values, (float(lo), float(hi))), truth)
            if f1 > best + 1e-12:
                best, pairs = f1, [(float(lo), float(hi))]
            elif abs(f1 - best) <= 1e-12:
                pairs.append((float(lo), float(hi)))
    if not pairs:
        return 0.30, 0.60
    lo_mid = float(np.median([p[0] for p in pairs]))
    hi_mid = float(np.median([p[1] for p in pairs]))
    return min(pairs, key=lambda t: (abs(t[0] - lo_mid) + abs(t[1] - hi_mid), t))
