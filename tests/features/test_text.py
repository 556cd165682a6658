from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from features._text import contains_gated, masked, only_where, required_literals
from features.attribution import attribution_cues
from features.lexicons import load_lexicons

VALIDATION = Path(__file__).resolve().parents[1] / "fixtures" / "validation" / "sentences.csv"


def test_required_literals_of_sequences_alternations_and_repeats():
    assert required_literals(r"\breportedly\b") == ("reportedly",)
    assert required_literals(r"(?-u:\b)said(?-u:\b)") == ("said",)  # the ASCII boundary is zero-width too
    assert required_literals("a(?:bcd|efg)h?") == ("bcd", "efg")  # the longest shortest literal of the sequence
    assert required_literals("(?:abcd){2}|xyz") == ("abcd", "xyz")  # a repeat at least once needs its body
    assert required_literals("there (?:are|were) reports") == (" reports",)  # the longer of two runs


def test_required_literals_none_when_a_part_needs_nothing_or_case_is_ignored():
    assert required_literals("x+(?:abc)?") is None  # the literal is optional
    assert required_literals("(?:said|[a-z]+ly)") is None  # one branch has no literal
    assert required_literals("(?i)reported") is None
    assert required_literals("a(?i:bcd)") is None
    assert required_literals(r"\p{L}+") is None  # Rust syntax Python cannot parse
    assert required_literals("ab") is None  # shorter than min_len


def test_contains_gated_equals_contains_on_labelled_sentences():
    """The frame-less cue regexes gated by their literals match exactly the sentences the plain regexes match."""
    cues = attribution_cues(load_lexicons())
    low = pl.read_csv(VALIDATION).select(pl.col("sentence").str.to_lowercase())
    text = pl.col("sentence")
    for regex in (cues.reportedly, *cues.unnamed):
        got = low.select(contains_gated(text, regex).alias("x")).to_series()
        assert got.to_list() == low.select(text.str.contains(regex).alias("x")).to_series().to_list()
    assert low.select(contains_gated(text, cues.reportedly).sum()).item() > 0  # the test sees matches


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["there ", "are ", "were ", "reports", "report", "edly", "x", " ", "."]), max_size=8))
def test_contains_gated_never_drops_a_match(pieces: list[str]):
    regex = r"(?-u:\b)(?:there (?:are|were) reports|reportedly)(?-u:\b)"
    frame = pl.DataFrame({"s": ["".join(pieces), None]})
    got = frame.select(contains_gated(pl.col("s"), regex)).to_series().to_list()
    assert got == frame.select(pl.col("s").str.contains(regex)).to_series().to_list()


def test_masked_and_only_where_keep_the_values_of_their_rows_only():
    frame = pl.DataFrame({"s": ["abc", "abd", None], "keep": [True, False, True]})
    assert frame.select(masked(pl.col("keep"), pl.col("s"))).to_series().to_list() == ["abc", "", None]
    got = frame.select(only_where(pl.col("keep"), pl.col("s"), lambda s: s.str.contains("b"))).to_series()
    assert got.to_list() == [True, None, None]
