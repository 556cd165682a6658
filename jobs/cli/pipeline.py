"""The pipeline's commands: one per stage (ingest, featurize, corroborate, claims, aggregate, fit, score,
publish), the nightly that runs them all under a lock, and `sample`. Each parses its options, calls its stage
and prints the stage's one-line summary."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from click.core import ParameterSource

from jobs.cli.options import (
    DB_KEY,
    allow_shrink_option,
    db_option,
    engine_options,
    labels_option,
    logging_options,
    min_articles_option,
    model_floor_options,
    open_db,
    refuse,
    summary,
    text_source_option,
    usable_labels,
    window_options,
    workers_option,
)
from jobs.infra import paths
from jobs.infra.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE
from jobs.infra.logs import report_error, report_summary, text_output
from jobs.infra.terminal import advance, progress
from jobs.store.errors import DatabaseError, DatabaseInUse, fault_message, is_database_fault
from jobs.store.lock import LockHeld

if TYPE_CHECKING:
    from jobs.engines.base import Engine

log = logging.getLogger(__name__)


def _inputs_exist(command: str, inputs: tuple[str, ...] | list[str], fmt: str = "auto") -> None:
    """Exit 2 with one line naming the inputs that give no file (a mistyped path, a folder without article
    files), before any database is opened or created and before any run is recorded."""
    from jobs.readers.files import unmatched_inputs, unmatched_message

    missing = unmatched_inputs(inputs, fmt)
    if missing:
        report_error(f"presstrust {command}: " + "; ".join(unmatched_message(m, fmt) for m in missing))
        sys.exit(EXIT_USAGE)


@click.command()
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
    engine: Engine,
) -> None:
    """Load article files (JSONL[.gz], JSON, CSV[.gz], TSV, Parquet, WARC[.gz]; files, folders or globs).

    Idempotent: a file loaded before is skipped; repeated articles are counted as duplicates; a changed
    title or text updates the article. Bad records go to ingest_rejects with the reason; userinfo
    (user:password@) is removed from URLs before anything is stored. Exit code 2 when an input names no
    file (nothing is run); 1 when any input could not be read (the others are still loaded) or broke off
    (a truncated .warc.gz: the records before the break are loaded). WARC: each HTML response becomes an
    article (main text, title, date, authors and language from the page); other responses are rejects with
    their reason.

    With --engine spark the files are read and normalised by Spark tasks (one per file, in parallel: worth it
    for many large files, e.g. WARC); each is then loaded here in its own transaction, as without it.

    Example:

        presstrust ingest ../shared/data/corpora/allsides_2012_2020.parquet --map outlet=domain

        presstrust ingest 'crawl/*.warc.gz' --engine spark
    """
    from jobs.readers.outlets import OutletResolver
    from jobs.readers.records import MappingError, parse_mapping
    from jobs.stages import ingest as ingest_stage

    try:
        options = ingest_stage.IngestOptions(
            fmt=fmt, mapping=parse_mapping(mapping), force=force, batch_size=batch_size, max_text_chars=max_text_chars
        )
        resolver = OutletResolver.from_files(aliases=aliases, labels=label_files, platforms=paths.PLATFORMS_FILE)
    except (MappingError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    _inputs_exist("ingest", inputs, fmt)
    with open_db(db_path) as con, progress("ingest", unit="records"):
        result = ingest_stage.ingest(con, inputs, options=options, resolver=resolver, engine=engine)
    summary(result)
    if not result.ok:
        sys.exit(1)


@click.command()
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
@workers_option
@logging_options
def featurize(db_path: Path, force: bool, batch_size: int, history: int, engine: Engine) -> None:
    """Compute article features and evidence for new, changed or outdated articles.

    Example:

        presstrust featurize --db data/presstrust.duckdb

        presstrust featurize --engine spark --spark-master local[2]
    """
    from jobs.engines.pool import WorkerError
    from jobs.stages import featurize as featurize_stage

    try:
        with open_db(db_path) as con, progress("featurize"):
            result = featurize_stage.featurize(
                con, batch_size=batch_size, history=history, force=force, on_progress=advance, engine=engine
            )
    except WorkerError as exc:  # the run is recorded as failed; the batches written before it are whole
        refuse("featurize", exc, EXIT_FAILED)
    summary(result)


@click.command()
@db_option
@window_options
@engine_options
@logging_options
def aggregate(db_path: Path, as_of: date, window_days: int, undated: str, engine: Engine) -> None:
    """Per-outlet feature statistics (mean, median, CI, shrunken mean) for a window of articles.

    Example:

        presstrust aggregate --as-of 2020-12-31 --window-days 365

        presstrust aggregate --as-of 2020-12-31 --engine spark
    """
    from jobs.stages import aggregate as aggregate_stage

    with open_db(db_path) as con, progress("aggregate", unit="outlets"):
        result = aggregate_stage.aggregate(con, as_of=as_of, window_days=window_days, undated=undated, engine=engine)
    summary(result)


@click.command()
@db_option
@click.option("--full", is_flag=True, help="Re-cluster every article, not only the window new ones can touch.")
@engine_options
@logging_options
def corroborate(db_path: Path, full: bool, engine: Engine) -> None:
    """Cluster articles into stories across outlets; mark copies and independent corroboration.

    Incremental: only the time window that new or changed articles can touch is re-clustered, and
    story ids stay stable for stories that did not change.

    Example:

        presstrust corroborate --db data/presstrust.duckdb

        presstrust corroborate --engine spark
    """
    from jobs.stages import corroborate as corroborate_stage

    with open_db(db_path) as con, progress("corroborate"):
        result = corroborate_stage.corroborate(con, full=full, engine=engine)
    summary(result)


@click.command()
@db_option
@click.option("--full", is_flag=True, help="Extract and match every article again, not only new and changed ones.")
@engine_options
@logging_options
def claims(db_path: Path, full: bool, engine: Engine) -> None:
    """Find each article's claims, trace them to their origin and check them for independent confirmation.

    Runs after corroborate (it reads the stories and copies); incremental: only new or changed articles are
    read, and only the days their claims can confirm are matched again (docs/claims.md).

    Example:

        presstrust claims --db data/presstrust.duckdb

        presstrust claims --engine spark
    """
    from jobs.stages import claims as claims_stage

    with open_db(db_path) as con, progress("claims"):
        result = claims_stage.claims(con, full=full, engine=engine)
    summary(result)


@click.command()
@db_option
@labels_option
@window_options
@min_articles_option("Labelled outlets need this many articles to be trained on.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cross-validation shuffles.")
@text_source_option
@logging_options
def fit(
    db_path: Path,
    labels: Path,
    as_of: date,
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
    from jobs.readers.outlets import OutletResolver
    from jobs.stages import fit as fit_stage

    usable_labels("fit", labels)
    with open_db(db_path) as con, progress("fit"):
        try:
            result = fit_stage.fit(
                con,
                labels_path=labels,
                resolver=OutletResolver.default(labels=[labels]),
                as_of=as_of,
                window_days=window_days,
                undated=undated,
                min_articles=min_articles,
                seed=seed,
                text_source=text_source,
            )
        except ValueError as exc:  # a label file that cannot be used, too few labelled outlets (TooFewOutlets)
            refuse("fit", exc)
    summary(result)


@click.command()
@db_option
@labels_option
@window_options
@click.option("--model", "model_id", default=None, help="models.model_id to use (default: the latest).")
@allow_shrink_option
@model_floor_options
@logging_options
def score(
    db_path: Path,
    labels: Path,
    as_of: date,
    window_days: int,
    undated: str,
    model_id: str | None,
    allow_shrink: bool,
    min_cv_spearman: float,
    allow_weak_model: bool,
) -> None:
    """Score every outlet of the window with a fitted model and publish the scores (latest_scores).

    Example:

        presstrust score --as-of 2020-12-31 --window-days 3650
    """
    from jobs.readers.outlets import OutletResolver
    from jobs.stages import score as score_stage
    from jobs.stages.fit import WeakModel, check_model_strength
    from jobs.stages.publish import publish

    usable_labels("score", labels)
    with open_db(db_path) as con, progress("score"):
        try:
            check_model_strength(con, floor=min_cv_spearman, allow_weak=allow_weak_model, model_id=model_id)
            result = score_stage.score(
                con,
                as_of=as_of,
                window_days=window_days,
                undated=undated,
                model_id=model_id,
                resolver=OutletResolver.default(labels=[labels]),
                allow_shrink=allow_shrink,
            )
        except score_stage.NoModel as exc:
            raise click.ClickException(str(exc)) from exc
        except (score_stage.ShrinkRefused, WeakModel, ValueError) as exc:  # a refused publication, an empty window
            refuse("score", exc, EXIT_FAILED)
    try:  # readers get the new scores too, unless a nightly runs (it publishes when it ends)
        log.info("%s", publish(db_path).line())
    except LockHeld as exc:
        log.warning("snapshot not replaced now (the running job publishes): %s", exc)
    summary(result)


@click.command("publish")
@db_option
@logging_options
def publish_command(db_path: Path) -> None:
    """Replace the published snapshot with the database as it is now (the nightly does this after scoring).

    Also re-points the text files after the database folder was moved, so the snapshot reads them again.

    Example:

        presstrust publish --db data/presstrust.duckdb
    """
    from jobs.stages.publish import publish

    click.get_current_context().meta[DB_KEY] = db_path  # a database fault names it
    try:
        published = publish(db_path, repair=True)
    except LockHeld as exc:
        report_error(f"presstrust publish: {exc}")
        sys.exit(EXIT_LOCKED)
    report_summary(published.line(), db=str(db_path))


SAMPLE_AS_OF = date(2020, 12, 31)
SAMPLE_WINDOW_DAYS = 3650
"""The window that holds the embedded sample's dated articles (2012-2020): what `make run` passes, and what a
bare `presstrust nightly` scores the sample over unless --as-of or --window-days is given."""


def _nightly_corpus(db_path: Path, corpus: tuple[str, ...]) -> list[str]:
    """--corpus as given; without it the embedded sample for the default database only, said in the log."""
    if corpus:
        return list(corpus)
    if _is_default_db(db_path):
        log.info("no --corpus: loading the embedded sample %s into the default database %s", paths.SAMPLE_DIR, db_path)
        return [str(paths.SAMPLE_DIR)]
    log.warning("no --corpus: nothing new is ingested into %s; the other stages run on the articles it holds", db_path)
    return []


def _is_default_db(db_path: Path) -> bool:
    return db_path.resolve() == paths.DEFAULT_DB.resolve()


def _nightly_window(db_path: Path, corpus: tuple[str, ...], as_of: date, window_days: int) -> tuple[date, int]:
    """--as-of and --window-days; for the embedded sample loaded without --corpus, the sample's own window unless
    either was given (today's window holds only its undated articles: a model fitted on those is no model)."""
    ctx = click.get_current_context()
    given = {ctx.get_parameter_source(name) for name in ("as_of", "window_days")} - {ParameterSource.DEFAULT}
    if corpus or given or not _is_default_db(db_path):
        return as_of, window_days
    log.info(
        "no --as-of or --window-days: scoring the embedded sample over its own window, --as-of %s --window-days %d",
        SAMPLE_AS_OF,
        SAMPLE_WINDOW_DAYS,
    )
    return SAMPLE_AS_OF, SAMPLE_WINDOW_DAYS


def _nightly_failed(db_path: Path, exc: Exception) -> NoReturn:
    """The nightly's one error line and exit code (3: the lock or the database is held; 4: nothing published)."""
    from jobs.readers.labels import LabelFileError
    from jobs.stages.fit import TooFewOutlets, WeakModel
    from jobs.stages.score import ShrinkRefused
    from jobs.store.runs import error_text

    if isinstance(exc, LabelFileError | TooFewOutlets):  # the inputs cannot train a model: exit 2
        refuse("nightly", exc if isinstance(exc, LabelFileError) else f"failed, nothing new published: {exc}")
    if isinstance(exc, WeakModel):  # the model is below the floor: the last published tables stay
        refuse("nightly", f"failed, nothing new published: {exc}", EXIT_FAILED)
    if isinstance(exc, LockHeld | DatabaseError):
        report_error(f"presstrust nightly: {exc}")
        sys.exit(EXIT_LOCKED if isinstance(exc, LockHeld | DatabaseInUse) else EXIT_FAILED)
    if isinstance(exc, ValueError | LookupError | ShrinkRefused):  # the data cannot be scored
        log.debug("nightly failed", exc_info=exc)  # the traceback under --verbose only
        report_error(f"presstrust nightly: failed, nothing new published: {error_text(exc)}")
        sys.exit(EXIT_FAILED)
    if is_database_fault(exc):  # one line; the traceback is a JSON field, or a debug line under --verbose
        report_error(f"presstrust nightly: failed, nothing new published: {fault_message(db_path, exc)}", exc=exc)
        sys.exit(EXIT_FAILED)
    log.error("nightly failed: %s", error_text(exc), exc_info=exc)  # not the database's fault: a bug, its traceback
    report_error(f"presstrust nightly: failed, nothing new published: {error_text(exc)}")
    sys.exit(EXIT_FAILED)


@click.command()
@db_option
@click.option(
    "--corpus",
    "corpus",
    multiple=True,
    envvar="PRESSTRUST_CORPUS",
    help="Article files, folders or globs to ingest (repeatable). Without it, the default --db gets the "
    "embedded sample and any other --db gets nothing new (the other stages run on what it holds).",
)
@labels_option
@window_options
@click.option("--refit", is_flag=True, help="Refit the scorer even if labels, features and code are unchanged.")
@allow_shrink_option
@model_floor_options
@min_articles_option(
    "English articles an outlet needs in the window to be trained on and to get a grade (fewer: "
    "status insufficient_data, no grade). A change refits the scorer."
)
@text_source_option
@click.option(
    "--claims/--no-claims",
    default=True,
    show_default=True,
    envvar="PRESSTRUST_CLAIMS",
    help="Trace new articles' claims to their origin and check them for independent confirmation (the claims "
    "stage, docs/claims.md); --no-claims skips it (it costs ~6x featurize per new article).",
)
@engine_options
@workers_option
@logging_options
def nightly(
    db_path: Path,
    corpus: tuple[str, ...],
    labels: Path,
    as_of: date,
    window_days: int,
    undated: str,
    refit: bool,
    allow_shrink: bool,
    min_cv_spearman: float,
    allow_weak_model: bool,
    min_articles: int,
    text_source: str,
    claims: bool,
    engine: Engine,
) -> None:
    """The nightly job: ingest, featurize, corroborate, claims, aggregate, fit and score, under a lock.

    Without --corpus the default database gets the embedded sample, scored over the sample's window (--as-of
    2020-12-31 --window-days 3650) unless --as-of or --window-days is given.

    Exit codes: 0 everything ran; 1 ran, but some input could not be read or a file had every record
    rejected; 2 usage error, a label file that cannot be read, or fewer than 3 labelled outlets with enough
    articles; 3 another run holds the database's lock; 4 a stage failed, e.g. too few articles, or the model's
    CV Spearman is below --min-cv-spearman (one line says why; nothing new was published).

    Example:

        presstrust nightly --db /var/lib/presstrust/presstrust.duckdb --corpus /data/news/ --quiet

        presstrust nightly --engine spark --spark-master spark://head:7077
    """
    from jobs.stages import nightly as nightly_stage

    _inputs_exist("nightly", corpus)
    as_of, window_days = _nightly_window(db_path, corpus, as_of, window_days)
    options = nightly_stage.NightlyOptions(
        db_path=db_path,
        corpus=_nightly_corpus(db_path, corpus),
        labels=labels,
        as_of=as_of,
        engine=engine,
        window_days=window_days,
        undated=undated,
        refit=refit,
        min_articles=min_articles,
        text_source=text_source,
        allow_shrink=allow_shrink,
        min_cv_spearman=min_cv_spearman,
        allow_weak_model=allow_weak_model,
        claims=claims,
    )
    try:
        result = nightly_stage.nightly(options)
    except Exception as exc:
        _nightly_failed(db_path, exc)
    report_summary(
        f"nightly run {result.run_id}: {len(result.stages)} stages in "
        f"{sum(s.seconds for s in result.stages):.1f}s; tables in {db_path}",
        run_id=result.run_id,
        exit_code=result.exit_code,
        db=str(db_path),
        stages={s.stage: {"seconds": s.seconds, **s.counts} for s in result.stages},
    )
    if text_output():
        from jobs.store.snapshot import snapshot_path

        where = "" if db_path.resolve() == paths.DEFAULT_DB.resolve() else f" --snapshot {snapshot_path(db_path)}"
        click.echo(
            f'  try: presstrust query{where} "select outlet, score, score_low, score_high, grade, status '
            'from latest_scores order by score desc limit 10"'
        )
    sys.exit(result.exit_code)


@click.command()
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
    from jobs.outputs.sample import SampleExists, copy_sample

    try:
        files = copy_sample(dest, force=force)
    except SampleExists as exc:
        raise click.UsageError(str(exc)) from exc
    report_summary(f"copied the sample ({len(files)} files) to {dest}", files=[str(f) for f in files])
    if text_output():
        click.echo(f"  try: presstrust nightly --db study.duckdb --corpus {dest} --as-of 2020-12-31 --window-days 3650")


COMMANDS = (ingest, featurize, aggregate, corroborate, claims, fit, score, publish_command, nightly, sample)
