from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features.boilerplate import (
    OUTLET_REPEATED,
    REMOVED_LINES_SCHEMA,
    mark_lines,
    normalise_line,
    repeated_lines,
    split_lines,
)
from tests.features.conftest import articles, no_boilerplate

FOOTER = "Copyright © 2019 The Washington Times, LLC. Click here for reprint permission."


def test_repeated_lines_hand_computed():
    rows = [
        {
            "article_id": f"a{i}",
            "outlet": "a.com",
            "title": "t",
            "text": f"Story {'abcd'[i]} body.\nFollow us on Twitter\nSHARED LINE",
        }
        for i in range(4)
    ] + [{"article_id": "b1", "outlet": "b.com", "title": "t", "text": "Other.\nSHARED LINE"}]
    got = repeated_lines(articles(*rows), min_articles=3, min_share=0.5).collect()
    expected = pl.DataFrame(
        {
            "outlet": ["a.com", "a.com"],
            "line_norm": ["follow us on twitter", "shared line"],
            "n_articles": [4, 4],
            "share": [1.0, 1.0],
        },
        schema={"outlet": pl.String, "line_norm": pl.String, "n_articles": pl.Int64, "share": pl.Float64},
    )
    assert_frame_equal(got, expected)


def test_repeated_lines_thresholds_and_digits():
    rows = [
        {
            "article_id": f"a{i}",
            "outlet": "a.com",
            "title": None,
            "text": f"Updated at {i}:0{i} p.m. ET\nBody {'abc'[i]}.",
        }
        for i in range(3)
    ]
    got = repeated_lines(articles(*rows), min_articles=3, min_share=0.9).collect()
    assert got["line_norm"].to_list() == ["updated at 0:0 p.m. et"]
    assert repeated_lines(articles(*rows), min_articles=4, min_share=0.1).collect().is_empty()


def test_normalise_line():
    got = pl.select(normalise_line(pl.lit("  Copyright © 2019 The Times  ")).alias("x")).item()
    assert got == "copyright © 0 the times"


def test_generic_patterns_title_and_offsets():
    text = "\n".join(
        [
            "My Title",
            "",
            "Real paragraph one. It has (AP Photo/Evan Vucci) inside? No, that is a caption line.",
            "President Trump speaks in Washington. (AP Photo/Evan Vucci)",
            "Advertisement",
            "Enlarge this image toggle caption Alex Wong/Getty Images Alex Wong/Getty Images",
            "Sign up for Daily Newsletters Manage Newsletters",
            FOOTER,
            "Image copyright Reuters Image caption A caption",
            "CLICK HERE TO GET THE FOX NEWS APP",
            "Share prices fell sharply on Monday.",
        ]
    )
    lines = mark_lines(
        articles({"article_id": "x", "outlet": "o.com", "title": "My Title", "text": text}),
        boilerplate=no_boilerplate(),
        patterns=load_patterns(),
    ).collect()
    reasons = dict(zip(lines["line"], lines["reason"], strict=True))
    assert reasons["My Title"] == "title"
    assert reasons["President Trump speaks in Washington. (AP Photo/Evan Vucci)"] == "photo_credit"
    assert reasons["Advertisement"] == "advertisement"
    assert reasons[FOOTER] in {"copyright", "washington_times_footer", "click_here"}
    assert reasons["Sign up for Daily Newsletters Manage Newsletters"] == "newsletter_share"
    assert reasons["Image copyright Reuters Image caption A caption"] == "photo_credit"
    assert reasons["CLICK HERE TO GET THE FOX NEWS APP"] == "click_here"
    assert reasons["Share prices fell sharply on Monday."] is None
    for row in lines.iter_rows(named=True):
        assert text[row["start"] : row["end"]] == row["line"]
    assert "" not in reasons  # blank lines are not lines


def test_outlet_repeated_lines_are_removed_only_for_that_outlet():
    table = pl.LazyFrame(
        {"outlet": ["a.com"], "line_norm": ["more on this..."], "n_articles": [10], "share": [0.9]},
        schema={"outlet": pl.String, "line_norm": pl.String, "n_articles": pl.Int64, "share": pl.Float64},
    )
    arts = articles(
        {"article_id": "1", "outlet": "a.com", "title": "T", "text": "Body one.\nMore On This...\nBody two."},
        {"article_id": "2", "outlet": "b.com", "title": "T", "text": "Body one.\nMore on this... at length"},
    )
    split = split_lines(mark_lines(arts, boilerplate=table, patterns=load_patterns()))
    removed = split.removed.collect()
    expected = pl.DataFrame(
        {"article_id": ["1"], "start": [10], "end": [25], "line": ["More On This..."], "reason": [OUTLET_REPEATED]},
        schema=REMOVED_LINES_SCHEMA,
    )
    assert_frame_equal(removed, expected)
    assert split.kept.collect()["line"].to_list() == [
        "Body one.",
        "Body two.",
        "Body one.",
        "More on this... at length",
    ]


def load_patterns():
    from features.lexicons import load_lexicons

    return load_lexicons().boilerplate_patterns


texts = st.lists(
    st.sampled_from(
        [
            "Advertisement",
            "",
            "  ",
            "Plain text here.",
            "Ünïcödé “quoted” line — ok.",
            "(AP Photo/X Y)",
            "Copyright 2020 NPR. All rights reserved.",
            "x",
            "Follow us on Twitter",
        ]
    ),
    max_size=12,
).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(texts)
def test_lines_partition_the_text_and_slice_back(text: str):
    lines = mark_lines(
        articles({"article_id": "h", "outlet": "o", "title": None, "text": text}),
        boilerplate=no_boilerplate(),
        patterns=load_patterns(),
    )
    split = split_lines(lines)
    kept, removed = split.kept.collect(), split.removed.collect()
    for frame in (kept, removed):
        for row in frame.iter_rows(named=True):
            assert text[row["start"] : row["end"]] == row["line"]
    expected = [line for line in text.split("\n") if line.strip()]
    got = sorted([*kept.rows(named=True), *removed.rows(named=True)], key=lambda r: r["start"])
    assert [r["line"] for r in got] == expected
