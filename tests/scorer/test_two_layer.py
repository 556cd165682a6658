"""scorer.two_layer: the combined prediction, factors that add up exactly, persistence as data."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from scorer.text_layer import text_matrix
from scorer.two_layer import (
    TEXT_FACTOR,
    TwoLayerModel,
    factor_table,
    fit_calibration,
    fit_spread,
    fit_two_layer,
    predict_two_layer,
)

RNG = np.random.default_rng(7)
N_OUTLETS = 24


def _data() -> tuple[np.ndarray, list[str], np.ndarray, pl.DataFrame]:
    y = np.linspace(0.1, 0.95, N_OUTLETS)
    good = ["officials confirm figures", "report shows data", "court rules on case", "bank holds rates"]
    bad = ["shocking truth revealed", "they hide this from you", "elites panic now", "you will not believe"]
    titles, group = [], []
    for i, label in enumerate(y):
        for _ in range(12):
            words = good if RNG.random() < label else bad
            titles.append(str(RNG.choice(words)) + " " + str(RNG.choice(["today", "again", "now", "update"])))
            group.append(i)
    rows = pl.DataFrame(
        {
            "outlet": [f"o{i}.com" for i in range(N_OUTLETS)],
            "n_articles": [12] * N_OUTLETS,
            "hedges_per_1k_words": 10 - 8 * y + RNG.normal(0, 1, N_OUTLETS),
            "hedges_per_1k_words__sd": np.full(N_OUTLETS, 3.0),
            "direct_quotes_per_1k_words": 5 + 10 * y + RNG.normal(0, 2, N_OUTLETS),
            "direct_quotes_per_1k_words__sd": np.full(N_OUTLETS, 4.0),
        }
    )
    return y, titles, np.array(group), rows


def _fitted() -> tuple[TwoLayerModel, pl.DataFrame]:
    y, titles, group, rows = _data()
    x = text_matrix(titles, source="title")
    model = fit_two_layer(x, group, y, rows.select("hedges_per_1k_words", "direct_quotes_per_1k_words"), seed=0)
    mean, se, distance = model.text.outlet_inputs(x, group, N_OUTLETS)  # type: ignore[union-attr]
    return model, rows.with_columns(
        pl.Series("text_mean", mean), pl.Series("text_se", se), pl.Series("text_distance", distance)
    )


def test_factors_add_up_to_the_prediction() -> None:
    model, inputs = _fitted()
    out = predict_two_layer(model, inputs, thresholds=(0.4, 0.7))
    baseline, factors = factor_table(model, inputs)
    assert 0.0 <= model.weight <= 1.0
    for i, rows in enumerate(factors):
        total = baseline + sum(f["contribution"] for f in rows)
        assert total == pytest.approx(100 * out["pred"][i], abs=1e-9)
        assert rows[0]["feature"] == TEXT_FACTOR or model.weight == 0.0
    # the combined prediction is the calibrated weighted average of the layers
    a, (c0, c1) = model.weight, model.calibration
    assert c1 > 0
    assert np.allclose(out["pred"], c0 + c1 * (a * out["text_pred"] + (1 - a) * out["cue_pred"]))
    assert (out["low"] <= out["pred"].clip(0, 1)).all() and (out["pred"].clip(0, 1) <= out["high"]).all()


def test_round_trip_as_json_predicts_the_same() -> None:
    model, inputs = _fitted()
    again = TwoLayerModel.from_dict(json.loads(model.dumps()))
    a = predict_two_layer(model, inputs, thresholds=(0.4, 0.7))
    b = predict_two_layer(again, inputs, thresholds=(0.4, 0.7))
    assert a.equals(b)


def test_fewer_articles_give_a_wider_interval() -> None:
    model, inputs = _fitted()
    few = inputs.with_columns(pl.col("text_se") * 3, pl.lit(2).alias("n_articles"))
    wide = predict_two_layer(model, few, thresholds=(0.4, 0.7))
    narrow = predict_two_layer(model, inputs, thresholds=(0.4, 0.7))
    inside = ((narrow["pred"] > 0.3) & (narrow["pred"] < 0.7)).to_numpy()  # away from the 0-1 clip
    assert inside.any()
    assert ((wide["high"] - wide["low"]) > (narrow["high"] - narrow["low"])).to_numpy()[inside].all()


def test_fold_models_round_trip_and_score_their_own_outlets() -> None:
    model, inputs = _fitted()
    y, titles, group, rows = _data()
    counts = text_matrix(titles, source="title")
    left_out = [0, 5, 9]  # a fold model fitted without these outlets
    keep = np.flatnonzero(~np.isin(group, left_out))
    kept_outlets = [i for i in range(N_OUTLETS) if i not in left_out]
    remap = np.full(N_OUTLETS, -1)
    remap[kept_outlets] = np.arange(len(kept_outlets))
    fold = fit_two_layer(
        counts[keep],
        remap[group[keep]],
        y[kept_outlets],
        rows[kept_outlets].select("hedges_per_1k_words", "direct_quotes_per_1k_words"),
        seed=0,
        weight=0.5,
    )
    model.folds, model.fold_of = [fold], {f"o{i}.com": 0 for i in left_out}
    assert model.for_outlet("o5.com") == (0, fold)
    assert model.for_outlet("o1.com") == (None, model)
    assert model.for_outlet("unlabelled.example") == (None, model)
    again = TwoLayerModel.from_dict(json.loads(model.dumps()))
    assert again.dumps() == model.dumps() and again.fold_of == model.fold_of
    k, restored = again.for_outlet("o9.com")
    assert k == 0
    assert predict_two_layer(restored, inputs, thresholds=(0.4, 0.7)).equals(
        predict_two_layer(fold, inputs, thresholds=(0.4, 0.7))
    )


def test_models_stored_before_cross_fitting_still_load() -> None:
    model, inputs = _fitted()
    data = model.to_dict()
    data["format_version"] = 1
    del data["folds"], data["fold_of"]
    old = TwoLayerModel.from_dict(data)
    assert old.folds == [] and old.for_outlet("o1.com") == (None, old)
    assert predict_two_layer(old, inputs, thresholds=(0.4, 0.7)).equals(
        predict_two_layer(model, inputs, thresholds=(0.4, 0.7))
    )


@pytest.mark.parametrize("n", [2, 3, 4])
def test_a_few_outlets_fit_without_warnings_and_with_an_unbounded_quantile(n: int) -> None:
    """What a leave-one-outlet-out fold of 3 or 4 labelled outlets trains on: no fold of an inner CV learns from a
    single outlet (no scikit-learn warning), and the 90% conformal quantile is infinite (it needs 9 residuals)."""
    import warnings

    y, titles, group, rows = _data()
    keep = np.isin(group, range(n))
    counts = text_matrix([t for t, k in zip(titles, keep, strict=True) if k], source="title")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit_two_layer(
            counts, group[keep], y[:n], rows.head(n).select("hedges_per_1k_words", "direct_quotes_per_1k_words")
        )
    assert model.quantile == float("inf")
    mean, se, _ = model.text.outlet_inputs(counts, group[keep], n)  # type: ignore[union-attr]
    out = predict_two_layer(
        model, rows.head(n).with_columns(pl.Series("text_mean", mean), pl.Series("text_se", se)), thresholds=(0.3, 0.6)
    )
    assert out["low"].to_list() == [0.0] * n and out["high"].to_list() == [1.0] * n  # the whole scale, not faked


def test_calibration_is_a_rising_line_or_the_identity() -> None:
    raw = np.linspace(0.4, 0.6, 20)
    c0, c1 = fit_calibration(raw, 0.1 + 2.0 * raw)
    assert c0 == pytest.approx(0.1) and c1 == pytest.approx(2.0)
    assert fit_calibration(raw, 1.0 - raw) == (0.0, 1.0)  # a falling line would invert the ranking
    assert fit_calibration(raw[:2], raw[:2]) == (0.0, 1.0)  # too few outlets
    assert fit_calibration(np.full(5, 0.5), np.linspace(0, 1, 5)) == (0.0, 1.0)  # a constant prediction


def test_the_calibration_stretches_squeezed_predictions_without_changing_the_ranking() -> None:
    model, inputs = _fitted()
    out = predict_two_layer(model, inputs, thresholds=(0.4, 0.7))
    raw = model.weight * out["text_pred"] + (1 - model.weight) * out["cue_pred"]
    assert np.array_equal(np.argsort(out["pred"].to_numpy()), np.argsort(raw.to_numpy()))
    # fitted on inner out-of-fold predictions, which average toward the middle: the stretch widens them
    assert model.calibration[1] > 1.0


def test_spread_rises_with_the_distance_or_is_left_out() -> None:
    rng = np.random.default_rng(0)
    d = rng.uniform(0, 1, 60)
    r = rng.normal(0, 0.05 + 0.2 * d)
    spread, floor = fit_spread(r, d)
    assert spread is not None and spread[1] > 0 and floor > 0
    assert fit_spread(r[:10], d[:10]) == (None, 0.0)  # too few outlets
    falling = rng.normal(0, 0.25 - 0.2 * d)
    assert fit_spread(falling, d) == (None, 0.0)


def test_intervals_widen_with_the_distance_from_the_training_outlets() -> None:
    model, inputs = _fitted()
    model.spread, model.spread_floor, model.far_distance = (0.02, 0.3), 0.01, 0.5
    model.quantile = 1.5
    near = predict_two_layer(model, inputs.with_columns(pl.lit(0.05).alias("text_distance")), thresholds=(0.4, 0.7))
    far = predict_two_layer(model, inputs.with_columns(pl.lit(0.8).alias("text_distance")), thresholds=(0.4, 0.7))
    unknown = predict_two_layer(model, inputs.drop("text_distance"), thresholds=(0.4, 0.7))
    assert (far["sigma"] > near["sigma"]).all()
    assert np.allclose(unknown["sigma"], model.sigma(np.array([0.5])))  # no distance: the farthest training one
    inside = ((near["pred"] > 0.35) & (near["pred"] < 0.65)).to_numpy()
    assert inside.any()
    assert ((far["high"] - far["low"]) > (near["high"] - near["low"])).to_numpy()[inside].all()
