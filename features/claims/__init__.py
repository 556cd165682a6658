"""Claims: the sentences of an article that carry a claim worth checking, their vectors, and whether an
independent outlet confirms them (docs/claims.md).

    claims = article_claims(articles, boilerplate=..., lexicons=load_lexicons(), cited=cited_outlets(names))
    vectors = claim_vectors(load_static_embedding(), claims["sentence"])
    matches = confirm_claims(claims_with_article_meta, vectors, MatchConfig())

Pure: Polars and NumPy, no I/O, no clock.
"""

from __future__ import annotations

import polars as pl

from features import attribution, sentences, speculation
from features.boilerplate import mark_lines, split_lines
from features.claims.cited import LINKS_SCHEMA, CitedOutlets, cited_outlet, cited_outlets, linked_outlets
from features.claims.extract import (
    ATTRIBUTED,
    CLAIMS_SCHEMA,
    KINDS,
    LEAD,
    MIN_WORDS,
    MIXED,
    NAMED,
    SPECULATIVE,
    UNNAMED,
    claim_sentences,
)
from features.claims.matching import (
    CONFIRMATION_SCHEMA,
    MATCH_INPUT,
    MatchConfig,
    claim_vectors,
    confirm_claims,
    match_inputs,
)
from features.claims.origin import CLAIM_UNITS_SCHEMA, ORIGIN_SCHEMA, ORIGINS, claim_origins, claim_units
from features.lexicons import Lexicons

__all__ = [
    "ATTRIBUTED",
    "CLAIMS_SCHEMA",
    "CLAIM_UNITS_SCHEMA",
    "CONFIRMATION_SCHEMA",
    "KINDS",
    "LINKS_SCHEMA",
    "LEAD",
    "MATCH_INPUT",
    "MIN_WORDS",
    "MIXED",
    "NAMED",
    "ORIGINS",
    "ORIGIN_SCHEMA",
    "SPECULATIVE",
    "UNNAMED",
    "CitedOutlets",
    "MatchConfig",
    "article_claims",
    "match_inputs",
    "cited_outlet",
    "cited_outlets",
    "claim_origins",
    "claim_units",
    "claim_sentences",
    "claim_vectors",
    "confirm_claims",
    "linked_outlets",
]


def article_claims(
    articles: pl.LazyFrame, *, boilerplate: pl.LazyFrame, lexicons: Lexicons, cited: CitedOutlets
) -> pl.LazyFrame:
    """Claim sentences (CLAIMS_SCHEMA) of articles (article_id, outlet, title, text), through the same line,
    sentence, attribution and speculation steps as features.pipeline."""
    lines = mark_lines(
        articles.select("article_id", "outlet", "title", "text"),
        boilerplate=boilerplate,
        patterns=lexicons.boilerplate_patterns,
    )
    sents = sentences.split_sentences(
        split_lines(lines).kept, abbreviations=lexicons.abbreviations, sentence_starters=lexicons.sentence_starters
    )
    cues = attribution.attribution_cues(lexicons)
    sents = attribution.sentence_attribution(sentences.lowercase_sentences(sents), cues=cues).cache()
    return claim_sentences(
        sents,
        frames=attribution.attribution_frames(sents, cues=cues),
        speculation=speculation.speculation_cue_matches(sents, cues=speculation.speculation_cues(lexicons)),
        cited=cited,
    )
