"""The window's featurized articles, as the aggregate, fit and score stages read them (not a stage itself).

A window is the `window_days` days up to and including `as_of`, with or without undated articles
(`features.aggregate.articles_in_window`).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from features.aggregate import articles_in_window
from features.pipeline import FEATURES_SCHEMA

NUMERIC_FEATURE_COLUMNS = [c for c in FEATURES_SCHEMA if c != "article_id" and FEATURES_SCHEMA[c] != pl.String]
"""The per-article feature columns that are numbers or flags (every feature but the language)."""

_WINDOW_FEATURES = f"""
SELECT a.article_id, a.outlet, a.published_at, f.feature_version, f.language,
    {", ".join("f." + c for c in NUMERIC_FEATURE_COLUMNS)}
FROM article_features f JOIN article_meta a ON a.article_id = f.article_id
"""  # noqa: S608 - column names come from the declared feature schema, not from input


def window_features(con: duckdb.DuckDBPyConnection, *, as_of: date, window_days: int, undated: str) -> pl.DataFrame:
    """Featurized articles of the window: article_id, outlet, published_at, feature_version, language, every feature."""
    articles = con.sql(_WINDOW_FEATURES).pl().lazy()
    return articles_in_window(articles, as_of=as_of, window_days=window_days, undated=undated).collect()


def feature_versions(con: duckdb.DuckDBPyConnection) -> str:
    """The feature versions present in article_features, comma-joined (one, once featurize has run)."""
    rows = con.execute("SELECT DISTINCT feature_version FROM article_features ORDER BY 1").fetchall()
    return ",".join(str(v) for (v,) in rows)
