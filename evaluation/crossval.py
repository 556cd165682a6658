"""Outlet-grouped cross-validation: out-of-fold predictions of the two-layer scorer's variants and the baselines.

Everything label-dependent is fitted inside the training folds: the text layer's IDF and ridge, the cue model,
the cited-outlet ratings, the combination weight, the conformal quantile and the grade thresholds (the last
three on inner out-of-fold predictions of the training outlets). `metrics` reduces one method's out-of-fold
predictions (n_repeats x n_outlets) to mean ± sd over the repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from evaluation.data import EvalSet
from evaluation.inputs import Data
from scorer.two_layer import PUBLISHED_WEIGHT

# --------------------------------------------------------------------------------------------------------
# Metrics of one method (out-of-fold predictions, n_repeats x n_outlets)
# --------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    oof: np.ndarray  # n_repeats x n_outlets, label scale, clipped to [0, 1]
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    note: str = ""
    grades: np.ndarray | None = None  # n_repeats x n_outlets predicted grades (thresholds chosen in the fold)
    extra: dict[str, Any] = field(default_factory=dict)


def metrics(result: Result, ev: EvalSet) -> dict[str, Any]:
    from scorer.cv import coverage, grade_mae, macro_f1, mae, mean_sd, spearman
    from scorer.grades import grades_of
    from scorer.lean import lean_report

    per: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        per.setdefault(key, []).append(value)

    has_mbfc = np.array([g is not None for g in ev.mbfc_grade])
    mbfc_true = [g for g in ev.mbfc_grade if g is not None]
    has_baly = np.array([g is not None for g in ev.baly_grade]) if ev.baly_grade else np.zeros(len(ev.y), bool)
    baly_true = [g for g in ev.baly_grade if g is not None]
    for r in range(result.oof.shape[0]):
        pred = result.oof[r]
        add("spearman", spearman(pred, ev.y))
        add("mae", mae(pred, ev.y))
        grades = result.grades[r] if result.grades is not None else grades_of(pred)
        add("label_f1", macro_f1(list(grades), list(grades_of(ev.y))))
        if has_mbfc.any():
            add("mbfc_f1", macro_f1(list(grades[has_mbfc]), mbfc_true))
            add("mbfc_grade_mae", grade_mae(list(grades[has_mbfc]), mbfc_true))
        if has_baly.any():
            add("baly_f1", macro_f1(list(grades[has_baly]), baly_true))
        lean = lean_report(pred, ev.y, ev.right_share)
        add("rho_right", lean["rho_scores_right_share"])
        add("rho_within_right", lean["rho_within_right"])
        add("rho_within_other", lean["rho_within_other"])
        if ev.covid_share is not None:
            add("rho_covid", spearman(pred, ev.covid_share))
        if result.low is not None and result.high is not None:
            add("coverage", coverage(result.low[r], result.high[r], ev.y))
            add("width", float(np.median(result.high[r] - result.low[r])))
    return {k: mean_sd(v) for k, v in per.items()}


Scored = tuple[Result, dict[str, Any]]  # a method's out-of-fold result and its metrics


# --------------------------------------------------------------------------------------------------------
# The two-layer model under CV
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    text: str | None = "word_title"  # key of Data.counts, None: cue model only
    cue_features: str = "all"  # "all" (with the new cues), "old" (the 19 cue features only), "claims" (all + claims)
    weight: float | None = PUBLISHED_WEIGHT  # None: chosen in the fold; 1.0: text only; 0.0: cue only
    text_parts: tuple[str, ...] = ("tfidf", "embedding")  # the text layer's ridges (scorer.text_layer.PARTS)
    within: bool = True  # the embedding ridge weights articles once per outlet (False: ridge on outlet means)
    calibrate: bool = True  # the linear stretch fitted on inner out-of-fold predictions
    local_intervals: bool = True  # sigma(d) by distance from the training outlets (False: one quantile)


def variant_text(data: Data, variant: Variant) -> Any:
    """The TextMatrix a variant's text layer reads (None for the cue model alone)."""
    from scorer.text_layer import TextMatrix

    if not variant.text:
        return None
    return TextMatrix(data.counts[variant.text], data.vectors if "embedding" in variant.text_parts else None)


def fold_inputs(data: Data, model: Any, idx: np.ndarray, x: Any, ratings: dict[str, float]) -> pl.DataFrame:
    """The per-outlet inputs of the outlets `idx`: cue rows with their cited-outlet rating (from `ratings`), and
    the mean and se of the text layer's article contributions and the outlets' distance from the training outlets
    when `model` has a text layer and `x` (a scorer.text_layer.TextMatrix)."""
    from scorer.two_layer import cited_rating_rows

    outlets = [data.ev.outlets[i] for i in idx]
    rows = data.rows[idx.tolist()]
    cited = cited_rating_rows(data.cues.filter(pl.col("outlet").is_in(outlets)), outlets, ratings)
    rows = rows.join(cited, on="outlet", how="left", maintain_order="left")
    if model.text is not None and x is not None:
        docs = np.flatnonzero(np.isin(data.doc_group, idx))
        remap = np.full(len(data.ev.y), -1)
        remap[idx] = np.arange(len(idx))
        mean, se, distance = model.text.outlet_inputs(x[docs], remap[data.doc_group[docs]], len(idx))
        rows = rows.with_columns(
            pl.Series("text_mean", mean), pl.Series("text_se", se), pl.Series("text_distance", distance)
        )
    return rows


def fit_fold(data: Data, variant: Variant, train: np.ndarray, *, seed: int) -> tuple[Any, tuple[float, float]]:
    """The two-layer model and grade thresholds fitted on the training outlets `train` only."""
    from scorer.combine import choose_thresholds
    from scorer.two_layer import fit_two_layer

    ev = data.ev
    ratings = {ev.outlets[i]: float(ev.y[i]) for i in train}
    rows = fold_inputs(data, _NoText(), train, None, ratings)
    cols = (
        [*_cue_columns(data, variant), "cited_rating"]
        if variant.cue_features in ("all", "claims")
        else _cue_columns(data, variant)
    )
    x = variant_text(data, variant)
    options = {
        "ratings": ratings,
        "seed": seed,
        "calibrate": variant.calibrate,
        "local_intervals": variant.local_intervals,
        "text_parts": variant.text_parts,
        "within": variant.within,
    }
    if x is not None:
        docs = np.flatnonzero(np.isin(data.doc_group, train))
        remap = np.full(len(ev.y), -1)
        remap[train] = np.arange(len(train))
        model = fit_two_layer(
            x[docs], remap[data.doc_group[docs]], ev.y[train], rows.select(cols), weight=variant.weight, **options
        )
    else:
        model = fit_two_layer(None, None, ev.y[train], rows.select(cols), weight=0.0, **options)
    thresholds = choose_thresholds(model.inner_oof, [ev.mbfc_grade[i] for i in train])
    return model, thresholds


class _NoText:
    text = None


def _cue_columns(data: Data, variant: Variant) -> list[str]:
    from scorer.cues import PUNCTUATION

    if variant.cue_features == "old":
        return [c for c in data.cue_features if c not in PUNCTUATION]
    if variant.cue_features == "claims":
        return [*data.cue_features, *data.claim_features]
    return list(data.cue_features)


FoldTrain = Callable[[Any], tuple[np.ndarray, np.ndarray]]
"""Given a split: the outlets the fold trains on (indices) and the label of every outlet (the fold's own
labels for outlets that have none in the evaluation set, e.g. mapped from another label set)."""


def cv_two_layer(
    data: Data,
    variant: Variant,
    splits: Sequence[Any],
    *,
    seed: int,
    keep_models: bool = False,
    fold_train: FoldTrain | None = None,
) -> tuple[Result, list[Any]]:
    """Out-of-fold predictions, intervals and grades of one variant; optionally the fold models.

    `fold_train` changes what a fold trains on (default: the split's training outlets and their labels): extra
    training outlets with labels of the fold's own making, or a subsample of the training outlets."""
    from scorer.two_layer import predict_two_layer

    ev = data.ev
    n_rep = max(s.repeat for s in splits) + 1
    shape = (n_rep, len(ev.y))
    oof, low, high = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    text_oof, cue_oof = np.full(shape, np.nan), np.full(shape, np.nan)
    grades = np.full(shape, None, dtype=object)
    weights, thresholds_seen, models = [], [], []
    for s in splits:
        fold_data, train = data, s.train
        if fold_train is not None:
            train, y = fold_train(s)
            fold_data = replace(data, ev=replace(ev, y=y))
        model, thresholds = fit_fold(fold_data, variant, train, seed=seed)
        ratings = {ev.outlets[i]: float(fold_data.ev.y[i]) for i in train}
        inputs = fold_inputs(fold_data, model, s.test, variant_text(data, variant), ratings)
        out = predict_two_layer(model, inputs, thresholds=thresholds)
        oof[s.repeat, s.test] = np.clip(out["pred"].to_numpy(), 0, 1)
        low[s.repeat, s.test] = out["low"].to_numpy()
        high[s.repeat, s.test] = out["high"].to_numpy()
        text_oof[s.repeat, s.test] = out["text_pred"].to_numpy()
        cue_oof[s.repeat, s.test] = out["cue_pred"].to_numpy()
        grades[s.repeat, s.test] = out["grade"].to_numpy()
        weights.append(model.weight)
        thresholds_seen.append(thresholds)
        if keep_models:
            models.append((model, thresholds))
    extra = {"weights": weights, "thresholds": thresholds_seen, "text_oof": text_oof, "cue_oof": cue_oof}
    return Result(variant.name, oof, low, high, grades=grades, extra=extra), models


# --------------------------------------------------------------------------------------------------------
# Baselines under the same CV
# --------------------------------------------------------------------------------------------------------


def cv_mean(ev: EvalSet, splits: Sequence[Any]) -> Result:
    from scorer.baselines import MeanBaseline
    from scorer.cv import out_of_fold

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return MeanBaseline().fit(None, ev.y[train]).predict(test)

    return Result("predict the mean", out_of_fold(splits, len(ev.y), fit_predict))


def cv_columns(name: str, x: np.ndarray, ev: EvalSet, splits: Sequence[Any]) -> Result:
    """RidgeCV on a few outlet-level columns (lean share, topic mix, language share)."""
    from sklearn.linear_model import RidgeCV

    from scorer.cv import out_of_fold

    x = np.nan_to_num(np.asarray(x, dtype=float).reshape(len(ev.y), -1), nan=0.0)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        model = RidgeCV(alphas=tuple(np.logspace(-4, 3, 22))).fit(x[train], ev.y[train])
        return np.clip(model.predict(x[test]), 0, 1)

    return Result(name, out_of_fold(splits, len(ev.y), fit_predict))


def cv_tfidf(name: str, counts: sp.csr_matrix, doc_outlet: np.ndarray, ev: EvalSet, splits: Sequence[Any]) -> Result:
    """TF-IDF ridge on outlet-mean vectors; vocabulary and IDF fitted on the training outlets' articles only."""
    from scorer.baselines import TfidfOutletRidge
    from scorer.cv import out_of_fold

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        train_docs = np.isin(doc_outlet, train)
        remap = np.full(len(ev.y), -1)
        remap[train] = np.arange(len(train))
        model = TfidfOutletRidge(alphas=tuple(np.logspace(-5, 2, 22))).fit(
            counts[train_docs], remap[doc_outlet[train_docs]], ev.y[train]
        )
        test_docs = np.isin(doc_outlet, test)
        remap_t = np.full(len(ev.y), -1)
        remap_t[test] = np.arange(len(test))
        return np.clip(model.predict(counts[test_docs], remap_t[doc_outlet[test_docs]]), 0, 1)

    return Result(name, out_of_fold(splits, len(ev.y), fit_predict))


def topic_mix(articles: pl.DataFrame, outlets: Sequence[str], *, top: int = 25) -> np.ndarray:
    """Per outlet: shares of its articles by topic (COVID pages; else the AllSides/PAC topic; else the corpus)."""
    topic = articles.select(
        "outlet",
        pl.when(pl.col("covid"))
        .then(pl.lit("covid"))
        .otherwise(pl.coalesce(pl.col("topic"), pl.col("corpus")))
        .alias("t"),
    )
    common = topic.group_by("t").len().sort("len", "t", descending=[True, False]).head(top)["t"].to_list()
    shares = (
        topic.filter(pl.col("outlet").is_in(list(outlets)))
        .with_columns(pl.when(pl.col("t").is_in(common)).then(pl.col("t")).otherwise(pl.lit("other")).alias("t"))
        .group_by("outlet", "t")
        .len()
        .with_columns((pl.col("len") / pl.col("len").sum().over("outlet")).alias("share"))
        .pivot(on="t", index="outlet", values="share")
        .fill_null(0.0)
    )
    table = pl.DataFrame({"outlet": list(outlets)}).join(shares, on="outlet", how="left", maintain_order="left")
    return table.drop("outlet").fill_null(0.0).to_numpy().astype(float)
