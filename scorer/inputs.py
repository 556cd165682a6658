"""The per-article columns the scorer reads: the feature pipeline's output plus a few ratios derived from it.

The feature pipeline (`features.pipeline.article_features`) emits densities (per 1k words), shares, title
flags and raw counts. `with_derived_features` turns that frame into the scorer's per-article inputs:

- Boolean flags become 0/1 floats named `{flag}_share` (their outlet mean is the share of articles with the
  flag), the naming `jobs.stages.aggregate.article_level` uses for the outlet_features table;
- `any_unnamed_source_share`: 1 if the article has any unnamed attribution (as in jobs.stages.aggregate);
- ratios of counts: `attributions_per_1k_words`, `named_attributions_per_1k_words`, `words_per_sentence`,
  and length as `log_words`. Raw counts grow with length, so `model_feature_columns` leaves out every
  `*_n` column except the per-title counts `title_*_n`.

Any other numeric column the pipeline adds later is picked up automatically (and recorded in the model's
feature list). The outlet matrix is built from these per-article columns by `scorer.matrix.outlet_matrix`,
so a nightly job must store the same columns (or call this function) before `outlet_feature_stats`.
"""

from __future__ import annotations

import polars as pl

from scorer.matrix import numeric_feature_columns

DERIVED: dict[str, tuple[tuple[str, ...], pl.Expr]] = {
    "attributions_per_1k_words": (
        ("attributions_n", "words_n"),
        pl.when(pl.col("words_n") > 0).then(pl.col("attributions_n") * 1000.0 / pl.col("words_n")),
    ),
    "named_attributions_per_1k_words": (
        ("named_attributions_n", "words_n"),
        pl.when(pl.col("words_n") > 0).then(pl.col("named_attributions_n") * 1000.0 / pl.col("words_n")),
    ),
    "words_per_sentence": (
        ("words_n", "sentences_n"),
        pl.when(pl.col("sentences_n") > 0).then(pl.col("words_n") / pl.col("sentences_n")),
    ),
    "log_words": (("words_n",), pl.when(pl.col("words_n") > 0).then(pl.col("words_n").cast(pl.Float64).log())),
    "any_unnamed_source_share": (
        ("unnamed_attributions_n",),
        (pl.col("unnamed_attributions_n") > 0).cast(pl.Float64),
    ),
}

FEATURE_DIRECTIONS: dict[str, int] = {
    # -1: may only LOWER the score (the cue marks weak sourcing, speculation, opinion or clickbait)
    "unnamed_source_share": -1,  # share of attributions to unnamed sources ("sources said")
    "unnamed_sources_per_1k_words": -1,
    "any_unnamed_source_share": -1,
    "speculative_sentence_share": -1,  # "could", "reportedly", "potentially"
    "hedges_per_1k_words": -1,
    "speculation_weighted_per_1k_words": -1,
    "bias_lexicon_per_1k_words": -1,  # subjective / one-sided wording (Recasens et al. 2013)
    "first_second_person_per_1k_words": -1,  # "I", "we", "you": opinion and commentary voice
    "title_question_share": -1,  # "Is X hiding something?"
    "title_exclamation_share": -1,
    "title_all_caps_words_n": -1,  # "SHOCKING"
    "title_superlatives_n": -1,
    # +1: may only RAISE the score (the cue marks sourcing and transparency)
    "attributions_per_1k_words": 1,
    "named_attributions_per_1k_words": 1,  # "an FBI spokeswoman said"
    "direct_quotes_per_1k_words": 1,
    "numbers_per_1k_words": 1,  # specifics: figures, dates, counts
    "byline_present_share": 1,  # an accountable author
    # scorer.cues: body punctuation (exclamation-heavy, trailing-off, rhetorical-question prose) and the mean
    # training-label rating of the outlets an outlet cites by name
    "exclamations_per_1k_chars": -1,
    "ellipses_per_1k_chars": -1,
    "questions_per_1k_chars": -1,
    "cited_rating": 1,
    # claims (features.claims.claim_units; docs/claims.md): an unnamed-source claim no independent outlet confirms
    # marks weak sourcing; a speculative claim that an independent outlet confirms marks speculation that held up
    "unconfirmed_unnamed_claim_share": -1,
    "confirmed_speculative_claim_share": 1,
    "low_rated_origin_claim_share": -1,  # not a model input (label-dependent: see CLAIM_CUES)
    # corroboration (features.aggregate.corroboration_units), when used
    "corroborated_share": 1,
    "exclusive_share": -1,
    "copy_share": -1,
    "first_report_share": 0,
    # length (log_words, words_per_sentence) and anything not listed: either direction
}
"""The direction each cue may move the score in the default "signed_ridge" model (0 / unlisted: either).

Why constrain: the factors are the published explanation of a score. Unconstrained, the model learns from
the ~65 training outlets that anonymous sourcing goes with HIGHER ratings (wire and national outlets write
"officials said on condition of anonymity" more than opinion sites do), and would tell a reader that an
outlet's anonymous sources raised its score. With the constraint such a cue gets weight 0 instead; the
held-out accuracy was the same (docs/evaluation.md).
"""

CLAIM_CUES = ("unconfirmed_unnamed_claim_share", "confirmed_speculative_claim_share")
"""The per-article claim shares the cue model can read (features.claims.claim_units, per article; null where an
article has no unnamed-source / speculative claim). `low_rated_origin_claim_share` is not one: which outlets are
low-rated comes from the labels, so it would leak them into cross-validation unless recomputed per fold, and
`cited_rating` already is the fold-honest rating of the outlets an outlet cites."""


def with_derived_features(article_features: pl.DataFrame) -> pl.DataFrame:
    """The scorer's per-article inputs: booleans as 0/1 `{flag}_share`, plus the DERIVED columns it can compute."""
    frame = article_features.with_columns(
        pl.col(name).cast(pl.Float64).alias(f"{name}_share")
        for name, dtype in article_features.schema.items()
        if dtype == pl.Boolean and not name.endswith("_share")
    ).drop(
        name for name, dtype in article_features.schema.items() if dtype == pl.Boolean and not name.endswith("_share")
    )
    exprs = [
        expr.alias(name)
        for name, (needs, expr) in DERIVED.items()
        if all(c in frame.columns for c in needs) and name not in frame.columns
    ]
    return frame.with_columns(exprs) if exprs else frame


def model_feature_columns(article_features: pl.DataFrame) -> list[str]:
    """Numeric columns the model uses: everything but identifiers and raw `*_n` counts (title counts kept)."""
    return [
        c for c in numeric_feature_columns(article_features) if not (c.endswith("_n") and not c.startswith("title_"))
    ]


DEFAULT_MIN_ARTICLES = 20
"""English articles a labelled outlet needs in the window to be trained on (and an outlet to get a grade)."""


def training_frame(
    matrix: pl.DataFrame, labels: pl.DataFrame, *, min_articles: int = DEFAULT_MIN_ARTICLES
) -> pl.DataFrame:
    """Rows of labelled outlets with >= min_articles articles (`n_articles`), with `label_score` (sorted by outlet)."""
    return (
        matrix.join(labels.select("outlet", "label_score"), on="outlet", how="inner")
        .filter((pl.col("n_articles") >= min_articles) & pl.col("label_score").is_not_null())
        .sort("outlet")
    )
