"""A ridge on article vectors (the static sentence embedding, features.embedding) with every outlet counted once.

Each article carries its outlet's label and the weight 1 / (its outlet's articles), so an outlet with 500
articles counts as much as one with 20 (measured in ../shared/notes/measured-facts.md: counting each outlet once
lifted the embedding ridge from .40 to .57 in outlet-grouped CV). With the intercept unpenalised, the fit needs
only per-outlet moments: the mean vector m_o and the mean outer product S_o = mean_i x_i x_i^T, so

    (sum_o S_o - K xbar xbar^T + alpha I) beta = sum_o y_o m_o - K xbar ybar,   xbar = mean_o m_o, ybar = mean_o y_o

(K outlets), and the inner cross-validation that chooses alpha (folds of outlets) re-solves a d x d system per
fold and alpha from sums of those moments. `within=False` uses m_o m_o^T for S_o: the ridge on outlet-mean
vectors (the TF-IDF layer's form), kept to compare by CV.

An article's contribution is s_i = coef_ . x_i; the outlet prediction is intercept_ + mean_i s_i, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import KFold

from scorer.cv import MIN_OUTLETS

EMBEDDING_ALPHAS = tuple(float(a) for a in np.logspace(-8, 1, 19))
"""Penalties the inner CV chooses from: unit-norm 384-d vectors and weights that sum to one per outlet need small ones
(the inner CV chose 1e-6 on the shared corpora's 80 outlets; features/data/embedding/PROVENANCE.md)."""
FORMAT = "presstrust.scorer.embedding_ridge"
FORMAT_VERSION = 1


def group_means(x: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group 0..n_groups-1: the mean row of `x` (0 for an empty group) and the group's row count."""
    groups = np.asarray(groups, dtype=np.int64)
    n = np.bincount(groups, minlength=n_groups).astype(float)
    sums = np.zeros((n_groups, np.asarray(x).shape[1]))
    np.add.at(sums, groups, np.asarray(x, dtype=np.float64))
    return sums / np.maximum(n, 1.0)[:, None], n


@dataclass(frozen=True)
class OutletMoments:
    """Per outlet its mean article vector m (K x d) and label y; per part of a partition of the outlets the sum
    of their mean outer products S_o (parts x d x d: memory by folds, not by outlets)."""

    m: np.ndarray
    y: np.ndarray
    part_of: np.ndarray
    part_s: np.ndarray

    @classmethod
    def of(
        cls, vectors: np.ndarray, doc_group: np.ndarray, y: np.ndarray, part_of: np.ndarray, *, within: bool
    ) -> OutletMoments:
        x = np.asarray(vectors, dtype=np.float64)
        k, d = len(y), x.shape[1]
        m, n = group_means(x, doc_group, k)
        n = np.maximum(n, 1.0)
        parts = int(part_of.max()) + 1 if len(part_of) else 0
        part_s = np.zeros((parts, d, d))
        for p in range(parts):
            if within:  # each article weighted 1 / its outlet's articles
                rows = np.isin(doc_group, np.flatnonzero(part_of == p))
                weighted = x[rows] / np.sqrt(n[doc_group[rows]])[:, None]
                part_s[p] = weighted.T @ weighted
            else:
                members = m[part_of == p]
                part_s[p] = members.T @ members
        return cls(m, np.asarray(y, dtype=float), np.asarray(part_of), part_s)

    def solve(self, parts: Sequence[int], alphas: Sequence[float]) -> list[tuple[np.ndarray, float]]:
        """(coef, intercept) for each alpha, fitted on the outlets of `parts`."""
        outlets = np.flatnonzero(np.isin(self.part_of, list(parts)))
        m, y = self.m[outlets], self.y[outlets]
        k = len(outlets)
        xbar, ybar = m.mean(axis=0), float(y.mean())
        gram = self.part_s[list(parts)].sum(axis=0) - k * np.outer(xbar, xbar)
        rhs = m.T @ y - k * xbar * ybar
        # one eigendecomposition of the symmetric gram serves every alpha: (G + aI)^-1 = V diag(1 / (l + a)) V^T
        values, vectors = np.linalg.eigh(gram)
        projected = vectors.T @ rhs
        out = []
        for alpha in alphas:
            coef = vectors @ (projected / (np.maximum(values, 0.0) + alpha))
            out.append((coef, ybar - float(xbar @ coef)))
        return out


class EmbeddingRidge:
    """Ridge on article vectors, each outlet weighted once, alpha chosen by an inner K-fold over outlets.

    fit(vectors, doc_group, y): vectors (n_articles x d), doc_group = each article's outlet 0..K-1, y = K labels.
    After fit: coef_, intercept_, alpha_, inner_oof_ (out-of-fold outlet predictions at alpha_, the same
    KFold(n_splits, shuffle, random_state) over outlets as scorer.text.TfidfRidge, so the two can be averaged).
    """

    def __init__(
        self,
        *,
        alphas: Sequence[float] = EMBEDDING_ALPHAS,
        n_splits: int = 5,
        random_state: int = 0,
        within: bool = True,
    ) -> None:
        self.alphas = alphas
        self.n_splits = n_splits
        self.random_state = random_state
        self.within = within

    def fit(self, vectors: np.ndarray, doc_group: np.ndarray, y: np.ndarray) -> EmbeddingRidge:
        y = np.asarray(y, dtype=float)
        doc_group = np.asarray(doc_group, dtype=np.int64)
        folds = min(self.n_splits, len(y))
        part_of = np.zeros(len(y), dtype=np.int64)
        if folds >= 2 and len(y) >= MIN_OUTLETS:  # the inner folds (a fold of one outlet would learn a constant)
            for f, (_, test) in enumerate(KFold(folds, shuffle=True, random_state=self.random_state).split(y)):
                part_of[test] = f
        else:
            folds = 1
        moments = OutletMoments.of(vectors, doc_group, y, part_of, within=self.within)
        alphas = list(self.alphas)
        oof = np.full((len(alphas), len(y)), np.nan)
        for f in range(folds if folds >= 2 else 0):
            test = np.flatnonzero(part_of == f)
            for a, (coef, intercept) in enumerate(moments.solve([p for p in range(folds) if p != f], alphas)):
                oof[a, test] = intercept + moments.m[test] @ coef
        errors = np.mean((oof - y) ** 2, axis=1)
        best = int(np.argmin(errors)) if np.isfinite(errors).all() else len(alphas) // 2
        coef, intercept = moments.solve(list(range(folds)), [alphas[best]])[0]
        self.coef_ = coef
        self.intercept_ = float(intercept)
        self.alpha_ = float(alphas[best])
        self.inner_oof_ = oof[best]
        return self

    def contributions(self, vectors: np.ndarray) -> np.ndarray:
        """s_i = coef_ . x_i per article (label units)."""
        return np.asarray(np.asarray(vectors, dtype=np.float64) @ self.coef_, dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "coef": [float(v) for v in self.coef_],
            "intercept": self.intercept_,
            "alpha": self.alpha_,
            "within": self.within,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddingRidge:
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} v{FORMAT_VERSION} model")
        layer = cls(within=bool(data["within"]))
        layer.coef_ = np.asarray(data["coef"], dtype=float)
        layer.intercept_ = float(data["intercept"])
        layer.alpha_ = float(data["alpha"])
        layer.inner_oof_ = np.zeros(0)
        return layer
