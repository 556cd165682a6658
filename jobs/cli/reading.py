"""The reading commands: scores, runs, explain, explain-article, export, report and query. They read the published
snapshot (or a database given with --db) and never write it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import click

from jobs.cli.options import (
    db_option,
    format_option,
    logging_options,
    open_db,
    open_reader,
    reader_options,
    wide_option,
)
from jobs.infra.logs import report_summary


def _print(rows: list[dict[str, Any]], fmt: str, wide: bool) -> None:
    """Rows on stdout; a table fits the terminal's width (80 columns when stdout is not a terminal)."""
    from jobs.outputs.tables import TABLE_WIDTH, format_rows

    width = shutil.get_terminal_size((TABLE_WIDTH, 24)).columns if sys.stdout.isatty() else TABLE_WIDTH
    click.echo(format_rows(rows, fmt, wide=wide, width=width), nl=False)


@click.command()
@reader_options
@click.option("--outlet", multiple=True, help="Only these outlets (repeatable; a domain or URL).")
@format_option
@wide_option
@logging_options
def scores(db_path: Path, snapshot: Path | None, outlet: tuple[str, ...], fmt: str, wide: bool) -> None:
    """The latest published scores: score, ~90% interval (low, high), label, grade, status, both layers.

    Scores, interval bounds, labels and both layers are on one 0-100 scale. Grades are withheld (empty) for
    insufficient_data (too few English articles) and unsupported_language (no score either);
    grade_confidence is uncertain when the interval spans another grade.

    Example:

        presstrust scores --outlet nytimes.com --format json
    """
    from jobs.outputs.tables import latest_scores
    from jobs.readers.outlets import normalize_host

    wanted = [normalize_host(o) or o for o in outlet]
    _print(latest_scores(open_reader(db_path, snapshot), wanted), fmt, wide)


@click.command()
@db_option
@click.option("--job", default=None, help="Only runs of this job (ingest, featurize, nightly, ...).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most recent runs shown.")
@format_option
@wide_option
@logging_options
def runs(db_path: Path, job: str | None, limit: int, fmt: str, wide: bool) -> None:
    """Recent runs: job, status, duration, code version, counts (with any warnings) and error.

    Example:

        presstrust runs --job nightly --limit 5
    """
    from jobs.outputs.tables import recent_runs

    _print(recent_runs(open_db(db_path, read_only=True), job, limit), fmt, wide)


@click.command()
@click.argument("outlet")
@reader_options
@logging_options
def explain(outlet: str, db_path: Path, snapshot: Path | None) -> None:
    """Why an outlet scored as it did: interval, grade, factors, and the sentences and stories behind them.

    OUTLET is a domain or a URL (canonicalised like articles).

    Example:

        presstrust explain foxnews.com
    """
    from rich.console import Console

    from jobs.outputs.explain import NotFound, explain_outlet, render_outlet
    from jobs.readers.outlets import OutletResolver

    key = OutletResolver.default().resolve(outlet) or outlet
    with open_reader(db_path, snapshot) as con:
        try:
            explanation = explain_outlet(con, key)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    Console(highlight=False, soft_wrap=True).print(render_outlet(explanation))


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
@logging_options
def export_command(db_path: Path, snapshot: Path | None, fmt: str, out: Path) -> None:
    """Export every public table and view (articles, features, stories, scores, runs, ...) with a schema file.

    Example:

        presstrust export --format parquet --out exports/2026-11-25
    """
    from jobs.outputs.export import export

    with open_reader(db_path, snapshot) as con:
        result = export(con, out, fmt=fmt)
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
def report(db_path: Path, snapshot: Path | None, out: Path, force: bool) -> None:
    """Self-contained HTML pages of the latest publication: an index with charts and the outlet table, and one
    page per outlet (score, factors, history, evidence); no scripts, viewable offline.

    Example:

        presstrust report --out report/ && xdg-open report/index.html
    """
    from jobs.outputs.report import build_report, out_problem, write_report

    if problem := out_problem(out, force=force):
        raise click.UsageError(problem)
    with open_reader(db_path, snapshot) as con:
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
def explain_article_command(article_id: str, db_path: Path, snapshot: Path | None, color: bool | None) -> None:
    """Print an article with its unnamed-source and speculation evidence highlighted.

    ARTICLE_ID is the articles.article_id or the corpus's own id. Without colour, cues are marked
    [UNNAMED: ...] and [SPECULATION: ...].

    Example:

        presstrust explain-article seed-000-8c9f463cf267f3af
    """
    from rich.console import Console

    from jobs.outputs.explain import NotFound, explain_article, render_article

    with open_reader(db_path, snapshot) as con:
        try:
            explanation = explain_article(con, article_id)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    console = Console(force_terminal=color, no_color=color is False, highlight=False, soft_wrap=True)
    console.print(render_article(explanation, color=console.is_terminal and not console.no_color))


@click.command()
@click.argument("sql")
@reader_options
@format_option
@wide_option
@logging_options
def query(sql: str, db_path: Path, snapshot: Path | None, fmt: str, wide: bool) -> None:
    """Run SQL on the published snapshot (read-only; no DuckDB CLI needed) and print the result.

    Tables and columns: docs/schema.md, or `presstrust query "describe articles"`.

    Example:

        presstrust query "select outlet, score, grade from latest_scores order by score desc limit 10"
    """
    import duckdb

    from jobs.outputs.tables import query_rows
    from jobs.store.errors import is_database_fault

    con = open_reader(db_path, snapshot)
    try:
        rows = query_rows(con, sql, [])
    except duckdb.Error as exc:
        if is_database_fault(exc):
            raise
        raise click.ClickException(str(exc)) from exc
    _print(rows, fmt, wide)


COMMANDS = (scores, runs, explain, export_command, report, explain_article_command, query)
