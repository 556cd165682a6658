from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from scorer.baselines import MeanBaseline, TfidfOutletRidge, count_matrix, group_means

TEXTS = [
    "the senate passed the bill on tuesday",
    "sources say the bill could fail",
    "the bill passed the senate",
    "officials said the vote was close",
    "you will not believe what the senate did",
    "the vote passed on tuesday officials said",
    "could the bill fail sources say it might",
    "the senate vote was close on tuesday",
]
GROUPS = np.array([0, 0, 1, 1, 2, 2, 3, 3])


def test_fold_tfidf_equals_a_vectorizer_fitted_on_the_training_documents() -> None:
    counts, terms = count_matrix(TEXTS)
    train_docs = GROUPS < 3  # outlets 0-2 train, outlet 3 held out
    model = TfidfOutletRidge(min_df=2, max_df=0.9).fit(
        counts[train_docs], GROUPS[train_docs], np.array([0.2, 0.5, 0.9])
    )
    vec = TfidfVectorizer(min_df=2, max_df=0.9, sublinear_tf=True).fit(
        [t for t, k in zip(TEXTS, train_docs, strict=True) if k]
    )
    assert list(terms[model.terms_]) == list(vec.get_feature_names_out())
    expected = group_means(vec.transform(TEXTS).tocsr(), GROUPS, 4)
    got = model.transform_outlets(counts, GROUPS)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert model.predict(counts[~train_docs], np.zeros(2, dtype=int)).shape == (1,)


def test_mean_baseline() -> None:
    np.testing.assert_allclose(MeanBaseline().fit(None, [0.2, 0.4]).predict([1, 2, 3]), [0.3, 0.3, 0.3])
