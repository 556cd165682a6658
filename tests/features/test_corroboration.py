"""Constructed tests for features.corroboration (small frames, no shared data needed)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features.corroboration import (
    ARTICLE_SCHEMA,
    DEFAULT_CONFIG,
    OUTLET_SCHEMA,
    STORY_SCHEMA,
    CorroborationConfig,
    StoryStream,
    assign_stories,
    corroboration,
    document_frequencies,
    fit_text_model,
    merge_frequencies,
    outlet_stats,
    recluster_plan,
    story_table,
    text_model_from_frequencies,
    update_stories,
)

D = datetime

# --------------------------------------------------------------------------------------------
# Fixtures: a few hand-written stories and a synthetic background
# --------------------------------------------------------------------------------------------

WIRE = (
    "A magnitude 7.1 earthquake struck off the coast of central Chile on Wednesday, shaking "
    "buildings in the port city of Valparaiso and the capital Santiago, the national "
    "emergency office said. At least five people were killed when walls collapsed in the "
    "hillside neighbourhoods of Valparaiso, and the navy briefly issued a tsunami warning "
    "for the coast between Coquimbo and Concepcion before lifting it two hours later. "
    "President Gabriel Boric said rescue teams were searching collapsed homes in Vina del "
    "Mar, and the copper mines of the region halted work to inspect tunnels for damage."
)
WIRE_EXTRA = (
    " Local officials in Quilpue said schools would stay closed on Thursday while engineers "
    "check the structures, and the electricity company restored power to most households."
)
INDEPENDENT = (
    "Chilean rescuers dug through rubble in Valparaiso after a powerful undersea quake, "
    "measured at 7.1 by seismologists, rattled the central coast. Witnesses in Vina del Mar "
    "described walls falling into the street, and the emergency office counted five dead. "
    "The navy's tsunami alert, lifted after two hours, sent families in Coquimbo to higher "
    "ground, while copper miners were evacuated from tunnels for inspections."
)

FIRE_A = [
    "A fast-moving wildfire tore through the town of Paradise in Butte County, California, "
    "destroying hundreds of homes as residents fled along Skyway Road, Cal Fire said. "
    "Sheriff Kory Honea ordered the evacuation of Paradise and Magalia while strong winds "
    "pushed the Camp Fire toward Chico.",
    "The Camp Fire in Butte County, California, burned much of Paradise overnight, with "
    "Sheriff Kory Honea describing gridlock on Skyway Road as residents escaped the flames. "
    "Cal Fire crews tried to protect Magalia and the outskirts of Chico from the wind-driven "
    "blaze.",
    "Residents of Paradise, California, abandoned cars on Skyway Road as the Camp Fire "
    "swept through Butte County. Sheriff Kory Honea said Magalia was also under evacuation "
    "and Cal Fire warned that gusts could carry embers toward Chico.",
]
FIRE_B = [
    "A grass fire driven by hurricane-force winds raced through Boulder County, Colorado, "
    "burning subdivisions in Superior and Louisville, Governor Jared Polis said. The "
    "Marshall Fire forced tens of thousands to evacuate as flames jumped US Highway 36 near "
    "a Costco and a Target.",
    "Governor Jared Polis declared an emergency as the Marshall Fire spread across Boulder "
    "County, Colorado, destroying homes in Louisville and Superior. Sheriff Joe Pelle said "
    "winds above 100 mph pushed the flames across Highway 36 toward the Costco.",
]

UNDATED_A = [
    "NASA's Perseverance rover collected its first rock core sample from Jezero Crater on "
    "Mars, engineers at the Jet Propulsion Laboratory in Pasadena said, after a failed "
    "attempt with crumbly rock last month.",
    "Engineers at the Jet Propulsion Laboratory confirmed that Perseverance drilled and "
    "sealed a rock core from Jezero Crater, the first Mars sample meant for return to "
    "Earth, after last month's attempt failed on crumbly rock.",
]

_SYLL = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "zu", "be", "do", "fi", "gu", "ha", "je"]
# everyday news vocabulary: in a real corpus these words are common, so IDF weighs them low
# fmt: off
_COMMON = [
    "said", "officials", "police", "state", "county", "city", "president", "governor", "sheriff",
    "department", "people", "residents", "homes", "home", "fire", "fires", "wind", "winds",
    "emergency", "evacuation", "evacuate", "evacuated", "crews", "firefighters", "damage",
    "destroyed", "destroying", "buildings", "rescue", "search", "killed", "dead", "injured",
    "authorities", "national", "local", "federal", "week", "day", "night", "thursday", "wednesday",
    "tuesday", "monday", "friday", "saturday", "sunday", "morning", "hours", "miles", "highway",
    "road", "town", "village", "region", "coast", "north", "south", "east", "west", "central",
    "spokesman", "spokeswoman", "statement", "news", "report", "reported", "told", "according",
    "added", "warned", "told", "officials", "agency", "company", "workers", "schools", "power",
    "water", "families", "thousands", "hundreds", "dozens", "million", "year", "years", "month",
    "last", "first", "new", "government", "public", "office", "support", "plan", "plans", "vote",
    "law", "court", "judge", "case", "group", "leaders", "minister", "party", "election",
    "campaign", "country", "world", "storm", "weather", "streets",
]
# fmt: on


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLL) for _ in range(rng.randint(3, 5)))


_BG_START = D(2021, 3, 1)
# a fixed made-up vocabulary with Zipf-like frequencies: like real words, most recur in a few
# articles (so they survive min_df) without being shared by everything
_VOCAB_RNG = random.Random(1234)
_BG_VOCAB = sorted({_word(_VOCAB_RNG) for _ in range(6000)})
_BG_WEIGHTS = [1.0 / (r + 20) for r in range(len(_BG_VOCAB))]


def background(n: int, seed: int = 0, start: datetime = _BG_START) -> list[dict]:
    """Unrelated filler articles that give IDF a realistic spread: everyday news words are
    frequent, other words (here made up) recur in a few articles each."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topical = rng.choices(_BG_VOCAB, weights=_BG_WEIGHTS, k=90)
        words = [rng.choice(_COMMON) if rng.random() < 0.15 else w for w in topical]
        rows.append(
            {
                "article_id": f"bg{i:03d}",
                "outlet": f"bg_outlet_{i % 7}",
                "published_at": start + timedelta(hours=7 * i),
                "title": " ".join(words[:8]),
                "text": " ".join(words),
            }
        )
    return rows


def frame(rows: list[dict], corpus: bool = False) -> pl.DataFrame:
    schema = {
        "article_id": pl.String,
        "outlet": pl.String,
        "published_at": pl.Datetime("us"),
        "title": pl.String,
        "text": pl.String,
    }
    if corpus:
        schema["corpus"] = pl.String
    return pl.DataFrame(rows, schema=schema)


def wire_rows(with_independent: bool = True) -> list[dict]:
    t0 = D(2021, 3, 3, 14, 0)
    rows = [
        {
            "article_id": "ap1",
            "outlet": "apnews.com",
            "published_at": t0,
            "title": "Strong earthquake hits central Chile, killing at least 5",
            "text": WIRE,
        },
        {
            "article_id": "x1",
            "outlet": "x.com",
            "published_at": t0 + timedelta(hours=1),
            "title": "Deadly quake shakes Chile",
            "text": "VALPARAISO, Chile (AP) - " + WIRE,
        },
        {
            "article_id": "y1",
            "outlet": "y.com",
            "published_at": t0 + timedelta(hours=2),
            "title": "Earthquake in Chile kills five",
            "text": WIRE[: int(len(WIRE) * 0.8)],
        },
        {
            "article_id": "z1",
            "outlet": "z.com",
            "published_at": t0 + timedelta(hours=3),
            "title": "Chile earthquake: what we know",
            "text": WIRE + WIRE_EXTRA,
        },
    ]
    if with_independent:
        rows.append(
            {
                "article_id": "r1",
                "outlet": "reuters.com",
                "published_at": t0 + timedelta(hours=4),
                "title": "Chile quake kills five, rescuers search rubble in Valparaiso",
                "text": INDEPENDENT,
            }
        )
    return rows


def by_id(df: pl.DataFrame) -> dict[str, dict]:
    return {r["article_id"]: r for r in df.iter_rows(named=True)}


# --------------------------------------------------------------------------------------------
# Behaviour on constructed stories
# --------------------------------------------------------------------------------------------


def test_output_schemas() -> None:
    res = corroboration(frame(wire_rows() + background(20)))
    assert res.articles.schema == pl.Schema(ARTICLE_SCHEMA)
    assert res.stories.schema == pl.Schema(STORY_SCHEMA)
    assert res.outlets.schema == pl.Schema(OUTLET_SCHEMA)


def test_wire_story_copied_by_three_outlets_counts_once() -> None:
    res = corroboration(frame(wire_rows() + background(30)))
    a = by_id(res.articles)
    story = a["ap1"]["story_id"]
    assert story == "s_ap1"
    assert {k for k, r in a.items() if r["story_id"] == story} == {"ap1", "x1", "y1", "z1", "r1"}
    assert [a[k]["copy_of"] for k in ("ap1", "x1", "y1", "z1", "r1")] == [None, "ap1", "ap1", "ap1", None]
    s = res.stories.filter(pl.col("story_id") == story).row(0, named=True)
    assert (s["n_articles"], s["n_outlets"], s["n_independent_outlets"]) == (5, 5, 2)
    # the wire and the copies are each corroborated by Reuters alone; Reuters by the wire only
    assert {k: a[k]["n_corroborating_outlets"] for k in ("ap1", "x1", "y1", "z1", "r1")} == {
        "ap1": 1,
        "x1": 1,
        "y1": 1,
        "z1": 1,
        "r1": 1,
    }
    assert a["ap1"]["is_first_report"] is True
    assert not any(a[k]["is_first_report"] for k in ("x1", "y1", "z1", "r1"))


def test_copies_alone_are_not_corroboration() -> None:
    res = corroboration(frame(wire_rows(with_independent=False) + background(30)))
    a = by_id(res.articles)
    assert all(a[k]["story_id"] == "s_ap1" for k in ("ap1", "x1", "y1", "z1"))
    assert all(a[k]["n_corroborating_outlets"] == 0 for k in ("ap1", "x1", "y1", "z1"))
    s = res.stories.filter(pl.col("story_id") == "s_ap1").row(0, named=True)
    assert s["n_independent_outlets"] == 1
    o = {r["outlet"]: r for r in res.outlets.iter_rows(named=True)}
    assert o["x.com"]["copies_n"] == 1 and o["x.com"]["copy_share"] == 1.0
    assert o["apnews.com"]["copies_n"] == 0 and o["apnews.com"]["copy_share"] == 0.0
    assert o["apnews.com"]["corroborated_share"] == 0.0
    assert o["apnews.com"]["exclusive_share"] == 0.0  # others carried it, as copies
    assert o["apnews.com"]["first_report_share"] == 1.0


def test_same_outlet_never_corroborates() -> None:
    rows = wire_rows(with_independent=False)[:1] + [
        {
            "article_id": "ap2",
            "outlet": "apnews.com",
            "published_at": D(2021, 3, 3, 18),
            "title": "Chile quake: rescuers search rubble in Valparaiso",
            "text": INDEPENDENT,
        }
    ]
    res = corroboration(frame(rows + background(30)))
    a = by_id(res.articles)
    assert a["ap1"]["story_id"] == a["ap2"]["story_id"]
    assert a["ap1"]["n_corroborating_outlets"] == 0 and a["ap2"]["n_corroborating_outlets"] == 0
    o = res.outlets.filter(pl.col("outlet") == "apnews.com").row(0, named=True)
    assert o["stories_n"] == 1 and o["corroborated_n"] == 0 and o["exclusive_n"] == 1


def test_two_stories_same_day_same_topic_stay_apart() -> None:
    t0 = D(2021, 3, 4, 9)
    rows = [
        {
            "article_id": f"fa{i}",
            "outlet": f"out{i}",
            "published_at": t0 + timedelta(hours=2 * i),
            "title": txt.split(",")[0],
            "text": txt,
        }
        for i, txt in enumerate(FIRE_A)
    ] + [
        {
            "article_id": f"fb{i}",
            "outlet": f"out{i + 5}",
            "published_at": t0 + timedelta(hours=2 * i + 1),
            "title": txt.split(",")[0],
            "text": txt,
        }
        for i, txt in enumerate(FIRE_B)
    ]
    # 400 filler articles: with fewer, IDF cannot tell names from everyday words
    a = by_id(assign_stories(frame(rows + background(400))))
    assert {a[f"fa{i}"]["story_id"] for i in range(3)} == {"s_fa0"}
    assert {a[f"fb{i}"]["story_id"] for i in range(2)} == {"s_fb0"}


def test_bridging_article_does_not_chain_two_stories() -> None:
    """An article mixing two stories joins at most one of them; stories never merge."""
    t0 = D(2021, 3, 4, 9)
    rows = [
        {"article_id": "fa0", "outlet": "o1", "published_at": t0, "title": "Camp Fire", "text": FIRE_A[0]},
        {
            "article_id": "fa1",
            "outlet": "o2",
            "published_at": t0 + timedelta(hours=1),
            "title": "Camp Fire",
            "text": FIRE_A[1],
        },
        {
            "article_id": "fb0",
            "outlet": "o3",
            "published_at": t0 + timedelta(hours=2),
            "title": "Marshall Fire",
            "text": FIRE_B[0],
        },
        {
            "article_id": "fb1",
            "outlet": "o4",
            "published_at": t0 + timedelta(hours=3),
            "title": "Marshall Fire",
            "text": FIRE_B[1],
        },
        {
            "article_id": "mix",
            "outlet": "o5",
            "published_at": t0 + timedelta(hours=4),
            "title": "Camp Fire and Marshall Fire",
            "text": FIRE_A[2] + " " + FIRE_B[1],
        },
    ]
    a = by_id(assign_stories(frame(rows + background(400))))
    assert a["fa0"]["story_id"] == a["fa1"]["story_id"] == "s_fa0"
    assert a["fb0"]["story_id"] == a["fb1"]["story_id"] == "s_fb0"
    assert a["mix"]["story_id"] in {"s_fa0", "s_fb0", "s_mix"}


def test_outside_window_is_a_new_story() -> None:
    rows = wire_rows(with_independent=False)[:1] + [
        {
            "article_id": "late",
            "outlet": "reuters.com",
            "published_at": D(2021, 3, 9),
            "title": "Chile quake kills five, rescuers search rubble in Valparaiso",
            "text": INDEPENDENT,
        }
    ]
    a = by_id(assign_stories(frame(rows + background(30))))
    assert a["late"]["story_id"] == "s_late"
    cfg = CorroborationConfig(window=timedelta(days=7))
    a = by_id(assign_stories(frame(rows + background(30)), cfg))
    assert a["late"]["story_id"] == "s_ap1"


def test_undated_articles_match_on_text_within_their_corpus() -> None:
    rows = [
        {
            "article_id": "u1",
            "outlet": "o1",
            "published_at": None,
            "title": "Mars core sample",
            "text": UNDATED_A[0],
            "corpus": "c1",
        },
        {
            "article_id": "u2",
            "outlet": "o2",
            "published_at": None,
            "title": "Mars sample sealed",
            "text": UNDATED_A[1],
            "corpus": "c1",
        },
        # same text, other corpus: not matched
        {
            "article_id": "u3",
            "outlet": "o3",
            "published_at": None,
            "title": "Mars core sample",
            "text": UNDATED_A[0],
            "corpus": "c2",
        },
        # same text, dated: undated articles never join dated stories
        {
            "article_id": "d1",
            "outlet": "o4",
            "published_at": D(2021, 3, 2),
            "title": "Mars core",
            "text": UNDATED_A[1],
            "corpus": "c1",
        },
    ]
    bg = [dict(r, corpus="c1") for r in background(30)]
    res = corroboration(frame(rows + bg, corpus=True))
    a = by_id(res.articles)
    assert a["u1"]["story_id"] == a["u2"]["story_id"] == "s_u1"
    assert a["u3"]["story_id"] == "s_u3"
    assert a["d1"]["story_id"] == "s_d1"
    assert a["u1"]["undated"] and a["u3"]["undated"] and not a["d1"]["undated"]
    assert a["u1"]["is_first_report"] is None and a["d1"]["is_first_report"] is True
    assert a["u1"]["n_corroborating_outlets"] == 1 and a["u3"]["n_corroborating_outlets"] == 0
    s = res.stories.filter(pl.col("story_id") == "s_u1").row(0, named=True)
    assert s["undated"] and s["first_published_at"] is None and s["n_articles"] == 2
    o = {r["outlet"]: r for r in res.outlets.iter_rows(named=True)}
    assert o["o1"]["dated_stories_n"] == 0 and o["o1"]["first_report_share"] is None


def test_input_types_are_normalised() -> None:
    rows = wire_rows() + background(20)
    base = assign_stories(frame(rows))
    # LazyFrame, tz-aware timestamps (converted to naive UTC), Date input
    aware = frame(rows).with_columns(pl.col("published_at").dt.replace_time_zone("UTC"))
    assert_frame_equal(assign_stories(aware.lazy()), base)
    berlin = aware.with_columns(pl.col("published_at").dt.convert_time_zone("Europe/Berlin"))
    assert_frame_equal(assign_stories(berlin), base)
    dates = frame(rows).with_columns(pl.col("published_at").dt.date())
    out = assign_stories(dates)
    assert out.schema == pl.Schema(ARTICLE_SCHEMA)
    assert out["published_at"].dt.date().to_list() == base["published_at"].dt.date().to_list()


def test_invalid_input() -> None:
    rows = wire_rows()
    with pytest.raises(ValueError, match="unique"):
        assign_stories(frame(rows + rows[:1]))
    with pytest.raises(ValueError, match="required"):
        assign_stories(frame(rows).drop("title"))
    with pytest.raises(TypeError):
        assign_stories(frame(rows).with_columns(pl.col("published_at").cast(pl.String)))
    with pytest.raises(ValueError, match="null"):
        assign_stories(frame(rows).with_columns(pl.lit(None, pl.String).alias("outlet")))


def test_empty_input() -> None:
    res = corroboration(frame([]))
    assert res.articles.height == 0 and res.stories.height == 0 and res.outlets.height == 0
    assert res.articles.schema == pl.Schema(ARTICLE_SCHEMA)


# --------------------------------------------------------------------------------------------
# Determinism and stable ids
# --------------------------------------------------------------------------------------------


def _mixed_rows() -> list[dict]:
    t0 = D(2021, 3, 4, 9)
    fires = [
        {
            "article_id": f"fa{i}",
            "outlet": f"out{i}",
            "published_at": t0 + timedelta(hours=2 * i),
            "title": txt.split(",")[0],
            "text": txt,
        }
        for i, txt in enumerate(FIRE_A)
    ]
    return wire_rows() + fires + background(40)


def test_deterministic_under_shuffled_input() -> None:
    rows = _mixed_rows()
    ref = corroboration(frame(rows))
    for seed in range(3):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        got = corroboration(frame(shuffled))
        assert_frame_equal(got.articles, ref.articles)
        assert_frame_equal(got.stories, ref.stories)
        assert_frame_equal(got.outlets, ref.outlets)


def test_block_size_does_not_change_result() -> None:
    rows = _mixed_rows()
    ref = assign_stories(frame(rows))
    for bs in (1, 3, 7):
        assert_frame_equal(assign_stories(frame(rows), CorroborationConfig(block_size=bs)), ref)


def test_story_ids_stable_when_unrelated_article_added() -> None:
    rows = _mixed_rows()
    model = fit_text_model(frame(rows))
    before = assign_stories(frame(rows), text_model=model)
    new = {
        "article_id": "new1",
        "outlet": "elsewhere.com",
        "published_at": D(2021, 3, 3, 15),
        "title": "Local council approves budget for new library branch",
        "text": "The town council voted 5-2 on Tuesday to fund a library branch on Elm Street.",
    }
    after = assign_stories(frame(rows + [new]), text_model=model)
    joined = before.join(after, on="article_id", suffix="_after")
    assert (joined["story_id"] == joined["story_id_after"]).all()
    assert after.filter(pl.col("article_id") == "new1")["story_id"].item() == "s_new1"
    # the default (refitted) text model gives the same ids here as well
    after_refit = assign_stories(frame(rows + [new]))
    j2 = before.join(after_refit, on="article_id", suffix="_after")
    assert (j2["story_id"] == j2["story_id_after"]).all()


def test_story_id_is_earliest_article_with_id_tiebreak() -> None:
    t = D(2021, 3, 3, 14)
    rows = [
        {"article_id": "b", "outlet": "o1", "published_at": t, "title": "Quake", "text": WIRE},
        {"article_id": "a", "outlet": "o2", "published_at": t, "title": "Quake", "text": INDEPENDENT},
        {
            "article_id": "0",
            "outlet": "o3",
            "published_at": t + timedelta(seconds=1),
            "title": "Quake",
            "text": INDEPENDENT,
        },
    ]
    a = by_id(assign_stories(frame(rows + background(30))))
    assert a["a"]["story_id"] == a["b"]["story_id"] == a["0"]["story_id"] == "s_a"
    assert a["a"]["is_first_report"] and a["b"]["is_first_report"]  # ties share first report
    assert not a["0"]["is_first_report"]


# --------------------------------------------------------------------------------------------
# Incremental support
# --------------------------------------------------------------------------------------------


def test_recluster_plan_resumes_at_the_first_new_article() -> None:
    rows = _mixed_rows()
    prev = assign_stories(frame(rows))
    # a new article 2 days after the wire story's start
    new = {
        "article_id": "n1",
        "outlet": "late.com",
        "published_at": D(2021, 3, 5, 20),
        "title": "Aftershock rattles Chile",
        "text": INDEPENDENT,
    }
    allrows = frame(rows + [new])
    plan = recluster_plan(allrows, prev, ["n1"])
    order = allrows.sort("published_at", "article_id", nulls_last=True)
    ids = order["article_id"].to_list()
    assert ids[plan.first] == "n1"
    dated = order["published_at"].is_not_null().to_numpy()
    # everything after the new article is clustered again; nothing before it; no undated article
    assert plan.redo.tolist() == [i >= plan.first and bool(dated[i]) for i in range(len(ids))]
    # the state: earlier members of the stories still joinable at 2021-03-05 20:00 (last article within
    # 2 days, first within 7), and only those
    spans = (
        prev.filter(pl.col("published_at") < D(2021, 3, 5, 20))
        .group_by("story_id")
        .agg(pl.col("published_at").min().alias("lo"), pl.col("published_at").max().alias("hi"))
    )
    joinable = spans.filter((pl.col("hi") >= D(2021, 3, 3, 20)) & (pl.col("lo") >= D(2021, 2, 26, 20)))[
        "story_id"
    ].to_list()
    assert joinable
    story = dict(zip(prev["article_id"], prev["story_id"], strict=True))
    expected = [i < plan.first and story.get(a) in joinable for i, a in enumerate(ids)]
    assert plan.state.tolist() == expected
    assert 0 < plan.state.sum() < plan.first
    # an undated new article: its corpus's undated articles are clustered again, no dated one
    und = frame([dict(new, article_id="n2", published_at=None)])
    both = pl.concat([allrows.filter(pl.col("article_id") != "n1"), und])
    plan2 = recluster_plan(both, prev, ["n2"])
    undated = both.sort("published_at", "article_id", nulls_last=True)["published_at"].is_null().to_numpy()
    assert plan2.redo.tolist() == undated.tolist()
    assert not plan2.state.any()


def test_update_stories_matches_full_run() -> None:
    rows = _mixed_rows()
    prev = assign_stories(frame(rows))
    new = [
        {
            "article_id": "n1",
            "outlet": "late.com",
            "published_at": D(2021, 3, 4, 20),
            "title": "Chile quake death toll rises",
            "text": INDEPENDENT + " The toll rose to six.",
        },
        {
            "article_id": "n2",
            "outlet": "other.com",
            "published_at": D(2021, 3, 20),
            "title": "Camp Fire",
            "text": FIRE_A[1],
        },
    ]
    allrows = frame(rows + new)
    full = assign_stories(allrows)
    inc = update_stories(allrows, prev, ["n1", "n2"])
    assert_frame_equal(inc, full)
    assert by_id(inc)["n1"]["story_id"] == "s_ap1"
    # stories outside the window kept their rows verbatim
    untouched = prev.filter(pl.col("published_at") < D(2021, 3, 1, 12))
    assert_frame_equal(untouched, inc.filter(pl.col("article_id").is_in(untouched["article_id"].implode())))


def test_update_stories_requires_previous_rows() -> None:
    rows = _mixed_rows()
    prev = assign_stories(frame(rows)).filter(pl.col("article_id") != "bg000")
    with pytest.raises(ValueError, match="neither new nor in previous"):
        update_stories(frame(rows), prev, ["fa0"])


# --------------------------------------------------------------------------------------------
# Property-based invariants
# --------------------------------------------------------------------------------------------

_POOL = [WIRE, INDEPENDENT, *FIRE_A, *FIRE_B, *UNDATED_A]


@st.composite
def corpora(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(min_value=1, max_value=25))
    rows = []
    for i in range(n):
        base = draw(st.sampled_from(_POOL))
        words = base.split()
        # a random contiguous excerpt, sometimes the whole text (a copy)
        if draw(st.booleans()):
            a = draw(st.integers(0, len(words) // 2))
            b = draw(st.integers(a + 1, len(words)))
            words = words[a:b]
        dated = draw(st.integers(0, 9)) > 0
        day = draw(st.integers(0, 8))
        hour = draw(st.integers(0, 3)) * 6
        rows.append(
            {
                "article_id": f"a{draw(st.integers(0, 10**6))}_{i}",
                "outlet": f"o{draw(st.integers(0, 4))}",
                "published_at": D(2021, 1, 1) + timedelta(days=day, hours=hour) if dated else None,
                "title": " ".join(words[:6]),
                "text": " ".join(words),
                "corpus": draw(st.sampled_from(["c1", "c2"])),
            }
        )
    return frame(rows, corpus=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=corpora(), seed=st.integers(0, 2**16))
def test_invariants(df: pl.DataFrame, seed: int) -> None:
    res = corroboration(df)
    art, sto = res.articles, res.stories
    # every article is in exactly one story
    assert sorted(art["article_id"].to_list()) == sorted(df["article_id"].to_list())
    assert sto["n_articles"].sum() == df.height
    assert set(sto["story_id"]) == set(art["story_id"])
    # story id = 's_' + earliest member (published_at, then article_id; undated: article_id)
    first = (
        art.sort(["published_at", "article_id"], nulls_last=True)
        .group_by("story_id", maintain_order=True)
        .agg(pl.col("article_id").first())
    )
    assert (("s_" + first["article_id"]) == first["story_id"]).all()
    # stories never mix dated and undated articles, nor undated corpora
    mixed = (
        art.join(df.select("article_id", "corpus"), on="article_id")
        .group_by("story_id")
        .agg(
            pl.col("undated").n_unique().alias("u"),
            pl.col("corpus").filter(pl.col("undated")).n_unique().alias("c"),
        )
    )
    assert (mixed["u"] == 1).all() and (mixed["c"] <= 1).all()
    # counts
    m = art.join(sto, on="story_id")
    assert (m["n_corroborating_outlets"] >= 0).all()
    assert (m["n_corroborating_outlets"] <= m["n_outlets"] - 1).all()
    assert (m["n_corroborating_outlets"] <= m["n_independent_outlets"]).all()
    assert (sto["n_independent_outlets"] >= 1).all()
    assert (sto["n_independent_outlets"] <= sto["n_outlets"]).all()
    # copy_of: an earlier-or-equal article of the same story that is not itself a copy
    # (it may be of the same outlet when the link came through another outlet's copy)
    cp = art.filter(pl.col("copy_of").is_not_null()).join(
        art.select(
            pl.col("article_id").alias("copy_of"),
            pl.col("story_id").alias("o_story"),
            pl.col("published_at").alias("o_pub"),
            pl.col("outlet").alias("o_outlet"),
            pl.col("copy_of").alias("o_copy_of"),
        ),
        on="copy_of",
        how="left",
    )
    assert (cp["story_id"] == cp["o_story"]).all()
    assert cp["o_copy_of"].null_count() == cp.height
    dated = cp.filter(~pl.col("undated"))
    assert (
        (dated["o_pub"] < dated["published_at"])
        | ((dated["o_pub"] == dated["published_at"]) & (dated["copy_of"] < dated["article_id"]))
    ).all()
    und = cp.filter(pl.col("undated"))
    assert (und["copy_of"] < und["article_id"]).all()
    # first report: dated articles at their story's earliest time; null when undated
    assert art.filter(pl.col("undated"))["is_first_report"].null_count() == art["undated"].sum()
    fr = art.filter(~pl.col("undated")).with_columns(
        (pl.col("published_at") == pl.col("published_at").min().over("story_id")).alias("exp")
    )
    assert (fr["is_first_report"] == fr["exp"]).all()
    # outlet shares are in [0, 1] and consistent with counts
    o = res.outlets
    for c in ("corroborated_share", "exclusive_share", "first_report_share", "copy_share"):
        v = o[c].drop_nulls()
        assert ((v >= 0) & (v <= 1)).all()
    assert o["stories_n"].sum() == art.select("outlet", "story_id").unique().height
    # determinism under row order
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=seed)
    assert_frame_equal(assign_stories(shuffled), art)


def test_story_and_outlet_tables_from_assignments() -> None:
    art = assign_stories(frame(wire_rows() + background(10)))
    assert_frame_equal(story_table(art), corroboration(frame(wire_rows() + background(10))).stories)
    o = outlet_stats(art)
    assert o["articles_n"].sum() == art.height
    assert DEFAULT_CONFIG.window == timedelta(days=2)
    assert date(2021, 3, 3) == art.filter(pl.col("article_id") == "ap1")["published_at"].dt.date().item()


# --------------------------------------------------------------------------------------------
# Streaming: batches in time order give the one-shot result, with a bounded state
# --------------------------------------------------------------------------------------------


def test_document_frequencies_of_batches_add_up_to_the_fitted_model() -> None:
    df = frame(_mixed_rows())
    parts = [document_frequencies(df[i : i + 5]) for i in range(0, df.height, 5)]
    model = text_model_from_frequencies(merge_frequencies(parts), df.height)
    ref = fit_text_model(df)
    assert model.n_terms == ref.n_terms > 0
    np.testing.assert_array_equal(model.hashes, ref.hashes)
    np.testing.assert_array_equal(model.idf, ref.idf)


@st.composite
def long_corpora(draw: st.DrawFn) -> pl.DataFrame:
    """Story excerpts and filler spread over many days (some at the same instant), a few undated."""
    n = draw(st.integers(min_value=1, max_value=40))
    filler = background(40, seed=draw(st.integers(0, 3)))
    rows = []
    for i in range(n):
        if draw(st.integers(0, 2)):
            words = draw(st.sampled_from(_POOL)).split()
            a = draw(st.integers(0, len(words) // 2))
            words = words[a : draw(st.integers(a + 1, len(words)))]
        else:
            words = filler[i]["text"].split()
        dated = draw(st.integers(0, 9)) > 0
        when = D(2021, 1, 1) + timedelta(days=draw(st.integers(0, 40)), hours=draw(st.integers(0, 3)) * 8)
        rows.append(
            {
                "article_id": f"a{draw(st.integers(0, 99))}_{i}",
                "outlet": f"o{draw(st.integers(0, 4))}",
                "published_at": when if dated else None,
                "title": " ".join(words[:6]),
                "text": " ".join(words),
                "corpus": "c1",
            }
        )
    return frame(rows, corpus=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=long_corpora(), block=st.integers(1, 6), cuts=st.lists(st.integers(1, 39), max_size=6))
def test_stream_in_any_batches_equals_one_shot(df: pl.DataFrame, block: int, cuts: list[int]) -> None:
    cfg = CorroborationConfig(block_size=block)
    model = fit_text_model(df, cfg)
    one = assign_stories(df, cfg, text_model=model)
    dated = df.filter(pl.col("published_at").is_not_null()).sort("published_at", "article_id")
    bounds = sorted({c for c in cuts if c < dated.height} | {0, dated.height})
    stream = StoryStream(model, cfg)
    parts = [stream.push(dated[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    parts.append(stream.close())
    assert stream.held.height == 0
    parts.append(assign_stories(df.filter(pl.col("published_at").is_null()), cfg, text_model=model))
    streamed = pl.concat(parts).sort("article_id")
    assert_frame_equal(streamed, one)
    assert streamed["article_id"].n_unique() == df.height  # each article once


def test_stream_state_holds_only_open_stories() -> None:
    """Pushed day by day over 120 days, the state holds only articles of stories still open: none older
    than the story span, and never more than a span's worth of articles, however many days went by."""
    cfg = CorroborationConfig(block_size=4)
    recurring = [  # one story retold every 12 hours for 30 days: it is closed by the 7-day span cap
        {
            "article_id": f"w{i:03d}",
            "outlet": f"wire{i % 3}.com",
            "published_at": _BG_START + timedelta(hours=12 * i + 1),
            "title": "Strong earthquake hits central Chile",
            "text": WIRE,
        }
        for i in range(60)
    ]
    df = frame(background(400) + recurring)  # filler every 7 hours: 116 days
    model = fit_text_model(df, cfg)
    one = assign_stories(df, cfg, text_model=model)
    stream = StoryStream(model, cfg)
    day = pl.col("published_at").dt.date()
    outputs, held_counts = [], []
    span, window = cfg.max_story_span or timedelta(0), cfg.window
    ordered = df.sort("published_at", "article_id")
    pushed = 0
    for (_,), batch in ordered.group_by(day, maintain_order=True):
        outputs.append(stream.push(batch))
        pushed += batch.height
        clustered = pushed // cfg.block_size * cfg.block_size  # the rest waits for a full block
        if clustered == 0:
            continue
        t_ref = ordered["published_at"][clustered - cfg.block_size]  # the latest block's start
        held = stream.held.join(one.select("article_id", "story_id"), on="article_id")
        assert held.filter(pl.col("waiting"))["article_id"].sort().to_list() == sorted(
            ordered["article_id"][clustered:pushed].to_list()
        )
        # each clustered article held belongs to a story still open at the latest block's start:
        # its latest article so far within the window, its first within the span
        so_far = (
            ordered[:clustered]
            .join(one.select("article_id", "story_id"), on="article_id")
            .group_by("story_id")
            .agg(pl.col("published_at").min().alias("first"), pl.col("published_at").max().alias("last"))
        )
        open_ = held.filter(~pl.col("waiting")).join(so_far, on="story_id")
        assert open_.height == held.filter(~pl.col("waiting")).height
        assert (open_["last"] >= t_ref - window).all()
        assert (open_["first"] >= t_ref - span).all()
        # and every story still open is held whole
        still_open = so_far.filter((pl.col("last") >= t_ref - window) & (pl.col("first") >= t_ref - span))
        assert open_["story_id"].n_unique() == still_open.height
        held_counts.append(held.height)
    outputs.append(stream.close())
    assert_frame_equal(pl.concat(outputs).sort("article_id"), one)
    # bounded by what the span and window hold (~8 days of 3.4 filler + 2 wire articles a day), not by the 116 days
    assert max(held_counts) <= 60
    assert sum(o.height for o in outputs[:-1]) > 0.9 * df.height  # stories are emitted as they close


def test_stream_rejects_undated_and_out_of_order_batches() -> None:
    df = frame(background(10))
    stream = StoryStream(fit_text_model(df))
    stream.push(df[5:])
    with pytest.raises(ValueError, match="follow each other in time"):
        stream.push(df[:5])
    with pytest.raises(ValueError, match="dated articles only"):
        StoryStream(fit_text_model(df)).push(
            df.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("published_at"))
        )
    stream.close()
    with pytest.raises(ValueError, match="closed"):
        stream.push(df[:1])
    with pytest.raises(ValueError, match="multiple of block_size"):
        StoryStream(fit_text_model(df), CorroborationConfig(block_size=4), start=6)


def test_stream_started_later_numbers_its_blocks_from_there() -> None:
    """A stream started at position `start` with the rows from there on clusters them as the whole stream does
    when nothing before `start` is open any more (here: a gap of more than the story span)."""
    cfg = CorroborationConfig(block_size=4)
    early = frame(background(12))
    late = frame(background(16, seed=1)).with_columns(
        pl.col("published_at") + timedelta(days=30), (pl.lit("late") + pl.col("article_id")).alias("article_id")
    )
    df = pl.concat([early, late])
    model = fit_text_model(df, cfg)
    whole = assign_stories(df, cfg, text_model=model)
    stream = StoryStream(model, cfg, start=early.height)
    part = pl.concat([stream.push(late), stream.close()]).sort("article_id")
    assert_frame_equal(part, whole.join(late.select("article_id"), on="article_id", how="semi").sort("article_id"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=long_corpora(), block=st.integers(1, 6), picks=st.lists(st.integers(0, 39), min_size=1, max_size=5))
def test_update_equals_full_run_with_the_same_model(df: pl.DataFrame, block: int, picks: list[int]) -> None:
    """Resuming from the state rebuilt out of the previous stories gives the stories of clustering everything."""
    cfg = CorroborationConfig(block_size=block)
    model = fit_text_model(df, cfg)
    new = sorted({df["article_id"][i % df.height] for i in picks})
    old = df.filter(~pl.col("article_id").is_in(new))
    previous = assign_stories(old, cfg, text_model=model)
    updated = update_stories(df, previous, new, cfg, text_model=model)
    assert_frame_equal(updated, assign_stories(df, cfg, text_model=model))
