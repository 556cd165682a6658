"""The reading commands: scores, runs, explain, explain-article, export, report and query. They read the published
snapshot of --db (or --snapshot), with or without --db on the command line, and never write it; --live reads the
working database instead."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from jobs.cli.options import (
    escape_formulas_option,
    format_option,
    logging_options,
    open_reader,
    reader_options,
    wide_option,
)
from jobs.infra.exits import EXIT_USAGE
from jobs.infra.logs import report_summary

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)


JOBS = ("nightly", "ingest", "featurize", "corroborate", "aggregate", "fit", "score")  # the jobs `runs` records


class BadSQL(click.ClickException):
    """The SQL given to `query` is empty or DuckDB refused it: one line, exit 2 (a usage error)."""

    exit_code = EXIT_USAGE


def _print(relation: duckdb.DuckDBPyRelation, fmt: str, wide: bool, escape_formulas: bool = True) -> int:
    """Rows on stdout, streamed for CSV and JSON; a table fits the terminal's width (80 columns when stdout is not a
    terminal). Returns the number of rows."""
    from jobs.outputs.tables import TABLE_WIDTH, write_rows

    width = shutil.get_terminal_size((TABLE_WIDTH, 24)).columns if sys.stdout.isatty() else TABLE_WIDTH
    return write_rows(
        relation,
        fmt,
        lambda text: click.echo(text, nl=False),
        escape_formulas=escape_formulas,
        wide=wide,
        width=width,
    )


@click.command()
@reader_options
@click.option("--outlet", multiple=True, help="Only these outlets (repeatable; a domain or URL).")
@format_option
@wide_option
@escape_formulas_option
@logging_options
def scores(
    db_path: Path,
    snapshot: Path | None,
    live: bool,
    outlet: tuple[str, ...],
    fmt: str,
    wide: bool,
    escape_formulas: bool,
) -> None:
    """The latest published scores: score, ~90% interval (low, high), label, grade, status, both layers.

    Scores, interval bounds, labels and both layers are on one 0-100 scale. Grades are withheld (empty) for
    insufficient_data (too few English articles) and unsupported_language (no score either);
    grade_confidence is uncertain when the interval spans another grade. An --outlet with no published score is
    named on stderr (exit 1).

    Example:

        presstrust scores --outlet nytimes.com --format json
    """
    from jobs.outputs.tables import latest_scores, missing_outlets
    from jobs.readers.outlets import normalize_host

    wanted = [normalize_host(o) or o for o in outlet]
    with open_reader(db_path, snapshot, live) as con:
        missing = missing_outlets(con, wanted)
        if not missing or len(missing) < len(set(wanted)):
            _print(latest_scores(con, wanted), fmt, wide, escape_formulas)
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise click.ClickException(f"no published score for outlet {names} (see `presstrust scores`)")


@click.command()
@reader_options
@click.option(
    "--job",
    type=click.Choice(JOBS),
    default=None,
    help="Only runs of this job.",
)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most recent runs shown.")
@format_option
@wide_option
@escape_formulas_option
@logging_options
def runs(
    db_path: Path,
    snapshot: Path | None,
    live: bool,
    job: str | None,
    limit: int,
    fmt: str,
    wide: bool,
    escape_formulas: bool,
) -> None:
    """Recent runs: job, status, duration, code version, counts (with any warnings) and error.

    Like every reading command it reads the published snapshot, so it works while a nightly runs: it shows the
    runs up to the last publication and, first, the run in progress (job, start, seconds so far, pid and host:
    from the run lock, <db>.lock; its stages' rows appear after it publishes). --live reads the working database
    (every run, published or not) when no job holds it.

    Example:

        presstrust runs --job nightly --limit 5
    """
    from jobs.outputs.tables import recent_runs

    in_progress = _in_progress(db_path) if snapshot is None and not live else None
    with open_reader(db_path, snapshot, live) as con:
        _print(recent_runs(con, job, limit, in_progress), fmt, wide, escape_formulas)
    if in_progress is None and not live:
        _note_unpublished(db_path, snapshot)


def _in_progress(db_path: Path) -> Any:
    """The run that holds the database's run lock now (the nightly, or a publish), from the lock's record."""
    from datetime import datetime

    from jobs.infra.clock import now_utc
    from jobs.outputs.tables import InProgress
    from jobs.store.lock import holder

    record = holder(db_path)
    if record is None:
        return None
    try:
        started = datetime.fromisoformat(str(record.get("started_at")))
    except ValueError:
        started = now_utc()
    details: dict[str, Any] = {k: record[k] for k in ("pid", "host") if k in record}
    return InProgress(str(record.get("job") or "run"), started, now_utc(), details)


def _note_unpublished(db_path: Path, snapshot: Path | None) -> None:
    """Say so when the working database changed after its snapshot was published (a job ran since)."""
    from jobs.store.snapshot import snapshot_path

    path = snapshot or snapshot_path(db_path)
    try:
        newer = Path(db_path).stat().st_mtime > path.stat().st_mtime
    except OSError:
        return
    if newer:
        log.info("%s changed after its snapshot was published: runs since then are shown with --live", db_path)


@click.command()
@click.argument("outlet")
@reader_options
@logging_options
def explain(outlet: str, db_path: Path, snapshot: Path | None, live: bool) -> None:
    """Why an outlet scored as it did: interval, grade, factors, and the sentences and stories behind them.

    OUTLET is a domain or a URL (canonicalised like articles).

    Example:

        presstrust explain foxnews.com
    """
    from rich.console import Console

    from jobs.outputs.explain import NotFound, explain_outlet, render_outlet
    from jobs.readers.outlets import OutletResolver

    key = OutletResolver.default().resolve(outlet) or outlet
    with open_reader(db_path, snapshot, live) as con:
        try:
            explanation = explain_outlet(con, key)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    Console(highlight=False, width=_text_width()).print(render_outlet(explanation))


def _text_width() -> int:
    """Explanations wrap at the terminal's width, or at 80 columns (or $COLUMNS) when stdout is not a terminal."""
    from jobs.outputs.tables import TABLE_WIDTH

    return shutil.get_terminal_size((TABLE_WIDTH, 24)).columns


@click.command("export")
@reader_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="File format of the exported tables.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write <table>.<format>, schema.json and SCHEMA.md into.",
)
@escape_formulas_option
@logging_options
def export_command(
    db_path: Path, snapshot: Path | None, live: bool, fmt: str, out: Path, escape_formulas: bool
) -> None:
    """Export every public table and view (articles, features, stories, scores, runs, ...) with a schema file.

    Example:

        presstrust export --format parquet --out exports/2026-11-25
    """
    from jobs.outputs.export import export

    with open_reader(db_path, snapshot, live) as con:
        result = export(con, out, fmt=fmt, escape_formulas=escape_formulas)
    report_summary(result.line(), out=str(out))


@click.command()
@reader_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    metavar="FOLDER",
    help="Folder to write index.html and outlets/<outlet>.html into (absent or empty).",
)
@click.option("--force", is_flag=True, help="Replace the report already in --out (never anything else).")
@logging_options
def report(db_path: Path, snapshot: Path | None, live: bool, out: Path, force: bool) -> None:
    """Self-contained HTML pages of the latest publication: an index with charts and the outlet table, and one
    page per outlet (score, factors, history, evidence); no scripts, viewable offline.

    Example:

        presstrust report --out report/ && xdg-open report/index.html
    """
    from jobs.outputs.report import build_report, out_problem, write_report

    if problem := out_problem(out, force=force):
        raise click.UsageError(problem)
    with open_reader(db_path, snapshot, live) as con:
        try:
            result = build_report(con)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    write_report(result, out, force=force)
    report_summary(
        f"wrote {out / 'index.html'} and {result.outlets} outlet pages ({result.plots} charts)", out=str(out)
    )


@click.command("explain-article")
@click.argument("article_id")
@reader_options
@click.option("--color/--no-color", default=None, help="Highlight with colour (default: when stdout is a terminal).")
@logging_options
def explain_article_command(
    article_id: str, db_path: Path, snapshot: Path | None, live: bool, color: bool | None
) -> None:
    """Print an article with its unnamed-source and speculation evidence highlighted.

    ARTICLE_ID is the articles.article_id or the corpus's own id. Without colour, cues are marked
    [UNNAMED: ...] and [SPECULATION: ...].

    Example:

        presstrust explain-article seed-000-8c9f463cf267f3af
    """
    from rich.console import Console

    from jobs.outputs.explain import NotFound, explain_article, render_article

    with open_reader(db_path, snapshot, live) as con:
        try:
            explanation = explain_article(con, article_id)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    console = Console(force_terminal=color, no_color=color is False, highlight=False, width=_text_width())
    console.print(render_article(explanation, color=console.is_terminal and not console.no_color))


@click.command()
@click.argument("sql")
@reader_options
@format_option
@wide_option
@escape_formulas_option
@logging_options
def query(
    sql: str, db_path: Path, snapshot: Path | None, live: bool, fmt: str, wide: bool, escape_formulas: bool
) -> None:
    """Run SQL on the published snapshot (read-only; no DuckDB CLI needed) and print the result.

    Tables and columns: docs/schema.md, or `presstrust query "describe articles"`. CSV and JSON stream every row
    at flat memory; a table shows the first 1,000 rows and says so when there are more.

    Example:

        presstrust query "select outlet, score, grade from latest_scores order by score desc limit 10"
    """
    import duckdb

    from jobs.outputs.tables import statement
    from jobs.store.errors import is_database_fault

    if not sql.strip():
        raise BadSQL('no SQL given: e.g. presstrust query "describe articles" (tables: docs/schema.md)')
    with open_reader(db_path, snapshot, live) as con:
        try:
            relation = statement(con, sql)
            if relation is not None:
                _print(relation, fmt, wide, escape_formulas)
        except duckdb.Error as exc:
            if is_database_fault(exc):
                raise
            raise BadSQL(_one_line(exc)) from exc


def _one_line(exc: BaseException) -> str:
    """DuckDB's error as one line: its message and hints, without the quoted query and its caret line."""
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = [line for line in lines if line and not line.startswith("LINE ") and set(line) - {"^", " "}]
    return " ".join(kept) or type(exc).__name__


COMMANDS = (scores, runs, explain, export_command, report, explain_article_command, query)
