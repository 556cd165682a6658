"""The `presstrust` command: one Click group, thin commands that call one library function each."""

from __future__ import annotations

import functools
import json as json_module
import logging
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from jobs import paths
from jobs.db import (
    DatabaseError,
    DatabaseInUse,
    DatabaseMissing,
    connect,
    fault_message,
    is_database_fault,
    migration_status,
    now_utc,
)
from jobs.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_PARTIAL, Interrupted, signals_interrupt
from jobs.logs import report_error, report_summary, setup_logging, text_output
from jobs.terminal import advance, progress, visible

F = Callable[..., Any]


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
    """--snapshot (the default: the published snapshot beside --db) or --db given on the command line."""
    f = click.option(
        "--snapshot",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="PRESSTRUST_SNAPSHOT",
        help="Published snapshot to read (env PRESSTRUST_SNAPSHOT); default: <db name>.snapshot.duckdb beside --db. "
        "Giving --db on the command line reads that working database instead (fails while a nightly writes it).",
    )(f)
    return db_option(f)


def _open_reader(db_path: Path, snapshot: Path | None) -> Any:
    """Readers query the published snapshot, never blocking the nightly, unless --db was given explicitly."""
    from click.core import ParameterSource

    from jobs.snapshot import open_snapshot, snapshot_path

    ctx = click.get_current_context()
    if snapshot is None and ctx.get_parameter_source("db_path") == ParameterSource.COMMANDLINE:
        return _open(db_path, read_only=True)
    path = snapshot or snapshot_path(db_path)
    ctx.meta["presstrust.db"] = path
    return open_snapshot(path)


def logging_options(f: F) -> F:
    """--quiet, --verbose and --log-format on a command (the same on every command); logging is set up
    before the command's body runs (jobs/logs.py has the contract)."""

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


def _summary(summary: Any) -> None:
    """A job's summary line (jobs/logs.py: text on stdout, or one JSON object with its counts)."""
    report_summary(summary.line(), run_id=getattr(summary, "run_id", None), counts=getattr(summary, "counts", None))


def _nightly_corpus(db_path: Path, corpus: tuple[str, ...]) -> list[str]:
    """--corpus as given; without it the embedded sample for the default database only, said in the log."""
    log = logging.getLogger("jobs.nightly")
    if corpus:
        return list(corpus)
    if db_path.resolve() == paths.DEFAULT_DB.resolve():
        log.info("no --corpus: loading the embedded sample %s into the default database %s", paths.SAMPLE_DIR, db_path)
        return [str(paths.SAMPLE_DIR)]
    log.warning("no --corpus: nothing new is ingested into %s; the other stages run on the articles it holds", db_path)
    return []


def _check_engine(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value == "spark":
        from jobs.spark_engine import spark_available

        reason = spark_available()
        if reason:
            raise click.BadParameter(f"Spark cannot run here: {reason}; see docs/scale-out.md")
    return value


def engine_options(f: F) -> F:
    """--engine and --spark-master, for the stages that can run on Spark (docs/scale-out.md)."""
    f = click.option(
        "--spark-master",
        envvar="PRESSTRUST_SPARK_MASTER",
        help="Spark master URL for --engine spark (local[2], spark://host:7077, yarn, k8s://..., sc://host:15002 "
        "for Spark Connect); default local[2], or the one spark-submit gives.",
    )(f)
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
    )(f)


def _open(db_path: Path, **kwargs: Any) -> Any:
    click.get_current_context().meta["presstrust.db"] = db_path
    return connect(db_path, **kwargs)  # DatabaseError: handled with its exit code by PresstrustGroup


class PresstrustGroup(click.Group):
    """The command group: every command's database errors and signals end in one line and a documented code.

    Exit codes (jobs/exits.py): 3 when another process holds the database, 4 when the database is damaged,
    full, unwritable or newer than this code, 128+N after signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
    """

    def invoke(self, ctx: click.Context) -> Any:
        with signals_interrupt():
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt as exc:
                signum = exc.signum if isinstance(exc, Interrupted) else Interrupted().signum
                name = Interrupted(signum).args[0]
                report_error(
                    f"presstrust: interrupted by {name}: the run is recorded as interrupted, nothing new published"
                )
                sys.exit(128 + signum)
            except BrokenPipeError:  # `presstrust scores | head`: the reader has what it wanted; not an error
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
                sys.exit(0)
            except DatabaseError as exc:
                report_error(f"presstrust: {exc}")
                codes = {DatabaseInUse: EXIT_LOCKED, DatabaseMissing: EXIT_PARTIAL}
                sys.exit(codes.get(type(exc), EXIT_FAILED))
            except Exception as exc:
                if not is_database_fault(exc):
                    raise
                report_error(f"presstrust: {fault_message(ctx.meta.get('presstrust.db', 'database'), exc)}")
                sys.exit(EXIT_FAILED)


@click.group(cls=PresstrustGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="presstrust")
def cli() -> None:
    """presstrust: open, reproducible source-reliability scores for news outlets.

    Example:

        presstrust ingest jobs/data/sample --db data/presstrust.duckdb
    """


@cli.group()
def db() -> None:
    """Database maintenance: schema migrations.

    Example:

        presstrust db migrate --list
    """


@db.command()
@db_option
@click.option("--list", "list_only", is_flag=True, help="Show each migration's status without writing anything.")
@logging_options
def migrate(db_path: Path, list_only: bool) -> None:
    """Apply pending numbered schema migrations (every job also does this on start).

    Example:

        presstrust db migrate --db data/presstrust.duckdb --list
    """
    if list_only:
        con = _open(db_path, read_only=True, migrate=False) if db_path.exists() else None
        try:
            for status in migration_status(con):
                state = f"applied {status.applied_at:%Y-%m-%d %H:%M:%S}" if status.applied_at else "pending"
                if not status.known:
                    state += " (unknown to this code: the database was written by a newer presstrust)"
                if not status.checksum_ok:
                    state += " (file changed since it was applied!)"
                click.echo(f"{status.version:04d}_{status.name}  {state}")
        finally:
            if con is not None:
                con.close()
        return
    from jobs.db import apply_migrations

    with _open(db_path, migrate=False) as con:
        done = apply_migrations(con)
    report_summary(f"{db_path}: applied {len(done)} migration(s)", applied=[m.version for m in done])


@db.command()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file instead of stdout."
)
@logging_options
def schema(out: Path | None) -> None:
    """Print the documented schema (tables, columns, COMMENT ON text) as Markdown.

    Built from a fresh in-memory database with every migration applied, so it shows the schema of
    this code version.

    Example:

        presstrust db schema --out docs/schema.md
    """
    import duckdb

    from jobs.db import apply_migrations
    from jobs.schema_doc import schema_markdown

    con = duckdb.connect()
    db_log = logging.getLogger("jobs.db")
    level = db_log.level
    db_log.setLevel(logging.WARNING)  # migrating a scratch in-memory database is not news
    try:
        apply_migrations(con)
    finally:
        db_log.setLevel(level)
    text = schema_markdown(con)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "json", "csv", "tsv", "parquet", "warc"]),
    default="auto",
    show_default=True,
    envvar="PRESSTRUST_FORMAT",
    help="Input format; auto goes by file suffix (.gz allowed).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Take a canonical field (id, url, outlet, outlet_name, title, text, authors, published_at, language) "
    "from this column. Repeatable.",
)
@click.option(
    "--aliases",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=paths.ALIASES_FILE,
    show_default=True,
    envvar="PRESSTRUST_ALIASES",
    help="Outlet alias CSV (alias,outlet): a name or host -> domain.",
)
@click.option(
    "--labels",
    "label_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=[paths.LABELS_FILE],
    show_default=True,
    envvar="PRESSTRUST_LABELS",
    help="Label CSVs whose 'domain' column names known outlet hosts (abcnews.go.com stays itself).",
)
@click.option("--force", is_flag=True, help="Re-read files whose content was loaded before.")
@click.option(
    "--max-text-chars",
    type=click.IntRange(min=1000),
    default=200_000,
    show_default=True,
    envvar="PRESSTRUST_MAX_TEXT_CHARS",
    help="Longer texts are cut to this, with an ingest issue.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Records per batch within a file's transaction.",
)
@engine_options
@logging_options
def ingest(
    inputs: tuple[str, ...],
    db_path: Path,
    fmt: str,
    mapping: tuple[str, ...],
    aliases: Path,
    label_files: tuple[Path, ...],
    force: bool,
    max_text_chars: int,
    batch_size: int,
    engine: str,
    spark_master: str | None,
) -> None:
    """Load article files (JSONL[.gz], JSON, CSV[.gz], TSV, Parquet, WARC[.gz]; files, folders or globs).

    Idempotent: a file loaded before is skipped; repeated articles are counted as duplicates; a changed
    title or text updates the article. Bad records go to ingest_rejects with the reason. Exit code 1
    when any input could not be read (the others are still loaded) or broke off (a truncated .warc.gz:
    the records before the break are loaded). WARC: each HTML response becomes an article (main text,
    title, date, authors and language from the page); other responses are rejects with their reason.

    With --engine spark the files are read and normalised by Spark tasks (one per file, in parallel: worth it
    for many large files, e.g. WARC); each is then loaded here in its own transaction, as without it.

    Example:

        presstrust ingest ../shared/data/corpora/allsides_2012_2020.parquet --map outlet=domain

        presstrust ingest 'crawl/*.warc.gz' --engine spark
    """
    from jobs.ingest import IngestOptions
    from jobs.ingest import ingest as run_ingest
    from jobs.outlets import OutletResolver
    from jobs.readers import MappingError, parse_mapping

    try:
        options = IngestOptions(
            fmt=fmt, mapping=parse_mapping(mapping), force=force, batch_size=batch_size, max_text_chars=max_text_chars
        )
        resolver = OutletResolver.from_files(aliases=aliases, labels=label_files, platforms=paths.PLATFORMS_FILE)
    except (MappingError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    with _open(db_path) as con, progress("ingest", unit="records"):
        summary = run_ingest(con, inputs, options=options, resolver=resolver, engine=engine, spark_master=spark_master)
    _summary(summary)
    if not summary.ok:
        sys.exit(1)


MAX_WINDOW_DAYS = 36_500  # a century: longer windows overflow dates and mean nothing


def _as_of_date(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """--as-of as a date; today (UTC) when not given."""

    return value.date() if value is not None else now_utc().date()


def _as_of_option(f: F) -> F:
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


def _labels_option(f: F) -> F:
    return click.option(
        "--labels",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=paths.LABELS_FILE,
        show_default=True,
        envvar="PRESSTRUST_LABELS",
        help="Label file (CSV/Parquet: domain plus score or grade) the scorer is fitted on.",
    )(f)


def _allow_shrink_option(f: F) -> F:
    return click.option(
        "--allow-shrink",
        is_flag=True,
        envvar="PRESSTRUST_ALLOW_SHRINK",
        help="Publish even when under half of the previous publication's outlets would remain.",
    )(f)


def _resolver(labels: Path) -> Any:
    from jobs.outlets import OutletResolver

    return OutletResolver.default(labels=[labels])


@cli.command()
@db_option
@_labels_option
@_as_of_option
@click.option(
    "--min-articles",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    envvar="PRESSTRUST_MIN_ARTICLES",
    help="Labelled outlets need this many articles to be trained on.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cross-validation shuffles.")
@click.option(
    "--text-source",
    type=click.Choice(["title", "body"]),
    default="body",
    show_default=True,
    envvar="PRESSTRUST_TEXT_SOURCE",
    help="What the text layer reads: title + body without boilerplate lines (measured best, docs/evaluation.md) "
    "or titles only (~5x cheaper per new article, less accurate). A change refits the scorer.",
)
@logging_options
def fit(
    db_path: Path,
    labels: Path,
    as_of: Any,
    window_days: int,
    undated: str,
    min_articles: int,
    seed: int,
    text_source: str,
) -> None:
    """Fit the scorer on labelled outlets of the window and store it (as data) in the models table.

    Example:

        presstrust fit --labels jobs/data/labels/lin2023_domain_pc1.csv --as-of 2020-12-31 --window-days 3650
    """
    from jobs.score import fit as run_fit

    with _open(db_path) as con, progress("fit"):
        try:
            summary = run_fit(
                con,
                labels_path=labels,
                resolver=_resolver(labels),
                as_of=as_of,
                window_days=window_days,
                undated=undated,
                min_articles=min_articles,
                seed=seed,
                text_source=text_source,
            )
        except ValueError as exc:  # a label file that cannot be used, too few labelled outlets: a usage error
            raise click.UsageError(str(exc)) from exc
    _summary(summary)


@cli.command()
@db_option
@_labels_option
@_as_of_option
@click.option("--model", "model_id", default=None, help="models.model_id to use (default: the latest).")
@_allow_shrink_option
@logging_options
def score(
    db_path: Path,
    labels: Path,
    as_of: Any,
    window_days: int,
    undated: str,
    model_id: str | None,
    allow_shrink: bool,
) -> None:
    """Score every outlet of the window with a fitted model and publish the scores (latest_scores).

    Example:

        presstrust score --as-of 2020-12-31 --window-days 3650
    """
    from jobs.publish_guard import PublishRefused
    from jobs.score import NoModel
    from jobs.score import score as run_score

    with _open(db_path) as con, progress("score"):
        try:
            summary = run_score(
                con,
                as_of=as_of,
                window_days=window_days,
                undated=undated,
                model_id=model_id,
                resolver=_resolver(labels),
                allow_shrink=allow_shrink,
            )
        except NoModel as exc:
            raise click.ClickException(str(exc)) from exc
        except (PublishRefused, ValueError) as exc:  # a refused publication, an empty window: one line, exit 4
            report_error(f"presstrust score: {exc}")
            sys.exit(EXIT_FAILED)
    _publish_snapshot(db_path)
    _summary(summary)


def _publish_snapshot(db_path: Path) -> None:
    """After publishing scores outside the nightly: readers get them too (unless a nightly, which publishes, runs)."""
    from jobs.lock import LockHeld, RunLock
    from jobs.snapshot import publish

    try:
        with RunLock(db_path):
            logging.getLogger("jobs.snapshot").info("%s", publish(db_path).line())
    except LockHeld as exc:
        logging.getLogger("jobs.snapshot").warning("snapshot not replaced now (the running job publishes): %s", exc)


@cli.command()
@db_option
@click.option(
    "--corpus",
    "corpus",
    multiple=True,
    envvar="PRESSTRUST_CORPUS",
    help="Article files, folders or globs to ingest (repeatable). Without it, the default --db gets the "
    "embedded sample and any other --db gets nothing new (the other stages run on what it holds).",
)
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=paths.LABELS_FILE,
    show_default=True,
    envvar="PRESSTRUST_LABELS",
    help="Outlet label file the scorer is fitted on.",
)
@_as_of_option
@click.option("--refit", is_flag=True, help="Refit the scorer even if labels, features and code are unchanged.")
@_allow_shrink_option
@click.option(
    "--min-articles",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    envvar="PRESSTRUST_MIN_ARTICLES",
    help="English articles an outlet needs in the window to be trained on and to get a grade (fewer: "
    "status insufficient_data, no grade). A change refits the scorer.",
)
@click.option(
    "--text-source",
    type=click.Choice(["title", "body"]),
    default="body",
    show_default=True,
    envvar="PRESSTRUST_TEXT_SOURCE",
    help="What the text layer reads: title + body without boilerplate lines (measured best, docs/evaluation.md) "
    "or titles only (~5x cheaper per new article, less accurate). A change refits the scorer.",
)
@engine_options
@logging_options
def nightly(
    db_path: Path,
    corpus: tuple[str, ...],
    labels: Path,
    as_of: Any,
    window_days: int,
    undated: str,
    refit: bool,
    allow_shrink: bool,
    min_articles: int,
    text_source: str,
    engine: str,
    spark_master: str | None,
) -> None:
    """The nightly job: ingest, featurize, corroborate, aggregate, fit and score, under a lock.

    Exit codes: 0 everything ran; 1 ran, but some input could not be read or a file had every record
    rejected; 2 usage error; 3 another run holds the database's lock; 4 a stage failed, e.g. too few
    articles or labelled outlets (one line says why; nothing new was published).

    Example:

        presstrust nightly --db /var/lib/presstrust/presstrust.duckdb --corpus /data/news/ --quiet

        presstrust nightly --engine spark --spark-master spark://head:7077
    """
    from jobs.lock import LockHeld
    from jobs.nightly import NightlyOptions
    from jobs.nightly import nightly as run_nightly
    from jobs.publish_guard import PublishRefused
    from jobs.runs import error_text

    options = NightlyOptions(
        db_path=db_path,
        corpus=_nightly_corpus(db_path, corpus),
        labels=labels,
        as_of=as_of,
        window_days=window_days,
        undated=undated,
        refit=refit,
        min_articles=min_articles,
        text_source=text_source,
        allow_shrink=allow_shrink,
        engine=engine,
        spark_master=spark_master,
    )
    try:
        summary = run_nightly(options)
    except LockHeld as exc:
        report_error(f"presstrust nightly: {exc}")
        sys.exit(EXIT_LOCKED)
    except DatabaseError as exc:
        report_error(f"presstrust nightly: {exc}")
        sys.exit(EXIT_LOCKED if isinstance(exc, DatabaseInUse) else EXIT_FAILED)
    except (ValueError, LookupError, PublishRefused) as exc:  # the data cannot be scored: one line, no traceback
        log = logging.getLogger("jobs.nightly")
        log.debug("nightly failed", exc_info=True)  # the traceback under --verbose only
        report_error(f"presstrust nightly: failed, nothing new published: {error_text(exc)}")
        sys.exit(EXIT_FAILED)
    except Exception as exc:
        cause = fault_message(db_path, exc) if is_database_fault(exc) else error_text(exc)
        logging.getLogger("jobs.nightly").error("nightly failed: %s", cause, exc_info=True)
        report_error(f"presstrust nightly: failed, nothing new published: {cause}")
        sys.exit(EXIT_FAILED)
    report_summary(
        f"nightly run {summary.run_id}: {len(summary.stages)} stages in "
        f"{sum(s.seconds for s in summary.stages):.1f}s; tables in {db_path}",
        run_id=summary.run_id,
        exit_code=summary.exit_code,
        db=str(db_path),
        stages={s.stage: {"seconds": s.seconds, **s.counts} for s in summary.stages},
    )
    if text_output():
        from jobs.snapshot import snapshot_path

        where = "" if db_path.resolve() == paths.DEFAULT_DB.resolve() else f" --snapshot {snapshot_path(db_path)}"
        click.echo(
            f'  try: presstrust query{where} "select outlet, score, score_low, score_high, grade, status '
            'from latest_scores order by score desc limit 10"'
        )
    sys.exit(summary.exit_code)


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite sample files already in DEST.")
@logging_options
def sample(dest: Path, force: bool) -> None:
    """Copy the embedded sample corpus (2,462 articles of 2010-2021, PROVENANCE.md) out of the package into DEST.

    The sample ships inside presstrust (installed or not); load it with --corpus like any corpus. Its
    articles date from 2010-2021, so score it with --as-of 2020-12-31 --window-days 3650.

    Example:

        presstrust sample ./sample

        presstrust nightly --db study.duckdb --corpus ./sample --as-of 2020-12-31 --window-days 3650
    """
    files = sorted(p for p in paths.SAMPLE_DIR.iterdir() if p.is_file() and p.suffix in {".parquet", ".jsonl", ".md"})
    clashes = [dest / p.name for p in files if (dest / p.name).exists()]
    if clashes and not force:
        raise click.UsageError(f"{clashes[0]} exists: pass --force to overwrite the sample's files in {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, dest / path.name)
    report_summary(f"copied the sample ({len(files)} files) to {dest}", files=[str(dest / p.name) for p in files])
    if text_output():
        click.echo(f"  try: presstrust nightly --db study.duckdb --corpus {dest} --as-of 2020-12-31 --window-days 3650")


@cli.command()
@db_option
@click.option("--force", is_flag=True, help="Recompute every article, not only new, changed or outdated ones.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=20_000, show_default=True, help="Articles per transaction."
)
@click.option(
    "--history",
    type=click.IntRange(min=10),
    default=500,
    show_default=True,
    help="Recent articles per outlet from which its repeated (boilerplate) lines are learned.",
)
@engine_options
@logging_options
def featurize(db_path: Path, force: bool, batch_size: int, history: int, engine: str, spark_master: str | None) -> None:
    """Compute article features and evidence for new, changed or outdated articles.

    Example:

        presstrust featurize --db data/presstrust.duckdb

        presstrust featurize --engine spark --spark-master local[2]
    """
    from jobs.featurize import featurize as run_featurize

    with _open(db_path) as con, progress("featurize"):
        summary = run_featurize(
            con,
            batch_size=batch_size,
            history=history,
            force=force,
            on_progress=advance,
            engine=engine,
            spark_master=spark_master,
        )
    _summary(summary)


@cli.command()
@db_option
@_as_of_option
@engine_options
@logging_options
def aggregate(db_path: Path, as_of: Any, window_days: int, undated: str, engine: str, spark_master: str | None) -> None:
    """Per-outlet feature statistics (mean, median, CI, shrunken mean) for a window of articles.

    Example:

        presstrust aggregate --as-of 2020-12-31 --window-days 365

        presstrust aggregate --as-of 2020-12-31 --engine spark
    """
    from jobs.aggregate import aggregate as run_aggregate

    with _open(db_path) as con, progress("aggregate", unit="outlets"):
        summary = run_aggregate(
            con, as_of=as_of, window_days=window_days, undated=undated, engine=engine, spark_master=spark_master
        )
    _summary(summary)


@cli.command()
@db_option
@click.option("--full", is_flag=True, help="Re-cluster every article, not only the window new ones can touch.")
@engine_options
@logging_options
def corroborate(db_path: Path, full: bool, engine: str, spark_master: str | None) -> None:
    """Cluster articles into stories across outlets; mark copies and independent corroboration.

    Incremental: only the time window that new or changed articles can touch is re-clustered, and
    story ids stay stable for stories that did not change.

    Example:

        presstrust corroborate --db data/presstrust.duckdb

        presstrust corroborate --engine spark
    """
    from jobs.corroborate import corroborate as run_corroborate

    with _open(db_path) as con, progress("corroborate"):
        summary = run_corroborate(con, full=full, engine=engine, spark_master=spark_master)
    _summary(summary)


TABLE_WIDTH = 80  # terminal tables fit this (or the terminal's width), as the DuckDB CLI's do; --wide for all
MAX_CELL = 40  # longer values are cut with "…" in a table (never in CSV or JSON)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json_module.dumps(value, default=str)
    return "" if value is None else str(value)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _emit(rows: list[dict[str, Any]], fmt: str, *, wide: bool = False) -> None:
    """Print rows as a table that fits the terminal, CSV, or JSON: one array of objects (docs/research.md).

    Table: values cut at MAX_CELL characters and columns kept from the left while they fit in TABLE_WIDTH (or
    the terminal's width); a last line names the columns left out. `wide` shows every column in full.
    """
    import csv
    import io

    if fmt == "json":  # one JSON array, one object per line: `jq '.[]'` or json.load read it
        body = ",\n".join(json_module.dumps(row, default=str, ensure_ascii=False) for row in rows)
        click.echo(f"[\n{body}\n]" if rows else "[]")
        return
    if not rows:
        return
    columns = list(rows[0])
    text_rows = [[_text(v) for v in r.values()] for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows(text_rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    text_rows = [[visible(v) for v in r] for r in text_rows]  # a terminal table: no control characters
    if not wide:
        text_rows = [[_cut(v, MAX_CELL) for v in r] for r in text_rows]
    widths = [max(len(c), *(len(r[i]) for r in text_rows)) for i, c in enumerate(columns)]
    shown = len(columns)
    if not wide:
        limit = shutil.get_terminal_size((TABLE_WIDTH, 24)).columns if sys.stdout.isatty() else TABLE_WIDTH
        used, shown = widths[0], 1
        while shown < len(columns) and used + 2 + widths[shown] <= limit:
            used += 2 + widths[shown]
            shown += 1
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns[:shown], widths, strict=False)).rstrip())
    for r in text_rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r[:shown], widths, strict=False)).rstrip())
    if shown < len(columns):
        left_out = f"(--wide shows {len(columns) - shown} more columns: {', '.join(columns[shown:])})"
        click.echo(_cut(left_out, TABLE_WIDTH))


def _query(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts from an open connection (closed after); JSON columns (runs.counts, runs.parameters) parsed,
    so JSON output nests them once."""
    with con:
        cursor = con.execute(sql, params)
        description = cursor.description or []
        names = [d[0] for d in description]
        is_json = [str(d[1]) == "JSON" for d in description]
        return [
            {
                name: json_module.loads(value) if parse and isinstance(value, str) else value
                for name, value, parse in zip(names, row, is_json, strict=True)
            }
            for row in cursor.fetchall()
        ]


_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format: a table that fits 80 columns (or the terminal), CSV, or JSON (one array of objects).",
)
_WIDE = click.option("--wide", is_flag=True, help="Table: every column, no value cut (may exceed the terminal).")


@cli.command()
@reader_options
@click.option("--outlet", multiple=True, help="Only these outlets (repeatable; a domain or URL).")
@_FORMAT
@_WIDE
@logging_options
def scores(db_path: Path, snapshot: Path | None, outlet: tuple[str, ...], fmt: str, wide: bool) -> None:
    """The latest published scores: score, ~90% interval (low, high), label, grade, status, both layers.

    Scores, interval bounds, labels and both layers are on one 0-100 scale. Grades are withheld (empty) for
    insufficient_data (too few English articles) and unsupported_language (no score either);
    grade_confidence is uncertain when the interval spans another grade.

    Example:

        presstrust scores --outlet nytimes.com --format json
    """
    from jobs.outlets import normalize_host

    wanted = [normalize_host(o) or o for o in outlet]
    rows = _query(
        _open_reader(db_path, snapshot),
        "SELECT outlet, round(score, 1) AS score, round(score_low, 1) AS low, round(score_high, 1) AS high, "
        "round(100 * label_score, 1) AS label, grade, status, grade_confidence, n_articles, n_english, "
        "round(text_score, 1) AS text_score, round(cue_score, 1) AS cue_score, as_of, model_id FROM latest_scores "
        "WHERE len($1::VARCHAR[]) = 0 OR list_contains($1::VARCHAR[], outlet) ORDER BY score DESC NULLS LAST, outlet",
        [wanted],
    )
    _emit(rows, fmt, wide=wide)


@cli.command()
@db_option
@click.option("--job", default=None, help="Only runs of this job (ingest, featurize, nightly, ...).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most recent runs shown.")
@_FORMAT
@_WIDE
@logging_options
def runs(db_path: Path, job: str | None, limit: int, fmt: str, wide: bool) -> None:
    """Recent runs: job, status, duration, code version, counts (with any warnings) and error.

    Example:

        presstrust runs --job nightly --limit 5
    """
    rows = _query(
        _open(db_path, read_only=True),
        "SELECT run_id, job, status, date_trunc('second', started_at) AS started_at, "
        "round(epoch(finished_at - started_at), 1) AS seconds, code_version, counts, error FROM runs "
        "WHERE $1::VARCHAR IS NULL OR job = $1 ORDER BY run_id DESC LIMIT $2",
        [job, limit],
    )
    _emit(rows, fmt, wide=wide)


@cli.command()
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

    from jobs.explain import NotFound, render_outlet
    from jobs.explain import explain_outlet as run_explain
    from jobs.outlets import OutletResolver

    key = OutletResolver.default().resolve(outlet) or outlet
    with _open_reader(db_path, snapshot) as con:
        try:
            explanation = run_explain(con, key)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    Console(highlight=False, soft_wrap=True).print(render_outlet(explanation))


@cli.command("export")
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
    from jobs.export import export

    with _open_reader(db_path, snapshot) as con:
        summary = export(con, out, fmt=fmt)
    report_summary(summary.line(), out=str(out))


@cli.command()
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
    from jobs.report import build_report, out_problem, write_report

    if problem := out_problem(out, force=force):
        raise click.UsageError(problem)
    with _open_reader(db_path, snapshot) as con:
        try:
            result = build_report(con)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    write_report(result, out, force=force)
    report_summary(
        f"wrote {out / 'index.html'} and {result.outlets} outlet pages ({result.plots} charts)", out=str(out)
    )


@cli.command("explain-article")
@click.argument("article_id")
@reader_options
@click.option("--color/--no-color", default=None, help="Highlight with colour (default: when stdout is a terminal).")
@logging_options
def explain_article(article_id: str, db_path: Path, snapshot: Path | None, color: bool | None) -> None:
    """Print an article with its unnamed-source and speculation evidence highlighted.

    ARTICLE_ID is the articles.article_id or the corpus's own id. Without colour, cues are marked
    [UNNAMED: ...] and [SPECULATION: ...].

    Example:

        presstrust explain-article seed-000-8c9f463cf267f3af
    """
    from rich.console import Console

    from jobs.explain import NotFound, render_article
    from jobs.explain import explain_article as run_explain

    with _open_reader(db_path, snapshot) as con:
        try:
            explanation = run_explain(con, article_id)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    console = Console(force_terminal=color, no_color=color is False, highlight=False, soft_wrap=True)
    console.print(render_article(explanation, color=console.is_terminal and not console.no_color))


@cli.command()
@click.argument("sql")
@reader_options
@_FORMAT
@_WIDE
@logging_options
def query(sql: str, db_path: Path, snapshot: Path | None, fmt: str, wide: bool) -> None:
    """Run SQL on the published snapshot (read-only; no DuckDB CLI needed) and print the result.

    Tables and columns: docs/schema.md, or `presstrust query "describe articles"`.

    Example:

        presstrust query "select outlet, score, grade from latest_scores order by score desc limit 10"
    """
    import duckdb

    con = _open_reader(db_path, snapshot)
    try:
        rows = _query(con, sql, [])
    except duckdb.Error as exc:
        if is_database_fault(exc):
            raise
        raise click.ClickException(str(exc)) from exc
    _emit(rows, fmt, wide=wide)


@cli.command("publish")
@db_option
@logging_options
def publish_command(db_path: Path) -> None:
    """Replace the published snapshot with the database as it is now (the nightly does this after scoring).

    Also re-points the text files after the database folder was moved, so the snapshot reads them again.

    Example:

        presstrust publish --db data/presstrust.duckdb
    """
    from jobs.lock import LockHeld, RunLock
    from jobs.snapshot import publish

    try:
        with RunLock(db_path):
            _open(db_path).close()  # migrations, moved text files, files a killed load left
            published = publish(db_path)
    except LockHeld as exc:
        report_error(f"presstrust publish: {exc}")
        sys.exit(EXIT_LOCKED)
    report_summary(published.line(), db=str(db_path))


if __name__ == "__main__":
    cli()
