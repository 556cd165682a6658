from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from features.claims import CONFIRMATION_SCHEMA, MatchConfig, claim_vectors, confirm_claims
from features.embedding import load_static_embedding

DAY0 = datetime(2021, 3, 2, 8)
SAME = [
    "The harbour authority will close the old bridge to heavy lorries from next spring after engineers found cracks.",
    "Heavy lorries will be banned from the old harbour bridge from next spring after engineers found cracks in it.",
]
DIFFERENT = "A regional football club signed a new goalkeeper from abroad on a three year contract."


def frame(rows: list[dict]) -> pl.DataFrame:
    base = {"sentence_no": 0, "owner": None, "story_id": None, "copy_root": None}
    schema = {
        "article_id": pl.String, "sentence_no": pl.Int64, "outlet": pl.String, "owner": pl.String,
        "published_at": pl.Datetime("us"), "story_id": pl.String, "copy_root": pl.String, "sentence": pl.String,
    }  # fmt: skip
    return pl.DataFrame([{**base, **r} for r in rows], schema=schema)


def confirmed(rows: list[dict], config: MatchConfig | None = None) -> dict[str, int]:
    claims = frame(rows)
    out = confirm_claims(claims, claim_vectors(load_static_embedding(), claims["sentence"]), config)
    assert out.schema == pl.Schema(CONFIRMATION_SCHEMA)
    return dict(zip(out["article_id"], out["confirming_outlets_n"], strict=True))


def test_claim_vectors_are_centred():
    vectors = claim_vectors(load_static_embedding(), [*SAME, DIFFERENT, ""])
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.66 > sims[0, 2]
    assert not vectors[3].any()  # an empty sentence is a zero row, never a match


def test_confirmed_only_by_another_independent_outlet_within_the_window():
    rows = [
        {"article_id": "a", "outlet": "x.com", "published_at": DAY0, "sentence": SAME[0]},
        {"article_id": "b", "outlet": "y.com", "published_at": DAY0 + timedelta(days=2), "sentence": SAME[1]},
        {"article_id": "c", "outlet": "x.com", "published_at": DAY0, "sentence": SAME[1]},  # same outlet
        {"article_id": "d", "outlet": "z.com", "published_at": DAY0 + timedelta(days=4), "sentence": SAME[1]},
    ]
    # b: x.com and z.com; d: only b is within 3 days of it
    assert confirmed(rows) == {"a": 1, "b": 2, "c": 1, "d": 1}
    for row in rows[:3]:
        row["owner"] = "Group"  # x.com and y.com share an owner
    assert confirmed(rows) == {"a": 0, "b": 1, "c": 0, "d": 1}


def test_copies_do_not_confirm_and_undated_articles_need_a_story():
    rows = [
        {"article_id": "a", "outlet": "x.com", "published_at": DAY0, "sentence": SAME[0]},
        {"article_id": "b", "outlet": "y.com", "published_at": DAY0, "sentence": SAME[1], "copy_root": "a"},
        {"article_id": "u", "outlet": "z.com", "published_at": None, "sentence": SAME[1]},
    ]
    assert confirmed(rows) == {"a": 0, "b": 0, "u": 0}
    rows[0]["story_id"] = rows[2]["story_id"] = "s_a"
    assert confirmed(rows) == {"a": 1, "b": 0, "u": 1}


@settings(max_examples=20, deadline=None)
@given(st.permutations(range(6)), st.integers(1, 4))
def test_result_does_not_depend_on_row_order_or_block_size(order, block):
    sentences = [SAME[0], SAME[1], DIFFERENT, SAME[1], DIFFERENT, SAME[0]]
    rows = [
        {"article_id": f"a{i}", "outlet": f"o{i % 3}.com", "published_at": DAY0 + timedelta(hours=20 * i),
         "sentence": sentences[i]}
        for i in range(6)
    ]  # fmt: skip
    claims = frame(rows)
    vectors = claim_vectors(load_static_embedding(), claims["sentence"])
    expected = confirm_claims(claims, vectors)
    idx = np.array(order)
    got = confirm_claims(claims[idx], vectors[idx], MatchConfig(block=block))
    assert got.equals(expected)
