"""The published model: a text layer (scorer.text) beside the cue model (scorer.model), combined by scorer.combine.

    model = fit_two_layer(counts, doc_group, y, cue_rows, ratings=..., seed=0)
    frame = predict_two_layer(model, outlet_inputs)      # text, cue, combined prediction, SE, interval

`outlet_inputs` has one row per outlet: `n_articles`, `text_mean` (mean of the stored per-article text
contributions s_i), `text_se` (their sd / sqrt(n)), the cue model's feature columns (shrunk means, and
`cited_rating`), and `{feature}__sd` (per-article sd of each cue feature) for the cue model's sampling error.
Everything is computed from per-outlet aggregates of stored per-article numbers: no resampling.

Factors (`factor_table`): baseline = 100 x (a x text_baseline + (1 - a) x cue intercept); the text layer is one
factor, 100 x a x (text prediction - text_baseline); every cue feature j is 100 x (1 - a) x coef_j x z_j. They
sum exactly to the unclipped score.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from scorer.combine import (
    choose_weight,
    combined_se,
    conformal_quantile,
    grade_confidence,
    grade_scores,
    interval_bounds,
)
from scorer.cues import CITED_RATING
from scorer.model import ReliabilityModel
from scorer.persist import model_from_dict, model_to_dict
from scorer.text import TextLayer, group_stats

FORMAT = "presstrust.scorer.two_layer"
FORMAT_VERSION = 2  # 2 adds the cross-fitted fold models (v1 models load without them)
PUBLISHED_WEIGHT = 0.5
"""The product's text-layer weight a. Fixed, not chosen per fit: in docs/evaluation.md a fixed 50/50 average is
as accurate as the weight chosen in the folds (paired difference 0.00), and the chosen weight drifts to 1.0 on
small training sets (the embedded sample), which would leave the cue layer - the explanation - with no say."""
TEXT_FACTOR = "text layer (wording)"
MIN_PER_BIN = 15  # outlets per prediction bin needed for a separate conformal quantile


@dataclass
class TwoLayerModel:
    text: TextLayer | None
    cue: ReliabilityModel
    weight: float  # a: weight of the text layer
    quantile: float  # conformal quantile of combined inner out-of-fold residuals (label scale)
    coverage: float = 0.9
    text_baseline: float = float("nan")  # mean text prediction over the training outlets
    ratings: dict[str, float] = field(default_factory=dict)  # cited outlet -> training label (cited_rating)
    inner_oof: np.ndarray = field(default_factory=lambda: np.zeros(0))
    quantile_cut: float = float("nan")  # predictions below it use bin_quantiles[0], the others [1]
    bin_quantiles: tuple[float, float] = (float("nan"), float("nan"))
    folds: list[TwoLayerModel] = field(default_factory=list)  # cross-fitted models: fold k left out fold k's outlets
    fold_of: dict[str, int] = field(default_factory=dict)  # training outlet -> the fold model that did not see it

    def for_outlet(self, outlet: str) -> tuple[int | None, TwoLayerModel]:
        """(fold, model) that scores this outlet: a training outlet's fold model (never saw its label), else self."""
        k = self.fold_of.get(outlet)
        return (None, self) if k is None or k >= len(self.folds) else (k, self.folds[k])

    def quantile_of(self, pred: np.ndarray) -> np.ndarray:
        """The conformal quantile for each prediction: per prediction bin (Mondrian) when fitted, else overall."""
        pred = np.asarray(pred, dtype=float)
        if not all(math.isfinite(q) for q in (self.quantile_cut, *self.bin_quantiles)):
            return np.full(pred.shape, self.quantile)
        return np.where(pred < self.quantile_cut, self.bin_quantiles[0], self.bin_quantiles[1])

    @property
    def cue_features(self) -> list[str]:
        return [str(n) for n in self.cue.feature_names_in_]

    @property
    def baseline(self) -> float:
        """Prediction (label scale) of an outlet at the training means of both layers."""
        text = self.weight * self.text_baseline if self.text is not None and self.weight > 0 else 0.0
        return text + (1.0 - self.weight) * self.cue.intercept_

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "text": None if self.text is None else self.text.to_dict(),
            "cue": model_to_dict(self.cue),
            "weight": self.weight,
            "quantile": None if not math.isfinite(self.quantile) else self.quantile,
            "coverage": self.coverage,
            "text_baseline": self.text_baseline,
            "ratings": dict(sorted(self.ratings.items())),
            "quantile_cut": None if not math.isfinite(self.quantile_cut) else self.quantile_cut,
            "bin_quantiles": [None if not math.isfinite(q) else q for q in self.bin_quantiles],
            "folds": [f.to_dict() for f in self.folds],
            "fold_of": dict(sorted(self.fold_of.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TwoLayerModel:
        if data.get("format") != FORMAT or data.get("format_version") not in (1, FORMAT_VERSION):
            raise ValueError(f"not a {FORMAT} v1-v{FORMAT_VERSION} model")
        q = data["quantile"]
        return cls(
            text=None if data["text"] is None else TextLayer.from_dict(data["text"]),
            cue=model_from_dict(data["cue"]),
            weight=float(data["weight"]),
            quantile=math.inf if q is None else float(q),
            coverage=float(data["coverage"]),
            text_baseline=float(data["text_baseline"]),
            ratings={str(k): float(v) for k, v in data["ratings"].items()},
            quantile_cut=math.nan if data.get("quantile_cut") is None else float(data["quantile_cut"]),
            bin_quantiles=tuple(  # type: ignore[arg-type]
                math.inf if q is None else float(q) for q in data.get("bin_quantiles", [None, None])
            )
            if data.get("quantile_cut") is not None
            else (math.nan, math.nan),
            folds=[cls.from_dict(f) for f in data.get("folds", [])],
            fold_of={str(k): int(v) for k, v in data.get("fold_of", {}).items()},
        )

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def fit_two_layer(
    counts: sp.csr_matrix | None,
    doc_group: np.ndarray | None,
    y: np.ndarray,
    cue_rows: pl.DataFrame,
    *,
    ratings: Mapping[str, float] | None = None,
    seed: int = 0,
    coverage: float = 0.9,
    weight: float | None = None,
    n_splits: int = 5,
    mondrian: bool = False,
    source: str = "title",
) -> TwoLayerModel:
    """Fit both layers on the training outlets (rows of cue_rows and y; articles in counts / doc_group).

    The text layer is skipped when counts is None (weight 0). `weight` fixes a instead of choosing it.
    `mondrian`: conformal quantiles per prediction bin (below / above the median inner prediction); off by
    default: in docs/evaluation.md it gave the same coverage with wider intervals than one quantile.
    """
    y = np.asarray(y, dtype=float)
    cue = ReliabilityModel(random_state=seed, coverage=coverage, n_splits=n_splits).fit(cue_rows, y)
    cue_oof = y - cue.cv_residuals_ if len(cue.cv_residuals_) == len(y) else np.full(len(y), np.nan)
    text: TextLayer | None = None
    text_oof = np.full(len(y), np.nan)
    text_baseline = float("nan")
    if counts is not None and doc_group is not None:
        text = TextLayer(random_state=seed, n_splits=n_splits, source=source).fit(counts, doc_group, y)
        text_oof = text.inner_oof_
        mean, _, _ = group_stats(text.contributions(counts), np.asarray(doc_group), len(y))
        text_baseline = float(np.mean(text.intercept_ + mean))
    if weight is None:
        weight = choose_weight(text_oof, cue_oof, y) if text is not None else 0.0
    combined = weight * np.nan_to_num(text_oof) + (1 - weight) * cue_oof if text is not None else cue_oof
    cut, bins = math.nan, (math.nan, math.nan)
    if mondrian and len(y) >= 2 * MIN_PER_BIN:
        # Mondrian split-conformal: the error is larger for outlets predicted low (the model pulls them to the
        # mean), so the quantile is taken separately below and above the median prediction
        cut = float(np.median(combined))
        lower = combined < cut
        if lower.sum() >= MIN_PER_BIN and (~lower).sum() >= MIN_PER_BIN:
            bins = (
                conformal_quantile((y - combined)[lower], coverage),
                conformal_quantile((y - combined)[~lower], coverage),
            )
        else:
            cut = math.nan
    return TwoLayerModel(
        text=text,
        cue=cue,
        weight=float(weight),
        quantile=conformal_quantile(y - combined, coverage),
        coverage=coverage,
        text_baseline=text_baseline,
        ratings=dict(ratings or {}),
        inner_oof=combined,
        quantile_cut=cut,
        bin_quantiles=bins,
    )


def cue_standard_error(model: ReliabilityModel, rows: pl.DataFrame) -> np.ndarray:
    """Delta-method sampling SE of the cue prediction: each feature moved by its sd / sqrt(n), effects in quadrature.

    Features without an `{f}__sd` column (e.g. cited_rating) contribute 0. NaN sd counts 0.
    """
    names = [str(n) for n in model.feature_names_in_]
    base_rows = rows.select([pl.col(c).cast(pl.Float64) for c in names])
    base = model.predict(base_rows)
    n = rows["n_articles"].cast(pl.Float64).to_numpy()
    total = np.zeros(rows.height)
    for name in names:
        sd_col = f"{name}__sd"
        if sd_col not in rows.columns:
            continue
        step = np.nan_to_num(rows[sd_col].cast(pl.Float64).to_numpy() / np.sqrt(np.maximum(n, 1.0)), nan=0.0)
        if not np.any(step):
            continue
        moved = base_rows.with_columns((pl.col(name) + pl.Series(step)).alias(name))
        total += (model.predict(moved) - base) ** 2
    return np.sqrt(total)


def predict_two_layer(model: TwoLayerModel, inputs: pl.DataFrame, *, thresholds: tuple[float, float]) -> pl.DataFrame:
    """Per outlet of `inputs` (module docstring): text_pred, cue_pred, pred, se, low, high (label scale), grade.

    grade / grade_confidence are on the label scale thresholds; outlets without text_mean use the cue model
    alone for their text part (weight still applies to the cue prediction then: text_pred = cue_pred).
    """
    cue_pred = model.cue.predict(inputs.select([pl.col(c).cast(pl.Float64) for c in model.cue_features]))
    se_cue = cue_standard_error(model.cue, inputs)
    if model.text is not None and "text_mean" in inputs.columns:
        text_pred = model.text.intercept_ + inputs["text_mean"].cast(pl.Float64).to_numpy()
        se_text = inputs["text_se"].cast(pl.Float64).to_numpy()
        missing = np.isnan(text_pred)
        text_pred = np.where(missing, cue_pred, text_pred)
        se_text = np.where(missing, se_cue, se_text)
    else:
        text_pred, se_text = cue_pred, se_cue
    a = model.weight
    pred = a * text_pred + (1 - a) * cue_pred
    se = combined_se(a, se_text, se_cue)
    low, high = interval_bounds(pred, quantile=model.quantile_of(pred), se=se, coverage=model.coverage)
    clipped = np.clip(pred, 0.0, 1.0)
    low, high = np.minimum(np.clip(low, 0.0, 1.0), clipped), np.maximum(np.clip(high, 0.0, 1.0), clipped)
    return pl.DataFrame(
        {
            "outlet": inputs["outlet"],
            "text_pred": text_pred,
            "cue_pred": cue_pred,
            "pred": pred,
            "se": se,
            "low": low,
            "high": high,
            "grade": pl.Series(grade_scores(clipped, thresholds), dtype=pl.String),
            "grade_confidence": pl.Series(grade_confidence(low, high, thresholds), dtype=pl.String),
        }
    )


def factor_table(model: TwoLayerModel, inputs: pl.DataFrame) -> tuple[float, list[list[dict[str, Any]]]]:
    """(baseline score, per outlet: every factor {feature, value, contribution} in score points, text first).

    baseline + sum of an outlet's contributions = 100 x its unclipped combined prediction.
    """
    a = model.weight
    cue_contrib = (
        100.0
        * (1 - a)
        * model.cue.contributions(inputs.select([pl.col(c).cast(pl.Float64) for c in model.cue_features]))
    )
    values = inputs.select(model.cue_features).cast(pl.Float64).to_numpy()
    cue_pred = model.cue.predict(inputs.select([pl.col(c).cast(pl.Float64) for c in model.cue_features]))
    text_pred = cue_pred.copy()
    if model.text is not None and "text_mean" in inputs.columns:
        t = model.text.intercept_ + inputs["text_mean"].cast(pl.Float64).to_numpy()
        text_pred = np.where(np.isnan(t), cue_pred, t)
    text_base = model.text_baseline if model.text is not None else model.cue.intercept_
    out = []
    for i in range(inputs.height):
        rows: list[dict[str, Any]] = []
        if a > 0:
            # an outlet without text contributions uses its cue prediction in the text part (predict_two_layer)
            rows.append(
                {
                    "feature": TEXT_FACTOR,
                    "value": float(text_pred[i]),
                    "contribution": float(100.0 * a * (text_pred[i] - text_base)),
                }
            )
        for j, name in enumerate(model.cue_features):
            v = values[i, j]
            rows.append(
                {"feature": name, "value": None if np.isnan(v) else float(v), "contribution": float(cue_contrib[i, j])}
            )
        out.append(rows)
    baseline = 100.0 * (a * text_base + (1 - a) * model.cue.intercept_)
    return baseline, out


def cited_rating_rows(cues: pl.DataFrame, outlets: list[str], ratings: Mapping[str, float]) -> pl.DataFrame:
    """outlet, cited_rating for `outlets` (in that order) from per-article `outlet, cited_outlets`."""
    from scorer.cues import cited_rating

    table = cited_rating(cues.lazy(), ratings=ratings).collect()
    return (
        pl.DataFrame({"outlet": outlets}, schema={"outlet": pl.String})  # typed even when empty
        .join(table, on="outlet", how="left", maintain_order="left")
        .select("outlet", CITED_RATING)
    )
