"""Learned decisions of the detectors: logistic regressions over categorical candidate features, stored as JSON.

The frame finder (features.attribution) and the cue matcher (features.speculation) propose candidates, recall
first; a `LinearModel` decides which of them count. Each candidate carries string feature columns `f_<name>`
(a value per row, e.g. f_class = "collective"); the model's score is its intercept plus, per feature, the weight
of the row's value (0 for a value it has not learned), and a candidate counts when the score reaches the
threshold (a logit). Scoring is a few `replace_strict` lookups on the candidate rows: no Python per row.

The models are package data (features/data/detectors/<name>.json, found through importlib.resources), never a
pickle. Each file carries a sha256 of its canonical content (`checksum`), checked on load; the retraining script
(tests/fixtures/devset/train_detectors.py) writes them. Their bytes join the lexicon fingerprint
(features.lexicons), so a retrained model changes `feature_version`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

MODEL_DIR = Path(str(resources.files("features").joinpath("data", "detectors")))
MODEL_NAMES = ("unnamed_source", "speculation")


@dataclass(frozen=True)
class LinearModel:
    """A logistic regression over categorical features: score = intercept + sum of the values' weights."""

    name: str
    intercept: float
    weights: Mapping[str, Mapping[str, float]]  # feature -> value -> weight
    threshold: float  # a candidate counts when its score (a logit) is >= this

    def score(self, features: Collection[str] | None = None) -> pl.Expr:
        """The score of each row (needs a String column `f_<feature>` per feature). `features`: the only ones the
        rows have (the others are missing: weight 0), default all."""
        total = pl.lit(self.intercept, dtype=pl.Float64)
        for feature, table in self.weights.items():
            if features is not None and feature not in features:
                continue
            total = total + pl.col(f"f_{feature}").replace_strict(
                dict(table), default=0.0, return_dtype=pl.Float64
            ).fill_null(0.0)
        return total

    def accepts(self, features: Collection[str] | None = None) -> pl.Expr:
        return self.score(features) >= self.threshold

    def max_weight(self, feature: str) -> float:
        """The largest weight a value of `feature` can add (0 if the feature is absent or every weight < 0)."""
        return max([0.0, *self.weights.get(feature, {}).values()])


def checksum(payload: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a model file's content without its `checksum` field."""
    body = {k: v for k, v in payload.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def model_from_json(text: str) -> LinearModel:
    """Parse a model file; ValueError if its checksum does not match its content."""
    payload = json.loads(text)
    if payload.get("checksum") != checksum(payload):
        raise ValueError(f"detector model {payload.get('name')!r}: checksum mismatch (edited by hand? retrain it)")
    return LinearModel(
        name=payload["name"],
        intercept=float(payload["intercept"]),
        weights={f: {v: float(w) for v, w in table.items()} for f, table in payload["weights"].items()},
        threshold=float(payload["threshold"]),
    )


def model_json(payload: Mapping[str, Any]) -> str:
    """A model file's text: the payload with its checksum, keys sorted, one trailing newline."""
    full = {**payload, "checksum": checksum(payload)}
    return json.dumps(full, sort_keys=True, indent=1) + "\n"


def model_bytes(directory: Path = MODEL_DIR) -> dict[str, bytes]:
    """The raw bytes of every model file there is (a missing one: its detector's rules decide; the shipped
    package has both, tests/features/test_detector_models.py checks it)."""
    paths = {name: directory / f"{name}.json" for name in MODEL_NAMES}
    return {name: path.read_bytes() for name, path in paths.items() if path.is_file()}


def load_models(directory: Path = MODEL_DIR) -> dict[str, LinearModel]:
    """Every shipped detector model by name."""
    return {name: model_from_json(raw.decode("utf-8")) for name, raw in model_bytes(directory).items()}
