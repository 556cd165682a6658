"""The options several commands share, declared once (like sqlite-utils' decorators), and how a command opens its
database. Every option has an environment variable; `logging_options` goes on every command."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from jobs.infra import paths
from jobs.infra.clock import now_utc
from jobs.infra.exits import EXIT_USAGE
from jobs.infra.logs import report_error, report_summary, setup_logging

if TYPE_CHECKING:
    import duckdb

F = Callable[..., Any]
# Only infrastructure is imported when the CLI loads (`presstrust --help` in ~0.1 s): each command imports what it
# runs (stages, engines, outputs, and with them polars, scikit-learn, matplotlib) when it runs.

MIN_CV_SPEARMAN = 0.2  # = jobs.stages.fit.DEFAULT_MIN_CV_SPEARMAN (a test keeps them equal; no stage import here)
MAX_WINDOW_DAYS = 36_500  # a century: longer windows overflow dates and mean nothing
DB_KEY = "presstrust.db"  # ctx.meta: the database a command opened, named in a database fault's message


def db_option(f: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=paths.DEFAULT_DB,
        show_default=True,
        envvar="PRESSTRUST_DB",
        help="DuckDB database file (env PRESSTRUST_DB).",
    )(f)


def reader_options(f: F) -> F:
    """--db, --snapshot and --live: a reading command reads the published snapshot of --db (never blocking a run,
    never blocked by one), another snapshot with --snapshot, or the working database itself with --live."""
    f = click.option(
        "--live",
        is_flag=True,
        envvar="PRESSTRUST_LIVE",
        help="Read the working database itself (--db), not its published snapshot: what ran since the last "
        "publication too, but it fails (exit 3) while a job writes it, and a nightly cannot start while it reads "
        "(env PRESSTRUST_LIVE).",
    )(f)
    f = click.option(
        "--snapshot",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="PRESSTRUST_SNAPSHOT",
        help="Published snapshot to read (env PRESSTRUST_SNAPSHOT); default: <db name>.snapshot.duckdb beside --db.",
    )(f)
    return db_option(f)


def open_db(db_path: Path, **kwargs: Any) -> duckdb.DuckDBPyConnection:
    """Open the command's database (DatabaseError: one line and its exit code, from the command group)."""
    from jobs.store.connection import connect

    click.get_current_context().meta[DB_KEY] = db_path
    return connect(db_path, **kwargs)


def open_reader(db_path: Path, snapshot: Path | None, live: bool = False) -> duckdb.DuckDBPyConnection:
    """The published snapshot of --db (or --snapshot), with or without --db on the command line; with --live the
    working database, read-only."""
    from jobs.store.snapshot import open_snapshot, snapshot_path

    if live and snapshot is not None:
        raise click.UsageError("--live reads the working database (--db); it cannot be given with --snapshot")
    if live:
        return open_db(db_path, read_only=True)
    path = snapshot or snapshot_path(db_path)
    click.get_current_context().meta[DB_KEY] = path
    return open_snapshot(path)


def escape_formulas_option(f: F) -> F:
    """--escape-formulas/--no-escape-formulas: OWASP CSV-injection escaping of CSV cells (query, scores, runs,
    export)."""
    return click.option(
        "--escape-formulas/--no-escape-formulas",
        default=True,
        show_default=True,
        envvar="PRESSTRUST_ESCAPE_FORMULAS",
        help="CSV: prefix a text cell that starts with = + - @ tab or CR with a single quote, so a spreadsheet "
        "shows it instead of running it as a formula (OWASP); --no-escape-formulas writes every value exactly, for "
        "programs that read the CSV (env PRESSTRUST_ESCAPE_FORMULAS).",
    )(f)


def logging_options(f: F) -> F:
    """--quiet, --verbose and --log-format on a command (the same on every command); logging is set up
    before the command's body runs (jobs/infra/logs.py has the contract)."""

    @functools.wraps(f)
    def run(*args: Any, quiet: bool, verbose: bool, log_format: str, **kwargs: Any) -> Any:
        setup_logging(quiet=quiet, verbose=verbose, fmt=log_format)
        return f(*args, **kwargs)

    run = click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        envvar="PRESSTRUST_LOG_FORMAT",
        help="json: every stderr line is one JSON object, and a successful run ends with one summary object "
        "even under --quiet (env PRESSTRUST_LOG_FORMAT).",
    )(run)
    run = click.option(
        "--verbose", "-v", is_flag=True, envvar="PRESSTRUST_VERBOSE", help="Debug logging (env PRESSTRUST_VERBOSE)."
    )(run)
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        envvar="PRESSTRUST_QUIET",
        help="Errors only on stderr; no progress, no text summary line (for cron; env PRESSTRUST_QUIET).",
    )(run)


def summary(result: Any) -> None:
    """A job's summary line (jobs/infra/logs.py: text on stdout, or one JSON object with its counts)."""
    report_summary(result.line(), run_id=getattr(result, "run_id", None), counts=getattr(result, "counts", None))


def _check_engine(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from jobs.engines import engine_unavailable

    reason = engine_unavailable(value)
    if reason:
        raise click.BadParameter(f"Spark cannot run here: {reason}; see docs/scale-out.md")
    return value


def engine_options(f: F) -> F:
    """--engine and --spark-master, for the stages that can run on Spark (docs/scale-out.md); the command gets
    `engine`, the Engine object (jobs.engines.get_engine), chosen here once."""

    @functools.wraps(f)
    def run(*args: Any, engine: str, spark_master: str | None, **kwargs: Any) -> Any:
        from jobs.engines import get_engine

        workers = kwargs.pop("workers", None)  # workers_option's, on the commands that featurize
        return f(*args, engine=get_engine(engine, master=spark_master, workers=workers), **kwargs)

    run = click.option(
        "--spark-master",
        envvar="PRESSTRUST_SPARK_MASTER",
        help="Spark master URL for --engine spark (local[2], spark://host:7077, yarn, k8s://..., sc://host:15002 "
        "for Spark Connect); default local[2], or the one spark-submit gives.",
    )(run)
    return click.option(
        "--engine",
        type=click.Choice(["local", "spark"]),
        default="local",
        show_default=True,
        envvar="PRESSTRUST_ENGINE",
        callback=_check_engine,
        help="spark: the stage runs as Apache Spark jobs over Parquet (ingest: reading and normalising the input "
        "files; featurize; corroborate; aggregate: the per-outlet statistics); needs presstrust[spark] and Java; "
        "results land in the same tables.",
    )(run)


def workers_option(f: F) -> F:
    """--workers, on the commands that featurize (featurize, nightly): the local engine's worker processes. Put it
    under `engine_options`, which hands it to the engine."""
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        envvar="PRESSTRUST_WORKERS",
        help="Worker processes of the local engine's featurize (one task per text file's slice); 1 runs it in this "
        "process. Default: the cores available to the process (CPU affinity and cgroup quota). The tables are the "
        "same for any number (env PRESSTRUST_WORKERS).",
    )(f)


def _as_of_date(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """--as-of as a date; today (UTC) when not given."""

    return value.date() if value is not None else now_utc().date()


def window_options(f: F) -> F:
    """--as-of, --window-days and --undated: the window of articles a stage aggregates, fits on or scores."""
    f = click.option(
        "--undated",
        type=click.Choice(["include", "exclude"]),
        default="include",
        show_default=True,
        envvar="PRESSTRUST_UNDATED",
        help="Whether undated articles count in every window.",
    )(f)
    f = click.option(
        "--window-days",
        type=click.IntRange(min=1, max=MAX_WINDOW_DAYS),
        default=365,
        show_default=True,
        envvar="PRESSTRUST_WINDOW_DAYS",
        help="Window length: the N days up to and including --as-of.",
    )(f)
    return click.option(
        "--as-of",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        envvar="PRESSTRUST_AS_OF",
        callback=_as_of_date,
        help="Last day of the window (YYYY-MM-DD); default: today (UTC).",
    )(f)


def labels_option(f: F) -> F:
    """--labels: the label file the scorer is fitted on (fit, score, nightly)."""
    return click.option(
        "--labels",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=paths.LABELS_FILE,
        show_default=True,
        envvar="PRESSTRUST_LABELS",
        help="Label file (CSV/Parquet: domain plus score or grade) the scorer is fitted on.",
    )(f)


def usable_labels(command: str, labels: Path) -> None:
    """Refuse a label file that cannot be read (one line naming the file and line, exit 2) before any work."""
    from jobs.readers.labels import LabelFileError, check_label_file

    try:
        check_label_file(labels)
    except LabelFileError as exc:
        refuse(command, exc)


def refuse(command: str, exc: Exception | str, code: int = EXIT_USAGE) -> NoReturn:
    """End the command with one error line (JSON under --log-format json, a usage error's with the event
    `usage_error` as click's own) and `code`."""
    fields: dict[str, Any] = {"event": "usage_error"} if code == EXIT_USAGE else {}
    report_error(f"presstrust {command}: {exc}", exit_code=code, **fields)
    sys.exit(code)


def model_floor_options(f: F) -> F:
    """--min-cv-spearman and --allow-weak-model: the floor a model's outlet-grouped CV Spearman must reach to be
    published (score, nightly)."""
    f = click.option(
        "--allow-weak-model",
        is_flag=True,
        envvar="PRESSTRUST_ALLOW_WEAK_MODEL",
        help="Publish even a model whose outlet-grouped CV Spearman is below --min-cv-spearman (a warning says so; "
        "env PRESSTRUST_ALLOW_WEAK_MODEL).",
    )(f)
    return click.option(
        "--min-cv-spearman",
        type=click.FloatRange(min=-1.0, max=1.0),
        default=MIN_CV_SPEARMAN,
        show_default=True,
        envvar="PRESSTRUST_MIN_CV_SPEARMAN",
        help="Floor on the model's outlet-grouped CV Spearman: below it (or when it is undefined) nothing is "
        "published, exit 4 (env PRESSTRUST_MIN_CV_SPEARMAN).",
    )(f)


def allow_shrink_option(f: F) -> F:
    return click.option(
        "--allow-shrink",
        is_flag=True,
        envvar="PRESSTRUST_ALLOW_SHRINK",
        help="Publish even when under half of the previous publication's outlets would remain.",
    )(f)


def min_articles_option(help_text: str) -> Callable[[F], F]:
    """--min-articles (fit and nightly; what it decides differs, so each says it)."""
    return click.option(
        "--min-articles",
        type=click.IntRange(min=1),
        default=20,
        show_default=True,
        envvar="PRESSTRUST_MIN_ARTICLES",
        help=help_text,
    )


def text_source_option(f: F) -> F:
    return click.option(
        "--text-source",
        type=click.Choice(["title", "body"]),
        default="body",
        show_default=True,
        envvar="PRESSTRUST_TEXT_SOURCE",
        help="What the text layer reads: title + body without boilerplate lines (measured best, docs/evaluation.md) "
        "or titles only (~5x cheaper per new article, less accurate). A change refits the scorer.",
    )(f)


def format_option(f: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "csv", "json"]),
        default="table",
        show_default=True,
        help="Output format: a table that fits 80 columns (or the terminal; at most 1,000 rows), CSV, or JSON (one "
        "array of objects); CSV and JSON stream every row.",
    )(f)


def wide_option(f: F) -> F:
    return click.option("--wide", is_flag=True, help="Table: every column, no value cut (may exceed the terminal).")(f)
