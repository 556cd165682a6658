"""`presstrust aggregate`: per-outlet feature statistics for an as-of date and a window.

Reads article_features joined to articles, keeps the window (`features.aggregate.articles_in_window`),
computes each outlet's feature moments and window summary (`outlet_aggregates`; on Spark with `--engine spark`),
pools them over outlets (`pooled_outlet_stats`) and replaces the (as_of, window_days, undated) partition of
outlet_windows and outlet_features in one transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from features.aggregate import (
    CORROBORATION_UNITS_SCHEMA,
    articles_in_window,
    corroboration_units,
    outlet_feature_moments,
    outlet_window_summary,
    pooled_outlet_stats,
)
from jobs.db import transaction
from jobs.featurize import NUMERIC_FEATURE_COLUMNS
from jobs.runs import failure_recorded, finish_run, start_run

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


CORROBORATION_FEATURES = [c for c in CORROBORATION_UNITS_SCHEMA if c.endswith("_share")]


def article_values(con: duckdb.DuckDBPyConnection, window: pl.LazyFrame) -> tuple[pl.LazyFrame, list[str]]:
    """One row per window article: outlet, published_at, language and the value of every aggregated feature
    (`article_level`'s, then the corroboration units of the clustered articles, null for the others); and the
    names of those features."""
    values, names = article_level(window)
    clustered = (
        con.sql("SELECT * FROM story_articles")
        .pl()
        .lazy()
        .join(window.select("article_id"), on="article_id", how="semi")
    )
    units = corroboration_units(clustered).select("article_id", *CORROBORATION_FEATURES)
    return values.join(units, on="article_id", how="left"), [*names, *CORROBORATION_FEATURES]


def article_level(frame: pl.LazyFrame) -> tuple[pl.LazyFrame, list[str]]:
    """Per-article values: numeric features as they are, booleans as 0/1 `*_share`, and any_unnamed_source_share."""
    schema = frame.collect_schema()
    names: list[str] = []
    exprs: list[pl.Expr] = []
    for column in NUMERIC_FEATURE_COLUMNS:
        if schema[column] == pl.Boolean:
            exprs.append(pl.col(column).cast(pl.Float64).alias(f"{column}_share"))
            names.append(f"{column}_share")
        else:
            exprs.append(pl.col(column).cast(pl.Float64))
            names.append(column)
    exprs.append((pl.col("unnamed_attributions_n") > 0).cast(pl.Float64).alias("any_unnamed_source_share"))
    names.append("any_unnamed_source_share")
    return frame.select("article_id", "outlet", "published_at", "language", *exprs), names


def outlet_aggregates(values: pl.LazyFrame, *, features: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(moments, window summary) of the outlets in `values`: each outlet's depend on its own rows only."""
    return (
        outlet_feature_moments(values, features=features).collect(),
        outlet_window_summary(values).collect(),
    )


@dataclass
class AggregateSummary:
    run_id: int
    as_of: date
    window_days: int
    undated: str
    outlets: int
    articles: int
    rows: int
    seconds: float

    @property
    def counts(self) -> dict[str, int]:
        return {"outlets": self.outlets, "articles": self.articles, "outlet_feature_rows": self.rows}

    def line(self) -> str:
        return (
            f"aggregate run {self.run_id}: {self.outlets} outlets, {self.articles} articles in the "
            f"{self.window_days} days "
            f"to {self.as_of} (undated: {self.undated}), {self.rows} outlet_features rows in {self.seconds:.1f}s"
        )


def aggregate(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    window_days: int = 365,
    undated: str = "include",
    engine: str = "local",
    spark_master: str | None = None,
) -> AggregateSummary:
    """Aggregate article features per outlet for the window; replace that window's rows.

    engine "spark": the per-outlet moments and window summaries are computed by one Spark job
    (`groupBy(outlet).applyInArrow` over `outlet_aggregates`, jobs/spark_engine.py); the pooling over outlets
    (`pooled_outlet_stats`, one row per outlet and feature) and the write stay here."""
    started = time.perf_counter()
    params = {"as_of": as_of, "window_days": window_days, "undated": undated, "engine": engine}
    run_id = start_run(con, "aggregate", params)
    with failure_recorded(con, run_id):
        window = window_features(con, as_of=as_of, window_days=window_days, undated=undated).lazy()
        values, names = article_values(con, window)
        if engine == "spark":
            from jobs import spark_engine

            moments, windows = spark_engine.outlet_aggregates(con, values, features=names, master=spark_master)
        else:
            moments, windows = outlet_aggregates(values, features=names)
        stats = pooled_outlet_stats(moments.lazy()).collect()
        _replace_partition(con, stats, windows, run_id=run_id, as_of=as_of, window_days=window_days, undated=undated)
    summary = AggregateSummary(
        run_id,
        as_of,
        window_days,
        undated,
        windows.height,
        int(windows.get_column("n_articles").sum() or 0),
        stats.height,
        time.perf_counter() - started,
    )
    finish_run(con, run_id, status="ok", counts=summary.counts)
    return summary


def _replace_partition(
    con: duckdb.DuckDBPyConnection,
    stats: pl.DataFrame,
    windows: pl.DataFrame,
    *,
    run_id: int,
    as_of: date,
    window_days: int,
    undated: str,
) -> None:
    key = {"as_of": as_of, "window_days": window_days, "undated": undated}
    con.register("_stats", stats.to_arrow())
    con.register("_windows", windows.to_arrow())
    try:
        with transaction(con):
            for table in ("outlet_features", "outlet_windows"):
                con.execute(
                    f"DELETE FROM {table} WHERE as_of = $as_of AND window_days = $window_days AND undated = $undated",  # noqa: S608
                    key,
                )
            insert = (
                "SELECT *, $as_of AS as_of, $window_days AS window_days, $undated AS undated, $run_id AS run_id FROM "
            )
            con.execute("INSERT INTO outlet_features BY NAME " + insert + "_stats", {**key, "run_id": run_id})
            con.execute("INSERT INTO outlet_windows BY NAME " + insert + "_windows", {**key, "run_id": run_id})
    finally:
        con.unregister("_stats")
        con.unregister("_windows")
