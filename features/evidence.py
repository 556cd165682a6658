"""Evidence: the exact cues behind the unnamed-source and speculation features, with offsets into the original text."""

from __future__ import annotations

import polars as pl

from features.registry import feature

EVIDENCE_SCHEMA = {
    "article_id": pl.String,
    "kind": pl.String,
    "cue": pl.String,
    "cue_start": pl.Int64,
    "cue_end": pl.Int64,
    "sentence_start": pl.Int64,
    "sentence_end": pl.Int64,
    "sentence": pl.String,
}
UNNAMED_SOURCE = "unnamed_source"
SPECULATION = "speculation"
_COLUMNS = ["article_id", "cue", "cue_start", "cue_end", "sentence_start", "sentence_end", "sentence"]


@feature(version="1", output_schema=EVIDENCE_SCHEMA)
def evidence(unnamed_spans: pl.LazyFrame, speculation_matches: pl.LazyFrame) -> pl.LazyFrame:
    """One row per unnamed-source cue and per speculative sentence (its first cue); offsets into the text."""
    unnamed = unnamed_spans.select(_COLUMNS).with_columns(pl.lit(UNNAMED_SOURCE).alias("kind"))
    speculative = (
        speculation_matches.sort("article_id", "sentence_no", "cue_start")
        .unique(["article_id", "sentence_no"], keep="first", maintain_order=True)
        .with_columns(
            pl.col("sentence")
            .str.slice(pl.col("cue_start") - pl.col("sentence_start"), pl.col("cue_end") - pl.col("cue_start"))
            .alias("cue")
        )
        .select(_COLUMNS)
        .with_columns(pl.lit(SPECULATION).alias("kind"))
    )
    return (
        pl.concat([unnamed, speculative])
        .select(list(EVIDENCE_SCHEMA))
        .sort("article_id", "sentence_start", "kind", "cue_start")
    )
