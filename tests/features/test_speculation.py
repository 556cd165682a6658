from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features.speculation import (
    ARTICLE_SPECULATION_SCHEMA,
    article_speculation,
    speculation_cue_matches,
    speculation_cues,
)
from tests.features.conftest import sentence_frame


def cues_of(lexicons, sentence: str) -> list[str]:
    out = speculation_cue_matches(sentence_frame(sentence), cues=speculation_cues(lexicons)).collect()
    return [c.lower() for c in out["cue"]]


@pytest.mark.parametrize(
    ("sentence", "cue"),
    [
        ("Such a move could escalate the conflict.", "could"),
        ("The decision may signal a shift in policy.", "may"),
        ("It might rain tomorrow.", "might"),
        ("The vote was possibly rigged.", "possibly"),
        ("The minister is likely to resign.", "likely"),
        ("The plan appears to have stalled.", "appears to"),
        ("The man allegedly stole the car.", "allegedly"),
        ("The plans reportedly include a rapid-response force.", "reportedly"),
        ("The strike was potentially signaling a new phase.", "potentially signaling"),
        ("It is possible that the talks fail.", "it is possible"),
    ],
)
def test_speculation_cues(lexicons, sentence, cue):
    assert cue in cues_of(lexicons, sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "He would not say whether the plan was final.",
        "A spokesman declined to comment.",
        "Residents can vote on Tuesday.",
        "The law took effect in May.",
        "The talks began on May 5 in Geneva.",
        "About 300 people attended the rally.",
        "Around 40 percent of voters backed the measure.",
        "The police could not be reached for comment.",
        "Ukrainian President Volodymyr Zelenskyy has yet to comment publicly on the plans.",
        "Prime Minister Theresa May said the deal was done.",
        "The country showed its military might in a parade.",
        "Democrats are more likely than Republicans to live near a coast.",
        "The bill would require background checks.",
    ],
)
def test_not_speculation(lexicons, sentence):
    assert cues_of(lexicons, sentence) == []


def test_weights_follow_certainty(lexicons):
    out = speculation_cue_matches(
        sentence_frame("It might possibly rain, and reportedly it will."), cues=speculation_cues(lexicons)
    ).collect()
    weights = dict(zip(out["cue"], out["weight"], strict=True))
    assert weights["might"] == pytest.approx(0.625)  # certainty -0.25 -> (1 + 0.25) / 2
    assert weights["possibly"] == pytest.approx(0.5)  # certainty 0
    assert weights["reportedly"] == pytest.approx(0.625)
    assert out.filter(pl.col("cue") == "might")["is_modal"].item() is True
    assert out.filter(pl.col("cue") == "possibly")["is_modal"].item() is False


def test_cue_offsets_slice_back(lexicons):
    text = "Ünïcode “quotes” first: it could fail, and it might not."
    out = speculation_cue_matches(sentence_frame(text), cues=speculation_cues(lexicons)).collect()
    assert out["cue"].to_list() == ["could", "might"]
    for row in out.iter_rows(named=True):
        assert text[row["cue_start"] : row["cue_end"]] == row["cue"]


def test_article_speculation_hand_computed():
    matches = pl.LazyFrame(
        {
            "article_id": ["a", "a", "a"],
            "sentence_no": [0, 0, 3],
            "weight": [0.625, 0.5, 0.75],
            "is_modal": [True, False, True],
        },
        schema_overrides={"sentence_no": pl.Int64},
    )
    sizes = pl.LazyFrame(
        {"article_id": ["a", "b", "c"], "words_n": [100, 50, 0], "sentences_n": [4, 2, 0]},
        schema_overrides={"words_n": pl.Int64, "sentences_n": pl.Int64},
    )
    got = article_speculation(matches, sizes=sizes).collect()
    expected = pl.DataFrame(
        {
            "article_id": ["a", "b", "c"],
            "speculative_sentences_n": [2, 0, 0],
            "speculative_sentence_share": [0.5, 0.0, None],
            "hedges_per_1k_words": [10.0, 0.0, None],
            "speculation_weighted_per_1k_words": [18.75, 0.0, None],
        },
        schema=ARTICLE_SPECULATION_SCHEMA,
    )
    assert_frame_equal(got, expected)
