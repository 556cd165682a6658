"""What the fit and score stages read: the window's articles with their stored per-article numbers (not a stage).

Per article, what depends on the article alone is computed ONCE and stored: its cues (`article_cues`) and, per
model, its text contribution (`article_text_scores`); a nightly pays only for new or changed articles (all
articles again only after a refit).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

import duckdb
import numpy as np
import polars as pl

from jobs.infra.terminal import advance
from jobs.readers.outlets import citation_names
from jobs.stages.window import window_features
from jobs.store.texts import read_texts
from jobs.store.transactions import transaction
from scorer.cues import PUNCTUATION, article_cues, citation_patterns
from scorer.inputs import model_feature_columns, with_derived_features
from scorer.matrix import outlet_matrix
from scorer.text_layer import TextLayer, text_matrix

ESTIMATOR = "two_layer"
"""models.estimator of the models the score stage can use."""
ENGLISH = "en"
BATCH = 50_000
"""Articles per batch of stored per-article numbers."""


def window_articles(con: duckdb.DuckDBPyConnection, *, as_of: date, window_days: int, undated: str) -> pl.DataFrame:
    """The scorer's per-article inputs for the window (derived features, stored cues), sorted by outlet and article.

    `language` is kept (null, for articles featurized before languages were known, counts as English).
    """
    frame = window_features(con, as_of=as_of, window_days=window_days, undated=undated)
    if "language" not in frame.columns:
        frame = frame.with_columns(language=pl.lit(None, dtype=pl.String))
    frame = with_derived_features(frame.drop("feature_version"))
    cues = con.sql("SELECT article_id, " + ", ".join(PUNCTUATION) + " FROM article_cues").pl()
    frame = frame.join(cues, on="article_id", how="left")
    return frame.sort("outlet", "article_id")


def is_english() -> pl.Expr:
    return pl.col("language").is_null() | (pl.col("language") == ENGLISH)


def _citation_patterns() -> dict[str, str]:
    return citation_patterns(citation_names())


def cue_version(patterns: dict[str, str]) -> str:
    """Version of the cue code (bump CUE_CODE_VERSION) and of the outlet-name list it matches."""
    text = json.dumps(sorted(patterns.items()))
    return f"{CUE_CODE_VERSION}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


CUE_CODE_VERSION = "1"


def ensure_article_cues(con: duckdb.DuckDBPyConnection) -> int:
    """Compute and store article_cues for every article without an up-to-date row; returns how many."""
    patterns = _citation_patterns()
    version = cue_version(patterns)
    done = 0
    while True:
        todo_ids = con.sql(
            "SELECT m.article_id, m.content_version FROM article_meta m LEFT JOIN article_cues c "
            "ON c.article_id = m.article_id AND c.content_version = m.content_version AND c.cue_version = $v "
            "WHERE c.article_id IS NULL ORDER BY m.article_id LIMIT $n",
            params={"v": version, "n": BATCH},
        ).pl()
        if not todo_ids.height:
            return done
        todo = todo_ids.join(
            read_texts(con, todo_ids.get_column("article_id"), columns=()), on="article_id", maintain_order="left"
        ).select("article_id", "text", "content_version")
        cues = article_cues(todo.lazy(), patterns=patterns).collect()
        cues = cues.join(todo.select("article_id", "content_version"), on="article_id").with_columns(
            cue_version=pl.lit(version)
        )
        with transaction(con):
            con.register("_cues", cues.to_arrow())
            try:
                con.execute(
                    "INSERT OR REPLACE INTO article_cues BY NAME SELECT article_id, content_version, cue_version, "
                    + ", ".join(PUNCTUATION)
                    + ", cited_outlets FROM _cues"
                )
            finally:
                con.unregister("_cues")
        done += todo.height
        advance(done, unit="articles' cues")


def ensure_text_scores(con: duckdb.DuckDBPyConnection, targets: dict[str, tuple[TextLayer, list[str]]]) -> int:
    """Store article_text_scores where missing or stale for each model_id -> (its text layer, its article ids).

    Each batch's texts are read, hashed and embedded once, whichever models need them (the published model and the
    cross-fitted fold models share the source); stores each article's contribution and its coordinates (null for
    a model without an embedding part); returns how many rows were written.
    """
    want = [
        pl.DataFrame({"model_id": model_id, "article_id": ids}, schema={"model_id": pl.String, "article_id": pl.String})
        for model_id, (_, ids) in targets.items()
        if ids
    ]
    if not want:
        return 0
    layers = {model_id: layer for model_id, (layer, _) in targets.items()}
    sources = {layer.source for layer in layers.values()}
    if len(sources) != 1:
        raise ValueError(f"the text layers read different sources: {sorted(sources)}")
    source = sources.pop()
    embed = any(layer.embedding_ is not None for layer in layers.values())
    done, total = 0, sum(len(ids) for _, ids in targets.values())
    con.register("_want", pl.concat(want).to_arrow())
    try:
        while True:
            todo = con.sql(
                "SELECT w.model_id, a.article_id, a.content_version FROM _want w JOIN article_meta a "
                "ON a.article_id = w.article_id LEFT JOIN article_text_scores t ON t.article_id = a.article_id "
                "AND t.model_id = w.model_id AND t.content_version = a.content_version WHERE t.article_id IS NULL "
                "ORDER BY a.article_id, w.model_id LIMIT $n",
                params={"n": BATCH},
            ).pl()
            if not todo.height:
                return done
            ids = todo["article_id"].unique(maintain_order=True)
            texts = pl.DataFrame({"article_id": ids}).join(
                text_layer_texts(con, ids.to_list(), source), on="article_id", how="left", maintain_order="left"
            )
            matrix = text_matrix(texts["title"].fill_null("").to_list(), source=source, embed=embed)
            row_of = {a: i for i, a in enumerate(ids.to_list())}
            parts = []
            for (model_id,), group in todo.group_by("model_id", maintain_order=True):
                rows = np.array([row_of[a] for a in group["article_id"].to_list()], dtype=np.int64)
                layer = layers[str(model_id)]
                coords = layer.coords(matrix[rows])
                stored = (
                    pl.lit(None, dtype=pl.List(pl.Float32))
                    if coords is None
                    else pl.Series(coords.astype(np.float32)).cast(pl.List(pl.Float32))
                )
                contribution = pl.Series(layer.contributions(matrix[rows]), dtype=pl.Float64)
                parts.append(group.with_columns(contribution=contribution, coords=stored))
            with transaction(con):
                con.register("_text", pl.concat(parts).to_arrow())
                try:
                    con.execute(
                        "INSERT OR REPLACE INTO article_text_scores BY NAME "
                        "SELECT model_id, article_id, content_version, contribution, coords FROM _text"
                    )
                finally:
                    con.unregister("_text")
            done += todo.height
            advance(done, total, unit="articles' text scores (of those in the window)")
    finally:
        con.unregister("_want")


def fold_model_id(model_id: str, fold: int) -> str:
    """The id under which a cross-fitted fold model's article contributions are stored (article_text_scores)."""
    return f"{model_id}/fold{fold}"


def text_layer_texts(con: duckdb.DuckDBPyConnection, article_ids: list[str], source: str = "title") -> pl.DataFrame:
    """article_id and `title`: the text the text layer reads (the title, or title + body without boilerplate)."""
    frame = read_texts(con, pl.Series("article_id", article_ids, dtype=pl.String))
    if source == "title":
        return frame.select("article_id", "title")
    con.register("_ids", pl.DataFrame({"article_id": article_ids}).to_arrow())
    try:
        removed = con.sql(
            "SELECT b.article_id, b.line_start, b.line_end FROM boilerplate_removed b SEMI JOIN _ids i "
            "ON i.article_id = b.article_id ORDER BY b.article_id, b.line_start"
        ).pl()
    finally:
        con.unregister("_ids")
    return frame.select("article_id", pl.Series("title", text_layer_inputs(frame, removed)))


def text_layer_inputs(articles: pl.DataFrame, removed: pl.DataFrame) -> list[str]:
    """Title + newline + body with the removed boilerplate line spans cut out, per article (in frame order)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for article_id, start, end in removed.iter_rows():
        spans.setdefault(article_id, []).append((int(start), int(end)))
    out = []
    for article_id, title, text in articles.select("article_id", "title", "text").iter_rows():
        body = text or ""
        pieces, position = [], 0
        for start, end in spans.get(article_id, []):
            pieces.append(body[position:start])
            position = max(position, end)
        pieces.append(body[position:])
        out.append((title or "") + " \n " + "".join(pieces))
    return out


def cited_outlets(con: duckdb.DuckDBPyConnection, articles: pl.DataFrame) -> pl.DataFrame:
    cues = con.sql("SELECT article_id, cited_outlets FROM article_cues").pl()
    return (
        articles.select("article_id", "outlet")
        .join(cues, on="article_id", how="left")
        .with_columns(pl.col("cited_outlets").fill_null([]))
    )


def cue_features(articles: pl.DataFrame) -> list[str]:
    """The cue model's per-article columns: the pipeline's model features plus body punctuation."""
    base = [c for c in model_feature_columns(articles.drop(*PUNCTUATION, strict=False)) if c != "language"]
    return [*base, *PUNCTUATION]


def outlet_rows(english: pl.DataFrame, outlets: list[str], features: list[str]) -> pl.DataFrame:
    """Per outlet (in `outlets` order): n_articles, shrunk means and {f}__sd of the English articles' features."""
    matrix = outlet_matrix(
        english.select("article_id", "outlet", *features), features=features, value=("shrunk_mean", "sd")
    )
    order = pl.DataFrame({"outlet": outlets}, schema={"outlet": pl.String})
    return order.join(matrix, on="outlet", how="left", maintain_order="left").with_columns(
        pl.col("n_articles").fill_null(0)
    )
