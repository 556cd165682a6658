"""The text layer: the TF-IDF ridge (scorer.text) and the static-embedding ridge (scorer.embedding_ridge), averaged.

    X = text_matrix(texts, source="body")          # hashed counts + static embedding vectors, one row per article
    layer = TextLayer(source="body").fit(X, doc_group, y)
    s = layer.contributions(X)                      # one number per article: the mean of the two ridges' s_i

Both ridges count every outlet once and choose their penalty by an inner K-fold over outlets (the same folds, so
their out-of-fold predictions average into the layer's `inner_oof_`). The outlet's text prediction is
intercept_ + mean_i s_i exactly (both parts are linear per article), so the score stage stores one contribution
per article and model, as before. Averaging the two measured best in ../shared/notes/measured-facts.md (.585 vs
.56 / .57 alone, 82 outlets).

The layer also places outlets in a small space for the intervals (scorer.two_layer): the top `n_axes` principal
axes of the training articles' embedding vectors (each outlet weighted once). An article's coordinates (`coords`)
are linear in its vector, so an outlet's coordinates are the mean of its articles' stored coordinates, and
`distance` (mean distance to the `k_neighbours` nearest training outlets) says how unlike the training outlets an
outlet's wording is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from features.embedding import load_static_embedding
from scorer.embedding_ridge import EmbeddingRidge, group_means
from scorer.text import SOURCE_ANALYZERS, TfidfRidge, group_stats, hashed_counts

FORMAT = "presstrust.scorer.text_layer"
FORMAT_VERSION = 1
EMBED_WORDS = 200
"""The embedding reads the first 200 words of the text (title first): measured as good as MiniLM on titles + the
lead in ../shared/notes/measured-facts.md, and it bounds the cost per article."""
N_AXES = 16
K_NEIGHBOURS = 5


@dataclass(frozen=True)
class TextMatrix:
    """What the text layer reads of each article: hashed counts (TF-IDF ridge) and embedding vectors (or None)."""

    counts: sp.csr_matrix
    vectors: np.ndarray | None = None

    def __getitem__(self, rows: np.ndarray) -> TextMatrix:
        return TextMatrix(self.counts[rows], None if self.vectors is None else self.vectors[rows])

    @property
    def n_rows(self) -> int:
        return int(self.counts.shape[0])


def text_matrix(texts: Sequence[str], *, source: str, embed: bool = True) -> TextMatrix:
    """Hashed counts with the source's analyzer and (embed) the static embedding of the first EMBED_WORDS words."""
    texts = list(texts)
    counts = hashed_counts(texts, analyzer=SOURCE_ANALYZERS[source])
    vectors = load_static_embedding().embed(texts, max_words=EMBED_WORDS) if embed else None
    return TextMatrix(counts, vectors)


def _nearest_mean(dist: np.ndarray, k: int) -> np.ndarray:
    """Per row of a distance matrix: the mean of its k smallest entries (all of them when fewer)."""
    k = max(1, min(k, dist.shape[1]))
    return np.sort(dist, axis=1)[:, :k].mean(axis=1)


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2), 0.0))


PARTS = ("tfidf", "embedding")


class TextLayer:
    """The averaged TF-IDF and embedding ridges (module docstring).

    `parts`: which ridges (both by default; one alone for comparisons: the embedding one is used only when the
    matrix has vectors); `within`: the embedding ridge weights articles (True) or fits outlet means (False)."""

    def __init__(
        self,
        *,
        source: str = "body",
        n_splits: int = 5,
        random_state: int = 0,
        parts: tuple[str, ...] = PARTS,
        within: bool = True,
        n_axes: int = N_AXES,
        k_neighbours: int = K_NEIGHBOURS,
    ) -> None:
        self.source = source
        self.n_splits = n_splits
        self.random_state = random_state
        self.parts = parts
        self.within = within
        self.n_axes = n_axes
        self.k_neighbours = k_neighbours

    def fit(self, x: TextMatrix, doc_group: np.ndarray, y: np.ndarray) -> TextLayer:
        y = np.asarray(y, dtype=float)
        doc_group = np.asarray(doc_group, dtype=np.int64)
        if not set(self.parts) <= set(PARTS) or not self.parts:
            raise ValueError(f"parts must be a non-empty subset of {PARTS}, got {self.parts!r}")
        if "embedding" in self.parts and x.vectors is None and "tfidf" not in self.parts:
            raise ValueError("an embedding-only text layer needs the articles' vectors (text_matrix(embed=True))")
        self.tfidf_: TfidfRidge | None = None
        if "tfidf" in self.parts:
            self.tfidf_ = TfidfRidge(n_splits=self.n_splits, random_state=self.random_state, source=self.source)
            self.tfidf_.fit(x.counts, doc_group, y)
        self.embedding_: EmbeddingRidge | None = None
        self.embedding_version_: str | None = None
        self.center_: np.ndarray | None = None
        self.axes_: np.ndarray | None = None
        self.train_coords_: np.ndarray | None = None
        if "embedding" in self.parts and x.vectors is not None:
            self.embedding_ = EmbeddingRidge(n_splits=self.n_splits, random_state=self.random_state, within=self.within)
            self.embedding_.fit(x.vectors, doc_group, y)
            self.embedding_version_ = load_static_embedding().version
            self._fit_axes(x.vectors, doc_group, len(y))
        parts = self._parts()
        self.intercept_ = float(np.mean([p.intercept_ for p in parts]))
        self.inner_oof_ = np.mean([p.inner_oof_ for p in parts], axis=0)
        return self

    def _fit_axes(self, vectors: np.ndarray, doc_group: np.ndarray, n_outlets: int) -> None:
        """The top n_axes principal axes of the training articles' vectors, each outlet weighted once (as the ridge
        counts them): the directions in which articles vary most, so an outlet whose wording moves along them is
        far from the training outlets even when no training outlet moved that way."""
        x = np.asarray(vectors, dtype=np.float64)
        means, n = group_means(x, doc_group, n_outlets)
        w = 1.0 / (np.maximum(n, 1.0)[doc_group] * n_outlets)
        center = w @ x
        centred = (x - center) * np.sqrt(w)[:, None]
        _, vectors_of = np.linalg.eigh(centred.T @ centred)
        axes = vectors_of[:, ::-1][:, : self.n_axes]
        self.center_, self.axes_, self.train_coords_ = center, axes, (means - center) @ axes

    def _parts(self) -> list[Any]:
        return [p for p in (self.tfidf_, self.embedding_) if p is not None]

    @property
    def has_coords(self) -> bool:
        return self.axes_ is not None

    def _check_embedding(self) -> None:
        if self.embedding_ is not None and self.embedding_version_ != load_static_embedding().version:
            raise ValueError(
                f"the model's text layer was fitted with static embedding {self.embedding_version_}, this "
                f"installation has {load_static_embedding().version}: refit the model (presstrust fit)"
            )

    def contributions(self, x: TextMatrix) -> np.ndarray:
        """s_i per article (label units): the mean of the parts' contributions; intercept_ + mean s_i per outlet."""
        parts = [] if self.tfidf_ is None else [self.tfidf_.contributions(x.counts)]
        if self.embedding_ is not None:
            self._check_embedding()
            if x.vectors is None:
                raise ValueError("this text layer needs the articles' embedding vectors (text_matrix(embed=True))")
            parts.append(self.embedding_.contributions(x.vectors))
        return np.mean(parts, axis=0)

    def coords(self, x: TextMatrix) -> np.ndarray | None:
        """Each article's coordinates on the training outlets' principal axes (None without an embedding part)."""
        if self.axes_ is None or self.center_ is None or x.vectors is None:
            return None
        return (np.asarray(x.vectors, dtype=np.float64) - self.center_) @ self.axes_

    def distance(self, outlet_coords: np.ndarray) -> np.ndarray:
        """Per outlet (mean coordinates of its articles): mean distance to the nearest training outlets (NaN stays)."""
        assert self.train_coords_ is not None
        return _nearest_mean(_pairwise(np.asarray(outlet_coords, dtype=float), self.train_coords_), self.k_neighbours)

    def outlet_distance(self, coords: np.ndarray, doc_group: np.ndarray, n_groups: int) -> np.ndarray:
        """`distance` of each group 0..n_groups-1 from its articles' coordinates (NaN for a group without any)."""
        means, n = group_means(coords, doc_group, n_groups)
        return np.where(n > 0, self.distance(means), np.nan)

    def outlet_inputs(
        self, x: TextMatrix, doc_group: np.ndarray, n_groups: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per group 0..n_groups-1: text_mean and text_se of the contributions, and text_distance (NaN without
        coordinates): what scorer.two_layer.predict_two_layer reads."""
        mean, se, _ = group_stats(self.contributions(x), doc_group, n_groups)
        coords = self.coords(x)
        distance = np.full(n_groups, np.nan) if coords is None else self.outlet_distance(coords, doc_group, n_groups)
        return mean, se, distance

    def training_distance(self) -> np.ndarray:
        """Per training outlet: its distance to the other training outlets (itself left out), as `distance`."""
        assert self.train_coords_ is not None
        d = _pairwise(self.train_coords_, self.train_coords_)
        np.fill_diagonal(d, np.inf)
        return _nearest_mean(d, min(self.k_neighbours, len(d) - 1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "source": self.source,
            "tfidf": None if self.tfidf_ is None else self.tfidf_.to_dict(),
            "embedding": None if self.embedding_ is None else self.embedding_.to_dict(),
            "embedding_version": self.embedding_version_,
            "intercept": self.intercept_,
            "center": None if self.center_ is None else [float(v) for v in self.center_],
            "axes": None if self.axes_ is None else [[float(v) for v in row] for row in self.axes_],
            "train_coords": None if self.train_coords_ is None else [[float(v) for v in r] for r in self.train_coords_],
            "k_neighbours": self.k_neighbours,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextLayer:
        """From `to_dict`, or from a TF-IDF ridge's dict (models stored before the embedding part: TF-IDF alone)."""
        if data.get("format") != FORMAT:
            tfidf = TfidfRidge.from_dict(data)
            data = {"source": tfidf.source, "tfidf": data, "embedding": None, "intercept": tfidf.intercept_}
        elif data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} v{FORMAT_VERSION} model")
        layer = cls(source=str(data["source"]), k_neighbours=int(data.get("k_neighbours", K_NEIGHBOURS)))
        layer.tfidf_ = None if data["tfidf"] is None else TfidfRidge.from_dict(data["tfidf"])
        layer.embedding_ = None if data["embedding"] is None else EmbeddingRidge.from_dict(data["embedding"])
        layer.embedding_version_ = data.get("embedding_version")
        layer.intercept_ = float(data["intercept"])

        def array(key: str) -> np.ndarray | None:
            return None if data.get(key) is None else np.asarray(data[key], dtype=float)

        layer.center_, layer.axes_, layer.train_coords_ = array("center"), array("axes"), array("train_coords")
        layer.inner_oof_ = np.zeros(0)
        return layer
