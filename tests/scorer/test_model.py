from __future__ import annotations

import functools
import json

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from scorer.combine import conformal_quantile
from scorer.inputs import training_frame
from scorer.matrix import outlet_matrix
from scorer.model import ReliabilityModel
from scorer.persist import model_from_dict, model_to_dict
from tests.scorer.conftest import FEATURES, make_articles


def fit_scorer(
    matrix: pl.DataFrame, labels: pl.DataFrame, *, model: ReliabilityModel, min_articles: int = 20
) -> ReliabilityModel:
    """`model` fitted on the labelled outlets with >= min_articles articles (as the fit stage trains its cue layer)."""
    train = training_frame(matrix, labels, min_articles=min_articles)
    return model.fit(train.select(FEATURES), train["label_score"].to_numpy())


def contributions(model: ReliabilityModel, matrix: pl.DataFrame) -> np.ndarray:
    """Each outlet's feature contributions in score points (0-100), as the published factors are."""
    return 100.0 * model.contributions(matrix)


@functools.cache
def fitted(estimator: str = "signed_ridge", transform: str = "quantile", seed: int = 0):
    """A model fitted on the hand-made outlets (cached: tests must not mutate what it returns)."""
    articles, labels = make_articles()
    matrix = outlet_matrix(articles, features=FEATURES, value="shrunk_mean")
    model = fit_scorer(
        matrix, labels, min_articles=20, model=ReliabilityModel(estimator, transform=transform, random_state=seed)
    )
    return model, matrix, articles, labels


@pytest.mark.parametrize(
    ("estimator", "transform"),
    [
        ("signed_ridge", "quantile"),
        ("signed_ridge", "standard"),
        ("ridge", "quantile"),
        ("elasticnet", "quantile"),
        ("hgb", "standard"),
    ],
)
def test_pipeline_fits_and_predicts(estimator: str, transform: str) -> None:
    model, matrix, _, labels = fitted(estimator, transform)
    pred = model.predict(matrix)
    assert pred.shape == (matrix.height,) and np.isfinite(pred).all()
    assert list(model.feature_names_in_) == FEATURES
    assert model.conformal_quantile_ > 0
    truth = matrix.join(labels, on="outlet")["label_score"].to_numpy()
    assert np.corrcoef(pred, truth)[0, 1] > 0.5  # the label is a function of two features


def test_sklearn_conventions() -> None:
    model = ReliabilityModel("ridge", transform="standard", coverage=0.8)
    assert model.get_params()["coverage"] == 0.8
    assert clone(model).get_params() == model.get_params()
    assert not [k for k in vars(model) if k.endswith("_")]  # nothing learned in __init__
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="estimator"):
        ReliabilityModel("forest").fit(np.zeros((5, 2)), np.zeros(5))


def test_training_uses_labelled_outlets_with_min_articles_only() -> None:
    _, matrix, _, labels = fitted()
    train = training_frame(matrix, labels, min_articles=20)
    assert (train["n_articles"] >= 20).all()
    assert set(train["outlet"]) == set(matrix.filter(pl.col("n_articles") >= 20)["outlet"]) & set(labels["outlet"])


def test_determinism_with_seeds() -> None:
    articles, labels = make_articles()
    # One matrix for both fits: Polars' parallel group_by aggregations (features.aggregate) can differ in the
    # last bit between runs, so matrices and bootstraps are compared up to rounding, the models exactly.
    matrix = outlet_matrix(articles, features=FEATURES, value="mean")
    a = fit_scorer(matrix, labels, model=ReliabilityModel("elasticnet", random_state=3))
    b = fit_scorer(matrix, labels, model=ReliabilityModel("elasticnet", random_state=3))
    assert np.array_equal(a.predict(matrix), b.predict(matrix))
    assert a.conformal_quantile_ == b.conformal_quantile_
    assert np.array_equal(a.contributions(matrix), b.contributions(matrix))
    c = fit_scorer(matrix, labels, model=ReliabilityModel("elasticnet", random_state=4))
    assert c.cv_residuals_.tolist() != a.cv_residuals_.tolist()  # the seed drives the residual CV


def test_contributions_sum_to_the_prediction_minus_the_baseline() -> None:
    """The published factors (scorer.two_layer.factor_table) are these contributions: each outlet's sum to its
    prediction minus the baseline, the prediction at the training means (the label mean, features standardised)."""
    model, matrix, _, _ = fitted()
    points = contributions(model, matrix)
    raw = 100 * model.predict(matrix)
    base = 100 * model.intercept_
    assert points.shape == (matrix.height, len(FEATURES))
    np.testing.assert_allclose(points.sum(axis=1), raw - base, atol=1e-9)
    assert base == pytest.approx(100 * model.y_mean_, abs=1e-9)


@pytest.mark.parametrize("estimator", ["signed_ridge", "ridge", "elasticnet"])
@pytest.mark.parametrize("transform", ["quantile", "standard"])
def test_persistence_round_trip_is_exact(estimator: str, transform: str) -> None:
    model, matrix, articles, _ = fitted(estimator, transform)
    data = json.loads(json.dumps(model_to_dict(model)))  # plain data only
    again = model_from_dict(data)
    probe = pl.concat([matrix, matrix.with_columns(pl.col(FEATURES) * 3 - 1)])
    probe = probe.with_columns(
        pl.when(pl.int_range(pl.len()) % 4 == 0).then(None).otherwise(pl.col("noise")).alias("noise")
    )
    assert np.array_equal(model.predict(probe), again.predict(probe))
    assert np.array_equal(model.contributions(matrix), again.contributions(matrix))
    assert model_to_dict(again) == data
    assert data["features"] == FEATURES and len(data["coef"]) == len(FEATURES)


def test_non_linear_model_has_no_factors_and_is_not_persisted() -> None:
    model, matrix, _, _ = fitted("hgb", "standard")
    assert not model.is_linear
    with pytest.raises(ValueError):
        model_to_dict(model)
    with pytest.raises(ValueError):
        model.contributions(matrix)


def test_conformal_quantile() -> None:
    residuals = np.arange(1, 20, dtype=float)  # 19 residuals: rank ceil(20 * 0.9) = 18
    assert conformal_quantile(residuals, 0.9) == 18.0
    assert conformal_quantile(-residuals, 0.9) == 18.0
    assert conformal_quantile(np.array([1.0]), 0.9) == float("inf")


def test_predict_selects_columns_by_name() -> None:
    model, matrix, _, _ = fitted()
    shuffled = matrix.select("outlet", "noise", "n_articles", "named_share", "hedges_per_1k_words")
    assert np.array_equal(model.predict(matrix), model.predict(shuffled))
    with pytest.raises(ValueError, match="lacks"):
        model.predict(matrix.drop("noise"))


def test_signed_ridge_keeps_the_documented_directions() -> None:
    articles, labels = make_articles()
    matrix = outlet_matrix(articles, features=FEATURES, value="mean")
    # hedges really lower the label (conftest); forcing them to RAISE the score must zero their weight
    wrong = fit_scorer(matrix, labels, model=ReliabilityModel(directions={"hedges_per_1k_words": 1}))
    right = fit_scorer(matrix, labels, model=ReliabilityModel(directions={"hedges_per_1k_words": -1}))
    free = fit_scorer(matrix, labels, model=ReliabilityModel("ridge"))
    j = FEATURES.index("hedges_per_1k_words")
    assert wrong.coef_[j] == 0.0
    assert right.coef_[j] < 0 and free.coef_[j] < 0
    assert list(right.signs_) == [-1, 0, 0]
    assert (contributions(wrong, matrix)[:, j] == 0.0).all()
    with pytest.raises(ValueError, match="directions"):
        fit_scorer(matrix, labels, model=ReliabilityModel(directions={"noise": 2}))


def test_signed_ridge_without_constraints_matches_sklearn_ridge() -> None:
    from sklearn.linear_model import Ridge

    from scorer.model import SignedRidge

    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(0, 0.1, 40)
    ours = SignedRidge(alphas=(3.0,)).fit(X, y)
    theirs = Ridge(alpha=3.0).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=1e-8)
    chosen = SignedRidge(alphas=(0.01, 1.0, 1e4)).fit(X, y)
    assert chosen.alpha_ in (0.01, 1.0)  # a huge penalty is never the best fit here
