"""Claim sentences: per article, the sentences that carry a claim worth checking.

A sentence is a claim when it is the article's lead (its first sentence), an attributed statement (a named or
unnamed attribution of features.attribution) or a speculative statement (a speculation cue of
features.speculation), and has at least `MIN_WORDS` words. One row per claim sentence; `kind` is the first of
lead / attributed / speculative that holds (the booleans say the rest).
"""

from __future__ import annotations

import polars as pl

from features.claims.cited import CitedOutlets, cited_outlet
from features.registry import feature

LEAD, ATTRIBUTED, SPECULATIVE = "lead", "attributed", "speculative"
KINDS = (LEAD, ATTRIBUTED, SPECULATIVE)
NAMED, UNNAMED, MIXED = "named", "unnamed", "mixed"
MIN_WORDS = 6
CLAIMS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "article_id": pl.String,
    "sentence_no": pl.Int64,
    "start": pl.Int64,  # character offsets of the sentence in the article text
    "end": pl.Int64,
    "sentence": pl.String,
    "kind": pl.String,  # lead, attributed or speculative (the first that holds)
    "source": pl.String,  # named, unnamed, mixed, or null (no attribution)
    "source_phrase": pl.String,  # the first unnamed source phrase, else the first named one, else null
    "unnamed": pl.Boolean,  # an unnamed source (unnamed or mixed)
    "speculative": pl.Boolean,  # a speculation cue in the sentence
    "cited_outlet": pl.String,  # canonical domain of the outlet the sentence cites as its source, else null
}


def _source_phrases(frames: pl.LazyFrame) -> pl.LazyFrame:
    """Per sentence: its first unnamed source phrase, else its first named one (frames in text order; of frames
    starting at one character, the longest, then the first in code-point order: a total order, so the choice does
    not depend on how the rows were split into batches or threads)."""
    keys = ["article_id", "sentence_no"]
    return (
        frames.filter(pl.col("cue").str.len_chars() > 0)
        .sort(*keys, pl.col("source") != UNNAMED, "cue_start", -pl.col("cue_end"), "cue")
        .group_by(keys, maintain_order=True)
        .agg(pl.col("cue").first().alias("source_phrase"))
    )


@feature(version="2", output_schema=CLAIMS_SCHEMA)
def claim_sentences(
    sentences: pl.LazyFrame, *, frames: pl.LazyFrame, speculation: pl.LazyFrame, cited: CitedOutlets
) -> pl.LazyFrame:
    """One row per claim sentence (CLAIMS_SCHEMA) of sentence_attribution rows, their frames and cue matches."""
    # sentences: features.attribution.sentence_attribution output; frames: attribution_frames output;
    # speculation: speculation_cue_matches output; cited: features.claims.cited_outlets(names)
    keys = ["article_id", "sentence_no"]
    spec = speculation.select(keys).unique().with_columns(pl.lit(True).alias("speculative"))
    named, unnamed = pl.col("named_attribution"), pl.col("unnamed_attribution")
    lead = pl.col("sentence_no") == pl.col("sentence_no").min().over("article_id")
    kind = (
        pl.when(lead)
        .then(pl.lit(LEAD))
        .when(named | unnamed)
        .then(pl.lit(ATTRIBUTED))
        .when(pl.col("speculative"))
        .then(pl.lit(SPECULATIVE))
    )
    source = (
        pl.when(named & unnamed)
        .then(pl.lit(MIXED))
        .when(unnamed)
        .then(pl.lit(UNNAMED))
        .when(named)
        .then(pl.lit(NAMED))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return (
        sentences.select(*keys, "start", "end", "sentence", "words_n", "named_attribution", "unnamed_attribution")
        .join(spec, on=keys, how="left")
        .with_columns(pl.col("speculative").fill_null(False))
        .with_columns(kind.alias("kind"))
        .filter(pl.col("kind").is_not_null() & (pl.col("words_n") >= MIN_WORDS))
        .join(_source_phrases(frames), on=keys, how="left")
        .sort(keys)
        .select(
            *keys,
            "start",
            "end",
            "sentence",
            "kind",
            source.alias("source"),
            pl.when(named | unnamed).then(pl.col("source_phrase")).alias("source_phrase"),
            unnamed.alias("unnamed"),
            "speculative",
            cited_outlet(pl.col("sentence"), cited).alias("cited_outlet"),
        )
    )
