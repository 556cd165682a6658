"""features.claims.cited.linked_outlets: a link's outlet cites the claim whose sentence holds its anchor text."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from features.claims import LINKS_SCHEMA, linked_outlets


def claims_frame(rows: list[tuple[str, int, str, str | None]]) -> pl.LazyFrame:
    schema = {"article_id": pl.String, "sentence_no": pl.Int64, "sentence": pl.String, "cited_outlet": pl.String}
    return pl.LazyFrame(rows, schema=schema, orient="row")


def links_frame(rows: list[tuple[str, int, str, str]]) -> pl.LazyFrame:
    return pl.LazyFrame(rows, schema=LINKS_SCHEMA, orient="row")


def test_the_first_link_in_a_sentence_cites_and_a_named_outlet_wins() -> None:
    claims = claims_frame([
        ("a", 0, "The bridge will close, as reported on Monday and noted later.", None),
        ("a", 1, "According to Reuters, the cracks were noted in May.", "reuters.com"),
        ("a", 2, "Nothing here is linked.", None),
        ("b", 0, "The bridge will close, as reported on Monday.", None),  # the link is another article's
    ])  # fmt: skip
    links = links_frame([("a", 2, "noted", "tass.ru"), ("a", 1, "reported", "ria.ru")])
    got = linked_outlets(claims, links).collect()
    assert got.columns == ["article_id", "sentence_no", "sentence", "cited_outlet"]
    assert got["cited_outlet"].to_list() == ["ria.ru", "reuters.com", None, None]


@given(st.lists(st.tuples(st.sampled_from("ab"), st.text(max_size=12), st.sampled_from(["x.com", "y.org"]))))
def test_linking_only_fills_missing_citations_and_keeps_every_claim(found: list[tuple[str, str, str]]) -> None:
    claims = claims_frame([
        ("a", 0, "Officials said the plan would cost twelve million.", None),
        ("a", 1, "Reuters reported the plan would cost twelve million.", "reuters.com"),
        ("b", 0, "The plan would cost twelve million.", None),
    ])  # fmt: skip
    links = links_frame([(a, n, anchor, outlet) for n, (a, anchor, outlet) in enumerate(found, 1)])
    got = linked_outlets(claims, links).collect()
    before = claims.collect()
    assert got.select("article_id", "sentence_no", "sentence").equals(before.drop("cited_outlet"))
    assert got["cited_outlet"][1] == "reuters.com"
    for row, new in zip(before.iter_rows(named=True), got["cited_outlet"], strict=True):
        anchors = [o for a, t, o in found if a == row["article_id"] and t and t in row["sentence"]]
        assert new == (row["cited_outlet"] or (anchors[0] if anchors else None))
