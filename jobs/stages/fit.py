"""`presstrust fit`: the two-layer reliability scorer, fitted on the window's labelled English outlets.

The window's English articles -> a text layer (scorer.text_layer: a TF-IDF ridge and a ridge on the static
sentence embedding, averaged) and the cue model (scorer.model: signed ridge over per-outlet cue features, incl.
body punctuation and the rating of the outlets an outlet cites), combined by a fixed weight and calibrated on
cross-validated predictions (scorer.two_layer), trained on labelled outlets with >= min_articles English
articles, and stored in `models` as data (JSON, never a pickle).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from jobs.infra.clock import now_utc
from jobs.infra.terminal import advance
from jobs.infra.version import code_version
from jobs.readers.labels import load_labels_counted
from jobs.readers.outlets import OutletResolver
from jobs.stages.model_inputs import (
    ESTIMATOR,
    cited_outlets,
    cue_features,
    ensure_article_cues,
    is_english,
    outlet_rows,
    text_layer_texts,
    window_articles,
)
from jobs.stages.window import feature_versions
from jobs.store.runs import failure_recorded, finish_run, start_run
from scorer.combine import conformal_min_n
from scorer.cues import CITED_RATING
from scorer.cv import MIN_OUTLETS, coverage, fold_count, grouped_splits, mae, spearman
from scorer.grades import SCORE_THRESHOLDS
from scorer.inputs import DEFAULT_MIN_ARTICLES, training_frame
from scorer.text import text_sample
from scorer.text_layer import TextMatrix, text_matrix
from scorer.two_layer import PUBLISHED_WEIGHT, TwoLayerModel, cited_rating_rows, fit_two_layer, predict_two_layer

log = logging.getLogger(__name__)

MIN_LABELLED_OUTLETS = 30
"""Below this many labelled training outlets the fit warns (log and runs.counts.warnings): with 5-fold CV on
fewer outlets the reported Spearman's 90% interval is wider than +-0.3 (Fisher z, n=30), so a number like
"Spearman 0.90 on 5 outlets" says next to nothing. `scorer.cv.MIN_OUTLETS` (3) is the hard minimum
(TooFewOutlets); below 5 the CV is leave-one-outlet-out."""

CV_FOLDS = 5
"""Folds of the outlet-grouped CV, or one per training outlet when there are fewer (`scorer.cv.fold_count`)."""

DEFAULT_MIN_CV_SPEARMAN = 0.2
"""The floor on a model's outlet-grouped CV Spearman below which the nightly and `score` do not publish it
(`--min-cv-spearman`; `--allow-weak-model` publishes anyway): a ranking that agrees this little with the labels,
or inversely, is no reliability score. The embedded sample's own window (`make run`) gives 0.57."""


class TooFewOutlets(ValueError):
    """Fewer labelled outlets with enough articles than a fit needs (scorer.cv.MIN_OUTLETS): the input's fault."""


class WeakModel(RuntimeError):
    """The model to publish cross-validates below the floor (`check_model_strength`): nothing is published."""


def cross_validate(
    english: pl.DataFrame,
    text: TextMatrix,
    group: np.ndarray,
    cited: pl.DataFrame,
    y_frame: pl.DataFrame,
    features: list[str],
    *,
    seed: int,
    repeats: int = 2,
    source: str = "title",
    weight: float | None = PUBLISHED_WEIGHT,
) -> tuple[dict[str, float], list[TwoLayerModel], dict[str, int]]:
    """Outlet-grouped CV (`CV_FOLDS` folds, or leave-one-outlet-out on fewer outlets, x `repeats`) of the same
    two-layer fit on the training outlets.

    `text` / `group`: the text matrix (hashed counts, embedding vectors) of the training outlets' text sample and
    each row's outlet (index in y_frame), as `fit` built them. Returns the metrics (a quick check stored with the
    model, with `cv_folds`; docs/evaluation.md has the full evaluation on every shared corpus), and the first
    repeat's fold models with each training outlet's fold: the cross-fitted models that publish the training
    outlets' scores without seeing their labels.
    """
    outlets = y_frame["outlet"].to_list()
    y = y_frame["label_score"].to_numpy()
    rows = outlet_rows(english, outlets, features)
    n_folds = fold_count(len(outlets), CV_FOLDS)
    splits = grouped_splits(outlets, n_splits=n_folds, n_repeats=repeats, seed=seed)
    oof = np.full((repeats, len(y)), np.nan)
    low, high = np.full_like(oof, np.nan), np.full_like(oof, np.nan)
    folds: list[TwoLayerModel] = []
    fold_of: dict[str, int] = {}
    for done, s in enumerate(splits):
        advance(done, len(splits), unit="cross-validation folds")
        ratings = {outlets[i]: float(y[i]) for i in s.train}
        train_out = [outlets[i] for i in s.train]
        test_out = [outlets[i] for i in s.test]
        tr_rows = rows[s.train.tolist()].join(cited_rating_rows(cited, train_out, ratings), on="outlet", how="left")
        te_rows = rows[s.test.tolist()].join(cited_rating_rows(cited, test_out, ratings), on="outlet", how="left")
        tr_docs = np.flatnonzero(np.isin(group, s.train))
        remap = np.full(len(y), -1)
        remap[s.train] = np.arange(len(s.train))
        model = fit_two_layer(
            text[tr_docs],
            remap[group[tr_docs]],
            y[s.train],
            tr_rows.select(*features, CITED_RATING),
            ratings=ratings,
            seed=seed,
            source=source,
            weight=weight,
        )
        if s.repeat == 0:
            folds.append(model)
            fold_of.update({o: s.fold for o in test_out})
        te_docs = np.flatnonzero(np.isin(group, s.test))
        remap[s.test] = np.arange(len(s.test))
        assert model.text is not None
        mean, se, distance = model.text.outlet_inputs(text[te_docs], remap[group[te_docs]], len(s.test))
        out = predict_two_layer(
            model,
            te_rows.with_columns(
                pl.Series("text_mean", mean), pl.Series("text_se", se), pl.Series("text_distance", distance)
            ),
            thresholds=SCORE_THRESHOLDS,
        )
        oof[s.repeat, s.test] = np.clip(out["pred"].to_numpy(), 0, 1)
        low[s.repeat, s.test] = out["low"].to_numpy()
        high[s.repeat, s.test] = out["high"].to_numpy()
    advance(len(splits), len(splits))
    metrics = {
        "outlets": float(len(y)),
        "cv_folds": float(n_folds),
        "spearman_mean": float(np.nanmean([spearman(row, y) for row in oof])),
        "mae_mean": float(np.nanmean([mae(row, y) for row in oof])),
        "interval_coverage": float(np.nanmean([coverage(a, b, y) for a, b in zip(low, high, strict=True)])),
        "interval_median_width": float(np.nanmean([np.median(b - a) for a, b in zip(low, high, strict=True)])),
    }
    return metrics, folds, fold_of


@dataclass
class FitSummary:
    run_id: int
    model_id: str
    outlets: int
    metrics: dict[str, float]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)  # the label file's LabelCounts

    def line(self) -> str:
        line = (
            f"fit run {self.run_id}: model {self.model_id} on {self.outlets} labelled outlets; {self.cv_name} "
            f"Spearman {self.metrics['spearman_mean']:.2f}, MAE {100 * self.metrics['mae_mean']:.1f} points (0-100) "
            f"in {self.seconds:.1f}s"
        )
        return line + "".join(f"; WARNING: {w}" for w in self.warnings)

    @property
    def cv_name(self) -> str:
        folds = int(self.metrics.get("cv_folds", CV_FOLDS))
        return "leave-one-outlet-out CV" if folds == self.outlets else f"outlet-grouped {folds}-fold CV"


def fit(
    con: duckdb.DuckDBPyConnection,
    *,
    labels_path: Path,
    resolver: OutletResolver,
    as_of: date,
    window_days: int = 365,
    undated: str = "include",
    min_articles: int = DEFAULT_MIN_ARTICLES,
    seed: int = 0,
    text_source: str = "body",
) -> FitSummary:
    """Fit the two-layer scorer on the window's labelled English outlets, cross-validate it, store it in `models`."""
    started = time.perf_counter()
    params = {
        "labels": str(labels_path),
        "as_of": as_of,
        "window_days": window_days,
        "undated": undated,
        "min_articles": min_articles,
        "seed": seed,
        "text_source": text_source,
    }
    run_id = start_run(con, "fit", params)
    with failure_recorded(con, run_id):
        ensure_article_cues(con)
        articles = window_articles(con, as_of=as_of, window_days=window_days, undated=undated)
        english = articles.filter(is_english())
        features = cue_features(english)
        labels, label_counts = load_labels_counted(labels_path, resolver=resolver)
        train, warnings = _training_outlets(english, labels, min_articles)
        outlets = train["outlet"].to_list()
        y = train["label_score"].to_numpy()
        ratings = {o: float(v) for o, v in zip(outlets, y, strict=True)}
        cited = cited_outlets(con, english)
        rows = outlet_rows(english, outlets, features).join(
            cited_rating_rows(cited, outlets, ratings), on="outlet", how="left", maintain_order="left"
        )
        text, group = _text_layer_matrix(con, english, outlets, text_source)
        model = fit_two_layer(
            text,
            group,
            y,
            rows.select(*features, CITED_RATING),
            ratings=ratings,
            seed=seed,
            source=text_source,
            weight=PUBLISHED_WEIGHT,
        )
        y_frame = train.select("outlet", "label_score")
        metrics, folds, fold_of = cross_validate(
            english, text, group, cited, y_frame, features, seed=seed, source=text_source
        )
        # a fold model publishes the scores of the training outlets it left out, with the published model's
        # interval quantile (calibrated on out-of-fold residuals, which is what those scores are)
        for f in folds:
            f.share_intervals(model)
        model.folds, model.fold_of = folds, fold_of
        metrics["text_weight"] = model.weight
        if not math.isfinite(model.quantile):
            warnings.append(
                f"{len(outlets)} training outlets are too few for a finite {model.coverage:.0%} conformal quantile "
                f"(it needs {conformal_min_n(model.coverage)}): every interval spans the whole 0-100 scale"
            )
            log.warning("fit: %s", warnings[-1])
        model_id = _store_model(
            con, model, run_id=run_id, params=params, outlets=outlets, features=features, metrics=metrics
        )
    summary = FitSummary(
        run_id, model_id, len(outlets), metrics, time.perf_counter() - started, warnings, label_counts.as_dict()
    )
    counts_line = {
        "training_outlets": len(outlets),
        "model_id": model_id,
        **metrics,
        "labels": summary.labels,
        "warnings": warnings,
    }
    finish_run(con, run_id, status="ok", counts=counts_line)
    return summary


def _training_outlets(english: pl.DataFrame, labels: pl.DataFrame, min_articles: int) -> tuple[pl.DataFrame, list[str]]:
    """The labelled outlets with >= min_articles English articles (outlet, n_articles, label_score), and the
    warning when they are too few for the cross-validated numbers to mean much (TooFewOutlets under MIN_OUTLETS)."""
    counts_frame = english.group_by("outlet").agg(pl.len().cast(pl.UInt32).alias("n_articles"))
    train = training_frame(counts_frame, labels, min_articles=min_articles)
    if train.height < MIN_OUTLETS:
        raise TooFewOutlets(
            f"cannot train: {train.height} labelled outlets with >= {min_articles} English articles in the window, "
            f"the fit needs at least {MIN_OUTLETS} (docs/research.md)"
        )
    warnings = []
    if train.height < MIN_LABELLED_OUTLETS:
        warnings.append(
            f"only {train.height} labelled outlets with >= {min_articles} English articles (fewer than "
            f"{MIN_LABELLED_OUTLETS}): the cross-validated Spearman and MAE are too noisy to trust"
        )
        log.warning("fit: %s", warnings[-1])
    return train, warnings


def _text_layer_matrix(
    con: duckdb.DuckDBPyConnection, english: pl.DataFrame, outlets: list[str], text_source: str
) -> tuple[TextMatrix, np.ndarray]:
    """The training outlets' text sample as the text layer reads it (hashed counts, embedding vectors), and each
    row's outlet (its index in `outlets`)."""
    docs = text_sample(english.filter(pl.col("outlet").is_in(outlets))).select("article_id", "outlet")
    titles = text_layer_texts(con, docs["article_id"].to_list(), text_source)
    docs = docs.join(titles, on="article_id").sort("outlet", "article_id")
    index = {o: i for i, o in enumerate(outlets)}
    group = np.array([index[o] for o in docs["outlet"].to_list()], dtype=np.int64)
    return text_matrix(docs["title"].fill_null("").to_list(), source=text_source), group


def _store_model(
    con: duckdb.DuckDBPyConnection,
    model: TwoLayerModel,
    *,
    run_id: int,
    params: dict[str, Any],
    outlets: list[str],
    features: list[str],
    metrics: dict[str, float],
) -> str:
    """Insert the model (as JSON data) with what it was fitted on into `models`; return its id (a content hash)."""
    text = model.dumps()
    model_id = "m_" + hashlib.sha256(text.encode()).hexdigest()[:16]
    labels_path = Path(params["labels"])
    hyperparameters = {
        "cue": model.cue.get_params(),
        "text": None
        if model.text is None
        else {
            "source": params["text_source"],
            "tfidf_alpha": None if model.text.tfidf_ is None else model.text.tfidf_.alpha_,
            "embedding_alpha": None if model.text.embedding_ is None else model.text.embedding_.alpha_,
            "embedding_version": model.text.embedding_version_,
        },
        "calibration": list(model.calibration),
    }
    con.execute(
        "INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            model_id,
            run_id,
            now_utc(),
            str(labels_path),
            _sha256(labels_path),
            params["as_of"],
            params["window_days"],
            params["undated"],
            params["min_articles"],
            outlets,
            [*features, CITED_RATING],
            feature_versions(con),
            ESTIMATOR,
            json.dumps(hyperparameters, sort_keys=True, default=str),
            json.dumps(metrics, sort_keys=True),
            code_version(),
            text,
        ],
    )
    return model_id


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def needs_refit(
    con: duckdb.DuckDBPyConnection,
    *,
    labels_path: Path,
    feature_version: str,
    min_articles: int | None = None,
    text_source: str | None = None,
) -> str | None:
    """Why the latest model is out of date (labels, features, code or min_articles changed), or None when current."""
    latest = con.execute(
        "SELECT label_sha256, feature_version, code_version, min_articles, estimator, "
        "hyperparameters->>'$.text.source' FROM models ORDER BY trained_at DESC, model_id LIMIT 1"
    ).fetchall()
    if not latest:
        return "no model yet"
    label_sha, version, code, trained_min, estimator, source = latest[0]
    if estimator != ESTIMATOR:
        return "the latest model is not a two-layer model"
    if label_sha != _sha256(labels_path):
        return "the label file changed"
    if version != feature_version:
        return "the feature version changed"
    if code != code_version():
        return "the code version changed"
    if min_articles is not None and trained_min != min_articles:
        return "min_articles changed"
    if text_source is not None and source != text_source:
        return "the text source changed"
    return None


def check_model_strength(
    con: duckdb.DuckDBPyConnection, *, floor: float, allow_weak: bool = False, model_id: str | None = None
) -> str | None:
    """Whether the model that would publish (`model_id`, else the latest, as the score stage picks it) may.

    None when its outlet-grouped CV Spearman is at least `floor` (or there is no model: the score stage says so).
    Below it (or undefined: too few distinct predictions), WeakModel with the CV and the floor, unless
    `allow_weak`: then the same reason is logged as a warning and returned.
    """
    row = con.execute(
        "SELECT model_id, cv_metrics->>'$.spearman_mean' FROM models WHERE ? IS NULL OR model_id = ? "
        "ORDER BY trained_at DESC, model_id LIMIT 1",
        [model_id, model_id],
    ).fetchall()
    if not row:
        return None
    chosen, value = row[0][0], float("nan") if row[0][1] is None else float(row[0][1])
    if math.isfinite(value) and value >= floor:
        return None
    shown = f"{value:.2f}" if math.isfinite(value) else "undefined"
    reason = f"model {chosen} has an outlet-grouped CV Spearman of {shown}, below the floor {floor:.2f}"
    if allow_weak:
        log.warning("%s: published anyway (--allow-weak-model)", reason)
        return reason
    raise WeakModel(f"{reason} (--min-cv-spearman): not published; --allow-weak-model publishes it anyway")
