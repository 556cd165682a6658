"""Attribution of claims to named and unnamed sources, per sentence and per article.

Unnamed: presstrust_anonymity_patterns.tsv ("sources said", "a senior official said", "people familiar with
the matter", "on condition of anonymity", "according to reports", "it is believed", "reportedly", "critics
say", "some experts argue"), matched on the lower-cased sentence; every match that does not overlap an
earlier one in its sentence is one unnamed attribution cue (and one evidence row).
Named: presstrust_named_attribution_patterns.tsv (a capitalised name or a pronoun next to a speech verb, a
postposed name, "reported by X", an organisation speaking officially, an "according to" that is not an
unnamed one). Speech verbs: gendergaptracker_quote_verbs + recasens2013_report_verbs (inflected) minus
presstrust_speech_verb_exclusions; thinking verbs: presstrust_cognition_verbs (after unnamed nouns only).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from features._text import CUE_SPAN_SCHEMA, alternation, ascii_boundaries, cue_spans, per_1k, share
from features.lexicons import CuePattern, Lexicons
from features.registry import feature

# Determiners/quantifiers before an unnamed source noun, and auxiliaries/adverbs between subject and verb.
DETERMINERS = (
    "a",
    "an",
    "one",
    "two",
    "three",
    "four",
    "five",
    "several",
    "some",
    "many",
    "other",
    "the",
    "multiple",
    "numerous",
    "various",
    "few",
    "a few",
    "a number of",
    "dozens of",
    "more than a dozen",
    "at least two",
    "at least three",
    "his",
    "her",
    "their",
    "its",
)
AUXILIARIES = (
    "have",
    "has",
    "had",
    "also",
    "privately",
    "publicly",
    "previously",
    "later",
    "separately",
    "reportedly",
    "repeatedly",
    "long",
    "now",
    "recently",
    "earlier",
    "already",
    "openly",
    "quietly",
    "then",
    "once",
)

SENTENCE_ATTRIBUTION_SCHEMA = {
    "named_attribution": pl.Boolean,
    "unnamed_attribution": pl.Boolean,
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


@dataclass(frozen=True)
class AttributionCues:
    """The compiled regexes (Rust syntax, ASCII word boundaries) that attribution features take."""

    unnamed: tuple[str, ...]  # on the lower-cased sentence, one regex per pattern group
    unnamed_according: str  # on the lower-cased sentence; the unnamed "according to ..." alone
    named_orig_plus: str  # on the original sentence
    named_orig_minus: str
    named_lower_plus: str  # on the lower-cased sentence
    according_to: str = r"(?-u:\b)according to(?-u:\b)"


def _finite(verbs: tuple[str, ...]) -> list[str]:
    """Verb forms without the -ing participle ("officials responding to" is not an attribution)."""
    return [v for v in verbs if not v.endswith("ing")]


def _fill(regex: str, lexicons: Lexicons) -> str:
    nouns = lexicons.unnamed_source_nouns
    filled = (
        regex.replace("<say>", alternation(_finite(lexicons.speech_verbs)))
        .replace("<think>", alternation(_finite(lexicons.thinking_verbs)))
        .replace("<noun>", alternation(nouns))
        .replace("<Noun>", alternation(n[:1].upper() + n[1:] for n in nouns))
        .replace("<det>", alternation(DETERMINERS))
        .replace("<adv>", alternation(AUXILIARIES))
    )
    return ascii_boundaries(filled)


def attribution_cues(lexicons: Lexicons) -> AttributionCues:
    """Build the attribution regexes from the lexicons (pure: no I/O)."""
    unnamed_rows: tuple[CuePattern, ...] = lexicons.anonymity_patterns
    groups: dict[str, list[CuePattern]] = {}
    for p in unnamed_rows:
        groups.setdefault(p.group, []).append(p)
    unnamed = tuple("|".join(f"(?:{_fill(p.regex, lexicons)})" for p in group) for group in groups.values())
    according = next(p for p in unnamed_rows if p.name == "according_to")

    def named(text: str, sign: str) -> str:
        parts = [
            f"(?:{_fill(p.regex, lexicons)})" for p in lexicons.named_patterns if p.text == text and p.sign == sign
        ]
        return "|".join(parts) if parts else "(?:$.^)"

    return AttributionCues(
        unnamed=unnamed,
        unnamed_according=_fill(according.regex, lexicons),
        named_orig_plus=named("orig", "+"),
        named_orig_minus=named("orig", "-"),
        named_lower_plus=named("lower", "+"),
    )


def named_attribution_expr(cues: AttributionCues, *, text: str = "sentence", lower: str = "sentence_lower") -> pl.Expr:
    """True where a sentence attributes something to a named source (see module docstring)."""
    orig, low = pl.col(text), pl.col(lower)
    orig_net = orig.str.count_matches(cues.named_orig_plus).cast(pl.Int64) - orig.str.count_matches(
        cues.named_orig_minus
    ).cast(pl.Int64)
    according_named = low.str.count_matches(cues.according_to).cast(pl.Int64) - low.str.count_matches(
        cues.unnamed_according
    ).cast(pl.Int64)
    return (orig_net > 0) | low.str.contains(cues.named_lower_plus) | (according_named > 0)


def unnamed_attribution_expr(cues: AttributionCues, *, lower: str = "sentence_lower") -> pl.Expr:
    """True where a sentence attributes something to an unnamed source."""
    return pl.any_horizontal([pl.col(lower).str.contains(regex) for regex in cues.unnamed])


@feature(version="1", output_schema=SENTENCE_ATTRIBUTION_SCHEMA, adds_columns=True)
def sentence_attribution(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """Add per-sentence booleans `named_attribution` and `unnamed_attribution`."""
    return sentences.with_columns(
        named_attribution_expr(cues).alias("named_attribution"),
        unnamed_attribution_expr(cues).alias("unnamed_attribution"),
    )


@feature(version="1", output_schema=UNNAMED_SPANS_SCHEMA)
def unnamed_source_spans(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """One row per unnamed-source cue (overlaps within a sentence dropped), with offsets into the text."""
    keys = ["article_id", "sentence_no"]
    flagged = sentences.filter(pl.col("unnamed_attribution"))
    spans = pl.concat(
        [
            cue_spans(
                flagged.filter(pl.col("sentence_lower").str.contains(regex)),
                text="sentence_lower",
                regex=regex,
                keys=keys,
                carry=["start", "end", "sentence"],
            )
            for regex in cues.unnamed
        ]
    ).sort(*keys, "cue_start", pl.col("cue_end"), descending=[False, False, False, True])
    earlier_end = pl.col("cue_end").cum_max().shift(1).over(keys)
    return spans.filter(earlier_end.is_null() | (pl.col("cue_start") >= earlier_end)).select(
        *keys,
        pl.col("start").alias("sentence_start"),
        pl.col("end").alias("sentence_end"),
        "sentence",
        # the cue as written in the original sentence (offsets are the same in the lower-cased one)
        pl.col("sentence").str.slice(pl.col("cue_start"), pl.col("cue_end") - pl.col("cue_start")).alias("cue"),
        (pl.col("start") + pl.col("cue_start")).alias("cue_start"),
        (pl.col("start") + pl.col("cue_end")).alias("cue_end"),
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
