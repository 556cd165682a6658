"""scorer.text_layer: the averaged TF-IDF and embedding ridges, exact per-article contributions, distances."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scorer.text import TfidfRidge, group_stats
from scorer.text_layer import TextLayer, TextMatrix, text_matrix

RNG = np.random.default_rng(11)
GOOD = ["officials confirm the budget figures", "the court rules on the case", "the central bank holds rates"]
BAD = ["shocking truth they hide from you", "elites panic as the secret leaks", "you will not believe this"]


def _corpus(n_outlets: int = 12, per: int = 10) -> tuple[list[str], np.ndarray, np.ndarray]:
    y = np.linspace(0.1, 0.9, n_outlets)
    texts, group = [], []
    for i, label in enumerate(y):
        for _ in range(per):
            texts.append(str(RNG.choice(GOOD if RNG.random() < label else BAD)) + " " + str(RNG.integers(0, 50)))
            group.append(i)
    return texts, np.array(group), y


def test_contribution_is_the_mean_of_both_ridges_and_adds_up_per_outlet() -> None:
    texts, group, y = _corpus()
    x = text_matrix(texts, source="title")
    layer = TextLayer(source="title", n_splits=3).fit(x, group, y)
    assert layer.embedding_ is not None
    parts = (layer.tfidf_.contributions(x.counts), layer.embedding_.contributions(x.vectors))
    s = layer.contributions(x)
    assert np.allclose(s, (parts[0] + parts[1]) / 2)
    mean, _, _ = group_stats(s, group, len(y))
    ridges = (layer.tfidf_, layer.embedding_)
    separate = [p.intercept_ + group_stats(c, group, len(y))[0] for p, c in zip(ridges, parts, strict=True)]
    assert np.allclose(layer.intercept_ + mean, np.mean(separate, axis=0))
    assert np.allclose(layer.inner_oof_, (layer.tfidf_.inner_oof_ + layer.embedding_.inner_oof_) / 2)


def test_outlet_distance_from_stored_article_coordinates() -> None:
    texts, group, y = _corpus()
    x = text_matrix(texts, source="title")
    layer = TextLayer(source="title", n_splits=3).fit(x, group, y)
    coords = layer.coords(x)
    assert coords is not None and coords.shape == (len(texts), 16)
    from_stored = layer.outlet_distance(coords.astype(np.float32), group, len(y) + 1)  # one group with no article
    assert np.isnan(from_stored[-1])
    # the mean of the coordinates is the coordinates of the mean vector (the projection is linear)
    assert x.vectors is not None and layer.center_ is not None and layer.axes_ is not None
    mean_vectors = np.array([x.vectors[group == o].mean(axis=0) for o in range(len(y))])
    direct = layer.distance((mean_vectors - layer.center_) @ layer.axes_)
    assert np.allclose(from_stored[:-1], direct, atol=1e-5)
    # a training outlet's own distance leaves itself out: it is not 0
    assert (layer.training_distance() > 0).all()


def test_an_outlet_moved_along_an_article_axis_is_far_from_the_training_outlets() -> None:
    rng = np.random.default_rng(5)
    y = np.linspace(0.1, 0.9, 10)
    group = np.repeat(np.arange(10), 20)
    vectors = rng.normal(size=(200, 12)) * np.linspace(3, 0.1, 12)  # articles vary most along the first axes
    vectors[:, 1] += 0.5 * y[group]
    x = TextMatrix(text_matrix(["a"] * 200, source="title").counts, vectors)
    layer = TextLayer(source="title", n_splits=3, n_axes=4).fit(x, group, y)
    near = layer.outlet_distance(layer.coords(x), group, 10)  # type: ignore[arg-type]
    shifted = vectors[:20].copy()
    shifted[:, 0] += 6.0  # along the axis articles vary most on, by more than any training outlet's mean
    far_x = TextMatrix(x.counts[:20], shifted)
    far = layer.outlet_distance(layer.coords(far_x), np.zeros(20, dtype=int), 1)  # type: ignore[arg-type]
    assert far[0] > 2 * near.max()


def test_round_trip_and_models_stored_before_the_embedding() -> None:
    texts, group, y = _corpus()
    x = text_matrix(texts, source="title")
    layer = TextLayer(source="title", n_splits=3).fit(x, group, y)
    again = TextLayer.from_dict(json.loads(json.dumps(layer.to_dict())))
    assert np.allclose(again.contributions(x), layer.contributions(x))
    assert np.allclose(again.coords(x), layer.coords(x))  # type: ignore[arg-type]
    # a stored TF-IDF-only text layer (models before the embedding) loads as the TF-IDF ridge alone
    old = TfidfRidge(source="title", n_splits=0).fit(x.counts, group, y)
    loaded = TextLayer.from_dict(json.loads(json.dumps(old.to_dict())))
    assert loaded.embedding_ is None and not loaded.has_coords
    assert np.array_equal(loaded.contributions(TextMatrix(x.counts)), old.contributions(x.counts))


def test_a_model_fitted_with_another_embedding_table_refuses_to_score() -> None:
    texts, group, y = _corpus()
    x = text_matrix(texts, source="title")
    data = TextLayer(source="title", n_splits=0).fit(x, group, y).to_dict()
    data["embedding_version"] = "another-table"
    with pytest.raises(ValueError, match="refit"):
        TextLayer.from_dict(data).contributions(x)
