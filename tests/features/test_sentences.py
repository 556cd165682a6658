from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.sentences import SENTENCES_SCHEMA, lowercase_sentences, split_sentences, words_n


def split(lexicons, *lines: str) -> pl.DataFrame:
    frame = pl.LazyFrame(
        {
            "article_id": ["a"] * len(lines),
            "line_no": list(range(len(lines))),
            "start": [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))],
            "end": [sum(len(x) + 1 for x in lines[:i]) + len(lines[i]) for i in range(len(lines))],
            "line": list(lines),
        },
        schema={"article_id": pl.String, "line_no": pl.Int64, "start": pl.Int64, "end": pl.Int64, "line": pl.String},
    )
    return (
        split_sentences(frame, abbreviations=lexicons.abbreviations, sentence_starters=lexicons.sentence_starters)
        .collect()
        .sort("sentence_no")
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "The U.S. Army said Mr. Smith left on Jan. 5. He returned.",
            ["The U.S. Army said Mr. Smith left on Jan. 5.", "He returned."],
        ),
        ("He moved to the U.S. The move was final.", ["He moved to the U.S.", "The move was final."]),
        (
            "Prices rose 3.5 percent. Gov. Cuomo and Sen. Warren agreed.",
            ["Prices rose 3.5 percent.", "Gov. Cuomo and Sen. Warren agreed."],
        ),
        ("It is No. 1 in sales. No. That is wrong.", ["It is No. 1 in sales.", "No.", "That is wrong."]),
        ("J. K. Rowling wrote it. Dr. Who did not.", ["J. K. Rowling wrote it.", "Dr. Who did not."]),
        ('He said it was "final." Then he left!', ['He said it was "final."', "Then he left!"]),
        ('"Stop!" he said. "Why?" she asked.', ['"Stop!" he said.', '"Why?" she asked.']),
        ("The U.S.-led coalition won. Fine", ["The U.S.-led coalition won.", "Fine"]),
        ("Gov. Cuomo did too... and then left.", ["Gov. Cuomo did too... and then left."]),
        ("She lives in Olympia, Wash. They met there.", ["She lives in Olympia, Wash.", "They met there."]),
    ],
)
def test_abbreviations_decimals_initials_quotes(lexicons, line, expected):
    assert split(lexicons, line)["sentence"].to_list() == expected


def test_offsets_and_words_across_lines(lexicons):
    lines = ("  First one. Second one  ", "Third line here.")
    text = "\n".join(lines)
    got = split(lexicons, *lines)
    assert got.schema == pl.Schema(SENTENCES_SCHEMA)
    assert got["sentence"].to_list() == ["First one.", "Second one", "Third line here."]
    assert got["sentence_no"].to_list() == [0, 1, 2]
    assert got["words_n"].to_list() == [2, 2, 3]
    for row in got.iter_rows(named=True):
        assert text[row["start"] : row["end"]] == row["sentence"]


def test_words_n_and_lowercase():
    frame = pl.DataFrame({"sentence": ["", "one", "two words", "Ünï CÖDE"]})
    assert frame.select(words_n(pl.col("sentence")))["sentence"].to_list() == [0, 1, 2, 2]
    low = lowercase_sentences(frame.lazy()).collect()
    assert low["sentence_lower"].to_list() == ["", "one", "two words", "ünï cöde"]


WORDS = [
    "The",
    "U.S.",
    "Mr.",
    "Smith",
    "said",
    "3.5",
    "percent",
    "J.",
    "“quoted.”",
    "No.",
    "1",
    "it",
    "was",
    "fine.",
    "Why?",
    "he",
    "asked!",
    "Jan.",
    "5",
    "wow...",
    "(Reuters)",
    "é",
    "—",
    "x",
]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=14).map(" ".join), min_size=1, max_size=4))
def test_sentences_slice_back_are_ordered_and_disjoint(lexicons, lines):
    text = "\n".join(lines)
    got = split(lexicons, *lines)
    previous_end = -1
    for row in got.iter_rows(named=True):
        assert text[row["start"] : row["end"]] == row["sentence"]
        assert row["sentence"] == row["sentence"].strip() and row["sentence"]
        assert row["start"] >= previous_end
        assert "\n" not in row["sentence"]
        assert row["words_n"] == len(row["sentence"].split(" "))
        previous_end = row["end"]
    assert got["sentence_no"].to_list() == list(range(len(got)))
