from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from features.signals import (
    ARTICLE_SIGNALS_SCHEMA,
    ARTICLE_SIZES_SCHEMA,
    article_signals,
    article_sizes,
    sentence_signals,
    signal_cues,
)
from tests.features.conftest import articles, sentence_frame


def test_sentence_signal_counts(lexicons):
    frame = sentence_frame(
        '“We will win,” she said, and "you know it" in 2020 with 3.5 percent.',
        "The US and us: I think abuse is an allegation.",
    )
    out = sentence_signals(frame, cues=signal_cues(lexicons)).collect()
    assert out["opening_quotes_n"].to_list() == [1, 0]
    assert out["straight_quotes_n"].to_list() == [2, 0]
    assert out["numbers_n"].to_list() == [2, 0]
    assert out["first_second_person_n"].to_list() == [2, 2]  # We, you / us, I (not "US")
    assert out["bias_words_n"].to_list()[1] >= 2  # abuse, allegation


def test_article_signals_hand_computed(lexicons):
    arts = articles(
        {"article_id": "a", "title": "Is this the BIGGEST, best story ever?", "text": "x", "authors": ["Jane Doe"]},
        {"article_id": "b", "title": "SHOCKING! Worst interest rates", "text": "x", "authors": ["", " "]},
        {"article_id": "c", "title": None, "text": "", "authors": None},
    )
    sentences = pl.LazyFrame(
        {
            "article_id": ["a", "a", "b"],
            "words_n": [150, 50, 100],
            "opening_quotes_n": [1, 0, 0],
            "straight_quotes_n": [2, 0, 1],
            "numbers_n": [4, 0, 1],
            "bias_words_n": [10, 0, 0],
            "first_second_person_n": [0, 2, 0],
        },
        schema_overrides={
            k: pl.Int64
            for k in [
                "words_n",
                "opening_quotes_n",
                "straight_quotes_n",
                "numbers_n",
                "bias_words_n",
                "first_second_person_n",
            ]
        },
    )
    sizes = article_sizes(arts, sentences)
    assert_frame_equal(
        sizes.collect(),
        pl.DataFrame(
            {"article_id": ["a", "b", "c"], "words_n": [200, 100, 0], "sentences_n": [2, 1, 0]},
            schema=ARTICLE_SIZES_SCHEMA,
        ),
    )
    got = article_signals(arts, sentences, sizes=sizes, cues=signal_cues(lexicons)).collect()
    expected = pl.DataFrame(
        {
            "article_id": ["a", "b", "c"],
            "direct_quotes_per_1k_words": [10.0, 5.0, None],
            "numbers_per_1k_words": [20.0, 10.0, None],
            "bias_lexicon_per_1k_words": [50.0, 0.0, None],
            "first_second_person_per_1k_words": [10.0, 0.0, None],
            "title_question": [True, False, None],
            "title_exclamation": [False, True, None],
            "title_all_caps_words_n": [1, 1, None],
            "title_superlatives_n": [2, 1, None],
            "byline_present": [True, False, False],
        },
        schema=ARTICLE_SIGNALS_SCHEMA,
    )
    assert_frame_equal(got, expected)
