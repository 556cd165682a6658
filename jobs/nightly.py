"""`presstrust nightly`: the cron job. One lock per database, every stage recorded, publish last.

Stages: ingest -> featurize -> corroborate -> aggregate -> fit (when needed) -> score (publishes).
Each stage is its own job with its own `runs` row; the nightly run's row lists the stages with their
counts and seconds. Whatever is killed, only the publishing transaction changes the database's published
tables, and researchers read the snapshot (jobs/snapshot.py), which is replaced by a rename after the run.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from jobs.db import connect
from jobs.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from jobs.lock import RunLock
from jobs.runs import failure_recorded, finish_run, start_run
from jobs.snapshot import publish
from jobs.terminal import advance, progress

log = logging.getLogger(__name__)

__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "NightlyOptions", "nightly"]


@dataclass
class NightlyOptions:
    db_path: Path
    corpus: list[str]
    labels: Path
    as_of: date
    window_days: int = 365
    undated: str = "include"
    refit: bool = False
    min_articles: int = 20
    text_source: str = "body"
    allow_shrink: bool = False
    engine: str = (
        "local"  # "spark": ingest, featurize, corroborate and aggregate run as Spark jobs (jobs/spark_engine.py)
    )
    spark_master: str | None = None


@dataclass
class StageResult:
    stage: str
    seconds: float
    counts: dict[str, Any]
    line: str


@dataclass
class NightlySummary:
    run_id: int
    stages: list[StageResult] = field(default_factory=list)
    partial: bool = False
    published: bool = False
    snapshot: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.partial else EXIT_OK


Stage = Callable[[duckdb.DuckDBPyConnection, NightlyOptions], tuple[dict[str, Any], str, bool]]


def _ingest(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    from jobs.ingest import IngestOptions, ingest

    summary = ingest(
        con, o.corpus, options=IngestOptions(), resolver=_resolver(o), engine=o.engine, spark_master=o.spark_master
    )
    return summary.counts, summary.line(), not summary.ok


def _featurize(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    from jobs.featurize import featurize

    summary = featurize(con, on_progress=advance, engine=o.engine, spark_master=o.spark_master)
    return dict(summary.counts), summary.line(), False


def _corroborate(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    from jobs.corroborate import corroborate

    summary = corroborate(con, engine=o.engine, spark_master=o.spark_master)
    return dict(summary.counts), summary.line(), False


def _aggregate(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    from jobs.aggregate import aggregate

    summary = aggregate(
        con, as_of=o.as_of, window_days=o.window_days, undated=o.undated, engine=o.engine, spark_master=o.spark_master
    )
    return dict(summary.counts), summary.line(), False


def _resolver(o: NightlyOptions) -> Any:
    """The outlet resolver of the label file, built once per file version (ingest, fit and score share it)."""
    try:
        stat = o.labels.stat()
        version: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = None
    return _resolver_of(o.labels, version)


@functools.lru_cache(maxsize=2)
def _resolver_of(labels: Path, version: tuple[int, int] | None) -> Any:
    from jobs.outlets import OutletResolver

    return OutletResolver.default(labels=[labels])


def _fit(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    from jobs.aggregate import feature_versions
    from jobs.score import fit, needs_refit

    reason = (
        "--refit"
        if o.refit
        else needs_refit(
            con,
            labels_path=o.labels,
            feature_version=feature_versions(con),
            min_articles=o.min_articles,
            text_source=o.text_source,
        )
    )
    if reason is None:
        return {"refit": False}, "fit skipped: the latest model is current (labels, features and code unchanged)", False
    summary = fit(
        con,
        labels_path=o.labels,
        resolver=_resolver(o),
        as_of=o.as_of,
        window_days=o.window_days,
        undated=o.undated,
        min_articles=o.min_articles,
        text_source=o.text_source,
    )
    counts = {"refit": True, "reason": reason, "model_id": summary.model_id, **summary.metrics}
    return {**counts, "warnings": summary.warnings}, summary.line(), False


def _score(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    from jobs.score import score

    summary = score(
        con,
        as_of=o.as_of,
        window_days=o.window_days,
        undated=o.undated,
        resolver=_resolver(o),
        allow_shrink=o.allow_shrink,
    )
    moved = con.execute(
        "SELECT outlet, previous_score, score FROM score_changes WHERE outside_previous_interval "
        "ORDER BY abs(change) DESC, outlet"
    ).fetchall()
    shown = ", ".join(f"{o} {p:.1f}->{n:.1f}" for o, p, n in moved[:10]) + (", ..." if len(moved) > 10 else "")
    line = (
        summary.line()
        + f"; {len(moved)} outlets moved outside their previous interval"
        + (f": {shown}" if moved else "")
    )
    counts = {
        "outlets": summary.outlets,
        "model_id": summary.model_id,
        "moved_outside_interval": [o for o, _, _ in moved],
    }
    return counts, line, False


STAGES: list[tuple[str, Stage]] = [
    ("ingest", _ingest),
    ("featurize", _featurize),
    ("corroborate", _corroborate),
    ("aggregate", _aggregate),
    ("fit", _fit),
    ("score", _score),
]


def nightly(options: NightlyOptions) -> NightlySummary:
    """Run every stage under the database's lock; raises LockHeld when another run has it."""
    with RunLock(options.db_path):
        con = connect(options.db_path)
        try:
            run_id = start_run(con, "nightly", {k: str(v) for k, v in asdict(options).items()})
            summary = NightlySummary(run_id)
            with failure_recorded(con, run_id, lambda: _counts(summary)):
                for name, stage in STAGES:
                    started = time.perf_counter()
                    with progress(name):  # shown on a terminal only; the stage reports rows of total
                        counts, line, partial = stage(con, options)
                    result = StageResult(name, round(time.perf_counter() - started, 2), counts, line)
                    summary.stages.append(result)
                    summary.partial |= partial
                    log.info("stage %s: %s", name, line, extra={"fields": {"stage": name, **asdict(result)}})
                con.execute("CHECKPOINT")  # the snapshot copies the main file: all committed data must be in it
            finish_run(con, run_id, status="partial" if summary.partial else "ok", counts=_counts(summary))
        finally:
            con.close()
        published = publish(options.db_path)  # closed above, so checkpointed: readers switch to it atomically
        summary.snapshot = published.path
        log.info(
            "stage publish: %s",
            published.line(),
            extra={"fields": {"stage": "publish", "snapshot": str(published.path), "seconds": published.seconds}},
        )
        return summary


def _counts(summary: NightlySummary) -> dict[str, Any]:
    return {s.stage: {"seconds": s.seconds, **s.counts} for s in summary.stages}
