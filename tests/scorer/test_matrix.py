from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from scorer.inputs import model_feature_columns, with_derived_features
from scorer.matrix import outlet_matrix, subsample_articles


def small() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "article_id": ["a1", "a2", "b1", "b2", "b3", "c1"],
            "outlet": ["a", "a", "b", "b", "b", "c"],
            "x": [1.0, 3.0, 5.0, 5.0, None, 7.0],
            "flag": [True, False, True, True, True, False],
        }
    )


def test_outlet_matrix_means_counts_and_order() -> None:
    got = outlet_matrix(small(), features=["x", "flag"], value="mean")
    assert got.columns == ["outlet", "n_articles", "x", "flag"]
    assert got["outlet"].to_list() == ["a", "b", "c"]
    assert got["n_articles"].to_list() == [2, 3, 1]  # b's null x still counts as an article
    assert got["x"].to_list() == [2.0, 5.0, 7.0]
    assert got["flag"].to_list() == [0.5, 1.0, 0.0]


def test_outlet_matrix_several_values_extra_and_missing_feature() -> None:
    frame = small().with_columns(pl.lit(None, dtype=pl.Float64).alias("empty"))
    extra = pl.DataFrame({"outlet": ["a", "c"], "corroborated_share": [0.25, 1.0]})
    got = outlet_matrix(frame, features=["x", "empty"], value=("mean", "median"), extra=extra)
    assert got.columns == ["outlet", "n_articles", "x", "empty", "x__median", "empty__median", "corroborated_share"]
    assert got["empty"].null_count() == 3
    assert got["corroborated_share"].to_list() == [0.25, None, 1.0]
    with pytest.raises(ValueError, match="value"):
        outlet_matrix(frame, features=["x"], value="mode")


def test_shrunk_mean_pulls_small_outlets_to_the_population_mean() -> None:
    mean = outlet_matrix(small(), features=["x"], value="mean")["x"].to_numpy()
    shrunk = outlet_matrix(small(), features=["x"], value="shrunk_mean")["x"].to_numpy()
    centre = mean.mean()
    assert np.all(np.abs(shrunk - centre) <= np.abs(mean - centre) + 1e-12)


def test_subsample_keeps_at_most_k_per_chosen_outlet(articles_and_labels) -> None:
    articles, _ = articles_and_labels
    sub = subsample_articles(articles, k=5, seed=0, outlets=["outlet01.com"])
    counts = dict(sub.group_by("outlet").len().iter_rows())
    before = dict(articles.group_by("outlet").len().iter_rows())
    assert counts["outlet01.com"] == min(5, before["outlet01.com"])
    assert all(counts[o] == before[o] for o in before if o != "outlet01.com")
    assert sub.equals(subsample_articles(articles, k=5, seed=0, outlets=["outlet01.com"]))


def test_model_inputs_drop_raw_counts_and_derive_ratios() -> None:
    frame = pl.DataFrame(
        {
            "article_id": ["a"],
            "outlet": ["o"],
            "words_n": [200],
            "sentences_n": [10],
            "attributions_n": [4],
            "named_attributions_n": [1],
            "title_all_caps_words_n": [2],
            "hedges_per_1k_words": [5.0],
            "byline_present": [True],
        }
    )
    derived = with_derived_features(frame)
    assert derived["attributions_per_1k_words"][0] == 20.0
    assert derived["named_attributions_per_1k_words"][0] == 5.0
    assert derived["words_per_sentence"][0] == 20.0
    cols = model_feature_columns(derived)
    assert "words_n" not in cols and "attributions_n" not in cols
    assert {"title_all_caps_words_n", "hedges_per_1k_words", "byline_present_share", "log_words"} <= set(cols)
    assert "byline_present" not in derived.columns and derived["byline_present_share"][0] == 1.0
