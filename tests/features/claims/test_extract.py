from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from features.claims import CLAIMS_SCHEMA, article_claims, cited_outlet, cited_outlets
from tests.features.conftest import articles, no_boilerplate

NAMES = {"RIA Novosti": "ria.ru", "Reuters": "reuters.com", "Time": "time.com", "CNN": "cnn.com", "AP": "ap.org"}
CITED = cited_outlets(NAMES)


def cites(*sentences: str) -> list[str | None]:
    frame = pl.DataFrame({"s": list(sentences)})
    return frame.select(cited_outlet(pl.col("s"), CITED))["s"].to_list()


def claims_of(lexicons, text: str) -> pl.DataFrame:
    arts = articles({"article_id": "a1", "outlet": "x.com", "title": "T", "text": text})
    return article_claims(arts, boilerplate=no_boilerplate(), lexicons=lexicons, cited=CITED).collect()


def test_cited_outlet_matches_cue_phrases_whatever_the_name_case():
    assert cites(
        "This revelation, first reported by Ria Novosti, has sent ripples.",
        "The vote was delayed, according to Reuters.",
        "Reuters reported that the vote was delayed.",
        "The minister told CNN that talks would resume.",
        "Citing RIA Novosti, the paper said troops were ready.",
    ) == ["ria.ru", "reuters.com", "reuters.com", "cnn.com", "ria.ru"]


def test_cited_outlet_needs_a_capital_and_a_cue():
    assert cites(
        "According to time records, the shift ended at six.",  # lower-case name: not the outlet
        "Reuters is a news agency based in London.",  # a name without a citation cue
        "He was talking to AP reporters.",  # a name shorter than 3 characters is never matched
        "The rain, according to the farmers, ruined the harvest.",
    ) == [None, None, None, None]


def test_seed_claims(lexicons, seed_text):
    title, _, body = seed_text.partition("\n")
    out = claims_of(lexicons, body.strip())
    assert out.schema == pl.Schema(CLAIMS_SCHEMA)
    assert out.row(0, named=True)["kind"] == "lead"
    ria = out.filter(pl.col("cited_outlet") == "ria.ru")
    assert ria.height == 2
    coalition = out.filter(pl.col("sentence").str.contains("sources within the coalition")).row(0, named=True)
    assert (coalition["source"], coalition["source_phrase"], coalition["unnamed"]) == (
        "mixed",
        "sources within the coalition",
        True,
    )
    reportedly = out.filter(pl.col("sentence").str.contains("reportedly include")).row(0, named=True)
    assert reportedly["unnamed"] and reportedly["speculative"]


def test_plain_sentences_are_not_claims_but_the_lead_is(lexicons):
    out = claims_of(
        lexicons,
        "The council met on Monday in the town hall to discuss roads.\n"
        "The meeting lasted three hours and ended at nine.\n"
        "Officials said the budget could rise by a tenth next year.\n"
        "It rained.",
    )
    assert out["sentence_no"].to_list() == [0, 2]
    assert out["kind"].to_list() == ["lead", "attributed"]
    assert out["speculative"].to_list() == [False, True]


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(4)))
def test_claims_do_not_depend_on_article_order(lexicons, order):
    texts = [
        "Officials said the bridge would close because engineers found cracks in it.",
        "The plan could fail, some analysts argue, if the vote is delayed again.",
        "According to Reuters, the company will cut two thousand jobs this year.",
        "A short note.",
    ]
    rows = [{"article_id": f"a{i}", "outlet": "x.com", "title": "T", "text": texts[i]} for i in order]
    out = article_claims(articles(*rows), boilerplate=no_boilerplate(), lexicons=lexicons, cited=CITED).collect()
    assert out["article_id"].to_list() == ["a0", "a1", "a2"]


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(4)))
def test_the_source_phrase_of_frames_starting_together_does_not_depend_on_row_order(order: list[int]) -> None:
    """Frames at one start: the longest, then the first in code-point order (Spark and local batches agree)."""
    from features.claims.extract import _source_phrases

    rows = [
        ("a", 0, "unnamed", 10, 16, "police"),
        ("a", 0, "unnamed", 10, 30, "police in the capital"),
        ("a", 0, "unnamed", 10, 16, "Police"),
        ("a", 0, "named", 2, 8, "Ardern"),
    ]
    frames = pl.DataFrame(
        [rows[i] for i in order],
        schema=["article_id", "sentence_no", "source", "cue_start", "cue_end", "cue"],
        orient="row",
    )
    got = _source_phrases(frames.lazy()).collect()
    assert got["source_phrase"].to_list() == ["police in the capital"]
