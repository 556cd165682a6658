"""Language of each article: the corpus's own code when it gives one, else a function-word profile.

presstrust's cue lexicons are English. An article that is not English must not be scored by them as if it
were, so every article carries a `language` (ISO 639-1, or `und` when undetermined) and the English-lexicon
features of a non-English article are null (features.pipeline).

Detection: for each profile in presstrust_function_words.tsv, the hits of its words per word in the
lower-cased title and first `SAMPLE_CHARS` characters of the text; the language is the profile with the
most hits when that share is at least MIN_SHARE (function words are 30-50% of running text in every
profiled language; foreign-script or word-less text has none), else `und`. A code given by the corpus
(`en`, `en-US`, `DE`) is kept as its lower-cased primary subtag.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from features.registry import feature

SAMPLE_CHARS = 1_000
MIN_SHARE = 0.12
UNDETERMINED = "und"
WORD = r"\p{L}+"  # Unicode letters: "für", "été" are one word each

ENGLISH = "en"
ARTICLE_LANGUAGE_SCHEMA = {
    "article_id": pl.String,
    "language": pl.String,
}


@feature(version="1", output_schema=ARTICLE_LANGUAGE_SCHEMA)
def article_language(articles: pl.LazyFrame, *, profiles: Mapping[str, tuple[str, ...]]) -> pl.LazyFrame:
    """Per article: `language`, the corpus's code when given, else the detected one, else `und`."""
    words = (
        pl.concat_str(
            pl.col("title").fill_null(""), pl.lit(" "), pl.col("text").fill_null("").str.slice(0, SAMPLE_CHARS)
        )
        .str.to_lowercase()
        .str.extract_all(WORD)
    )
    languages = sorted(profiles)
    given = pl.col("language").str.strip_chars().str.to_lowercase().str.extract(r"^([a-z]{2,3})(?:[-_].*)?$", 1)
    scored = articles.select(
        "article_id",
        given.alias("_given"),
        words.alias("_w"),
    ).select(
        "article_id",
        "_given",
        pl.col("_w").list.len().cast(pl.Float64).alias("_words"),
        *[
            pl.col("_w").list.eval(pl.element().is_in(list(profiles[lang]))).list.sum().cast(pl.Float64).alias(lang)
            for lang in languages
        ],
    )
    best_hits = pl.max_horizontal(*languages)
    best = pl.coalesce(
        [pl.when(pl.col(lang) == best_hits).then(pl.lit(lang)) for lang in languages]
    )  # ties go to the first code in alphabetical order
    detected = (
        pl.when((pl.col("_words") > 0) & (best_hits / pl.col("_words") >= MIN_SHARE))
        .then(best)
        .otherwise(pl.lit(UNDETERMINED))
    )
    return scored.select("article_id", pl.coalesce(pl.col("_given"), detected).alias("language"))
