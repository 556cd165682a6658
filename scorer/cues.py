"""Two lean-neutral cues for the cue model, computed once per article: body punctuation and cited outlets.

- `exclamations_per_1k_chars`, `ellipses_per_1k_chars`, `questions_per_1k_chars`: `!`, `...` (or `…`) and `?`
  in the body per 1,000 characters (null for an empty body).
- `cited_outlets`: the outlets the article names as a source ("according to Reuters", "first reported by RIA
  Novosti", "Reuters reported", "told CNN"), as canonical domains, deduplicated, in order of first mention.
  Names come from the alias file (`citation_patterns`); matching is case-sensitive on the name (a proper
  noun) with both capitalisations of the lead words, via Aho-Corasick (`str.extract_many`).

The outlet-level cue is `cited_rating`: the mean label rating of the outlets an outlet cites (self-citations
and unrated outlets left out), computed by `cited_rating` from a rating table the caller passes. In
evaluation the ratings come from the training fold's labels only; in the product from the training labels
of the fitted model (stored with it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from features.aggregate import exact_sum

PUNCTUATION = ("exclamations_per_1k_chars", "ellipses_per_1k_chars", "questions_per_1k_chars")
ARTICLE_CUES_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "exclamations_per_1k_chars": pl.Float64(),
    "ellipses_per_1k_chars": pl.Float64(),
    "questions_per_1k_chars": pl.Float64(),
    "cited_outlets": pl.List(pl.String()),
}
CITED_RATING = "cited_rating"
RATING_SCALE = 1_000_000_000

_BEFORE: tuple[str, ...] = ("according to ", "According to ", "according to the ", "According to the ")
_BEFORE += ("reported by ", "reported by the ", "told ", "told the ", "reports from ", "a report by ", "a report from ")
_AFTER = (" reported", " reports", " said in a report", " first reported")


def citation_patterns(names: Mapping[str, str]) -> dict[str, str]:
    """Literal citation phrases -> canonical outlet domain, from outlet names (name -> domain).

    Names shorter than 3 characters, lower-case names and host-like names (with a dot) are skipped.
    """
    out: dict[str, str] = {}
    for name, domain in sorted(names.items()):
        name = " ".join(name.split())
        if len(name) < 3 or "." in name or not name[0].isupper():
            continue
        for before in _BEFORE:
            out[before + name] = domain
        for after in _AFTER:
            out[name + after] = domain
    return out


def article_cues(articles: pl.LazyFrame, *, patterns: Mapping[str, str]) -> pl.LazyFrame:
    """Per article: body punctuation per 1k characters and the outlets it cites by name (ARTICLE_CUES_SCHEMA)."""
    text = pl.col("text").fill_null("")
    chars = text.str.len_chars()

    def per_1k(count: pl.Expr) -> pl.Expr:
        return pl.when(chars > 0).then(count.cast(pl.Float64) * 1000.0 / chars.cast(pl.Float64))

    if patterns:
        phrases = list(patterns)
        cited = (
            text.str.extract_many(phrases, overlapping=False)
            .list.eval(pl.element().replace_strict(phrases, list(patterns.values()), return_dtype=pl.String))
            .list.unique(maintain_order=True)
        )
    else:
        cited = pl.lit([], dtype=pl.List(pl.String))
    return articles.select(
        pl.col("article_id").cast(pl.String),
        per_1k(text.str.count_matches("!", literal=True)).alias("exclamations_per_1k_chars"),
        per_1k(text.str.count_matches(r"\.\.\.|…")).alias("ellipses_per_1k_chars"),
        per_1k(text.str.count_matches("?", literal=True)).alias("questions_per_1k_chars"),
        cited.alias("cited_outlets"),
    )


def cited_rating(cues: pl.LazyFrame, *, ratings: Mapping[str, float]) -> pl.LazyFrame:
    """Per outlet: mean rating of the rated outlets it cites (one per article and cited outlet; self excluded).

    `cues` has outlet and cited_outlets; outlets citing no rated outlet get null (the model imputes it).
    """
    table = pl.LazyFrame(
        {"cited": list(ratings), "rating": [float(v) for v in ratings.values()]},
        schema={"cited": pl.String, "rating": pl.Float64},
    )
    outlets = cues.select("outlet").unique()
    rated = (
        cues.select("outlet", pl.col("cited_outlets").alias("cited"))
        .explode("cited")
        .filter(pl.col("cited").is_not_null() & (pl.col("cited") != pl.col("outlet")))
        .join(table, on="cited", how="inner")
        .group_by("outlet")
        # an exact sum (ratings quantised to 1e-9): the same inputs give the same bits, whatever the chunking
        .agg((exact_sum(pl.col("rating"), RATING_SCALE) / pl.len()).alias(CITED_RATING))
    )
    return outlets.join(rated, on="outlet", how="left")


def alias_names(aliases: Mapping[str, str], extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Outlet names (aliases that are not hosts) -> domain, plus `extra` pairs."""
    out = {alias: domain for alias, domain in aliases.items() if "." not in alias}
    out.update(dict(extra))
    return out
