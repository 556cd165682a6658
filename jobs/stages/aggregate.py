"""`presstrust aggregate`: per-outlet feature statistics for an as-of date and a window.

Reads article_features joined to articles, keeps the window (jobs/stages/window.py), has the engine compute each
outlet's feature moments and window summary (`Engine.outlet_aggregates`), pools them over outlets
(`pooled_outlet_stats`) and replaces the (as_of, window_days, undated) partition of outlet_windows and
outlet_features in one transaction.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from features.aggregate import CORROBORATION_UNITS_SCHEMA, corroboration_units, pooled_outlet_stats
from features.claims import CLAIM_UNITS_SCHEMA, claim_units
from jobs.engines.base import Engine
from jobs.infra import paths
from jobs.readers.labels import load_labels
from jobs.readers.outlets import OutletResolver
from jobs.stages.window import NUMERIC_FEATURE_COLUMNS, window_features
from jobs.store.runs import failure_recorded, finish_run, start_run
from jobs.store.transactions import transaction

CORROBORATION_FEATURES = [c for c in CORROBORATION_UNITS_SCHEMA if c.endswith("_share")]
CLAIM_FEATURES = [c for c in CLAIM_UNITS_SCHEMA if c != "article_id"]
_CLAIMS = """
SELECT c.article_id, a.outlet, c.origin_outlet, c.unnamed, c.speculative, c.confirming_outlets_n
FROM claims c JOIN article_meta a USING (article_id)
"""


@functools.cache
def low_rated_outlets(labels: Path = paths.LABELS_FILE) -> frozenset[str]:
    """Outlets graded low in the label file (the shipped one by default): a claim traced to one of them counts
    in low_rated_origin_claim_share."""
    labelled = load_labels(labels, resolver=OutletResolver.default(labels=[labels]))
    return frozenset(labelled.filter(pl.col("label_grade") == "low")["outlet"].to_list())


def article_values(con: duckdb.DuckDBPyConnection, window: pl.LazyFrame) -> tuple[pl.LazyFrame, list[str]]:
    """One row per window article: outlet, published_at, language and the value of every aggregated feature
    (`article_level`'s, then the corroboration units of the clustered articles and the claim shares of the
    articles with claims, null for the others); and the names of those features."""
    values, names = article_level(window)
    clustered = (
        con.sql("SELECT * FROM story_articles")
        .pl()
        .lazy()
        .join(window.select("article_id"), on="article_id", how="semi")
    )
    units = corroboration_units(clustered).select("article_id", *CORROBORATION_FEATURES)
    claimed = con.sql(_CLAIMS).pl().lazy().join(window.select("article_id"), on="article_id", how="semi")
    claim_shares = claim_units(claimed, low_rated=low_rated_outlets())
    values = values.join(units, on="article_id", how="left").join(claim_shares, on="article_id", how="left")
    return values, [*names, *CORROBORATION_FEATURES, *CLAIM_FEATURES]


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
    engine: Engine,
) -> AggregateSummary:
    """Aggregate article features per outlet for the window; replace that window's rows.

    The engine computes the per-outlet moments and window summaries (each outlet's from its own rows); the
    pooling over outlets (`pooled_outlet_stats`, one row per outlet and feature) and the write stay here."""
    started = time.perf_counter()
    params = {"as_of": as_of, "window_days": window_days, "undated": undated, "engine": engine.name}
    run_id = start_run(con, "aggregate", params)
    with failure_recorded(con, run_id):
        window = window_features(con, as_of=as_of, window_days=window_days, undated=undated).lazy()
        values, names = article_values(con, window)
        moments, windows = engine.outlet_aggregates(con, values, features=names)
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
