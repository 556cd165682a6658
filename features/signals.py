"""Other per-article signals: size, quotes, numbers, bias words, first/second person, title style, byline."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import polars as pl

from features._text import alternation, ascii_boundaries, per_1k
from features.lexicons import Lexicons
from features.registry import feature

SENTENCE_SIGNALS_SCHEMA = {
    "opening_quotes_n": pl.Int64,
    "straight_quotes_n": pl.Int64,
    "numbers_n": pl.Int64,
    "bias_words_n": pl.Int64,
    "first_second_person_n": pl.Int64,
}
ARTICLE_SIZES_SCHEMA = {
    "article_id": pl.String,
    "words_n": pl.Int64,
    "sentences_n": pl.Int64,
}
ARTICLE_SIGNALS_SCHEMA = {
    "article_id": pl.String,
    "direct_quotes_per_1k_words": pl.Float64,
    "numbers_per_1k_words": pl.Float64,
    "bias_lexicon_per_1k_words": pl.Float64,
    "first_second_person_per_1k_words": pl.Float64,
    "title_question": pl.Boolean,
    "title_exclamation": pl.Boolean,
    "title_all_caps_words_n": pl.Int64,
    "title_superlatives_n": pl.Int64,
    "byline_present": pl.Boolean,
}

# Direct quotes = opening curly double quotes and guillemets + half the straight double quotes (a pair
# brackets one quotation). Two cheap counts: a regex with a context for straight quotes was 3x slower.
OPENING_QUOTE = "[“«]"
STRAIGHT_QUOTE = '"'
NUMBER = r"[0-9]+(?:[.,][0-9]+)*"
ALL_CAPS_WORD = r"(?-u:\b)[A-Z]{4,}(?-u:\b)"  # 4+ capitals: "BREAKING", "SHOCKING"; skips FBI, GOP, CIA
SUPERLATIVE = r"(?-u:\b)(?:most|least|best|worst|[a-z]{3,}est)(?-u:\b)"


@dataclass(frozen=True)
class SignalCues:
    """Compiled regexes for the per-sentence signal counts."""

    bias_words: str  # on the lower-cased sentence: a lemma, optionally + s/es/d/ed/ing
    first_second_person: str  # on the original sentence
    superlative_exclusions: frozenset[str]


def _case_variants(words: Iterable[str]) -> list[str]:
    """Each word as written and, when it starts lower-case, with a capital first letter (not all-caps)."""
    out = set()
    for w in words:
        out.add(w)
        if w[:1].islower():
            out.add(w[0].upper() + w[1:])
    return sorted(out)


def signal_cues(lexicons: Lexicons) -> SignalCues:
    """Build the signal regexes from the lexicons (pure: no I/O)."""
    return SignalCues(
        bias_words=ascii_boundaries(rf"\b{alternation(lexicons.bias_lexicon)}(?:s|es|d|ed|ing)?\b"),
        first_second_person=ascii_boundaries(rf"\b{alternation(_case_variants(lexicons.first_second_person))}\b"),
        superlative_exclusions=lexicons.superlative_exclusions,
    )


@feature(version="1", output_schema=SENTENCE_SIGNALS_SCHEMA, adds_columns=True)
def sentence_signals(sentences: pl.LazyFrame, *, cues: SignalCues) -> pl.LazyFrame:
    """Add per-sentence counts of opening and straight quotes, numbers, bias-lexicon and first/second-person words."""
    orig, low = pl.col("sentence"), pl.col("sentence_lower")
    return sentences.with_columns(
        orig.str.count_matches(OPENING_QUOTE).cast(pl.Int64).alias("opening_quotes_n"),
        orig.str.count_matches(STRAIGHT_QUOTE, literal=True).cast(pl.Int64).alias("straight_quotes_n"),
        orig.str.count_matches(NUMBER).cast(pl.Int64).alias("numbers_n"),
        low.str.count_matches(cues.bias_words).cast(pl.Int64).alias("bias_words_n"),
        orig.str.count_matches(cues.first_second_person).cast(pl.Int64).alias("first_second_person_n"),
    )


@feature(version="1", output_schema=ARTICLE_SIZES_SCHEMA)
def article_sizes(articles: pl.LazyFrame, sentences: pl.LazyFrame) -> pl.LazyFrame:
    """Words and sentences of the kept text of every article (0 when nothing is left after boilerplate)."""
    sizes = sentences.group_by("article_id").agg(
        pl.col("words_n").sum().cast(pl.Int64), pl.len().cast(pl.Int64).alias("sentences_n")
    )
    return (
        articles.select("article_id")
        .join(sizes, on="article_id", how="left", maintain_order="left")
        .with_columns(pl.col("words_n").fill_null(0), pl.col("sentences_n").fill_null(0))
    )


def title_superlatives_n(title: pl.Expr, exclusions: Collection[str]) -> pl.Expr:
    """Superlatives in a title: most/least/best/worst and -est words, minus words that only end in -est."""
    found = title.str.to_lowercase().str.extract_all(SUPERLATIVE)
    return found.list.eval(pl.element().is_in(list(exclusions)).not_()).list.sum().cast(pl.Int64)


@feature(version="1", output_schema=ARTICLE_SIGNALS_SCHEMA)
def article_signals(
    articles: pl.LazyFrame, sentences: pl.LazyFrame, *, sizes: pl.LazyFrame, cues: SignalCues
) -> pl.LazyFrame:
    """Per article: quote, number, bias-word and first/second-person densities; title style; byline present."""
    counts = sentences.group_by("article_id").agg(
        pl.col("opening_quotes_n", "straight_quotes_n", "numbers_n", "bias_words_n", "first_second_person_n").sum()
    )
    title = pl.col("title")
    byline = pl.col("authors").list.eval(pl.element().str.strip_chars().str.len_chars() > 0).list.any().fill_null(False)
    words = pl.col("words_n")
    return (
        articles.select(
            "article_id",
            title.str.contains("?", literal=True).alias("title_question"),
            title.str.contains("!", literal=True).alias("title_exclamation"),
            title.str.count_matches(ALL_CAPS_WORD).cast(pl.Int64).alias("title_all_caps_words_n"),
            title_superlatives_n(title, cues.superlative_exclusions).alias("title_superlatives_n"),
            byline.alias("byline_present"),
        )
        .join(sizes, on="article_id", how="left", maintain_order="left")
        .join(counts, on="article_id", how="left", maintain_order="left")
        .select(
            "article_id",
            per_1k(pl.col("opening_quotes_n").fill_null(0) + pl.col("straight_quotes_n").fill_null(0) / 2, words).alias(
                "direct_quotes_per_1k_words"
            ),
            per_1k(pl.col("numbers_n").fill_null(0), words).alias("numbers_per_1k_words"),
            per_1k(pl.col("bias_words_n").fill_null(0), words).alias("bias_lexicon_per_1k_words"),
            per_1k(pl.col("first_second_person_n").fill_null(0), words).alias("first_second_person_per_1k_words"),
            "title_question",
            "title_exclamation",
            "title_all_caps_words_n",
            "title_superlatives_n",
            "byline_present",
        )
    )
