"""scorer.embedding_ridge: the moment-based solve equals a weighted ridge on the articles; every outlet counts once."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

from scorer.embedding_ridge import EmbeddingRidge

D = 6


def _articles(sizes: list[int], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, len(sizes))
    direction = rng.normal(size=D)
    group = np.repeat(np.arange(len(sizes)), sizes)
    vectors = rng.normal(size=(len(group), D)) + np.outer(y[group], direction)
    return vectors, group, y


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=4, max_size=12), seed=st.integers(0, 1000))
def test_equals_a_ridge_on_articles_weighted_once_per_outlet(sizes: list[int], seed: int) -> None:
    vectors, group, y = _articles(sizes, seed)
    model = EmbeddingRidge(alphas=(0.3,), n_splits=0).fit(vectors, group, y)
    weights = 1.0 / np.bincount(group)[group]
    reference = Ridge(alpha=0.3).fit(vectors, y[group], sample_weight=weights)
    assert np.allclose(model.coef_, reference.coef_, atol=1e-8)
    assert model.intercept_ == pytest.approx(reference.intercept_, abs=1e-8)


def test_a_big_outlet_counts_as_much_as_a_small_one() -> None:
    vectors, group, y = _articles([5, 5, 5, 5, 5], 1)
    model = EmbeddingRidge(alphas=(0.1,), n_splits=0).fit(vectors, group, y)
    # the same outlets with outlet 0's articles repeated 40 times: the fit does not move
    big = np.concatenate([np.flatnonzero(group == 0).repeat(40), np.flatnonzero(group != 0)])
    again = EmbeddingRidge(alphas=(0.1,), n_splits=0).fit(vectors[big], group[big], y)
    assert np.allclose(model.coef_, again.coef_) and model.intercept_ == pytest.approx(again.intercept_)


def test_outlet_prediction_is_intercept_plus_mean_contribution_and_round_trips() -> None:
    vectors, group, y = _articles([8, 3, 12, 6, 9, 4, 7], 2)
    model = EmbeddingRidge(n_splits=3).fit(vectors, group, y)
    assert model.alpha_ in model.alphas
    assert np.isfinite(model.inner_oof_).all()
    again = EmbeddingRidge.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.array_equal(again.contributions(vectors), model.contributions(vectors))
    s = model.contributions(vectors)
    means = np.array([vectors[group == o].mean(axis=0) for o in range(len(y))])
    assert np.allclose([s[group == o].mean() for o in range(len(y))], means @ model.coef_)


def test_alpha_is_chosen_by_the_inner_folds() -> None:
    """With pure-noise vectors, the strongest penalty predicts the held-out outlets best; with signal, a weak one."""
    rng = np.random.default_rng(3)
    y = rng.uniform(0, 1, 30)
    group = np.repeat(np.arange(30), 10)
    noise = rng.normal(size=(300, D))
    assert EmbeddingRidge(alphas=(1e-4, 1e4), n_splits=5).fit(noise, group, y).alpha_ == 1e4
    signal = noise * 0.01 + np.outer(y[group], np.ones(D))
    assert EmbeddingRidge(alphas=(1e-4, 1e4), n_splits=5).fit(signal, group, y).alpha_ == 1e-4
