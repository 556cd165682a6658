"""The published model: a text layer (scorer.text_layer) beside the cue model (scorer.model), combined, calibrated.

    model = fit_two_layer(text_matrix(texts, source="body"), doc_group, y, cue_rows, ratings=..., seed=0)
    frame = predict_two_layer(model, outlet_inputs)      # text, cue, combined prediction, SE, interval

The combined prediction a x text + (1 - a) x cue is mapped to the label scale by a linear stretch c0 + c1 x p
(`calibration`), fitted on the training outlets' inner out-of-fold predictions: averages of article predictions
squeeze toward the middle, and the stretch undoes that without changing the ranking. The interval's model part is
locally weighted split-conformal: residuals are scaled by sigma(d) = s0 + s1 x d, where d is how far the outlet's
wording is from the training outlets' (`TextLayer.distance`; `text_distance` in the inputs), so intervals widen
for outlets unlike the training majority and narrow where the model is sure.

`outlet_inputs` has one row per outlet: `n_articles`, `text_mean` (mean of the stored per-article text
contributions s_i), `text_se` (their sd / sqrt(n)), `text_distance` (optional: TextLayer.distance of the mean of
its articles' stored coordinates), the cue model's feature columns (shrunk means, and
`cited_rating`), and `{feature}__sd` (per-article sd of each cue feature) for the cue model's sampling error.
Everything is computed from per-outlet aggregates of stored per-article numbers: no resampling.

Factors (`factor_table`): baseline = 100 x (c0 + c1 x (a x text_baseline + (1 - a) x cue intercept)); the text
layer is one factor, 100 x c1 x a x (text prediction - text_baseline); every cue feature j is
100 x c1 x (1 - a) x coef_j x z_j. They sum exactly to the unclipped score.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from scorer.combine import (
    choose_weight,
    combined_se,
    conformal_quantile,
    grade_confidence,
    grade_scores,
    interval_bounds,
)
from scorer.cues import CITED_RATING
from scorer.cv import MIN_OUTLETS
from scorer.model import ReliabilityModel
from scorer.persist import model_from_dict, model_to_dict
from scorer.text import group_stats
from scorer.text_layer import PARTS, TextLayer, TextMatrix

FORMAT = "presstrust.scorer.two_layer"
FORMAT_VERSION = 3  # 2 adds the cross-fitted fold models, 3 the calibration and the distance-scaled intervals
PUBLISHED_WEIGHT = 0.85
"""The product's text-layer weight a. Fixed, not chosen per fit (the chosen weight drifts to 1.0 on small training
sets such as the embedded sample, which would leave the cue layer - the explanation - no say). Chosen in the
evaluation's 5 x 5 outlet-grouped CV on 80 outlets among 0.5 / 0.7 / 0.85 / 1.0 (issue 24; optimistic by that
choice): Spearman .609 / .638 / .652 / .657, MAE .129 / .125 / .125 / .127, macro-F1 vs MBFC .47 / .48 / .52 / .57.
The cue layer alone ranks at .46 there; the text layer (TF-IDF and embedding ridges averaged) at .66."""
TEXT_FACTOR = "text layer (wording)"
MIN_SPREAD_OUTLETS = 15
"""The fewest training outlets with inner out-of-fold residuals and distances for which sigma(d) is fitted; with
fewer every outlet gets the same conformal quantile (sigma = 1)."""
SPREAD_FLOOR = 0.25
"""sigma(d) never falls below this share of its value at the median training distance: a line fitted on ~70
residuals must not promise near-zero intervals anywhere."""


@dataclass
class TwoLayerModel:
    text: TextLayer | None
    cue: ReliabilityModel
    weight: float  # a: weight of the text layer
    quantile: float  # conformal quantile of the inner out-of-fold residuals / sigma(d) (label scale when sigma = 1)
    coverage: float = 0.9
    text_baseline: float = float("nan")  # mean text prediction over the training outlets
    ratings: dict[str, float] = field(default_factory=dict)  # cited outlet -> training label (cited_rating)
    inner_oof: np.ndarray = field(default_factory=lambda: np.zeros(0))  # calibrated inner out-of-fold predictions
    calibration: tuple[float, float] = (0.0, 1.0)  # (c0, c1): label = c0 + c1 x combined prediction
    spread: tuple[float, float] | None = None  # (s0, s1): sigma(d) = max(s0 + s1 d, floor); None: sigma = 1
    spread_floor: float = 0.0
    far_distance: float = float("nan")  # the distance used for an outlet without one (the largest training one)
    folds: list[TwoLayerModel] = field(default_factory=list)  # cross-fitted models: fold k left out fold k's outlets
    fold_of: dict[str, int] = field(default_factory=dict)  # training outlet -> the fold model that did not see it

    def for_outlet(self, outlet: str) -> tuple[int | None, TwoLayerModel]:
        """(fold, model) that scores this outlet: a training outlet's fold model (never saw its label), else self."""
        k = self.fold_of.get(outlet)
        return (None, self) if k is None or k >= len(self.folds) else (k, self.folds[k])

    def sigma(self, distance: np.ndarray) -> np.ndarray:
        """sigma(d) per outlet: the residual scale at that distance from the training outlets (1 without a spread);
        a NaN distance counts as `far_distance`."""
        d = np.asarray(distance, dtype=float)
        if self.spread is None:
            return np.ones(d.shape)
        d = np.where(np.isnan(d), self.far_distance, d)
        return np.maximum(self.spread[0] + self.spread[1] * d, self.spread_floor)

    def calibrate(self, raw: np.ndarray | float) -> np.ndarray:
        """The calibrated prediction c0 + c1 x raw (label scale)."""
        return self.calibration[0] + self.calibration[1] * np.asarray(raw, dtype=float)

    def share_intervals(self, other: TwoLayerModel) -> None:
        """Use `other`'s conformal quantile and sigma(d) (a fold model publishing its left-out outlets' scores)."""
        self.quantile, self.spread = other.quantile, other.spread
        self.spread_floor, self.far_distance = other.spread_floor, other.far_distance

    @property
    def cue_features(self) -> list[str]:
        return [str(n) for n in self.cue.feature_names_in_]

    @property
    def baseline(self) -> float:
        """Prediction (label scale) of an outlet at the training means of both layers."""
        text = self.weight * self.text_baseline if self.text is not None and self.weight > 0 else 0.0
        return float(self.calibrate(text + (1.0 - self.weight) * self.cue.intercept_))

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
            "calibration": list(self.calibration),
            "spread": None if self.spread is None else list(self.spread),
            "spread_floor": self.spread_floor,
            "far_distance": None if not math.isfinite(self.far_distance) else self.far_distance,
            "folds": [f.to_dict() for f in self.folds],
            "fold_of": dict(sorted(self.fold_of.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TwoLayerModel:
        """From `to_dict`; v1-v2 models load with no calibration (identity) and one conformal quantile."""
        if data.get("format") != FORMAT or data.get("format_version") not in (1, 2, FORMAT_VERSION):
            raise ValueError(f"not a {FORMAT} v1-v{FORMAT_VERSION} model")
        q = data["quantile"]
        spread = data.get("spread")
        far = data.get("far_distance")
        return cls(
            text=None if data["text"] is None else TextLayer.from_dict(data["text"]),
            cue=model_from_dict(data["cue"]),
            weight=float(data["weight"]),
            quantile=math.inf if q is None else float(q),
            coverage=float(data["coverage"]),
            text_baseline=float(data["text_baseline"]),
            ratings={str(k): float(v) for k, v in data["ratings"].items()},
            calibration=tuple(float(v) for v in data.get("calibration", (0.0, 1.0))),  # type: ignore[arg-type]
            spread=None if spread is None else (float(spread[0]), float(spread[1])),
            spread_floor=float(data.get("spread_floor", 0.0)),
            far_distance=math.nan if far is None else float(far),
            folds=[cls.from_dict(f) for f in data.get("folds", [])],
            fold_of={str(k): int(v) for k, v in data.get("fold_of", {}).items()},
        )

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def fit_calibration(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(c0, c1) of the least-squares line y ~ c0 + c1 x raw on the finite pairs; identity (0, 1) when it is not a
    rising line (fewer than MIN_OUTLETS pairs, a constant prediction or a slope <= 0)."""
    raw, y = np.asarray(raw, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(raw) & np.isfinite(y)
    if ok.sum() < MIN_OUTLETS or np.ptp(raw[ok]) == 0:
        return 0.0, 1.0
    c1, c0 = np.polyfit(raw[ok], y[ok], 1)
    return (float(c0), float(c1)) if c1 > 0 else (0.0, 1.0)


def fit_spread(residuals: np.ndarray, distance: np.ndarray) -> tuple[tuple[float, float] | None, float]:
    """((s0, s1), floor) of the least-squares line |r| ~ s0 + s1 x d, or (None, 0) when it does not rise with the
    distance or there are fewer than MIN_SPREAD_OUTLETS pairs (one quantile for every outlet then)."""
    r, d = np.abs(np.asarray(residuals, dtype=float)), np.asarray(distance, dtype=float)
    ok = np.isfinite(r) & np.isfinite(d)
    if ok.sum() < MIN_SPREAD_OUTLETS or np.ptp(d[ok]) == 0:
        return None, 0.0
    s1, s0 = np.polyfit(d[ok], r[ok], 1)
    if s1 <= 0:
        return None, 0.0
    floor = SPREAD_FLOOR * float(s0 + s1 * np.median(d[ok]))
    if floor <= 0:
        return None, 0.0
    return (float(s0), float(s1)), floor


def fit_two_layer(
    x: TextMatrix | None,
    doc_group: np.ndarray | None,
    y: np.ndarray,
    cue_rows: pl.DataFrame,
    *,
    ratings: Mapping[str, float] | None = None,
    seed: int = 0,
    coverage: float = 0.9,
    weight: float | None = None,
    n_splits: int = 5,
    source: str = "body",
    calibrate: bool = True,
    local_intervals: bool = True,
    text_parts: tuple[str, ...] = PARTS,
    within: bool = True,
) -> TwoLayerModel:
    """Fit both layers on the training outlets (rows of cue_rows and y; articles in x / doc_group).

    The text layer is skipped when x is None (weight 0). `weight` fixes a instead of choosing it. `calibrate`:
    the linear stretch (else identity); `local_intervals`: sigma(d) from the text layer's distances (else one
    quantile for every outlet); `text_parts`, `within`: scorer.text_layer.TextLayer's (for comparisons).
    """
    y = np.asarray(y, dtype=float)
    cue = ReliabilityModel(random_state=seed, coverage=coverage, n_splits=n_splits).fit(cue_rows, y)
    cue_oof = y - cue.cv_residuals_ if len(cue.cv_residuals_) == len(y) else np.full(len(y), np.nan)
    text: TextLayer | None = None
    text_oof = np.full(len(y), np.nan)
    text_baseline = float("nan")
    if x is not None and doc_group is not None:
        text = TextLayer(random_state=seed, n_splits=n_splits, source=source, parts=text_parts, within=within)
        text.fit(x, doc_group, y)
        text_oof = text.inner_oof_
        mean, _, _ = group_stats(text.contributions(x), np.asarray(doc_group), len(y))
        text_baseline = float(np.mean(text.intercept_ + mean))
    if weight is None:
        weight = choose_weight(text_oof, cue_oof, y) if text is not None else 0.0
    raw = weight * np.nan_to_num(text_oof) + (1 - weight) * cue_oof if text is not None else cue_oof
    model = TwoLayerModel(
        text=text,
        cue=cue,
        weight=float(weight),
        quantile=math.inf,
        coverage=coverage,
        text_baseline=text_baseline,
        ratings=dict(ratings or {}),
        calibration=fit_calibration(raw, y) if calibrate else (0.0, 1.0),
    )
    model.inner_oof = model.calibrate(raw)
    residuals = y - model.inner_oof
    if local_intervals and text is not None and text.has_coords:
        distance = text.training_distance()
        model.spread, model.spread_floor = fit_spread(residuals, distance)
        model.far_distance = float(np.nanmax(distance))
    scale = model.sigma(distance) if model.spread is not None else 1.0
    model.quantile = conformal_quantile(residuals / scale, coverage)
    return model


def cue_standard_error(model: ReliabilityModel, rows: pl.DataFrame) -> np.ndarray:
    """Delta-method sampling SE of the cue prediction: each feature moved by its sd / sqrt(n), effects in quadrature.

    Features without an `{f}__sd` column (e.g. cited_rating) contribute 0. NaN sd counts 0.
    """
    names = [str(n) for n in model.feature_names_in_]
    base_rows = rows.select([pl.col(c).cast(pl.Float64) for c in names])
    n = rows["n_articles"].cast(pl.Float64).to_numpy()
    moved = []
    for name in names:
        sd_col = f"{name}__sd"
        if sd_col not in rows.columns:
            continue
        step = np.nan_to_num(rows[sd_col].cast(pl.Float64).to_numpy() / np.sqrt(np.maximum(n, 1.0)), nan=0.0)
        if np.any(step):
            moved.append(base_rows.with_columns((pl.col(name) + pl.Series(step)).alias(name)))
    # one predict over the base rows and every moved copy (predictions are row by row)
    predicted = model.predict(pl.concat([base_rows, *moved])).reshape(len(moved) + 1, rows.height)
    return np.sqrt(((predicted[1:] - predicted[0]) ** 2).sum(axis=0))


def predict_two_layer(model: TwoLayerModel, inputs: pl.DataFrame, *, thresholds: tuple[float, float]) -> pl.DataFrame:
    """Per outlet of `inputs` (module docstring): text_pred, cue_pred, pred (calibrated), se, low, high (label
    scale), sigma (the interval's residual scale), grade.

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
    a, c1 = model.weight, model.calibration[1]
    pred = model.calibrate(a * text_pred + (1 - a) * cue_pred)
    se = c1 * combined_se(a, se_text, se_cue)
    distance = inputs["text_distance"].cast(pl.Float64).to_numpy() if "text_distance" in inputs.columns else None
    sigma = model.sigma(np.full(inputs.height, np.nan) if distance is None else distance)
    low, high = interval_bounds(pred, quantile=model.quantile * sigma, se=se, coverage=model.coverage)
    clipped = np.clip(pred, 0.0, 1.0)
    low, high = np.minimum(np.clip(low, 0.0, 1.0), clipped), np.maximum(np.clip(high, 0.0, 1.0), clipped)
    return pl.DataFrame(
        {
            "outlet": inputs["outlet"],
            "text_pred": text_pred,
            "cue_pred": cue_pred,
            "pred": pred,
            "se": se,
            "sigma": sigma,
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
    a, (c0, c1) = model.weight, model.calibration
    cue_contrib = (
        100.0
        * c1
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
                    "contribution": float(100.0 * c1 * a * (text_pred[i] - text_base)),
                }
            )
        for j, name in enumerate(model.cue_features):
            v = values[i, j]
            rows.append(
                {"feature": name, "value": None if np.isnan(v) else float(v), "contribution": float(cue_contrib[i, j])}
            )
        out.append(rows)
    baseline = 100.0 * (c0 + c1 * (a * text_base + (1 - a) * model.cue.intercept_))
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
