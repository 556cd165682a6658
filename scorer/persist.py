"""Persist a fitted linear ReliabilityModel as plain data (dicts, lists, floats, strings), never as a pickle.

`model_to_dict` returns everything the predictor needs and everything a reader needs to audit it: feature
list, imputer values, scaler means and scales, coefficients (on standardised features), intercept, the
chosen penalty, the conformal quantile, hyper-parameters. `json.dumps` writes it as is. `model_from_dict`
rebuilds an equivalent ReliabilityModel whose Pipeline computes bit-identical predictions (the same
scikit-learn steps, with the learned attributes set from the data).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from scorer.model import LINEAR, ReliabilityModel, SignedRidge

FORMAT = "presstrust.scorer.linear"
FORMAT_VERSION = 1


def _floats(values: Any) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def _jsonable(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def model_to_dict(model: ReliabilityModel) -> dict[str, Any]:
    """Plain-data form of a fitted linear model (JSON-serialisable)."""
    if not model.is_linear:
        raise ValueError(f"only linear estimators {LINEAR} can be persisted, not {model.estimator!r}")
    imputer: SimpleImputer = model.pipeline_.named_steps["impute"]
    scaler: StandardScaler = model.pipeline_.named_steps["scale"]
    regressor = model.pipeline_.named_steps["model"]
    names = getattr(model, "feature_names_in_", None)
    features = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(model.n_features_in_)]
    params = model.get_params()
    quantile: dict[str, Any] | None = None
    if "quantile" in model.pipeline_.named_steps:
        qt: QuantileTransformer = model.pipeline_.named_steps["quantile"]
        quantile = {
            "n_quantiles": int(qt.n_quantiles_),
            "output_distribution": qt.output_distribution,
            "references": _floats(qt.references_),
            "quantiles": [_floats(row) for row in np.asarray(qt.quantiles_).T],  # one list per feature
        }
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": model.estimator,
        "features": features,
        "named_features": names is not None,
        "transform": model.transform,
        "imputer_values": _floats(imputer.statistics_),
        "quantile_transform": quantile,
        "scaler_mean": _floats(scaler.mean_),
        "scaler_scale": _floats(scaler.scale_),
        "scaler_var": _floats(scaler.var_),
        "n_samples_seen": int(np.max(scaler.n_samples_seen_)),
        "coef": _floats(regressor.coef_),
        "intercept": float(regressor.intercept_),
        "alpha": float(regressor.alpha_),
        "signs": [int(v) for v in getattr(model, "signs_", np.zeros(len(features)))],
        "directions": None if model.directions is None else {str(k): int(v) for k, v in model.directions.items()},
        "l1_ratio": float(regressor.l1_ratio_) if model.estimator == "elasticnet" else None,
        "conformal_quantile": _jsonable(model.conformal_quantile_),
        "coverage": float(model.coverage),
        "y_mean": float(model.y_mean_),
        "cv_residuals": _floats(model.cv_residuals_),
        "hyper_parameters": {
            "n_quantiles": int(params["n_quantiles"]),
            "alphas": _floats(params["alphas"]),
            "l1_ratio": _floats(params["l1_ratio"]),
            "coverage": float(params["coverage"]),
            "n_splits": int(params["n_splits"]),
            "random_state": int(params["random_state"]),
        },
    }


def model_from_dict(data: dict[str, Any]) -> ReliabilityModel:
    """Rebuild a ReliabilityModel from `model_to_dict` output; its predictions equal the original's."""
    if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"not a {FORMAT} v{FORMAT_VERSION} model: {data.get('format')!r} v{data.get('format_version')!r}"
        )
    hp = data["hyper_parameters"]
    model = ReliabilityModel(
        data["estimator"],
        directions=data["directions"],
        transform=data["transform"],
        n_quantiles=hp["n_quantiles"],
        alphas=tuple(hp["alphas"]),
        l1_ratio=tuple(hp["l1_ratio"]),
        coverage=hp["coverage"],
        n_splits=hp["n_splits"],
        random_state=hp["random_state"],
    )
    n = len(data["features"])
    statistics = np.asarray(data["imputer_values"], dtype=np.float64)
    # Fitting a median imputer on one row of its own statistics sets exactly those statistics (public API only).
    imputer = SimpleImputer(strategy="median", keep_empty_features=True).fit(statistics.reshape(1, -1))
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(data["scaler_mean"], dtype=np.float64)
    scaler.scale_ = np.asarray(data["scaler_scale"], dtype=np.float64)
    scaler.var_ = np.asarray(data["scaler_var"], dtype=np.float64)
    scaler.n_samples_seen_ = int(data["n_samples_seen"])
    scaler.n_features_in_ = n
    if data["estimator"] == "signed_ridge":
        regressor: Any = SignedRidge(alphas=(data["alpha"],), signs=tuple(data["signs"]))
    elif data["estimator"] == "ridge":
        regressor = Ridge(alpha=data["alpha"])
    else:
        regressor = ElasticNet(alpha=data["alpha"], l1_ratio=data["l1_ratio"])
    regressor.coef_ = np.asarray(data["coef"], dtype=np.float64)
    regressor.intercept_ = float(data["intercept"])
    regressor.n_features_in_ = n
    regressor.alpha_ = float(data["alpha"])  # kept so that model_to_dict works on a rebuilt model
    if data["estimator"] == "elasticnet":
        regressor.l1_ratio_ = float(data["l1_ratio"])
    steps: list[tuple[str, Any]] = [("impute", imputer)]
    if data["quantile_transform"] is not None:
        qd = data["quantile_transform"]
        qt = QuantileTransformer(n_quantiles=qd["n_quantiles"], output_distribution=qd["output_distribution"])
        qt.n_quantiles_ = int(qd["n_quantiles"])
        qt.references_ = np.asarray(qd["references"], dtype=np.float64)
        qt.quantiles_ = np.asarray(qd["quantiles"], dtype=np.float64).T.copy()
        qt.n_features_in_ = n
        steps.append(("quantile", qt))
    steps += [("scale", scaler), ("model", regressor)]
    model.pipeline_ = Pipeline(steps)
    model.n_features_in_ = n
    model.signs_ = np.asarray(data["signs"], dtype=np.int64)
    if data.get("named_features", True):
        model.feature_names_in_ = np.asarray(data["features"], dtype=object)
    q = data["conformal_quantile"]
    model.conformal_quantile_ = math.inf if q is None else float(q)
    model.cv_residuals_ = np.asarray(data["cv_residuals"], dtype=np.float64)
    model.y_mean_ = float(data["y_mean"])
    return model
