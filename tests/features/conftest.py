from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from features.boilerplate import REPEATED_LINES_SCHEMA
from features.lexicons import Lexicons, load_lexicons

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTICLE_SCHEMA = {
    "article_id": pl.String,
    "outlet": pl.String,
    "title": pl.String,
    "text": pl.String,
    "authors": pl.List(pl.String),
}


@pytest.fixture(scope="session")
def lexicons() -> Lexicons:
    return load_lexicons()


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (FIXTURES / "seed_article.txt").read_text(encoding="utf-8")


def articles(*rows: dict) -> pl.LazyFrame:
    """A LazyFrame in the feature input contract from dicts (missing keys are null)."""
    return pl.LazyFrame([{k: r.get(k) for k in ARTICLE_SCHEMA} for r in rows], schema=ARTICLE_SCHEMA)


def no_boilerplate() -> pl.LazyFrame:
    return pl.LazyFrame(schema=REPEATED_LINES_SCHEMA)


def sentence_frame(*sentences: str) -> pl.LazyFrame:
    """One article per sentence (article_id s0, s1, ...), as split_sentences + lowercase_sentences emit them."""
    from features.sentences import lowercase_sentences, words_n

    frame = pl.LazyFrame(
        {
            "article_id": [f"s{i}" for i in range(len(sentences))],
            "sentence_no": [0] * len(sentences),
            "start": [0] * len(sentences),
            "end": [len(s) for s in sentences],
            "sentence": list(sentences),
        },
        schema={
            "article_id": pl.String,
            "sentence_no": pl.Int64,
            "start": pl.Int64,
            "end": pl.Int64,
            "sentence": pl.String,
        },
    ).with_columns(words_n(pl.col("sentence")).alias("words_n"))
    return lowercase_sentences(frame)
