"""`presstrust featurize`: per-article features, evidence and removed boilerplate, incrementally.

Only articles that are new, whose content changed (articles.content_hash differs from the one the
features were computed from) or whose feature version changed are computed. Each batch replaces
its articles' rows in article_features, article_evidence and boilerplate_removed in one transaction.

Boilerplate (lines an outlet repeats) is learned per outlet from its `history` most recent articles
(all of them, not only the ones being computed), so a single new article still has its outlet's
page template removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import polars as pl

from features.boilerplate import repeated_lines
from features.lexicons import Lexicons, load_lexicons
from features.pipeline import feature_version
from jobs.engines.base import Engine, FeatureBatch
from jobs.infra.clock import now_utc
from jobs.infra.failpoints import failpoint
from jobs.store.runs import failure_recorded, finish_run, start_run
from jobs.store.texts import read_texts
from jobs.store.transactions import transaction

log = logging.getLogger(__name__)

_TODO = """
SELECT a.article_id, a.outlet
FROM article_meta a LEFT JOIN article_features f ON f.article_id = a.article_id
WHERE $force OR f.article_id IS NULL OR f.content_hash <> a.content_hash OR f.feature_version <> $version
ORDER BY a.article_id
"""

_HISTORY = """
SELECT article_id FROM (
    SELECT m.article_id, row_number() OVER (
        PARTITION BY m.outlet ORDER BY m.published_at DESC NULLS LAST, m.article_id) AS recent_no
    FROM article_meta m SEMI JOIN _outlets o ON o.outlet = m.outlet
) WHERE recent_no <= $history
"""


@dataclass
class FeaturizeSummary:
    run_id: int
    todo: int
    computed: int
    evidence_rows: int
    removed_lines: int
    outlets: int
    feature_version: str
    seconds: float

    @property
    def counts(self) -> dict[str, int | str]:
        return {
            "articles_todo": self.todo,
            "articles_computed": self.computed,
            "evidence_rows": self.evidence_rows,
            "removed_lines": self.removed_lines,
            "outlets": self.outlets,
            "feature_version": self.feature_version,
        }

    def line(self) -> str:
        return (
            f"featurize run {self.run_id}: {self.computed} of {self.todo} articles to do computed "
            f"({self.outlets} outlets), {self.evidence_rows} evidence rows, {self.removed_lines} boilerplate lines "
            f"removed, feature version {self.feature_version}, in {self.seconds:.1f}s"
        )


def _outlet_boilerplate(
    con: duckdb.DuckDBPyConnection, outlets: list[str], *, history: int, run_id: int
) -> pl.DataFrame:
    """Learn each outlet's repeated lines from its recent articles and store them (replacing earlier ones)."""
    con.register("_outlets", pl.DataFrame({"outlet": outlets}, schema={"outlet": pl.String}).to_arrow())
    try:
        recent_ids = con.sql(_HISTORY, params={"history": history}).pl().get_column("article_id")
    finally:
        con.unregister("_outlets")
    recent = read_texts(con, recent_ids, columns=("outlet", "title", "authors"))
    lines = repeated_lines(recent.lazy()).collect()
    try:
        with transaction(con):
            con.register("_lines", lines.with_columns(run_id=pl.lit(run_id, dtype=pl.Int64)).to_arrow())
            con.execute("DELETE FROM outlet_boilerplate WHERE list_contains($outlets, outlet)", {"outlets": outlets})
            con.execute("INSERT INTO outlet_boilerplate BY NAME SELECT * FROM _lines")
    finally:
        con.unregister("_lines")
    return lines


def _write_batch(
    con: duckdb.DuckDBPyConnection,
    ids: pl.DataFrame,
    features: pl.DataFrame,
    evidence: pl.DataFrame,
    removed: pl.DataFrame,
    *,
    run_id: int,
    version: str,
) -> None:
    now = now_utc()
    try:
        with transaction(con):
            con.register("_ids", ids.select("article_id").to_arrow())
            con.register("_features", features.to_arrow())
            con.register("_evidence", evidence.to_arrow())
            con.register("_removed", removed.rename({"start": "line_start", "end": "line_end"}).to_arrow())
            for table in ("article_features", "article_evidence", "boilerplate_removed"):
                con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM _ids)")  # noqa: S608 - fixed names
            con.execute(
                "INSERT INTO article_features BY NAME "
                "SELECT f.*, a.content_hash, $version AS feature_version, $run_id AS run_id, $now AS computed_at "
                "FROM _features f JOIN article_meta a ON a.article_id = f.article_id",
                {"version": version, "run_id": run_id, "now": now},
            )
            con.execute(
                "INSERT INTO article_evidence BY NAME SELECT *, $run_id AS run_id FROM _evidence", {"run_id": run_id}
            )
            con.execute(
                "INSERT INTO boilerplate_removed BY NAME SELECT *, $run_id AS run_id FROM _removed", {"run_id": run_id}
            )
            failpoint("featurize.before_commit")
    finally:
        for name in ("_ids", "_features", "_evidence", "_removed"):
            con.unregister(name)


def featurize(
    con: duckdb.DuckDBPyConnection,
    *,
    batch_size: int = 20_000,
    history: int = 500,
    force: bool = False,
    engine: Engine,
    lexicons: Lexicons | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> FeaturizeSummary:
    """Compute features for every article that needs them (on the engine); write them here; record the run."""
    started = time.perf_counter()
    lexicons = lexicons or load_lexicons()
    version = feature_version(lexicons)
    run_id = start_run(
        con,
        "featurize",
        {
            "batch_size": batch_size,
            "history": history,
            "force": force,
            "feature_version": version,
            "engine": engine.name,
            "workers": engine.workers,
        },
    )
    summary = FeaturizeSummary(run_id, 0, 0, 0, 0, 0, version, 0.0)
    with failure_recorded(con, run_id, lambda: summary.counts):
        todo = con.sql(_TODO, params={"force": force, "version": version}).pl()
        summary.todo = todo.height
        outlets = sorted(todo.get_column("outlet").unique().to_list())
        summary.outlets = len(outlets)
        batches: Iterator[FeatureBatch] = iter(())
        if outlets:
            boilerplate = _outlet_boilerplate(con, outlets, history=history, run_id=run_id)
            batches = engine.featurize_batches(
                con, todo, boilerplate=boilerplate, lexicons=lexicons, batch_size=batch_size
            )
        for ids, features, evidence, removed in batches:
            _write_batch(con, ids, features, evidence, removed, run_id=run_id, version=version)
            summary.computed += features.height
            summary.evidence_rows += evidence.height
            summary.removed_lines += removed.height
            log.debug("featurize: %d of %d articles written", summary.computed, summary.todo)
            on_progress(summary.computed, summary.todo)
    summary.seconds = time.perf_counter() - started
    finish_run(con, run_id, status="ok", counts=summary.counts)
    return summary
