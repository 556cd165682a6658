"""Attribution, output: the declared output schemas, and frame rows shaped into them (`FRAMES_SCHEMA`).

The feature functions in `features.attribution` (the package's face) declare these schemas to the registry; the
article-level counts (`article_attribution`) are built there from the per-sentence columns.
"""

from __future__ import annotations

import polars as pl

from features._text import CUE_SPAN_SCHEMA
from features.attribution.words import _lower_head

FRAMES_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    **CUE_SPAN_SCHEMA,  # cue = the source phrase (or the frame-less cue), offsets into the article text
    "frame": pl.String,  # subject, object, agentless, or the presstrust_anonymity_patterns.tsv row group
    "head": pl.String,  # the head word of the source phrase, lower-cased (null for frame-less cues)
    "source": pl.String,  # named or unnamed
}
SOURCE_SPAN = pl.Struct({"cue_start": pl.Int64, "cue_end": pl.Int64})
SENTENCE_ATTRIBUTION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "named_attribution": pl.Boolean,
    "unnamed_attribution": pl.Boolean,
    # the unnamed source phrases of the sentence's frames, offsets into the article text (for the evidence);
    # null for a sentence without a reporting-verb cue
    "unnamed_sources": pl.List(SOURCE_SPAN),
}
UNNAMED_SPANS_SCHEMA = dict(CUE_SPAN_SCHEMA)
ARTICLE_ATTRIBUTION_SCHEMA = {
    "article_id": pl.String,
    "attributions_n": pl.Int64,
    "named_attributions_n": pl.Int64,
    "unnamed_attributions_n": pl.Int64,
    "unnamed_source_share": pl.Float64,
    "unnamed_sources_per_1k_words": pl.Float64,
}


def _output(frames: pl.LazyFrame) -> pl.LazyFrame:
    src_start, src_end = pl.col("_src_start"), pl.col("_src_end")
    return frames.select(
        "article_id",
        "sentence_no",
        pl.col("start").alias("sentence_start"),
        pl.col("end").alias("sentence_end"),
        "sentence",
        pl.col("sentence").str.slice(src_start, src_end - src_start).alias("cue"),
        (pl.col("start") + src_start).alias("cue_start"),
        (pl.col("start") + src_end).alias("cue_end"),
        pl.col("_kind").alias("frame"),
        _lower_head(pl.col("_head")).alias("head"),
        "source",
    )
