"""Attribution frames: who a sentence says said, wrote, found or believes something, and whether a reader can
identify that source (../shared/specs/attribution-and-speculation.md, section 1: named / unnamed / mixed).

How (vectorised; the frame work runs on the sentences that carry a cue only):
1. Cues: a finite reporting verb (GenderGapTracker quote verbs + Recasens report verbs, minus
   presstrust_speech_verb_exclusions, plus presstrust_cognition_verbs and the document verbs "found",
   "show"), "according to" and "citing", each occurrence with its offsets (`cue_spans`).
2. The source phrase of each cue (its frame):
   - `subject`: the words before the verb, back to a clause break, skipping auxiliaries and adverbs ("have
     also said"). Its head is the last word, or the source noun before a post-modifier ("a source in the
     ministry", "people familiar with the talks", "officials who ...").
   - `object`: the postposed speaker after a quote or comma ('"...," said a senior official'), the object of
     "according to" and "citing", and the agent of a passive ("was reported by the Herald").
   - `agentless`: a passive epistemic verb with no agent ("was said to", "are believed to", "is thought that").
   A verb after "to", "not", a modal or "did" has no source (refusals, no-comment, plans: none).
3. The source phrase is classified by its head's class in presstrust_source_heads.tsv, its determiner and its
   capitalisation (see that file's header): `named`, `unnamed` or no source. Document verbs count only with a
   document subject ("the study found", "data show"); verbs that need content ("asked", "rejected", "charged")
   count only before "that", "whether", a colon or a quote, or postposed.
4. Frame-less unnamed cues (presstrust_anonymity_patterns.tsv): anonymity meta-sentences, agentless epistemic
   passives ("it is believed", "is seen as"), "there were reports", and "reportedly" unless the same sentence
   names a source.
5. The learned decision (features.detector_models, issue 26): the frames the rules call a source, the rejected
   frames with a source-noun head or agentless, and every frame-less cue are candidates with categorical features;
   a logistic regression decides which are unnamed (a rejected candidate keeps the rules' named, else none).
A sentence is a named attribution if any of its frames is named and an unnamed one if any frame or cue is
unnamed (both: mixed). The evidence span of an unnamed attribution is its source phrase.

Layout, one module per step: `words` (the shared word lists), `cues` (1: cue compilation), `frames` (2 and 4: the
frames of the cues and the frame-less cues), `classify` (3: named / unnamed / none), `output` (the output
schemas and frame rows in them). The feature functions below compose them and stay defined here: the registry
names them `features.attribution.<function>`, and `features.pipeline.FEATURE_VERSION` hashes those names.
"""

from __future__ import annotations

import polars as pl

from features._text import per_1k, share
from features.attribution.cues import AttributionCues, attribution_cues
from features.attribution.frames import _pattern_accepted, _pattern_candidates, _verb_frames
from features.attribution.output import (
    ARTICLE_ATTRIBUTION_SCHEMA,
    FRAMES_SCHEMA,
    SENTENCE_ATTRIBUTION_SCHEMA,
    SOURCE_SPAN,
    UNNAMED_SPANS_SCHEMA,
    _output,
)
from features.attribution.words import NAMED, UNNAMED
from features.registry import feature

__all__ = [
    "ARTICLE_ATTRIBUTION_SCHEMA",
    "FRAMES_SCHEMA",
    "NAMED",
    "SENTENCE_ATTRIBUTION_SCHEMA",
    "SOURCE_SPAN",
    "UNNAMED",
    "UNNAMED_SPANS_SCHEMA",
    "AttributionCues",
    "article_attribution",
    "attribution_cues",
    "attribution_frames",
    "sentence_attribution",
    "unnamed_source_spans",
]


@feature(version="3", output_schema=FRAMES_SCHEMA)
def attribution_frames(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """One row per attribution frame or frame-less unnamed cue: source phrase, offsets, head, named/unnamed."""
    keys = ("article_id", "sentence_no")
    verb = _output(_verb_frames(sentences, cues)).cache()
    named = verb.filter(pl.col("source") == NAMED).select(keys).unique()
    patterns = _pattern_candidates(sentences, cues, named=named, keys=keys).filter(_pattern_accepted(cues))
    return pl.concat(
        [verb, _output(patterns.with_columns(pl.col("f_kind").alias("_kind"), pl.lit(UNNAMED).alias("source")))]
    )


@feature(version="3", output_schema=SENTENCE_ATTRIBUTION_SCHEMA, adds_columns=True)
def sentence_attribution(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """Add per-sentence booleans `named_attribution` and `unnamed_attribution` (both: a mixed attribution)."""
    unnamed = pl.col("source") == UNNAMED
    names = sentences.collect_schema().names()
    # the input is read twice (the verb frames and the per-sentence columns): compute it once. The verb frames
    # carry a row index, not the article keys: a join on it of the narrow per-sentence result, put beside the
    # sentences, costs less than half of a join of the wide sentence frame on (article_id, sentence_no).
    sentences = sentences.with_row_index("_rid").cache()
    start = pl.col("start")
    per_sentence = (
        _verb_frames(sentences, cues, keys=("_rid",))
        .with_columns((start + pl.col("_src_start")).alias("cue_start"), (start + pl.col("_src_end")).alias("cue_end"))
        .group_by("_rid")
        .agg(
            (pl.col("source") == NAMED).any().alias("named_attribution"),
            unnamed.any().alias("_unnamed_frame"),
            pl.struct("cue_start", "cue_end").filter(unnamed).alias("unnamed_sources"),
        )
    ).cache()
    # frame-less cues need no span here (unnamed_source_spans finds them in the few unnamed sentences)
    named = per_sentence.filter(pl.col("named_attribution")).select("_rid")
    frameless = (
        _pattern_candidates(sentences, cues, named=named, keys=("_rid",))
        .filter(_pattern_accepted(cues))
        .select("_rid")
        .unique()
        .with_columns(pl.lit(True).alias("_unnamed_cue"))
    )
    flags = (
        sentences.select("_rid")
        .join(per_sentence, on="_rid", how="left", maintain_order="left")
        .join(frameless, on="_rid", how="left", maintain_order="left")
        .select(pl.col("named_attribution", "_unnamed_frame", "_unnamed_cue").fill_null(False), "unnamed_sources")
    )
    return (
        pl.concat([sentences, flags], how="horizontal")
        .with_columns((pl.col("_unnamed_frame") | pl.col("_unnamed_cue")).alias("unnamed_attribution"))
        .select(*names, *SENTENCE_ATTRIBUTION_SCHEMA)
    )


@feature(version="3", output_schema=UNNAMED_SPANS_SCHEMA)
def unnamed_source_spans(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """One row per unnamed source phrase or cue (overlaps within a sentence dropped), with offsets into the text."""
    keys = ["article_id", "sentence_no"]
    flagged = sentences.filter(pl.col("unnamed_attribution")).cache()
    frames = (
        flagged.select(*keys, "start", "end", "sentence", pl.col("unnamed_sources").alias("_span"))
        .explode("_span")
        .filter(pl.col("_span").is_not_null())
        .select(
            *keys,
            pl.col("start").alias("sentence_start"),
            pl.col("end").alias("sentence_end"),
            "sentence",
            pl.col("_span").struct.field("cue_start"),
            pl.col("_span").struct.field("cue_end"),
        )
    )
    columns = [*keys, "sentence_start", "sentence_end", "sentence", "cue_start", "cue_end"]
    named = flagged.filter(pl.col("named_attribution")).select(keys)
    patterns = _pattern_candidates(flagged, cues, named=named, keys=tuple(keys)).filter(_pattern_accepted(cues))
    frameless = _output(patterns.with_columns(pl.col("f_kind").alias("_kind"), pl.lit(UNNAMED).alias("source")))
    spans = (
        pl.concat([frames, frameless.select(columns)])
        .unique([*keys, "cue_start", "cue_end"], maintain_order=True)
        .sort(*keys, "cue_start", pl.col("cue_end"), descending=[False, False, False, True])
    )
    earlier_end = pl.col("cue_end").cum_max().shift(1).over(keys)
    relative = pl.col("cue_start") - pl.col("sentence_start")
    return spans.filter(earlier_end.is_null() | (pl.col("cue_start") >= earlier_end)).select(
        *keys,
        "sentence_start",
        "sentence_end",
        "sentence",
        pl.col("sentence").str.slice(relative, pl.col("cue_end") - pl.col("cue_start")).alias("cue"),
        "cue_start",
        "cue_end",
    )


@feature(version="1", output_schema=ARTICLE_ATTRIBUTION_SCHEMA)
def article_attribution(sentences: pl.LazyFrame, *, unnamed_spans: pl.LazyFrame, sizes: pl.LazyFrame) -> pl.LazyFrame:
    """Per article: attributed sentences (either, named, unnamed), unnamed share, unnamed cues per 1k words."""
    named, unnamed = pl.col("named_attribution"), pl.col("unnamed_attribution")
    per_article = sentences.group_by("article_id").agg(
        (named | unnamed).sum().cast(pl.Int64).alias("attributions_n"),
        named.sum().cast(pl.Int64).alias("named_attributions_n"),
        unnamed.sum().cast(pl.Int64).alias("unnamed_attributions_n"),
    )
    cues = unnamed_spans.group_by("article_id").agg(pl.len().cast(pl.Int64).alias("_unnamed_cues"))
    counts = ["attributions_n", "named_attributions_n", "unnamed_attributions_n"]
    return (
        sizes.join(per_article, on="article_id", how="left", maintain_order="left")
        .join(cues, on="article_id", how="left", maintain_order="left")
        .with_columns(pl.col(*counts, "_unnamed_cues").fill_null(0))
        .select(
            "article_id",
            *counts,
            share(pl.col("unnamed_attributions_n"), pl.col("attributions_n")).alias("unnamed_source_share"),
            per_1k(pl.col("_unnamed_cues"), pl.col("words_n")).alias("unnamed_sources_per_1k_words"),
        )
    )
