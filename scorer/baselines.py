"""Baselines the evaluation reports next to the model: predict-the-mean, and a TF-IDF bag-of-words ridge.

`TfidfOutletRidge` is the text model the scorer must beat: TF-IDF vectors of an outlet's articles,
averaged per outlet, then RidgeCV. Its vocabulary and IDF are fitted INSIDE each fold on the training
outlets' articles only. To avoid re-tokenising the corpus in every fold it takes a document-term COUNT
matrix built once (`count_matrix`: tokenising is label-free and per document) and, in `fit`, keeps the
terms that pass min_df / max_df among the training documents and computes their IDF from those documents:
exactly what `TfidfVectorizer(min_df, max_df, sublinear_tf=True, smooth_idf=True, norm="l2")` fitted on the
training documents computes (tests/scorer/test_baselines.py checks this).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import normalize

from scorer.model import DEFAULT_ALPHAS


class MeanBaseline:
    """Predicts the training labels' mean for every outlet."""

    def fit(self, X: Any, y: Any) -> MeanBaseline:
        self.mean_ = float(np.mean(np.asarray(y, dtype=float)))
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.full(len(X), self.mean_)


def count_matrix(texts: Sequence[str], *, lowercase: bool = True) -> tuple[sp.csr_matrix, np.ndarray]:
    """Document-term counts of `texts` (CountVectorizer defaults: word tokens of 2+ characters) and the terms."""
    vectorizer = CountVectorizer(lowercase=lowercase, dtype=np.float64)
    counts = vectorizer.fit_transform(texts).tocsr()
    return counts, vectorizer.get_feature_names_out()


def group_means(rows: sp.csr_matrix, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Dense (n_groups x n_cols) mean of the rows of each group (groups are 0..n_groups-1)."""
    groups = np.asarray(groups, dtype=np.int64)
    sizes = np.bincount(groups, minlength=n_groups).astype(float)
    member = sp.csr_matrix((1.0 / sizes[groups], (groups, np.arange(len(groups)))), shape=(n_groups, len(groups)))
    return np.asarray((member @ rows).todense())


class TfidfOutletRidge:
    """RidgeCV on outlet-mean TF-IDF vectors (sublinear tf, smooth idf, l2-normalised documents).

    fit(counts, doc_group, y): counts = the training outlets' documents (rows of a `count_matrix`),
    doc_group = each document's outlet as 0..n_outlets-1, y = one label per training outlet.
    predict(counts, doc_group) -> one prediction per outlet 0..max(doc_group).
    """

    def __init__(self, *, min_df: int = 5, max_df: float = 0.5, alphas: Sequence[float] = DEFAULT_ALPHAS) -> None:
        self.min_df = min_df
        self.max_df = max_df
        self.alphas = alphas

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        tf = counts[:, self.terms_].tocsr().astype(np.float64)
        tf.data = 1.0 + np.log(tf.data)
        return normalize(tf @ sp.diags(self.idf_), norm="l2", copy=False).tocsr()

    def fit(self, counts: sp.csr_matrix, doc_group: np.ndarray, y: np.ndarray) -> TfidfOutletRidge:
        counts = sp.csr_matrix(counts)
        n_docs = counts.shape[0]
        df = np.asarray((counts > 0).sum(axis=0)).ravel()
        keep = (df >= self.min_df) & (df <= self.max_df * n_docs)
        if not keep.any():
            raise ValueError("no term passes min_df / max_df")
        self.terms_ = np.flatnonzero(keep)
        self.idf_ = np.log((1.0 + n_docs) / (1.0 + df[self.terms_])) + 1.0
        target = np.asarray(y, dtype=float)
        means = group_means(self._tfidf(counts), doc_group, len(target))
        self.ridge_ = RidgeCV(alphas=tuple(self.alphas)).fit(means, target)
        return self

    def transform_outlets(self, counts: sp.csr_matrix, doc_group: np.ndarray) -> np.ndarray:
        n_groups = int(np.max(doc_group)) + 1 if len(doc_group) else 0
        return group_means(self._tfidf(sp.csr_matrix(counts)), doc_group, n_groups)

    def predict(self, counts: sp.csr_matrix, doc_group: np.ndarray) -> np.ndarray:
        return np.asarray(self.ridge_.predict(self.transform_outlets(counts, doc_group)), dtype=float)
