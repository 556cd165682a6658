"""`presstrust report`: a folder of self-contained HTML pages (inline SVG charts, no scripts, no network).

index.html has the score distribution, score against label and the table of outlets; outlets/<outlet>.html
has one outlet's "label" (score, interval, grade), the factors that add up to its score (the numbers of
`presstrust explain`, from jobs.outputs.explain.explain_outlet), its score history, the evidence sentences and its
uncorroborated stories. Article text is untrusted web content: every title, name and sentence is escaped.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from jobs.outputs.explain import explain_outlet
from jobs.outputs.report import pages
from jobs.outputs.report.charts import Point, Publication, score_distribution, score_history, score_vs_label

PER_FACTOR = 5
"""Articles shown behind each factor, per kind of flagged sentence and among the uncorroborated stories."""


@dataclass
class Report:
    pages: dict[str, str]  # relative path (index.html, outlets/<name>.html) -> HTML
    outlets: int
    plots: int


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _by_outlet(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        grouped[r["outlet"]].append(r)
    return grouped


_HISTORY = (
    "SELECT outlet, run_id, CAST(as_of AS VARCHAR) AS as_of, score, score_low, score_high "
    "FROM score_history ORDER BY outlet, run_id"
)
_FLAGGED_COUNTS = (
    "SELECT a.outlet, e.kind, count(*) AS n, count(DISTINCT e.article_id) AS articles "
    "FROM article_evidence e JOIN articles a ON a.article_id = e.article_id GROUP BY ALL ORDER BY ALL"
)
# the first sentence of each kind in each of the outlet's latest articles that have one
_FLAGGED = (
    "SELECT outlet, kind, article_id, cue, sentence, title, url FROM ("
    "  SELECT a.outlet, e.kind, a.article_id, arg_min(e.cue, e.cue_start) AS cue,"
    "    arg_min(e.sentence, e.cue_start) AS sentence, any_value(a.title) AS title, any_value(a.url) AS url,"
    "    row_number() OVER (PARTITION BY a.outlet, e.kind"
    "      ORDER BY any_value(a.published_at) DESC NULLS LAST, a.article_id) AS k"
    "  FROM article_evidence e JOIN articles a ON a.article_id = e.article_id"
    "  GROUP BY a.outlet, e.kind, a.article_id"
    ") WHERE k <= ? ORDER BY outlet, kind DESC, k"
)
_STORIES = (
    "SELECT outlet, count(*) FILTER (WHERE copy_of IS NULL) AS originals, "
    "count(*) FILTER (WHERE copy_of IS NULL AND n_corroborating_outlets = 0) AS uncorroborated "
    "FROM story_articles GROUP BY outlet"
)


@dataclass
class _OutletRows:
    """What the outlet pages show beside each outlet's explanation, read once for every outlet."""

    history: dict[str, list[dict[str, Any]]]
    flagged_counts: dict[str, list[dict[str, Any]]]
    flagged: dict[str, list[dict[str, Any]]]
    stories: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> _OutletRows:
        return cls(
            history=_by_outlet(_rows(con, _HISTORY)),
            flagged_counts=_by_outlet(_rows(con, _FLAGGED_COUNTS)),
            flagged=_by_outlet(_rows(con, _FLAGGED, [PER_FACTOR])),
            stories={r["outlet"]: r for r in _rows(con, _STORIES)},
        )


def build_report(con: duckdb.DuckDBPyConnection) -> Report:
    """The latest publication as HTML pages: an index with charts and the outlet table, and one page per outlet."""
    every = _rows(con, "SELECT * FROM latest_scores ORDER BY score DESC NULLS LAST, outlet")
    if not every:
        raise LookupError("nothing published yet: run `presstrust nightly` (or fit and score) first")
    context = _context(con, every)
    out, plots = _outlet_pages(con, context, every, _OutletRows.read(con))
    changes = {
        r["outlet"]: r for r in _rows(con, "SELECT outlet, change, outside_previous_interval FROM score_changes")
    }
    charts = _index_charts(every)
    out["index.html"] = pages.index_page(context, every, changes, charts)
    return Report(out, len(every), plots + charts.count)


def _context(con: duckdb.DuckDBPyConnection, every: list[dict[str, Any]]) -> pages.Context:
    """The publication every page names: its run, window, model, label file and cross-validated metrics."""
    first = every[0]
    model = _rows(con, "SELECT model_id, cv_metrics, label_file FROM models WHERE model_id = ?", [first["model_id"]])
    return pages.Context(
        run_id=first["run_id"],
        published_at=str(first["published_at"]),
        as_of=str(first["as_of"]),
        window_days=first["window_days"],
        model_id=first["model_id"],
        label_file=Path(model[0]["label_file"]).name if model else None,
        metrics=json.loads(model[0]["cv_metrics"]) if model else {},
        n_outlets=len(every),
    )


def _outlet_pages(
    con: duckdb.DuckDBPyConnection, context: pages.Context, every: list[dict[str, Any]], rows: _OutletRows
) -> tuple[dict[str, str], int]:
    """One page per outlet (by its relative path), and how many history charts they hold."""
    out: dict[str, str] = {}
    plots = 0
    for row in every:
        outlet = row["outlet"]
        explanation = explain_outlet(con, outlet, per_factor=PER_FACTOR)
        publications = [
            Publication(h["run_id"], h["as_of"], h["score"], h["score_low"], h["score_high"])
            for h in rows.history.get(outlet, [])
        ]
        chart = None
        if any(p.score is not None for p in publications):
            label = None if row["label_score"] is None else 100 * row["label_score"]
            chart = score_history(publications, label=label, outlet=outlet)
            plots += 1
        out[pages.outlet_path(outlet)] = pages.outlet_page(
            context,
            explanation,
            history_chart=chart,
            history=publications,
            flagged=rows.flagged.get(outlet, []),
            flagged_counts=rows.flagged_counts.get(outlet, []),
            stories=rows.stories.get(outlet),
        )
    return out, plots


def _index_charts(every: list[dict[str, Any]]) -> pages.IndexCharts:
    """The index's score distribution and score-against-label charts."""
    scored = [r for r in every if r["score"] is not None]  # unsupported_language outlets have no score
    labelled = [
        Point(
            r["outlet"],
            100 * r["label_score"],
            r["score"],
            r["score"] if r["score_low"] is None else r["score_low"],
            r["score"] if r["score_high"] is None else r["score_high"],
            r["grade"],
            pages.outlet_path(r["outlet"]),
        )
        for r in scored
        if r["label_score"] is not None
    ]
    return pages.IndexCharts(
        distribution=score_distribution([(r["score"], r["grade"]) for r in scored]) if scored else None,
        vs_label=score_vs_label(labelled) if labelled else None,
        scored=len(scored),
        labelled=len(labelled),
        # cross_fitted is null for rows published before migration 0008: training outlets scored in-sample
        out_of_fold=all(r.get("cross_fitted") is not None for r in scored if r["label_score"] is not None),
    )


class OutError(ValueError):
    """--out cannot take the report (a usage error): nothing was written."""


def out_problem(out: Path, *, force: bool) -> str | None:
    """Why `out` cannot take the report, or None: it must be absent, an empty folder, or (force) an old report.

    Checked before the build too, so that a wrong --out fails at once; anything else at `out` is never touched.
    """
    if out.is_dir() and not any(out.iterdir()):
        return None
    if out.exists() and not force:
        return f"{out} exists: pass --force to replace the report in it"
    if out.exists() and not (out.is_dir() and pages.is_report(out)):
        return f"{out} is not a presstrust report folder: it is never replaced, choose another --out"
    if not out.exists() and out.suffix.lower() in (".html", ".htm"):
        return f"--out is a folder (index.html and outlets/*.html go into it), not {out.name}"
    return None


def write_report(report: Report, out: Path, *, force: bool = False) -> None:
    """Write the pages into the folder `out`, replacing a previous report there as a whole (never half of one).

    The pages go into a sibling temporary folder first, which then takes the place of `out` by rename.
    """
    if problem := out_problem(out, force=force):
        raise OutError(problem)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.new-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for relative, html in report.pages.items():
            path = tmp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html, encoding="utf-8")
        if out.exists():
            out.rename(old)
        try:
            tmp.rename(out)
        except OSError:
            if old.exists():
                old.rename(out)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
