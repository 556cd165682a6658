from __future__ import annotations

import functools
import json

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from scorer.matrix import bootstrap_matrices, outlet_matrix
from scorer.model import ReliabilityModel, conformal_quantile
from scorer.persist import model_from_dict, model_to_dict
from scorer.score import (
    SCORE_SCHEMA,
    STATUS_INSUFFICIENT,
    STATUS_OK,
    baseline_score,
    fit_scorer,
    score_outlets,
    training_frame,
)
from tests.scorer.conftest import FEATURES, make_articles


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
    to_matrix = functools.partial(outlet_matrix, features=FEATURES, value="mean")
    boot1 = bootstrap_matrices(articles, to_matrix=to_matrix, n_boot=20, seed=5)
    boot2 = bootstrap_matrices(articles, to_matrix=to_matrix, n_boot=20, seed=5)
    assert_frame_equal(
        score_outlets(a, matrix, bootstrap=boot1),
        score_outlets(b, matrix, bootstrap=boot2),
        check_exact=False,
        rel_tol=1e-9,
        abs_tol=1e-9,
    )
    c = fit_scorer(matrix, labels, model=ReliabilityModel("elasticnet", random_state=4))
    assert c.cv_residuals_.tolist() != a.cv_residuals_.tolist()  # the seed drives the residual CV


def test_factors_sum_to_score_minus_baseline() -> None:
    model, matrix, _, _ = fitted()
    scores = score_outlets(model, matrix, n_factors=None)
    base = baseline_score(model)
    raw = 100 * model.predict(matrix)
    for row, unclipped in zip(scores.iter_rows(named=True), raw, strict=True):
        total = sum(f["contribution"] for f in row["factors"])
        assert total == pytest.approx(unclipped - base, abs=1e-9)
        if 0 < unclipped < 100:
            assert total == pytest.approx(row["score"] - base, abs=1e-9)
        assert len(row["factors"]) == len(FEATURES)
    assert base == pytest.approx(100 * model.y_mean_, abs=1e-9)  # standardised features: intercept = label mean


def test_top_factors_are_the_largest() -> None:
    model, matrix, _, _ = fitted()
    top = score_outlets(model, matrix, n_factors=2)
    full = score_outlets(model, matrix, n_factors=None)
    for a, b in zip(top["factors"].to_list(), full["factors"].to_list(), strict=True):
        assert a == b[:2]
        sizes = [abs(f["contribution"]) for f in b]
        assert sizes == sorted(sizes, reverse=True)


def test_score_columns_status_and_intervals() -> None:
    model, matrix, articles, _ = fitted()
    to_matrix = functools.partial(outlet_matrix, features=FEATURES, value="shrunk_mean")
    boot = bootstrap_matrices(articles, to_matrix=to_matrix, n_boot=30, seed=0)
    scores = score_outlets(model, matrix, bootstrap=boot, min_articles=20)
    assert dict(scores.schema) == SCORE_SCHEMA
    assert scores.height == matrix.height
    small = scores.filter(pl.col("n_articles") < 20)
    assert small.height > 0 and (small["status"] == STATUS_INSUFFICIENT).all()
    assert small["score"].is_not_null().all()  # still scored, only flagged
    assert (scores.filter(pl.col("n_articles") >= 20)["status"] == STATUS_OK).all()
    assert ((scores["score_low"] <= scores["score"]) & (scores["score"] <= scores["score_high"])).all()
    assert ((scores["score_low"] >= 0) & (scores["score_high"] <= 100)).all()
    assert set(scores["grade"]) <= {"high", "mixed", "low"}
    # the bootstrap only widens: without it the interval is the model error alone
    bare = score_outlets(model, matrix, min_articles=20)
    assert ((bare["score_high"] - bare["score_low"]) <= (scores["score_high"] - scores["score_low"]) + 1e-9).all()


def test_fewer_articles_give_wider_intervals() -> None:
    model, _, articles, _ = fitted()
    to_matrix = functools.partial(outlet_matrix, features=FEATURES, value="mean")
    many = articles.filter(pl.col("outlet") == "outlet05.com")
    few = many.head(5)
    boot_many = bootstrap_matrices(many, to_matrix=to_matrix, n_boot=200, seed=0)
    boot_few = bootstrap_matrices(few, to_matrix=to_matrix, n_boot=200, seed=0)
    width = []
    for frame, boot in ((many, boot_many), (few, boot_few)):
        s = score_outlets(model, to_matrix(frame), bootstrap=boot)
        width.append((s["score_high"] - s["score_low"])[0])
    assert many.height > 5 and width[1] > width[0]


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
    assert score_outlets(model, matrix).equals(score_outlets(again, matrix))
    assert model_to_dict(again) == data
    assert data["features"] == FEATURES and len(data["coef"]) == len(FEATURES)


def test_non_linear_model_has_no_factors_and_is_not_persisted() -> None:
    model, matrix, _, _ = fitted("hgb", "standard")
    scores = score_outlets(model, matrix)
    assert scores["factors"].null_count() == scores.height
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
    for row in score_outlets(wrong, matrix, n_factors=None)["factors"].to_list():
        assert next(f for f in row if f["feature"] == "hedges_per_1k_words")["contribution"] == 0.0
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
