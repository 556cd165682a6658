from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features.attribution import (
    ARTICLE_ATTRIBUTION_SCHEMA,
    article_attribution,
    attribution_cues,
    sentence_attribution,
    unnamed_source_spans,
)
from tests.features.conftest import sentence_frame


def flags(lexicons, *sentences: str) -> list[tuple[bool, bool]]:
    out = sentence_attribution(sentence_frame(*sentences), cues=attribution_cues(lexicons)).collect()
    return list(zip(out["named_attribution"], out["unnamed_attribution"], strict=True))


NAMED = [
    '"We will respond," said Foreign Minister Sergei Lavrov.',
    "The Pentagon said in a statement that the strike was lawful.",
    "The vote was delayed, according to Reuters.",
    "An FBI spokeswoman said the agency had no comment.",
    "The losses were larger than expected, according to the ministry.",
    "He said the talks would resume on Monday.",
    "This revelation, first reported by Ria Novosti, has sent ripples through diplomatic circles.",
]
UNNAMED = [
    "Sources said the deal was close.",
    "A senior official said the plan had been shelved.",
    "The company is preparing a sale, people familiar with the matter said.",
    "The officials, who spoke on condition of anonymity, described the talks as tense.",
    "Insiders say the board is divided.",
    "The talks collapsed, according to reports.",
    "It is believed that the ship sank overnight.",
    "Critics say the law goes too far.",
    "Some experts argue that the policy will backfire.",
    "The minister reportedly resigned.",
    "Officials have emphasized that the deployment is conditional.",
    "Sources within the coalition have indicated that the plans are ready.",
    "Economists have expected the pace of gains to ease this year.",
    "The facility is seen as impervious to attack.",
]
NEITHER = [
    "MGM insiders sold shares last week.",
    "That being said, the plan remains unpopular.",
    "He would not say whether the plan was final.",
    "The bridge was closed for repairs on Tuesday.",
    "Officials closed the road after the storm.",
]


@pytest.mark.parametrize("sentence", NAMED)
def test_named_sources(lexicons, sentence):
    assert flags(lexicons, sentence) == [(True, False)]


@pytest.mark.parametrize("sentence", UNNAMED)
def test_unnamed_sources(lexicons, sentence):
    assert flags(lexicons, sentence)[0][1] is True


@pytest.mark.parametrize("sentence", NEITHER)
def test_not_attributions(lexicons, sentence):
    assert flags(lexicons, sentence) == [(False, False)]


def test_mixed_sentence_is_both(lexicons):
    sentence = "According to Ria Novosti, sources within the coalition have indicated that the plans are ready."
    assert flags(lexicons, sentence) == [(True, True)]


def test_unnamed_spans_offsets_and_overlaps(lexicons):
    text = "Some experts argue that it works, while others caution that it fails."
    spans = unnamed_source_spans(
        sentence_attribution(sentence_frame(text), cues=attribution_cues(lexicons)), cues=attribution_cues(lexicons)
    ).collect()
    assert spans["cue"].to_list() == ["Some experts", "others"]  # the source phrases of "argue" and "caution"
    for row in spans.iter_rows(named=True):
        assert text[row["cue_start"] : row["cue_end"]] == row["cue"]


def test_article_attribution_hand_computed(lexicons):
    sentences = pl.LazyFrame(
        {
            "article_id": ["a", "a", "a", "b"],
            "sentence_no": [0, 1, 2, 0],
            "words_n": [10, 10, 5, 4],
            "named_attribution": [True, True, False, False],
            "unnamed_attribution": [True, False, False, False],
        },
        schema_overrides={"sentence_no": pl.Int64, "words_n": pl.Int64},
    )
    spans = pl.LazyFrame({"article_id": ["a", "a"]})
    sizes = pl.LazyFrame({"article_id": ["a", "b", "c"], "words_n": [25, 4, 0], "sentences_n": [3, 1, 0]})
    got = article_attribution(sentences, unnamed_spans=spans, sizes=sizes).collect()
    expected = pl.DataFrame(
        {
            "article_id": ["a", "b", "c"],
            "attributions_n": [2, 0, 0],
            "named_attributions_n": [2, 0, 0],
            "unnamed_attributions_n": [1, 0, 0],
            "unnamed_source_share": [0.5, None, None],
            "unnamed_sources_per_1k_words": [80.0, 0.0, None],
        },
        schema=ARTICLE_ATTRIBUTION_SCHEMA,
    )
    assert_frame_equal(got, expected)


def test_source_phrase_span_starts_at_a_word_in_a_long_sentence(lexicons):
    # the subject search window (100 characters) starts inside a word here: the span must not
    text = (
        "After a long and winding debate that lasted well into the night and touched on almost every part of "
        "the budget, several members of the finance committee warned that the deficit would grow."
    )
    spans = unnamed_source_spans(
        sentence_attribution(sentence_frame(text), cues=attribution_cues(lexicons)), cues=attribution_cues(lexicons)
    ).collect()
    assert spans["cue"].to_list() == ["several members of the finance committee"]
    row = spans.row(0, named=True)
    assert text[row["cue_start"] : row["cue_end"]] == row["cue"]
