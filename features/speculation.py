"""Speculation and hedging: cue matches per sentence, weighted by (un)certainty, and per-article densities.

Cues: the hedge lexicons (recasens2013_hedges_hyland2005, words_hedges, words_weasels) minus
presstrust_hedge_exclusions, plus presstrust_speculation_cues.tsv (`cue` rows). Non-speculative uses
(`not` rows: "could not be reached", "in May", "military might", "as soon as possible") are matched first
at the same position and dropped, so the modal inside them is never counted. Everything is matched on the
lower-cased sentence. The matches (every "would" too) are candidates: a learned decision (features.detector_models,
issue 26) over the cue, its word before, modality and "would" context decides which count.
Weight of a cue = (1 - certainty) / 2 in [0, 1], certainty from
pattern_epistemic_modality_weights.tsv (-1 doubt .. +1 certain; cue not there: 0, i.e. weight 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from features._text import CUE_SPAN_SCHEMA, alternation, ascii_boundaries, cue_spans, only_where, per_1k, share
from features.detector_models import LinearModel
from features.lexicons import Lexicons
from features.registry import feature

DEFAULT_WEIGHT = 0.5
# "would" hedges only in a conditional or counterfactual ("if", "without", "would have"), with a hedge adverb,
# in a question, or after a verb of predicting or believing ("warned that tariffs would raise prices"). Elsewhere
# it is mostly future-in-the-past, habit or the content of a plan ("said the council would vote", "the bill
# would require"): 0.52 speculative on the tuning part of the development set without this context.
WOULD_CONTEXT = (
    r"\b(?:if|unless|without|otherwise|whether|imagine|suppose|scenario)\b"
    r"|\bwould(?:n't|n’t| not)? (?:\S+ )?have\b"
    r"|\bwould (?:likely|probably|certainly|surely|almost certainly|possibly|perhaps|undoubtedly|seem|appear)\b"
    r"|\b(?:warn|estimat|predict|expect|fear|argu|believ|think|thought|suggest|worr|forecast|project|hope|doubt|"
    r"suspect|speculat|caution|assum|imagin|guess|insist|claim|contend)\w* (?:that )?(?:\S+ ){0,8}?would\b"
    r"|\?[\"”’')]*\s*$"
)
SPECULATION_CUES_SCHEMA = {**CUE_SPAN_SCHEMA, "weight": pl.Float64, "is_modal": pl.Boolean}
ARTICLE_SPECULATION_SCHEMA = {
    "article_id": pl.String,
    "speculative_sentences_n": pl.Int64,
    "speculative_sentence_share": pl.Float64,
    "hedges_per_1k_words": pl.Float64,
    "speculation_weighted_per_1k_words": pl.Float64,
}


@dataclass(frozen=True)
class SpeculationCues:
    """Compiled speculation regexes and cue weights."""

    regex: str  # exclusions first, then own cues, then lexicon cues; every match is a candidate
    exclusion: str  # anchored: a match that is a non-speculative use
    own: tuple[tuple[str, float], ...]  # (anchored regex, weight) of presstrust's own cues
    literal_weights: Mapping[str, float]  # lexicon cue -> weight
    modals: frozenset[str]
    # the learned decision on the candidates (features.detector_models); None: the rules decide
    model: LinearModel | None = None


def _weight(certainty: float | None) -> float:
    return DEFAULT_WEIGHT if certainty is None else (1.0 - certainty) / 2.0


def speculation_cues(lexicons: Lexicons, *, use_model: bool = True) -> SpeculationCues:
    """Build the speculation regexes and weights from the lexicons (pure: no I/O). `use_model=False`: the rules
    decide (the candidates of the learned decision are the same)."""
    literal = set(lexicons.hedge_cues)
    literal |= {c.replace("'", "’") for c in literal if "'" in c}  # curly apostrophes in scraped text
    not_rows = [p for p in lexicons.speculation_cues if p.kind == "not"]
    cue_rows = [p for p in lexicons.speculation_cues if p.kind == "cue"]
    parts = [f"(?:{ascii_boundaries(p.regex)})" for p in (*not_rows, *cue_rows)]
    parts.append(ascii_boundaries(rf"\b{alternation(literal)}\b"))
    weights = {c: _weight(lexicons.certainty(c.replace("’", "'"))) for c in literal}
    own = tuple(
        (
            f"^(?:{ascii_boundaries(p.regex)})$",
            _weight(None if p.weight_cue in ("", "-") else lexicons.certainty(p.weight_cue)),
        )
        for p in cue_rows
    )
    return SpeculationCues(
        regex="|".join(parts),
        exclusion="^(?:" + "|".join(f"(?:{ascii_boundaries(p.regex)})" for p in not_rows) + ")$",
        own=own,
        literal_weights=weights,
        modals=lexicons.modal_verbs,
        model=lexicons.models.get("speculation") if use_model else None,
    )


# the candidate's own features only: the sentence's quote, report verb, "if" and "?" (four scans of every cue's
# sentence) and the word after the cue added no outlet-grouped CV F1 on the tuning part (.793 -> .796, noise)
SPECULATION_FEATURES = ("cue", "modal", "would_context", "prev", "prev_cue")


def speculation_candidates(sentences: pl.LazyFrame, *, cues: SpeculationCues) -> pl.LazyFrame:
    """One row per cue match that is not an excluded use (every "would" too), with the learned decision's
    features: the cue, whether it is a modal, "would" in its rules' context, the word right before it."""
    c = pl.col
    cue = c("cue")
    spans = cue_spans(
        sentences,
        text="sentence_lower",
        regex=cues.regex,
        keys=["article_id", "sentence_no"],
        carry=["start", "end", "sentence", "sentence_lower"],
    ).filter(~cue.str.contains(cues.exclusion))
    low = c("sentence_lower")
    is_would = cue == "would"
    would_ok = only_where(is_would, low, lambda text: text.str.contains(ascii_boundaries(WOULD_CONTEXT)))
    before = low.str.slice(
        (c("cue_start") - 30).clip(lower_bound=0), c("cue_start") - (c("cue_start") - 30).clip(lower_bound=0)
    )
    return spans.with_columns(
        cue.alias("f_cue"),
        cue.is_in(list(cues.modals)).cast(pl.String).alias("f_modal"),
        pl.when(is_would)
        .then(would_ok.fill_null(False).cast(pl.String))
        .otherwise(pl.lit("na"))
        .alias("f_would_context"),
        before.str.extract(r"([a-z']+)\W*$", 1).fill_null("^").alias("f_prev"),
    ).with_columns(
        (c("f_prev") + "|" + c("f_cue")).alias("f_prev_cue"),
    )


def _accepted(cues: SpeculationCues) -> pl.Expr:
    """The learned decision, or (no model) the rules: every cue, "would" only in its context."""
    if cues.model is None:
        return pl.col("f_would_context") != "false"
    return cues.model.accepts(SPECULATION_FEATURES)


@feature(version="3", output_schema=SPECULATION_CUES_SCHEMA)
def speculation_cue_matches(sentences: pl.LazyFrame, *, cues: SpeculationCues) -> pl.LazyFrame:
    """One row per speculation cue in a sentence (non-speculative uses dropped), with offsets and weight."""
    cue = pl.col("cue")
    weight = cue.replace_strict(dict(cues.literal_weights), default=None, return_dtype=pl.Float64)
    for regex, w in reversed(cues.own):
        weight = pl.when(cue.str.contains(regex)).then(pl.lit(w)).otherwise(weight)
    return (
        speculation_candidates(sentences, cues=cues)
        .filter(_accepted(cues))
        .select(
            "article_id",
            "sentence_no",
            pl.col("start").alias("sentence_start"),
            pl.col("end").alias("sentence_end"),
            "sentence",
            cue,
            (pl.col("start") + pl.col("cue_start")).alias("cue_start"),
            (pl.col("start") + pl.col("cue_end")).alias("cue_end"),
            weight.fill_null(DEFAULT_WEIGHT).alias("weight"),
            cue.is_in(list(cues.modals)).alias("is_modal"),
        )
    )


@feature(version="1", output_schema=ARTICLE_SPECULATION_SCHEMA)
def article_speculation(cue_matches: pl.LazyFrame, *, sizes: pl.LazyFrame) -> pl.LazyFrame:
    """Per article: speculative sentences (n, share), non-modal hedges and certainty-weighted cues per 1k words."""
    per_article = cue_matches.group_by("article_id").agg(
        pl.col("sentence_no").n_unique().cast(pl.Int64).alias("_spec_sentences"),
        (~pl.col("is_modal")).sum().cast(pl.Int64).alias("_hedges"),
        pl.col("weight").sum().alias("_weighted"),
    )
    return sizes.join(per_article, on="article_id", how="left", maintain_order="left").select(
        "article_id",
        pl.col("_spec_sentences").fill_null(0).alias("speculative_sentences_n"),
        share(pl.col("_spec_sentences").fill_null(0), pl.col("sentences_n")).alias("speculative_sentence_share"),
        per_1k(pl.col("_hedges").fill_null(0), pl.col("words_n")).alias("hedges_per_1k_words"),
        per_1k(pl.col("_weighted").fill_null(0.0), pl.col("words_n")).alias("speculation_weighted_per_1k_words"),
    )
