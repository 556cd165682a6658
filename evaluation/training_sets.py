"""What the folds train on: extra outlets with mapped labels, and subsamples of the training outlets.

Both run the two-layer scorer on the SAME outlet-grouped splits as the rest of the evaluation and test on the
target-labelled outlets only, so every row is paired by repeat with the scorer as measured:

- `extra_label_rows`: the outlets with enough English articles but no target label that an ordinal label set
  rates (evaluation.label_maps) are added to every training fold, with labels mapped onto the target scale by
  maps fitted inside that fold (on the fold's training outlets, or on every target-labelled domain except the
  fold's test outlets);
- `training_curve`: each fold trains on a random subsample of its training outlets (how the accuracy grows
  with the number of labelled outlets).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from evaluation.crossval import Result, Scored, Variant, cv_two_layer, metrics
from evaluation.data import EvalSet, subset_eval_set
from evaluation.inputs import Data
from evaluation.label_maps import fold_extras
from scorer.cv import Split

log = logging.getLogger("evaluation")

TRAINING_FRACTIONS = (0.25, 0.5, 0.75)
"""Shares of each fold's training outlets in the training-size curve (1.0 is the scorer as measured)."""


@dataclass
class ExtraLabels:
    """The extra training outlets and the with / without comparison."""

    extras: pl.DataFrame  # label_maps.extra_outlets: outlet, n, main_corpus, one boolean column per source
    level_maps: dict[str, np.ndarray]  # each source's map fitted on every target-labelled outlet (for the report)
    rows: list[Scored]  # the scorer with the extra outlets, one row per way of fitting the maps
    mapped: dict[str, float]  # each extra outlet's label from the maps fitted on every target-labelled outlet


def on_outlets(result: Result, idx: np.ndarray) -> Result:
    """`result` restricted to the outlets `idx` (columns of its n_repeats x n_outlets arrays)."""

    def cols(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[:, idx]

    return Result(
        result.name,
        result.oof[:, idx],
        cols(result.low),
        cols(result.high),
        result.note,
        cols(result.grades),
        result.extra,
    )


def extra_label_rows(
    union: Data,
    target_idx: np.ndarray,
    extra_idx: np.ndarray,
    sources: Mapping[str, pl.DataFrame],
    all_labels: Mapping[str, float],
    variant: Variant,
    splits: Sequence[Split],
    *,
    seed: int,
) -> list[Scored]:
    """The scorer trained with the extra outlets `extra_idx` of `union` added to every fold; tested on the
    target outlets `target_idx` only (`splits` index them). Two rows: maps fitted on the fold's training outlets,
    and on every domain of `all_labels` except the fold's test outlets."""
    ev = union.ev
    target_ev = subset_eval_set(ev, target_idx)
    moved = [Split(s.repeat, s.fold, target_idx[s.train], target_idx[s.test]) for s in splits]
    ways: dict[str, FitLabels] = {
        "maps fitted on the fold's training outlets": lambda s: {ev.outlets[i]: float(ev.y[i]) for i in s.train},
        "maps fitted on every Lin-labelled domain but the fold's test outlets": lambda s: dict(all_labels),
    }
    rows: list[Scored] = []
    for how, fit_labels in ways.items():
        t = time.time()
        name = f"two-layer scorer + {len(extra_idx)} extra training outlets with mapped labels ({how})"
        fold_train = extras_fold_train(ev, extra_idx, sources, fit_labels)
        res, _ = cv_two_layer(
            union, Variant(name, text=variant.text, weight=variant.weight), moved, seed=seed, fold_train=fold_train
        )
        res = on_outlets(res, target_idx)
        rows.append((res, metrics(res, target_ev)))
        log.info("%-70s rho %.3f (%.0f s)", name[:70], rows[-1][1]["spearman"][0], time.time() - t)
    return rows


FitLabels = Callable[[Split], Mapping[str, float]]
"""Given a split: the labels (outlet -> target label) the fold may fit its level maps on."""


def extras_fold_train(
    ev: EvalSet, extra_idx: np.ndarray, sources: Mapping[str, pl.DataFrame], fit_labels: FitLabels
) -> Callable[[Split], tuple[np.ndarray, np.ndarray]]:
    """crossval.FoldTrain for the extra outlets `extra_idx` of `ev`: a fold trains on its training outlets plus
    the extras a fitted map gives a label, those labels from maps fitted on `fit_labels(split)` without the
    split's test outlets (the maps never see a test outlet's label)."""
    extras = [ev.outlets[i] for i in extra_idx]

    def fold_train(s: Split) -> tuple[np.ndarray, np.ndarray]:
        test = [ev.outlets[i] for i in s.test]
        values = fold_extras(sources, fit_labels(s), extras, exclude=test)
        y = ev.y.copy()
        y[extra_idx] = values
        usable = extra_idx[np.isfinite(values)]
        return np.concatenate([s.train, usable]), y

    return fold_train


def training_curve(
    data: Data,
    variant: Variant,
    splits: Sequence[Split],
    *,
    seed: int,
    fractions: Sequence[float] = TRAINING_FRACTIONS,
) -> list[tuple[int, Scored]]:
    """The scorer with each fold trained on a random `fraction` of its training outlets (the same test outlets):
    (median number of training outlets, its result and metrics) per fraction."""
    out = []
    for fraction in fractions:
        sizes: list[int] = []

        def fold_train(s: Split, fraction: float = fraction, sizes: list[int] = sizes) -> tuple[np.ndarray, np.ndarray]:
            rng = np.random.default_rng([seed, s.repeat, s.fold, int(1000 * fraction)])
            n = max(10, round(fraction * len(s.train)))
            sizes.append(n)
            return np.sort(rng.choice(s.train, size=min(n, len(s.train)), replace=False)), data.ev.y

        t = time.time()
        res, _ = cv_two_layer(
            data,
            Variant(f"{fraction:.0%} of the training outlets", text=variant.text, weight=variant.weight),
            splits,
            seed=seed,
            fold_train=fold_train,
        )
        n_train = int(np.median(sizes))
        out.append((n_train, (res, metrics(res, data.ev))))
        log.info(
            "training-size curve: %d training outlets: rho %.3f (%.0f s)",
            n_train,
            out[-1][1][1]["spearman"][0],
            time.time() - t,
        )
    return out
