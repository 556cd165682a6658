"""`presstrust fit` and `presstrust score`: the reliability scorer on the window's article features.

fit: per-article features of the window -> per-outlet matrix (empirical-Bayes shrunken means) -> the
scorer (`scorer.ReliabilityModel`, signed ridge on quantile-normalised features, chosen by the
measurements in docs/evaluation.md), trained on labelled outlets with >= min_articles articles,
cross-validated grouped by outlet, and stored in `models` as data.

score: the latest model (or a given one) scores every outlet of the window, with a bootstrap over
each outlet's articles for the interval, and publishes: outlet_scores and its publications row are
written in one transaction, so latest_scores changes all at once or not at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from jobs.aggregate import feature_versions, window_features
from jobs.db import now_utc, transaction
from jobs.failpoints import failpoint
from jobs.labels import load_labels
from jobs.outlets import OutletResolver
from jobs.runs import failure_recorded, finish_run, start_run
from jobs.version import code_version
from scorer.cv import coverage, grouped_splits, mae, out_of_fold, spearman
from scorer.inputs import model_feature_columns, with_derived_features
from scorer.matrix import bootstrap_matrices, outlet_matrix
from scorer.model import ReliabilityModel
from scorer.persist import model_from_dict, model_to_dict
from scorer.score import DEFAULT_MIN_ARTICLES, fit_scorer, score_outlets, training_frame

VALUES = ("shrunk_mean",)
PUBLISHED_DIGITS = 6
ESTIMATOR = "signed_ridge"
TRANSFORM = "quantile"


class NoModel(LookupError):
    """No fitted model to score with."""


def window_articles(con: duckdb.DuckDBPyConnection, *, as_of: date, window_days: int, undated: str) -> pl.DataFrame:
    """The scorer's per-article inputs for the window (derived features added), sorted by outlet and article."""
    frame = window_features(con, as_of=as_of, window_days=window_days, undated=undated)
    return with_derived_features(frame.drop("published_at", "feature_version")).sort("outlet", "article_id")


def _matrix(articles: pl.DataFrame, features: list[str]) -> pl.DataFrame:
    return outlet_matrix(articles.select("article_id", "outlet", *features), features=features, value=VALUES)


def cross_validate(matrix: pl.DataFrame, labels: pl.DataFrame, *, min_articles: int, seed: int) -> dict[str, float]:
    """Outlet-grouped 5x5 CV of the same model on the training outlets: Spearman, MAE, interval coverage."""
    train = training_frame(matrix, labels, min_articles=min_articles)
    features = [c for c in matrix.columns if c not in ("outlet", "n_articles")]
    y = train.get_column("label_score").to_numpy()
    X = train.select(features)
    splits = grouped_splits(train.get_column("outlet").to_list(), n_splits=5, n_repeats=5, seed=seed)
    bounds: dict[str, np.ndarray] = {"low": np.full((5, len(y)), np.nan), "high": np.full((5, len(y)), np.nan)}

    def fit_predict(train_idx: np.ndarray, test_idx: np.ndarray) -> np.ndarray:
        model = ReliabilityModel(ESTIMATOR, transform=TRANSFORM, random_state=seed).fit(X[train_idx], y[train_idx])
        pred = model.predict(X[test_idx])
        for split in splits:
            if np.array_equal(split.test, test_idx):
                bounds["low"][split.repeat, test_idx] = pred - model.conformal_quantile_
                bounds["high"][split.repeat, test_idx] = pred + model.conformal_quantile_
        return pred

    oof = out_of_fold(splits, len(y), fit_predict)
    return {
        "outlets": float(len(y)),
        "spearman_mean": float(np.nanmean([spearman(row, y) for row in oof])),
        "mae_mean": float(np.nanmean([mae(row, y) for row in oof])),
        "model_error_interval_coverage": float(
            np.nanmean([coverage(lo, hi, y) for lo, hi in zip(bounds["low"], bounds["high"], strict=True)])
        ),
    }


@dataclass
class FitSummary:
    run_id: int
    model_id: str
    outlets: int
    metrics: dict[str, float]
    seconds: float

    def line(self) -> str:
        return (
            f"fit run {self.run_id}: model {self.model_id} on {self.outlets} labelled outlets; outlet-grouped CV "
            f"Spearman {self.metrics['spearman_mean']:.2f}, MAE {self.metrics['mae_mean']:.3f} in {self.seconds:.1f}s"
        )


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
) -> FitSummary:
    """Fit the scorer on the window's labelled outlets, cross-validate it, and store it in `models`."""
    started = time.perf_counter()
    params = {
        "labels": str(labels_path),
        "as_of": as_of,
        "window_days": window_days,
        "undated": undated,
        "min_articles": min_articles,
        "seed": seed,
    }
    run_id = start_run(con, "fit", params)
    with failure_recorded(con, run_id):
        articles = window_articles(con, as_of=as_of, window_days=window_days, undated=undated)
        version = feature_versions(con)
        features = model_feature_columns(articles)
        matrix = _matrix(articles, features)
        labels = load_labels(labels_path, resolver=resolver)
        model = fit_scorer(
            matrix,
            labels,
            min_articles=min_articles,
            model=ReliabilityModel(ESTIMATOR, transform=TRANSFORM, random_state=seed),
        )
        metrics = cross_validate(matrix, labels, min_articles=min_articles, seed=seed)
        parameters = model_to_dict(model)
        text = json.dumps(parameters, sort_keys=True)
        model_id = "m_" + hashlib.sha256(text.encode()).hexdigest()[:16]
        training = training_frame(matrix, labels, min_articles=min_articles).get_column("outlet").to_list()
        con.execute(
            "INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                model_id,
                run_id,
                now_utc(),
                str(labels_path),
                _sha256(labels_path),
                as_of,
                window_days,
                undated,
                min_articles,
                training,
                features,
                version,
                ESTIMATOR,
                json.dumps(model.get_params(), sort_keys=True, default=str),
                json.dumps(metrics, sort_keys=True),
                code_version(),
                text,
            ],
        )
    summary = FitSummary(run_id, model_id, len(training), metrics, time.perf_counter() - started)
    finish_run(con, run_id, status="ok", counts={"training_outlets": len(training), "model_id": model_id, **metrics})
    return summary


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def needs_refit(con: duckdb.DuckDBPyConnection, *, labels_path: Path, feature_version: str) -> str | None:
    """Why the latest model is out of date (labels, features or code changed), or None when it is current."""
    latest = con.execute(
        "SELECT label_sha256, feature_version, code_version FROM models ORDER BY trained_at DESC, model_id LIMIT 1"
    ).fetchall()
    if not latest:
        return "no model yet"
    label_sha, version, code = latest[0]
    if label_sha != _sha256(labels_path):
        return "the label file changed"
    if version != feature_version:
        return "the feature version changed"
    if code != code_version():
        return "the code version changed"
    return None


@dataclass
class ScoreSummary:
    run_id: int
    model_id: str
    outlets: int
    insufficient: int
    seconds: float

    def line(self) -> str:
        return (
            f"score run {self.run_id}: published {self.outlets} outlets ({self.insufficient} with insufficient data) "
            f"with model {self.model_id} in {self.seconds:.1f}s"
        )


def score(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    window_days: int = 365,
    undated: str = "include",
    model_id: str | None = None,
    resolver: OutletResolver,
    n_boot: int = 200,
    seed: int = 0,
) -> ScoreSummary:
    """Score every outlet of the window with a stored model and publish the scores in one transaction."""
    started = time.perf_counter()
    run_id = start_run(
        con,
        "score",
        {
            "as_of": as_of,
            "window_days": window_days,
            "undated": undated,
            "model_id": model_id,
            "n_boot": n_boot,
            "seed": seed,
        },
    )
    with failure_recorded(con, run_id):
        row = con.execute(
            "SELECT model_id, parameters, features, min_articles, label_file FROM models "
            "WHERE ? IS NULL OR model_id = ? ORDER BY trained_at DESC, model_id LIMIT 1",
            [model_id, model_id],
        ).fetchall()
        if not row:
            raise NoModel(f"no model {model_id!r}" if model_id else "no fitted model: run `presstrust fit` first")
        chosen, parameters, features, min_articles, label_file = row[0]
        model = model_from_dict(json.loads(parameters))
        articles = window_articles(con, as_of=as_of, window_days=window_days, undated=undated)
        features = list(features)
        matrix = _matrix(articles, features)
        boot = bootstrap_matrices(
            articles.select("article_id", "outlet", *features),
            to_matrix=functools.partial(_matrix, features=features),
            n_boot=n_boot,
            seed=seed,
        )
        scores = score_outlets(model, matrix, bootstrap=boot, min_articles=min_articles)
        labels = load_labels(Path(label_file), resolver=resolver) if Path(label_file).exists() else None
        if labels is not None:
            scores = scores.join(labels.select("outlet", "label_score"), on="outlet", how="left")
        else:
            scores = scores.with_columns(label_score=pl.lit(None, dtype=pl.Float64))
        _publish(con, scores, run_id=run_id, model_id=chosen, as_of=as_of, window_days=window_days)
    insufficient = int((scores.get_column("status") != "ok").sum())
    summary = ScoreSummary(run_id, chosen, scores.height, insufficient, time.perf_counter() - started)
    finish_run(
        con,
        run_id,
        status="ok",
        counts={"outlets": scores.height, "insufficient_data": insufficient, "model_id": chosen},
    )
    return summary


def _publish(
    con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, *, run_id: int, model_id: str, as_of: date, window_days: int
) -> None:
    params: dict[str, Any] = {"run_id": run_id, "model_id": model_id, "as_of": as_of, "window_days": window_days}
    # Parallel float sums upstream can differ in the last bits between runs; published numbers are rounded
    # to 1e-6 (far below any meaningful difference on a 0-100 scale) so the same inputs publish the same rows.
    scores = scores.with_columns(
        pl.col("score", "score_low", "score_high", "label_score").round(PUBLISHED_DIGITS),
        pl.col("factors").list.eval(
            pl.struct(
                pl.element().struct.field("feature"),
                pl.element().struct.field("value").round(PUBLISHED_DIGITS),
                pl.element().struct.field("contribution").round(PUBLISHED_DIGITS),
            )
        ),
    )
    try:
        with transaction(con):
            con.register("_scores", scores.to_arrow())
            con.execute(
                "INSERT INTO outlet_scores BY NAME SELECT *, $run_id AS run_id, $model_id AS model_id, "
                "$as_of AS as_of, $window_days AS window_days FROM _scores",
                params,
            )
            con.execute(
                "INSERT INTO publications VALUES ($run_id, $now, $model_id, $as_of, $window_days, $n)",
                {**params, "now": now_utc(), "n": scores.height},
            )
            failpoint("publish.before_commit")
    finally:
        con.unregister("_scores")
