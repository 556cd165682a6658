from __future__ import annotations

from collections import Counter

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features.language import ARTICLE_LANGUAGE_SCHEMA, UNDETERMINED, article_language
from features.pipeline import ENGLISH_LEXICON_FEATURES, article_features
from tests.features.conftest import articles, no_boilerplate

GERMAN = (
    "Die Regierung hat am Montag neue Regeln beschlossen. Nach Angaben aus Kreisen der Koalition sollen die "
    "Maßnahmen bis zum Sommer gelten, und es wird erwartet, dass sie auch für Schulen gelten könnten."
)
ENGLISH = "Sources said the government could announce the new rules on Monday, and that they would apply to schools."
FRENCH = "Le gouvernement a annoncé lundi de nouvelles règles pour les écoles, selon des sources proches du dossier."


def frame(*rows: tuple[str, str, str | None]) -> pl.LazyFrame:
    return pl.LazyFrame(
        [{"article_id": a, "title": "", "text": t, "language": g} for a, t, g in rows],
        schema={"article_id": pl.String, "title": pl.String, "text": pl.String, "language": pl.String},
    )


def test_detects_or_keeps_the_given_code(lexicons):
    out = article_language(
        frame(
            ("en", ENGLISH, None),
            ("de", GERMAN, None),
            ("fr", FRENCH, None),
            ("given", GERMAN, "EN-us"),  # the corpus's code wins, as its primary subtag
            ("empty", "", None),
            ("cyrillic", "Правительство объявило новые правила в понедельник.", None),
        ),
        profiles=lexicons.function_words,
    ).collect()
    expected = pl.DataFrame(
        {
            "article_id": ["en", "de", "fr", "given", "empty", "cyrillic"],
            "language": ["en", "de", "fr", "en", UNDETERMINED, UNDETERMINED],
        },
        schema=ARTICLE_LANGUAGE_SCHEMA,
    )
    assert_frame_equal(out, expected)


def test_profiles_do_not_share_words(lexicons):
    counts = Counter(w for words in lexicons.function_words.values() for w in set(words))
    assert [w for w, n in counts.items() if n > 1] == []
    assert {"en", "de", "fr", "es", "it", "pt", "nl"} <= set(lexicons.function_words)


def test_non_english_article_gets_no_english_lexicon_features(lexicons):
    rows = [
        {"article_id": "de", "outlet": "o.de", "title": "Neue Regeln", "text": GERMAN},
        {"article_id": "en", "outlet": "o.com", "title": "New rules", "text": ENGLISH},
    ]
    features, evidence, _ = article_features(articles(*rows), boilerplate=no_boilerplate(), lexicons=lexicons).collect()
    de = features.filter(pl.col("article_id") == "de")
    en = features.filter(pl.col("article_id") == "en")
    assert de["language"].to_list() == ["de"] and en["language"].to_list() == ["en"]
    for column in ENGLISH_LEXICON_FEATURES:
        assert de[column].to_list() == [None], column
    assert de["words_n"].item() > 0  # language-independent counts stay
    assert en["unnamed_attributions_n"].item() >= 1
    assert set(evidence["article_id"]) == {"en"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=8))), max_size=8))
def test_one_row_per_article_and_a_code_always(lexicons, rows):
    data = frame(*((str(i), text, code) for i, (text, code) in enumerate(rows)))
    out = article_language(data, profiles=lexicons.function_words).collect()
    assert out["article_id"].to_list() == [str(i) for i in range(len(rows))]
    assert out["language"].null_count() == 0


@pytest.mark.shared
def test_agrees_with_the_extra_corpus_codes(shared_data, lexicons):
    corpus = pl.read_parquet(
        shared_data / "corpora" / "extra_2010_2021.parquet", columns=["id", "title", "text", "language"]
    )
    given_codes = corpus.select(
        pl.col("id").alias("article_id"), "title", "text", pl.lit(None, pl.String).alias("language")
    )
    detected = article_language(given_codes.lazy(), profiles=lexicons.function_words).collect()
    agree = (detected["language"] == corpus["language"]).mean()
    assert agree > 0.99, agree
