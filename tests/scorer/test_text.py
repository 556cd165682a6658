"""scorer.text: stored per-article contributions reproduce the outlet prediction; persistence as data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from scorer.text import TfidfRidge, group_mean_rows, group_stats, hashed_counts

TITLES = [
    "Officials confirm budget figures in report",
    "Senate passes budget after long debate",
    "Report: officials release new figures",
    "SHOCKING truth they do not want you to know",
    "You will not believe what they are hiding",
    "The truth about the elites they hide from you",
    "Markets steady as central bank holds rates",
    "Central bank report shows steady growth",
    "Insiders say the globalists are hiding the truth",
]
GROUP = np.array([0, 0, 0, 1, 1, 1, 2, 2, 1])
Y = np.array([0.9, 0.2, 0.85])


def test_group_stats_hand_computed() -> None:
    mean, se, n = group_stats(np.array([1.0, 3.0, 5.0, 2.0]), np.array([0, 0, 0, 1]), 3)
    assert list(n) == [3, 1, 0]
    assert mean[0] == 3.0 and se[0] == pytest.approx(2.0 / np.sqrt(3))  # sd 2, n 3
    assert mean[1] == 2.0 and np.isnan(se[1]) and np.isnan(mean[2])


def test_outlet_prediction_is_intercept_plus_mean_contribution() -> None:
    counts = hashed_counts(TITLES)
    layer = TfidfRidge(min_df=1, n_splits=0).fit(counts, GROUP, Y)
    s = layer.contributions(counts)
    mean, _, _ = group_stats(s, GROUP, 3)
    # the same as the ridge on the outlet-mean TF-IDF vectors
    means = group_mean_rows(layer.vectors(counts), GROUP, 3)
    coef = np.zeros(counts.shape[1])
    coef[layer.columns_] = layer.coef_
    direct = np.asarray(means @ coef).ravel() + layer.intercept_
    assert np.allclose(layer.intercept_ + mean, direct)
    assert np.allclose(layer.predict_outlets(counts, GROUP, 3), direct)
    # the clickbait outlet is predicted lowest in-sample
    assert np.argmin(direct) == 1


def test_round_trip_as_json_gives_identical_contributions() -> None:
    counts = hashed_counts(TITLES)
    layer = TfidfRidge(min_df=1, n_splits=0).fit(counts, GROUP, Y)
    again = TfidfRidge.from_dict(json.loads(json.dumps(layer.to_dict())))
    assert np.array_equal(again.contributions(counts), layer.contributions(counts))
    assert sp.issparse(counts) and counts.shape[1] == layer.n_features_


def test_inner_out_of_fold_predictions_exist_for_every_outlet() -> None:
    titles = TITLES * 2
    group = np.r_[GROUP, GROUP + 3]
    y = np.r_[Y, Y - 0.05]
    layer = TfidfRidge(min_df=1, n_splits=3).fit(hashed_counts(titles), group, y)
    assert layer.inner_oof_.shape == (6,) and np.isfinite(layer.inner_oof_).all()
