"""Frame-level API: train on labelled outlets, then score every outlet with an interval, grade, status, factors.

`score_outlets` output, one row per outlet of the matrix (sorted by outlet):

- `outlet`: canonical outlet domain.
- `n_articles`: articles the outlet's features were computed from.
- `score`: 0-100, higher = more reliable: 100 x the predicted label score, clipped to [0, 100].
- `score_low`, `score_high`: a ~`coverage` (90%) interval that contains `score`. Each side is
  sqrt(q^2 + d^2): q = the split-conformal quantile of the model's cross-validated residuals (model error),
  d = the distance from the prediction to the bootstrap quantile of predictions over resamples of the
  outlet's own articles (sampling error, large when an outlet has few articles).
- `grade`: high (score >= 60) / mixed (>= 30) / low, see `scorer.grades`.
- `status`: `ok`, or `insufficient_data` when n_articles < min_articles (the score is still given).
- `factors`: list of {feature, value, contribution}, the features that moved this outlet's score most, by
  absolute contribution in score points. Exact for the linear model: 100 x coef_j x z_j, z_j the outlet's
  transformed, standardised feature value (0 = training mean); all factors sum to the unclipped score minus
  `baseline_score(model)` (the score of an outlet at the training means). Null for non-linear estimators.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from scorer.grades import grades_of
from scorer.matrix import ID_COLUMNS
from scorer.model import ReliabilityModel

STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient_data"
DEFAULT_MIN_ARTICLES = 20

FACTOR_DTYPE = pl.List(pl.Struct({"feature": pl.String, "value": pl.Float64, "contribution": pl.Float64}))
SCORE_SCHEMA: dict[str, pl.DataType] = {
    "outlet": pl.String(),
    "n_articles": pl.UInt32(),
    "score": pl.Float64(),
    "score_low": pl.Float64(),
    "score_high": pl.Float64(),
    "grade": pl.String(),
    "status": pl.String(),
    "factors": FACTOR_DTYPE,
}


def feature_columns(matrix: pl.DataFrame) -> list[str]:
    """The matrix's feature columns: everything but outlet, n_articles, replicate and other identifiers."""
    return [c for c in matrix.columns if c not in ID_COLUMNS]


def training_frame(
    matrix: pl.DataFrame, labels: pl.DataFrame, *, min_articles: int = DEFAULT_MIN_ARTICLES
) -> pl.DataFrame:
    """Matrix rows of labelled outlets with >= min_articles articles, with `label_score` (sorted by outlet)."""
    return (
        matrix.join(labels.select("outlet", "label_score"), on="outlet", how="inner")
        .filter((pl.col("n_articles") >= min_articles) & pl.col("label_score").is_not_null())
        .sort("outlet")
    )


def fit_scorer(
    matrix: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    min_articles: int = DEFAULT_MIN_ARTICLES,
    model: ReliabilityModel | None = None,
    features: Sequence[str] | None = None,
) -> ReliabilityModel:
    """Fit `model` (default: ReliabilityModel()) on labelled outlets with >= min_articles articles."""
    train = training_frame(matrix, labels, min_articles=min_articles)
    if train.height < 3:
        raise ValueError(f"only {train.height} labelled outlets with >= {min_articles} articles: cannot train")
    cols = list(features) if features is not None else feature_columns(matrix)
    estimator = model if model is not None else ReliabilityModel()
    return estimator.fit(train.select(cols), train["label_score"].to_numpy())


def baseline_score(model: ReliabilityModel) -> float:
    """Score (0-100, unclipped) of an outlet at the training means: factors are deviations from it."""
    return 100.0 * model.intercept_


def bootstrap_predictions(model: ReliabilityModel, replicates: pl.DataFrame) -> pl.DataFrame:
    """Predictions (label scale) of the model on every bootstrap replicate: outlet, replicate, pred."""
    return replicates.select("outlet", "replicate").with_columns(pl.Series("pred", model.predict(replicates)))


def interval_bounds(
    pred: np.ndarray,
    *,
    conformal_quantile: float,
    boot_low: np.ndarray | None = None,
    boot_high: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interval on the label scale: each side sqrt(q^2 + d^2), d = distance from pred to the bootstrap quantile."""
    pred = np.asarray(pred, dtype=float)
    q2 = conformal_quantile**2
    d_low = np.zeros_like(pred) if boot_low is None else np.clip(pred - np.asarray(boot_low, float), 0.0, None)
    d_high = np.zeros_like(pred) if boot_high is None else np.clip(np.asarray(boot_high, float) - pred, 0.0, None)
    d_low = np.nan_to_num(d_low, nan=0.0)
    d_high = np.nan_to_num(d_high, nan=0.0)
    return pred - np.sqrt(q2 + d_low**2), pred + np.sqrt(q2 + d_high**2)


def score_outlets(
    model: ReliabilityModel,
    matrix: pl.DataFrame,
    *,
    bootstrap: pl.DataFrame | None = None,
    min_articles: int = DEFAULT_MIN_ARTICLES,
    n_factors: int | None = 5,
) -> pl.DataFrame:
    """Score every outlet of `matrix` (see the module docstring for the columns).

    `bootstrap` is `scorer.matrix.bootstrap_matrices` output for (some of) these outlets; without it, or
    for outlets it lacks, the interval has the model error only. `n_factors=None` lists every feature.
    """
    matrix = matrix.sort("outlet")
    pred = model.predict(matrix)
    alpha = 1.0 - model.coverage
    boot_low = boot_high = None
    if bootstrap is not None and bootstrap.height:
        spread = (
            bootstrap_predictions(model, bootstrap)
            .group_by("outlet")
            .agg(
                pl.col("pred").quantile(alpha / 2, interpolation="linear").alias("lo"),
                pl.col("pred").quantile(1 - alpha / 2, interpolation="linear").alias("hi"),
            )
        )
        joined = matrix.select("outlet").join(spread, on="outlet", how="left", maintain_order="left")
        boot_low = joined["lo"].to_numpy().astype(float)
        boot_high = joined["hi"].to_numpy().astype(float)
    low, high = interval_bounds(
        pred, conformal_quantile=model.conformal_quantile_, boot_low=boot_low, boot_high=boot_high
    )
    score = np.clip(100.0 * pred, 0.0, 100.0)
    score_low = np.minimum(np.clip(100.0 * low, 0.0, 100.0), score)
    score_high = np.maximum(np.clip(100.0 * high, 0.0, 100.0), score)
    n_articles = matrix["n_articles"].cast(pl.UInt32)
    status = np.where(n_articles.to_numpy() >= min_articles, STATUS_OK, STATUS_INSUFFICIENT)
    out = pl.DataFrame(
        {
            "outlet": matrix["outlet"],
            "n_articles": n_articles,
            "score": score,
            "score_low": score_low,
            "score_high": score_high,
            "grade": grades_of(score, scale=100.0),
            "status": status,
        }
    )
    factors = factor_lists(model, matrix, n_factors=n_factors) if model.is_linear else None
    out = out.with_columns(factors if factors is not None else pl.lit(None, dtype=FACTOR_DTYPE).alias("factors"))
    return out.select(list(SCORE_SCHEMA)).cast(SCORE_SCHEMA)  # type: ignore[arg-type]


def factor_lists(model: ReliabilityModel, matrix: pl.DataFrame, *, n_factors: int | None = 5) -> pl.Series:
    """Per outlet: its features sorted by |contribution| (score points), the top n_factors (all when None)."""
    fitted_names = getattr(model, "feature_names_in_", None)
    names = [str(n) for n in fitted_names] if fitted_names is not None else feature_columns(matrix)
    contrib = 100.0 * model.contributions(matrix)
    values = matrix.select(names).to_numpy().astype(float)
    rows = []
    for i in range(contrib.shape[0]):
        order = np.argsort(-np.abs(contrib[i]), kind="stable")
        if n_factors is not None:
            order = order[:n_factors]
        rows.append(
            [
                {
                    "feature": names[j],
                    "value": None if np.isnan(values[i, j]) else float(values[i, j]),
                    "contribution": float(contrib[i, j]),
                }
                for j in order
            ]
        )
    return pl.Series("factors", rows, dtype=FACTOR_DTYPE)
