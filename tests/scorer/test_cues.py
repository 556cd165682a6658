"""scorer.cues: body punctuation and the outlets an article cites by name."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from scorer.cues import article_cues, citation_patterns, cited_rating

NAMES = {"Reuters": "reuters.com", "RIA Novosti": "ria.ru", "CNN": "cnn.com", "AP": "apnews.com"}


def test_punctuation_per_1k_characters() -> None:
    text = "Wow! Really?" + "x" * 88 + "..."  # 103 characters: one !, one ?, one ellipsis
    out = article_cues(pl.LazyFrame({"article_id": ["a", "b"], "text": [text, ""]}), patterns={}).collect()
    assert out["exclamations_per_1k_chars"][0] == pytest.approx(1000 / 103)
    assert out["questions_per_1k_chars"][0] == pytest.approx(1000 / 103)
    assert out["ellipses_per_1k_chars"][0] == pytest.approx(1000 / 103)
    assert out["exclamations_per_1k_chars"][1] is None  # empty body: null, not 0


def test_cited_outlets_by_name() -> None:
    patterns = citation_patterns(NAMES)
    assert "according to Reuters" in patterns and not any(p.endswith(" AP") for p in patterns)  # too short
    text = (
        "The strike was first reported by RIA Novosti. According to Reuters, two died. Reuters reported more. "
        "A man told CNN he saw it. The reuters building is closed."
    )
    out = article_cues(pl.LazyFrame({"article_id": ["a"], "text": [text]}), patterns=patterns).collect()
    assert out["cited_outlets"].to_list() == [["ria.ru", "reuters.com", "cnn.com"]]


def test_cited_rating_is_the_mean_rating_of_cited_outlets_without_self() -> None:
    cues = pl.LazyFrame(
        {
            "outlet": ["x.com", "x.com", "ria.ru", "y.com"],
            "cited_outlets": [["reuters.com", "ria.ru"], ["reuters.com"], ["ria.ru", "reuters.com"], ["z.com"]],
        }
    )
    out = cited_rating(cues, ratings={"reuters.com": 1.0, "ria.ru": 0.4}).collect().sort("outlet")
    expected = pl.DataFrame({"outlet": ["ria.ru", "x.com", "y.com"], "cited_rating": [1.0, 0.8, None]})
    assert_frame_equal(out, expected)  # x: (1 + 0.4 + 1) / 3; ria.ru's self-citation left out; y: none rated
