from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from features.claims import CONFIRMATION_SCHEMA, MATCH_INPUT, MatchConfig, claim_vectors, confirm_claims
from features.claims.matching import _articles, _story_candidates, _window_candidates, cosines
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


def per_article_reference(claims: pl.DataFrame, vectors: np.ndarray, config: MatchConfig) -> pl.DataFrame:
    """The former confirm_claims: one product per article and its candidates (with `cosines` for every pair)."""
    claims = claims.select(MATCH_INPUT).with_row_index("_in")
    order = claims.sort("article_id", "sentence_no")["_in"].to_numpy()
    claims, vectors = claims[order], np.asarray(vectors, dtype=np.float32)[order]
    arts = _articles(claims.drop("_in"), vectors)
    candidates = _window_candidates(arts, config)
    _story_candidates(arts, config, candidates)
    count = np.zeros(claims.height, np.uint32)
    best = np.full(claims.height, np.nan, np.float32)
    by = np.full(claims.height, None, dtype=object)
    for a, cand in enumerate(candidates):
        if not cand:
            continue
        cands = np.array(sorted(cand))
        rows = np.concatenate([np.arange(arts.starts[c], arts.ends[c]) for c in cands])
        owner_article = np.repeat(cands, arts.ends[cands] - arts.starts[cands])
        own = np.arange(arts.starts[a], arts.ends[a])
        sims = cosines(np.repeat(vectors[own], len(rows), axis=0), np.tile(vectors[rows], (len(own), 1)))
        sims = sims.reshape(len(own), len(rows))
        top = np.argmax(sims, axis=1)
        best[own] = sims[np.arange(len(own)), top]
        hit = sims >= config.threshold
        count[own] = [len(set(arts.outlet[owner_article][h].tolist())) for h in hit]
        by[own] = np.where(hit[np.arange(len(own)), top], arts.ids[owner_article[top]], None)
    return pl.DataFrame(
        {
            "article_id": claims["article_id"],
            "sentence_no": claims["sentence_no"],
            "confirming_outlets_n": pl.Series(count, dtype=pl.UInt32),
            "best_cosine": pl.Series(best, dtype=pl.Float32).fill_nan(None),
            "confirmed_by": pl.Series(by.tolist(), dtype=pl.String),
        },
        schema=CONFIRMATION_SCHEMA,
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.sampled_from([1, 50, 2_000, 4_000_000]))
def test_blocked_matching_equals_the_per_article_products(seed, n_articles, cap):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, n_articles)
    article = np.repeat(np.arange(n_articles), sizes)
    hours = rng.integers(0, 200, n_articles).astype(float)
    hours[rng.random(n_articles) < 0.2] = np.nan  # some undated
    stories = rng.integers(0, 4, n_articles)
    claims = pl.DataFrame(
        {
            "article_id": [f"a{i:02d}" for i in article],
            "sentence_no": np.concatenate([np.arange(s) for s in sizes]),
            "outlet": [f"o{i}.com" for i in rng.integers(0, 5, n_articles)[article]],
            "owner": [None if o == 0 else f"g{o}" for o in rng.integers(0, 3, n_articles)[article]],
            "published_at": [None if np.isnan(hours[i]) else DAY0 + timedelta(hours=hours[i]) for i in article],
            "story_id": [None if s == 0 else f"s{s}" for s in stories[article]],
            "copy_root": [None if i % 3 else f"a{i - i % 2:02d}" for i in article],
        },
        schema_overrides={"published_at": pl.Datetime("us")},
    )
    # a few directions, so many pairs sit near the threshold and some tie exactly
    base = rng.normal(size=(4, 8)).astype(np.float32)
    vectors = base[rng.integers(0, 4, claims.height)] + rng.normal(scale=0.4, size=(claims.height, 8)).astype(
        np.float32
    ) * (rng.random((claims.height, 1)) < 0.7)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    config = MatchConfig(window_days=2.0, neighbours=3, block=4, product_cap=cap)
    expected = per_article_reference(claims, vectors, config)
    assert confirm_claims(claims, vectors, config).equals(expected)
