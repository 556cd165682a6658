"""`presstrust nightly`: the cron job. One lock per database, every stage recorded, publish last.

Stages: ingest -> featurize -> corroborate -> claims -> aggregate -> fit (when needed) -> score -> publish.
Each stage is its own job with its own `runs` row; the nightly run's row lists the stages with their
counts and seconds. Whatever is killed, only the score stage's transaction changes the tables readers are
shown (`latest_scores`), and readers query the snapshot (jobs/store/snapshot.py), which the last step
replaces by a rename after the run.
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

from jobs.engines.base import Engine
from jobs.infra.exits import EXIT_OK, EXIT_PARTIAL, interruption, shielded
from jobs.infra.terminal import advance, progress
from jobs.readers.labels import check_label_file
from jobs.readers.outlets import OutletResolver
from jobs.stages.aggregate import aggregate
from jobs.stages.claims import claims
from jobs.stages.corroborate import corroborate
from jobs.stages.featurize import featurize
from jobs.stages.fit import DEFAULT_MIN_CV_SPEARMAN, check_model_strength, fit, needs_refit
from jobs.stages.ingest import IngestOptions, ingest
from jobs.stages.score import score
from jobs.stages.window import feature_versions
from jobs.store.connection import connect
from jobs.store.errors import DatabaseError
from jobs.store.lock import RunLock
from jobs.store.runs import ABANDONED, close_abandoned, error_text, failure_recorded, finish_run, start_run
from jobs.store.snapshot import replace_snapshot

log = logging.getLogger(__name__)


@dataclass
class NightlyOptions:
    db_path: Path
    corpus: list[str]
    labels: Path
    as_of: date
    engine: Engine  # where ingest, featurize, corroborate, claim extraction and aggregate run (get_engine)
    window_days: int = 365
    undated: str = "include"
    refit: bool = False
    min_articles: int = 20
    text_source: str = "body"
    allow_shrink: bool = False
    min_cv_spearman: float = DEFAULT_MIN_CV_SPEARMAN  # the floor a model must reach to publish (WeakModel)
    allow_weak_model: bool = False  # publish a model below that floor anyway (a warning)
    claims: bool = True  # the claims stage (--no-claims skips it: it costs ~6x featurize per new article)

    def parameters(self) -> dict[str, str]:
        """What the nightly's `runs` row records: every option as text, the engine by name and master."""
        values = {k: v for k, v in vars(self).items() if k != "engine"}
        values.update(engine=self.engine.name, spark_master=self.engine.master)
        return {k: str(v) for k, v in values.items()}


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
    snapshot: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.partial else EXIT_OK


Stage = Callable[[duckdb.DuckDBPyConnection, NightlyOptions], tuple[dict[str, Any], str, bool]]


def _ingest(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    summary = ingest(con, o.corpus, options=IngestOptions(), resolver=_resolver(o), engine=o.engine)
    return summary.counts, summary.line(), not summary.ok


def _featurize(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    summary = featurize(con, on_progress=advance, engine=o.engine)
    return dict(summary.counts), summary.line(), False


def _corroborate(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    summary = corroborate(con, engine=o.engine)
    return dict(summary.counts), summary.line(), False


def _claims(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    if not o.claims:
        return {"skipped": True}, "claims skipped (--no-claims): the claims of new articles are not traced", False
    summary = claims(con, engine=o.engine)
    return dict(summary.counts), summary.line(), False


def _aggregate(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
    summary = aggregate(con, as_of=o.as_of, window_days=o.window_days, undated=o.undated, engine=o.engine)
    return dict(summary.counts), summary.line(), False


def _resolver(o: NightlyOptions) -> OutletResolver:
    """The outlet resolver of the label file, built once per file version (ingest, fit and score share it)."""
    try:
        stat = o.labels.stat()
        version: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = None
    return _resolver_of(o.labels, version)


@functools.lru_cache(maxsize=2)
def _resolver_of(labels: Path, version: tuple[int, int] | None) -> OutletResolver:
    return OutletResolver.default(labels=[labels])


def _fit(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
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
        counts: dict[str, Any] = {"refit": False}
        line = "fit skipped: the latest model is current (labels, features and code unchanged)"
    else:
        counts, line = _refit(con, o, reason)
    weak = check_model_strength(con, floor=o.min_cv_spearman, allow_weak=o.allow_weak_model)  # WeakModel: no score
    if weak:
        counts["weak_model"] = weak
        line += f"; WARNING: {weak}: published anyway (--allow-weak-model)"
    return counts, line, False


def _refit(con: duckdb.DuckDBPyConnection, o: NightlyOptions, reason: str) -> tuple[dict[str, Any], str]:
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
    return {**counts, "labels": summary.labels, "warnings": summary.warnings}, summary.line()


def _score(con: duckdb.DuckDBPyConnection, o: NightlyOptions) -> tuple[dict[str, Any], str, bool]:
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
    ("claims", _claims),
    ("aggregate", _aggregate),
    ("fit", _fit),
    ("score", _score),
]


def nightly(options: NightlyOptions) -> NightlySummary:
    """Run every stage under the database's lock, then publish; raises LockHeld when another run has it,
    LabelFileError (before anything runs) when the label file cannot be used, TooFewOutlets and WeakModel from the
    fit stage.

    The nightly's `runs` row, and every stage's, ends `ok`/`partial`, `failed` or `interrupted` whatever stops
    the run: a stage's row its stage left open is closed with the nightly's; a publish that fails reopens the
    database to record it; a run that could not record its end at all (the disk full) is closed as failed by
    the next nightly (jobs.store.runs.close_abandoned)."""
    check_label_file(options.labels)
    with RunLock(options.db_path, job="nightly"):
        summary = _run_stages(options)
        try:
            published = replace_snapshot(options.db_path)  # closed, so checkpointed: readers switch atomically
        except BaseException as exc:
            _record_unpublished(options.db_path, summary, exc)
            interrupted = interruption(exc)
            if interrupted is not None and interrupted is not exc:
                raise interrupted from exc
            raise
        summary.snapshot = published.path
        log.info(
            "stage publish: %s",
            published.line(),
            extra={"fields": {"stage": "publish", "snapshot": str(published.path), "seconds": published.seconds}},
        )
        return summary


def _run_stages(options: NightlyOptions) -> NightlySummary:
    """Open the database, record the nightly's run, run the stages, checkpoint and close the run's row."""
    con = connect(options.db_path)
    try:
        run_id = start_run(con, "nightly", options.parameters())
        summary = NightlySummary(run_id)
        with failure_recorded(con, run_id, lambda: _counts(summary), with_later_runs=True):
            abandoned = close_abandoned(con, run_id)
            if abandoned:
                log.warning("closed %d earlier run(s) still marked running as failed: %s", abandoned, ABANDONED)
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
    return summary


def _record_unpublished(db_path: Path, summary: NightlySummary, exc: BaseException) -> None:
    """The publish failed or was interrupted after the run's row was closed: reopen the database and record it.
    (A publish on a full disk removes its partial copy first, so the one-row update has room.) When even that
    fails, the error says so in a note."""
    status = "interrupted" if interruption(exc) is not None else "failed"
    try:
        with shielded():
            con = connect(db_path, migrate=False)
            try:
                finish_run(con, summary.run_id, status=status, counts=_counts(summary), error=error_text(exc))
            finally:
                con.close()
    except (DatabaseError, duckdb.Error, OSError) as bookkeeping:
        exc.add_note(f"(recording the run as {status} failed too: {bookkeeping})")


def _counts(summary: NightlySummary) -> dict[str, Any]:
    return {s.stage: {"seconds": s.seconds, **s.counts} for s in summary.stages}
