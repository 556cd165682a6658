"""The reliability model: one scikit-learn Pipeline (impute -> scale -> regressor) on the per-outlet matrix.

Rows are outlets, columns are outlet-level features (see `scorer.matrix`), the target is a label score in
[0, 1] (higher = more reliable). The model also learns, from cross-validated residuals on its training
outlets, the split-conformal quantile of its error (`conformal_quantile_`, stored with the model). In the
published scorer it is the cue layer of the two-layer model (scorer.two_layer).

Estimators (`estimator=`): "ridge" (RidgeCV over `alphas`, the default, chosen by measurement: see
docs/evaluation.md), "elasticnet" (ElasticNetCV), "hgb" (HistGradientBoostingRegressor, shallow; no exact
factors and no persistence: evaluation only). For the linear ones, `contributions(X)` gives each feature's
exact additive share of the prediction: coef_j * (x_j - training mean_j) / scale_j, in label units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy.optimize import lsq_linear
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNetCV, RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from scorer.combine import conformal_quantile
from scorer.cv import MIN_OUTLETS

ESTIMATORS = ("signed_ridge", "ridge", "elasticnet", "hgb")
TRANSFORMS = ("quantile", "standard")
LINEAR = ("signed_ridge", "ridge", "elasticnet")
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 26))


def as_array(X: Any, feature_names: Sequence[str] | None = None) -> np.ndarray:
    """A float64 2-D array from a Polars frame (columns selected by name when given) or an array-like."""
    if isinstance(X, pl.DataFrame):
        cols = list(feature_names) if feature_names is not None else X.columns
        return X.select([pl.col(c).cast(pl.Float64) for c in cols]).to_numpy().astype(np.float64, copy=False)
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D feature matrix, got shape {arr.shape}")
    return arr


class SignedRidge(RegressorMixin, BaseEstimator):
    """Ridge regression whose coefficients obey sign constraints; the penalty is chosen by K-fold CV.

    Minimises ||y - Xw - b||^2 + alpha ||w||^2 (the objective of sklearn's Ridge) subject to w_j >= 0 where
    signs[j] > 0, w_j <= 0 where signs[j] < 0, w_j free where signs[j] == 0, with scipy's bounded least
    squares (BVLS, deterministic). alpha_ is the `alphas` value with the lowest K-fold squared error (ties:
    the larger alpha).
    """

    def __init__(
        self,
        alphas: Sequence[float] = DEFAULT_ALPHAS,
        *,
        signs: Sequence[int] | None = None,
        cv: int = 5,
        random_state: int = 0,
    ) -> None:
        self.alphas = alphas
        self.signs = signs
        self.cv = cv
        self.random_state = random_state

    def _bounds(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        signs = np.zeros(p) if self.signs is None else np.asarray(self.signs, dtype=float)
        if signs.shape != (p,):
            raise ValueError(f"signs has {signs.shape} entries, X has {p} features")
        return np.where(signs > 0, 0.0, -np.inf), np.where(signs < 0, 0.0, np.inf)

    def _solve(self, X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
        lower, upper = self._bounds(X.shape[1])
        x_mean, y_mean = X.mean(axis=0), float(y.mean())
        design = np.vstack([X - x_mean, math.sqrt(alpha) * np.eye(X.shape[1])])
        target = np.concatenate([y - y_mean, np.zeros(X.shape[1])])
        coef = lsq_linear(design, target, bounds=(lower, upper), method="bvls").x
        return coef, y_mean - float(x_mean @ coef)

    def fit(self, X: Any, y: Any) -> SignedRidge:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).ravel()
        alphas = [float(a) for a in self.alphas]
        folds = min(self.cv, X.shape[0])
        if len(alphas) > 1 and X.shape[0] >= MIN_OUTLETS:  # every fold then trains on >= 2 rows
            errors = np.zeros(len(alphas))
            for train, test in KFold(folds, shuffle=True, random_state=self.random_state).split(X):
                for i, alpha in enumerate(alphas):
                    coef, intercept = self._solve(X[train], y[train], alpha)
                    errors[i] += float(np.sum((y[test] - X[test] @ coef - intercept) ** 2))
            best = np.flatnonzero(errors <= errors.min() * (1 + 1e-12))
            self.alpha_ = alphas[int(best[np.argmax([alphas[i] for i in best])])]
        else:
            self.alpha_ = alphas[0]
        self.coef_, self.intercept_ = self._solve(X, y, self.alpha_)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return np.asarray(X, dtype=np.float64) @ self.coef_ + self.intercept_


class ReliabilityModel(RegressorMixin, BaseEstimator):
    """Impute (median) -> [quantile-normalise] -> standardise -> regressor, plus a conformal error quantile.

    Parameters
    ----------
    estimator: "signed_ridge" (default: ridge whose coefficients keep the documented direction of each cue,
        `directions`), "ridge" (unconstrained RidgeCV), "elasticnet" (ElasticNetCV), "hgb" (gradient boosting).
    directions: feature name -> +1 (may only raise the score), -1 (may only lower it), 0 (either way), for
        "signed_ridge"; features not listed, or an unnamed array, are unconstrained. Default:
        `scorer.inputs.FEATURE_DIRECTIONS`.
    transform: "quantile" (default: each feature mapped through its training quantiles to a normal score,
        then standardised: robust to scraping outliers such as a site whose texts lost their quote marks)
        or "standard" (standardised only).
    n_quantiles: quantiles kept by the quantile transform (at most the number of training outlets).
    alphas: ridge / elastic-net penalties searched (RidgeCV: efficient leave-one-out; rows are outlets).
    l1_ratio: elastic-net mixing values searched.
    coverage: nominal coverage of the model-error interval (0.9 -> ~90%).
    n_splits: folds of the internal CV that yields the residuals for the conformal quantile.
    random_state: seed of that CV's shuffle (and of the elastic net / boosting).
    """

    def __init__(
        self,
        estimator: str = "signed_ridge",
        *,
        directions: Mapping[str, int] | None = None,
        transform: str = "quantile",
        n_quantiles: int = 40,
        alphas: Sequence[float] = DEFAULT_ALPHAS,
        l1_ratio: Sequence[float] = (0.1, 0.5, 0.9),
        coverage: float = 0.9,
        n_splits: int = 5,
        random_state: int = 0,
    ) -> None:
        self.estimator = estimator
        self.directions = directions
        self.transform = transform
        self.n_quantiles = n_quantiles
        self.alphas = alphas
        self.l1_ratio = l1_ratio
        self.coverage = coverage
        self.n_splits = n_splits
        self.random_state = random_state

    def _regressor(self, signs: Sequence[int] | None = None) -> Any:
        if self.estimator == "signed_ridge":
            return SignedRidge(alphas=tuple(self.alphas), signs=signs, random_state=self.random_state)
        if self.estimator == "ridge":
            return RidgeCV(alphas=tuple(self.alphas))
        if self.estimator == "elasticnet":
            return ElasticNetCV(
                alphas=[a / 100.0 for a in self.alphas],
                l1_ratio=list(self.l1_ratio),
                cv=KFold(5, shuffle=True, random_state=self.random_state),
                max_iter=20_000,
                random_state=self.random_state,
            )
        if self.estimator == "hgb":
            return HistGradientBoostingRegressor(
                max_depth=3, learning_rate=0.05, max_iter=200, min_samples_leaf=5, random_state=self.random_state
            )
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {self.estimator!r}")

    def make_pipeline(self, signs: Sequence[int] | None = None) -> Pipeline:
        """A fresh, unfitted Pipeline with this model's parameters (`signs` for "signed_ridge")."""
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}, got {self.transform!r}")
        steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
        if self.transform == "quantile":
            steps.append(("quantile", QuantileTransformer(n_quantiles=self.n_quantiles, output_distribution="normal")))
        steps += [("scale", StandardScaler()), ("model", self._regressor(signs))]
        return Pipeline(steps)

    def fit(self, X: Any, y: Any) -> ReliabilityModel:
        """Fit on outlet rows X (Polars frame of feature columns, or array) and labels y in [0, 1]."""
        if not 0.0 < self.coverage < 1.0:
            raise ValueError(f"coverage must be in (0, 1), got {self.coverage}")
        if isinstance(X, pl.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        arr = as_array(X)
        target = np.asarray(y, dtype=np.float64).ravel()
        if len(target) != arr.shape[0]:
            raise ValueError(f"X has {arr.shape[0]} rows, y has {len(target)}")
        if not np.all(np.isfinite(target)):
            raise ValueError("y must be finite")
        self.n_features_in_ = arr.shape[1]
        self.signs_ = self._signs()
        pipeline = self.make_pipeline(self.signs_.tolist() if self.estimator == "signed_ridge" else None)
        if self.transform == "quantile":
            pipeline.set_params(quantile__n_quantiles=max(2, min(self.n_quantiles, arr.shape[0])))
        self.pipeline_ = pipeline.fit(arr, target)
        folds = min(self.n_splits, arr.shape[0])
        if folds >= 2 and arr.shape[0] >= MIN_OUTLETS:  # a fold trained on one outlet would learn a constant
            cv = KFold(folds, shuffle=True, random_state=self.random_state)
            inner = clone(self.pipeline_)
            if self.transform == "quantile":
                smallest_train = arr.shape[0] - math.ceil(arr.shape[0] / folds)
                inner.set_params(quantile__n_quantiles=max(2, min(self.n_quantiles, smallest_train)))
            oof = cross_val_predict(inner, arr, target, cv=cv)
            self.cv_residuals_ = target - oof
        else:
            self.cv_residuals_ = np.zeros(0)
        self.conformal_quantile_ = conformal_quantile(self.cv_residuals_, self.coverage)
        self.y_mean_ = float(target.mean())
        return self

    def _signs(self) -> np.ndarray:
        """Sign constraint per feature (+1, -1, 0) from `directions` and the fitted feature names."""
        from scorer.inputs import FEATURE_DIRECTIONS

        directions = FEATURE_DIRECTIONS if self.directions is None else self.directions
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return np.zeros(self.n_features_in_, dtype=np.int64)
        bad = {k: v for k, v in directions.items() if v not in (-1, 0, 1)}
        if bad:
            raise ValueError(f"directions must be -1, 0 or +1: {bad}")
        return np.asarray([int(directions.get(str(n), 0)) for n in names], dtype=np.int64)

    @property
    def is_linear(self) -> bool:
        return self.estimator in LINEAR

    def _array(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        names = getattr(self, "feature_names_in_", None)
        if isinstance(X, pl.DataFrame) and names is not None:
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise ValueError(f"X lacks feature columns {missing}")
            return as_array(X, list(names))
        arr = as_array(X)
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {arr.shape[1]} features, the model was fitted with {self.n_features_in_}")
        return arr

    def predict(self, X: Any) -> np.ndarray:
        """Predicted label score (unclipped; [0, 1] scale) for each outlet row."""
        arr = self._array(X)
        return np.asarray(self.pipeline_.predict(arr), dtype=np.float64)

    def standardized(self, X: Any) -> np.ndarray:
        """The rows after the Pipeline's imputation and scaling (what the regressor sees)."""
        arr = self._array(X)
        return self.pipeline_[:-1].transform(arr)

    @property
    def coef_(self) -> np.ndarray:
        """Coefficients on the standardised features (linear estimators only)."""
        self._require_linear()
        return np.asarray(self.pipeline_[-1].coef_, dtype=np.float64)

    @property
    def intercept_(self) -> float:
        """Intercept on standardised features = the prediction for an outlet at the training means."""
        self._require_linear()
        return float(self.pipeline_[-1].intercept_)

    def contributions(self, X: Any) -> np.ndarray:
        """Per outlet and feature: coef_j * z_j (label units); each row sums to predict(X) - intercept_."""
        return self.standardized(X) * self.coef_

    def _require_linear(self) -> None:
        check_is_fitted(self, "pipeline_")
        if not self.is_linear:
            raise ValueError(f"estimator {self.estimator!r} has no exact linear decomposition")
