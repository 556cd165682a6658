"""The text layer's TF-IDF ridge: outlet-mean TF-IDF vectors of hashed n-grams, with per-article contributions.

scorer.text_layer averages it with a ridge on the static embedding (scorer.embedding_ridge).

Articles are hashed (`hashed_counts`: scikit-learn's HashingVectorizer, no vocabulary state, the same
columns on every machine), then weighted: sublinear tf x IDF (fitted on the training articles; columns in
fewer than `min_df` training articles get weight 0), l2-normalised per article. The outlet's vector is the
mean of its articles' vectors and the model is a RidgeCV on those outlet vectors, so the outlet prediction is

    text_pred(outlet) = intercept_ + mean_i s_i,   s_i = coef_ . x_i   (the article's linear contribution)

`s_i` depends only on the article and the fitted model: it is computed once per article and stored, the
outlet score is a mean over stored numbers, and its sampling standard error is sd(s_i) / sqrt(n).

`fit` also computes out-of-fold predictions for its training outlets by an inner K-fold over outlets
(`inner_oof_`), which the two-layer combination (scorer.combine) uses to choose its weight and conformal
quantile without touching held-out outlets. Persisted as data by `to_dict` / `from_dict` (column indices,
IDF and coefficients of the kept columns; never a pickle).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

from scorer.cv import MIN_OUTLETS

N_FEATURES = 2**20
TEXT_ALPHAS = tuple(float(a) for a in np.logspace(-4, 2, 25))
SOURCES = ("title", "title_lead")
SOURCE_ANALYZERS = {"title": "word", "body": "word1"}
"""Product text sources and their analyzers: the title (word 1-2-grams) or the title + the body without its
boilerplate lines (word unigrams); see docs/evaluation.md for what each measured and costs."""
LEAD_CHARS = 1500
TEXT_ARTICLES_PER_OUTLET = 500
"""The text layer reads at most this many articles per outlet: its most recent ones (`text_sample`). An outlet's
text score is the mean of its articles' contributions, and 500 of them pin that mean far below the model's
error (sampling se ~ sd / 22); the cost of fitting and of a first night is then bounded by outlets x 500, not by
the corpus. The cue layer reads every article (its features are computed per article anyway)."""
FORMAT = "presstrust.scorer.text"
FORMAT_VERSION = 1


def text_of(articles: pl.DataFrame, source: str) -> list[str]:
    """The text the layer reads: the title, or the title plus the first LEAD_CHARS characters of the body."""
    title = articles["title"].fill_null("")
    if source == "title":
        return title.to_list()
    if source == "title_lead":
        return (title + " \n " + articles["text"].fill_null("").str.slice(0, LEAD_CHARS)).to_list()
    raise ValueError(f"source must be one of {SOURCES}, got {source!r}")


def text_sample(articles: pl.DataFrame, k: int = TEXT_ARTICLES_PER_OUTLET) -> pl.DataFrame:
    """The rows of `articles` the text layer reads: per outlet, the k most recent (published_at, undated last, then
    article_id), returned sorted by outlet and article_id."""
    return (
        articles.sort(["outlet", "published_at", "article_id"], descending=[False, True, False], nulls_last=True)
        .group_by("outlet", maintain_order=True)
        .head(k)
        .sort("outlet", "article_id")
    )


def vectorizer(analyzer: str = "word") -> HashingVectorizer:
    """The stateless hashing vectorizer: word 1-2-grams (default), word unigrams (word1) or char_wb 3-5-grams."""
    if analyzer == "word":
        return HashingVectorizer(
            analyzer="word", ngram_range=(1, 2), n_features=N_FEATURES, alternate_sign=False, norm=None
        )
    if analyzer == "word1":
        return HashingVectorizer(
            analyzer="word", ngram_range=(1, 1), n_features=N_FEATURES, alternate_sign=False, norm=None
        )
    if analyzer == "char":
        return HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), n_features=N_FEATURES, alternate_sign=False, norm=None
        )
    raise ValueError(f"analyzer must be word, word1 or char, got {analyzer!r}")


def hashed_counts(texts: Sequence[str], *, analyzer: str = "word") -> sp.csr_matrix:
    """Sublinear term frequencies (1 + log count) of hashed n-grams: one row per text."""
    counts = vectorizer(analyzer).transform(list(texts)).tocsr().astype(np.float64)
    counts.data = 1.0 + np.log(counts.data)
    return counts


def group_mean_rows(rows: sp.csr_matrix, groups: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """Sparse (n_groups x n_cols) mean of the rows of each group 0..n_groups-1."""
    groups = np.asarray(groups, dtype=np.int64)
    sizes = np.maximum(np.bincount(groups, minlength=n_groups), 1).astype(float)
    member = sp.csr_matrix((1.0 / sizes[groups], (groups, np.arange(len(groups)))), shape=(n_groups, len(groups)))
    return (member @ rows).tocsr()


def group_stats(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: mean, standard error (sd with ddof 1 / sqrt(n); NaN for n < 2) and n of `values`."""
    groups = np.asarray(groups, dtype=np.int64)
    n = np.bincount(groups, minlength=n_groups).astype(float)
    s1 = np.bincount(groups, weights=values, minlength=n_groups)
    s2 = np.bincount(groups, weights=values * values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.clip((s2 - n * mean * mean) / (n - 1), 0.0, None)
        se = np.where(n >= 2, np.sqrt(var / n), np.nan)
    return mean, se, n


class TfidfRidge:
    """Ridge on outlet-mean TF-IDF vectors of hashed n-grams (see the module docstring).

    fit(counts, doc_group, y): counts = `hashed_counts` of the training outlets' articles, doc_group = each
    article's outlet as 0..n_outlets-1, y = one label per training outlet.
    """

    def __init__(
        self,
        *,
        min_df: int = 3,
        alphas: Sequence[float] = TEXT_ALPHAS,
        n_splits: int = 5,
        random_state: int = 0,
        source: str = "title",
    ) -> None:
        self.min_df = min_df
        self.alphas = alphas
        self.n_splits = n_splits
        self.random_state = random_state
        self.source = source  # what the caller hashed: "title" (word 1-2-grams) or "body" (SOURCE_ANALYZERS)

    @staticmethod
    def _idf(counts: sp.csr_matrix, min_df: int) -> tuple[np.ndarray, np.ndarray]:
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        columns = np.flatnonzero(df >= min_df)
        idf = np.log((1.0 + counts.shape[0]) / (1.0 + df[columns])) + 1.0
        return columns, idf

    @staticmethod
    def _weighted(counts: sp.csr_matrix, full_idf: np.ndarray) -> sp.csr_matrix:
        """Rows scaled by the IDF of each column (0 for columns not kept), l2-normalised (no column slicing)."""
        x = sp.csr_matrix(counts, copy=True)
        x.data = x.data * full_idf[x.indices]
        x.eliminate_zeros()
        return normalize(x, copy=False).tocsr()

    def _full(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        idf = np.zeros(n_features)
        idf[self.columns_] = self.idf_
        coef = np.zeros(n_features)
        coef[self.columns_] = self.coef_
        return idf, coef

    def fit(self, counts: sp.csr_matrix, doc_group: np.ndarray, y: np.ndarray) -> TfidfRidge:
        counts = sp.csr_matrix(counts)
        y = np.asarray(y, dtype=float)
        doc_group = np.asarray(doc_group, dtype=np.int64)
        self.n_features_ = counts.shape[1]
        self.columns_, self.idf_ = self._idf(counts, self.min_df)
        full_idf = np.zeros(counts.shape[1])
        full_idf[self.columns_] = self.idf_
        means = group_mean_rows(self._weighted(counts, full_idf), doc_group, len(y))
        ridge = RidgeCV(alphas=tuple(self.alphas)).fit(means, y)
        self.coef_ = np.asarray(ridge.coef_, dtype=float)[self.columns_]
        self.intercept_ = float(ridge.intercept_)
        self.alpha_ = float(ridge.alpha_)
        oof = np.full(len(y), np.nan)
        folds = min(self.n_splits, len(y))
        if folds >= 2 and len(y) >= MIN_OUTLETS:  # a fold trained on one outlet would learn a constant
            for train, test in KFold(folds, shuffle=True, random_state=self.random_state).split(y):
                remap = np.full(len(y), -1)
                remap[train] = np.arange(len(train))
                docs = np.flatnonzero(np.isin(doc_group, train))
                inner = TfidfRidge(min_df=self.min_df, alphas=self.alphas, n_splits=0)
                inner.fit(counts[docs], remap[doc_group[docs]], y[train])
                test_docs = np.flatnonzero(np.isin(doc_group, test))
                remap[test] = np.arange(len(test))
                mean, _, _ = group_stats(inner.contributions(counts[test_docs]), remap[doc_group[test_docs]], len(test))
                oof[test] = inner.intercept_ + mean
        self.inner_oof_ = oof
        return self

    def vectors(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Each article's l2-normalised TF-IDF vector (full hashed width; columns not kept are 0)."""
        idf, _ = self._full(counts.shape[1])
        return self._weighted(sp.csr_matrix(counts), idf)

    def contributions(self, counts: sp.csr_matrix) -> np.ndarray:
        """s_i = coef_ . x_i per article (label units): the outlet prediction is intercept_ + mean s_i."""
        idf, coef = self._full(counts.shape[1])
        return np.asarray(self._weighted(sp.csr_matrix(counts), idf) @ coef, dtype=float).ravel()

    def predict_outlets(self, counts: sp.csr_matrix, doc_group: np.ndarray, n_groups: int) -> np.ndarray:
        mean, _, _ = group_stats(self.contributions(counts), doc_group, n_groups)
        return self.intercept_ + mean

    def to_dict(self) -> dict[str, Any]:
        """Plain data: kept column indices with their IDF and coefficient, intercept, penalty, hyper-parameters."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "n_features": int(self.n_features_),
            "columns": [int(c) for c in self.columns_],
            "idf": [float(v) for v in self.idf_],
            "coef": [float(v) for v in self.coef_],
            "intercept": self.intercept_,
            "alpha": self.alpha_,
            "min_df": self.min_df,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TfidfRidge:
        """Rebuild a fitted layer from `to_dict` output (identical contributions)."""
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} v{FORMAT_VERSION} model")
        layer = cls(min_df=int(data["min_df"]), source=str(data.get("source", "title")))
        layer.columns_ = np.asarray(data["columns"], dtype=np.int64)
        layer.idf_ = np.asarray(data["idf"], dtype=float)
        layer.coef_ = np.asarray(data["coef"], dtype=float)
        layer.intercept_ = float(data["intercept"])
        layer.alpha_ = float(data["alpha"])
        layer.n_features_ = int(data["n_features"])
        layer.inner_oof_ = np.zeros(0)
        return layer
