"""The learned detector decisions: model files (checksum, shipped, reproducible) and their scoring."""

from __future__ import annotations

import json

import polars as pl
import pytest

from features.detector_models import MODEL_DIR, MODEL_NAMES, LinearModel, load_models, model_from_json, model_json


def test_both_models_ship_and_load():
    models = load_models()
    assert set(models) == set(MODEL_NAMES)
    for model in models.values():
        assert model.weights and all(isinstance(w, float) for t in model.weights.values() for w in t.values())


def test_a_hand_edited_model_is_refused():
    payload = json.loads((MODEL_DIR / "unnamed_source.json").read_text(encoding="utf-8"))
    payload["threshold"] = payload["threshold"] - 1.0  # checksum left as it was
    with pytest.raises(ValueError, match="checksum"):
        model_from_json(json.dumps(payload))


def test_model_json_round_trips():
    payload = {"name": "x", "intercept": -0.5, "threshold": 0.25, "weights": {"kind": {"a": 1.0, "b": -2.0}}}
    model = model_from_json(model_json(payload))
    assert model == LinearModel("x", -0.5, {"kind": {"a": 1.0, "b": -2.0}}, 0.25)


def test_score_adds_the_weights_of_the_row_values_and_zero_for_unknown_or_absent_ones():
    model = LinearModel("x", 0.5, {"kind": {"a": 1.0, "b": -2.0}, "det": {"def": 0.25}}, 1.0)
    rows = pl.DataFrame({"f_kind": ["a", "b", "zzz", None], "f_det": ["def", "def", "none", "def"]})
    out = rows.select(model.score().alias("s"), model.accepts().alias("ok"), model.score(["kind"]).alias("k"))
    assert out["s"].to_list() == [1.75, -1.25, 0.5, 0.75]
    assert out["ok"].to_list() == [True, False, False, False]
    assert out["k"].to_list() == [1.5, -1.5, 0.5, 0.5]


def test_shipped_models_are_what_the_training_script_writes(tmp_path):
    from tests.fixtures.devset import train_detectors

    assert train_detectors.main(["--out", str(tmp_path)]) == 0
    for name in MODEL_NAMES:
        assert (tmp_path / f"{name}.json").read_bytes() == (MODEL_DIR / f"{name}.json").read_bytes(), name
