"""Vectorised sentence splitting of kept lines, with character offsets into the original article text.

How: each line is cut after every stop (. ? ! …) followed by up to two closing quotes/brackets and a space
(Aho-Corasick `str.replace_many` inserts a separator, `str.split` + explode make pieces). "3.5", "U.S.-led"
and '."Next' are never cut because no space follows the stop. A cut is a sentence boundary unless the next
piece starts in lower case ('"Stop!" he said'), or the piece ends with a title abbreviation ("Mr.", "Jan."),
an initial ("J."), a number abbreviation before a digit ("No. 1") or an ambiguous abbreviation ("U.S.")
not followed by a sentence-starter word. A line end always ends a sentence. Sentence ids are a running
sum of the boundary flags; only multi-piece sentences are joined back with a group_by.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

import polars as pl

from features._text import masked
from features.registry import feature

SENTENCES_SCHEMA = {
    "article_id": pl.String,
    "sentence_no": pl.Int64,
    "start": pl.Int64,
    "end": pl.Int64,
    "sentence": pl.String,
    "words_n": pl.Int64,
}

_CLOSE = "\"'”’)]"  # closing quotes and brackets that may follow a full stop
_STOPS = ".?!…"
_SEP = "\x1f"  # ASCII unit separator; a \x1f already in the text is read as a space (same length)
# Candidate boundaries: a stop, up to two closers, then a space. Cutting after each with Aho-Corasick
# (str.replace_many + str.split) is 2x faster than str.extract_all with an equivalent regex.
_CLOSER_RUNS = ["", *_CLOSE, *(a + b for a in _CLOSE for b in _CLOSE)]
STOP_SEQUENCES = tuple(stop + run + " " for stop in _STOPS for run in _CLOSER_RUNS)
_CLOSE_CLASS = r"[\"'”’)\]]"
_ENDS_WITH_STOP = rf"[{_STOPS}]{_CLOSE_CLASS}*\s+$"
_OPENERS = "\"'“‘([«"
_OPEN = r"\"'“‘(\[«"  # the same, escaped for use inside a regex character class


def words_n(text: pl.Expr) -> pl.Expr:
    """Whitespace-separated tokens in a stripped, single-line text (spaces + 1; 0 for an empty text)."""
    return (
        pl.when(text.str.len_bytes() > 0)
        .then(text.str.count_matches(" ").cast(pl.Int64) + 1)  # the regex " " is faster than literal=True here
        .otherwise(pl.lit(0, dtype=pl.Int64))
    )


def _alts(words: Iterable[str]) -> str:
    """Case-tolerant alternation: each word as written or with its first letter upper-cased."""
    out = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        esc = re.escape(w)
        out.append(f"[{w[0]}{w[0].upper()}]{re.escape(w[1:])}" if w[0].isalpha() else esc)
    return "(?:" + "|".join(out) + ")" if out else "(?:$.^)"


def _ends_with_token(words: Iterable[str]) -> str:
    """Regex: the piece's last token (after an optional opening quote) is one of `words`, then closers and space."""
    return rf"(?:^|[\s{_OPEN}]){_alts(words)}{_CLOSE_CLASS}*\s*$"


@feature(version="1", output_schema=SENTENCES_SCHEMA)
def split_sentences(
    lines: pl.LazyFrame, *, abbreviations: Mapping[str, str], sentence_starters: Collection[str]
) -> pl.LazyFrame:
    """One row per sentence of the kept lines: offsets into the original text, the sentence, its word count."""
    # A line's last piece is a boundary whatever it ends with: the regexes below get an empty piece there
    # (`masked`; about 45% of the pieces), so they only scan the pieces that end at a cut.
    cut = pl.col("next").is_not_null()
    piece, nxt = pl.col("_cut_piece"), pl.col("_cut_next")
    by_kind: dict[str, list[str]] = {}
    for abbreviation, kind in abbreviations.items():
        by_kind.setdefault(kind, []).append(abbreviation)
    # End-anchored and start-anchored regexes only (no capture groups): the regex engine scans a few bytes.
    never = piece.str.contains(_ends_with_token(by_kind.get("title", [])))
    initial = piece.str.contains(rf"(?:^|[\s{_OPEN}])[A-Z]\.{_CLOSE_CLASS}*\s*$")
    before_number = piece.str.contains(_ends_with_token(by_kind.get("number", [])))
    ambiguous = piece.str.contains(_ends_with_token(by_kind.get("ambiguous", []))) | piece.str.contains(
        rf"(?:^|[\s{_OPEN}])(?:[A-Za-z]\.){{2,}}{_CLOSE_CLASS}*\s*$"
    )
    next_lower = nxt.str.contains(rf"^\s*[{_OPEN}]*[a-z]")
    next_digit = nxt.str.contains(rf"^\s*[{_OPEN}]*[0-9]")
    next_starter = nxt.str.contains(rf"^\s*[{_OPEN}]*{_alts(sentence_starters)}(?-u:\b)")
    not_a_stop = never | initial | (before_number & next_digit) | (ambiguous & ~next_starter)
    boundary = ~cut | (piece.str.contains(_ENDS_WITH_STOP) & ~next_lower & ~not_a_stop)

    # Offsets without list.eval: pieces tile their line, so a piece's start is its line's start plus the
    # running length of the pieces before it minus the running length of the lines before its line.
    plen = pl.col("piece").str.len_chars().cast(pl.Int64)
    pieces = (
        lines.select(
            "article_id",
            "start",
            pl.col("line").str.len_chars().cast(pl.Int64).alias("_llen"),
            pl.col("line")
            .str.replace_all(_SEP, " ", literal=True)
            .str.replace_many(list(STOP_SEQUENCES), [s + _SEP for s in STOP_SEQUENCES])
            .str.split(_SEP)
            .alias("piece"),
        )
        .with_columns((pl.col("_llen").cum_sum() - pl.col("_llen")).alias("_lines_before"))
        .explode("piece")
        .with_columns(plen.alias("_plen"))
        .with_columns(
            (pl.col("start") + pl.col("_plen").cum_sum() - pl.col("_plen") - pl.col("_lines_before")).alias("pstart")
        )
        .with_columns(
            pl.when(pl.col("pstart") + pl.col("_plen") < pl.col("start") + pl.col("_llen"))
            .then(pl.col("piece").shift(-1))
            .alias("next")
        )
        .with_columns(masked(cut, pl.col("piece")).alias("_cut_piece"), masked(cut, pl.col("next")).alias("_cut_next"))
        .with_columns(boundary.cast(pl.Int64).alias("_b"))
        .with_columns((pl.col("_b").cum_sum() - pl.col("_b")).alias("_sid"))
    )
    # Most sentences are one piece: only the others go through the (slow) group_by + string join.
    single = (pl.col("_b") == 1) & (pl.col("_b").shift(1, fill_value=1) == 1)
    singles = pieces.filter(single).select(
        "_sid", "article_id", pl.col("pstart").alias("_first"), pl.col("piece").alias("_text")
    )
    joined = (
        pieces.filter(~single)
        .group_by("_sid", maintain_order=True)
        .agg(
            pl.col("article_id").first(),
            pl.col("pstart").first().alias("_first"),
            pl.col("piece").str.join("").alias("_text"),
        )
    )
    text = pl.col("_text")
    stripped_start = text.str.strip_chars_start()
    sentence = stripped_start.str.strip_chars_end()
    start = pl.col("_first") + text.str.len_chars().cast(pl.Int64) - stripped_start.str.len_chars().cast(pl.Int64)
    return (
        pl.concat([singles, joined], how="vertical")
        .with_columns(sentence.alias("sentence"), start.alias("start"))
        .filter(pl.col("sentence").str.contains(r"\w"))
        .select(
            "article_id",
            (pl.col("_sid").rank("dense").over("article_id").cast(pl.Int64) - 1).alias("sentence_no"),
            "start",
            (pl.col("start") + pl.col("sentence").str.len_chars().cast(pl.Int64)).alias("end"),
            "sentence",
            words_n(pl.col("sentence")).alias("words_n"),
        )
    )


LOWER_SCHEMA = {"sentence_lower": pl.String}


@feature(version="1", output_schema=LOWER_SCHEMA, adds_columns=True)
def lowercase_sentences(sentences: pl.LazyFrame) -> pl.LazyFrame:
    """Add `sentence_lower`, the sentence lower-cased once for every case-sensitive cue regex downstream."""
    return sentences.with_columns(pl.col("sentence").str.to_lowercase().alias("sentence_lower"))
