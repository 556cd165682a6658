"""`presstrust ingest`: load article files into DuckDB, idempotently, losing nothing.

Each file is one transaction: its articles' metadata, its rejects and its ingest_files row commit together or
not at all. The texts of new and changed articles go to Parquet files (jobs/store/texts.py) written before that
transaction commits and registered in it; a rollback deletes them, a kill leaves them for the next run to
delete. A file whose sha256 was loaded before is skipped (unless force). Every record read is counted exactly
once: read = loaded + updated + duplicates + skipped + rejected (skipped: read but not articles, by reason, such as a
WARC revisit record). Userinfo (`user:password@`) is removed from URLs before
anything is stored (jobs/readers/prepare.py), and counted.

Reading and normalising a file (jobs.readers) runs on the engine (this process, or a Spark task per file); the
loading, which decides what is new, runs here, a file at a time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from jobs.engines.base import Engine
from jobs.infra.clock import now_utc
from jobs.infra.failpoints import failpoint
from jobs.infra.terminal import advance, estimated_records
from jobs.readers.files import FORMATS, detect_format, expand_paths, fingerprint, unmatched_message
from jobs.readers.normalize import NormalizeOptions
from jobs.readers.outlets import OutletResolver
from jobs.readers.prepare import FileReader, PreparedBatch
from jobs.readers.records import ReadError
from jobs.store.errors import is_database_fault
from jobs.store.runs import failure_recorded, finish_run, start_run
from jobs.store.texts import TEXT_COLUMNS, discard, refresh_view, write_texts
from jobs.store.transactions import rollback_quietly

log = logging.getLogger(__name__)

# Classify a batch on its keys only (texts are not copied): which existing article each record is,
# and whether it is new, a changed version (updated) or a repeat (duplicate).
_CLASSIFY = """
CREATE OR REPLACE TEMP TABLE _keys AS
WITH keyed AS (
    SELECT b.rn, b.url_canonical, b.outlet, b.source_id, md5(coalesce(b.title, '') || chr(31) || b.text) AS content_hash
    FROM _batch b
), keyed_id AS (
    SELECT k.*, substr(md5(CASE
        WHEN k.url_canonical IS NOT NULL THEN 'url:' || k.url_canonical
        WHEN k.source_id IS NOT NULL THEN 'id:' || k.outlet || ':' || k.source_id
        ELSE 'hash:' || k.outlet || ':' || k.content_hash END), 1, 16) AS new_id
    FROM keyed k
), by_url AS (
    SELECT a.url_canonical, min(a.article_id) AS article_id
    FROM article_meta a SEMI JOIN keyed_id k ON k.url_canonical = a.url_canonical
    GROUP BY a.url_canonical
), by_source_id AS (
    SELECT a.outlet, a.source_id, min(a.article_id) AS article_id
    FROM article_meta a SEMI JOIN keyed_id k ON k.outlet = a.outlet AND k.source_id = a.source_id
    GROUP BY a.outlet, a.source_id
), matched AS (
    SELECT k.*, coalesce(u.article_id, i.article_id, k.new_id) AS candidate
    FROM keyed_id k
    LEFT JOIN by_url u ON u.url_canonical = k.url_canonical
    LEFT JOIN by_source_id i ON i.outlet = k.outlet AND i.source_id = k.source_id
), grouped AS (
    -- within the batch, the earliest record with the same canonical URL or the same (outlet, id) decides
    SELECT m.*,
        CASE WHEN m.url_canonical IS NOT NULL THEN min(m.rn) OVER (PARTITION BY m.url_canonical) END AS url_rn,
        CASE WHEN m.url_canonical IS NOT NULL THEN first_value(m.candidate) OVER (
            PARTITION BY m.url_canonical ORDER BY m.rn) END AS url_first,
        CASE WHEN m.source_id IS NOT NULL THEN min(m.rn) OVER (PARTITION BY m.outlet, m.source_id) END AS sid_rn,
        CASE WHEN m.source_id IS NOT NULL THEN first_value(m.candidate) OVER (
            PARTITION BY m.outlet, m.source_id ORDER BY m.rn) END AS sid_first
    FROM matched m
), resolved AS (
    SELECT g.rn, g.content_hash, CASE
        WHEN g.sid_rn IS NOT NULL AND (g.url_rn IS NULL OR g.sid_rn < g.url_rn) THEN g.sid_first
        ELSE coalesce(g.url_first, g.candidate) END AS article_id
    FROM grouped g
), ranked AS (
    SELECT r.*, row_number() OVER (PARTITION BY r.article_id ORDER BY r.rn) AS repeat_no FROM resolved r
)
SELECT r.rn, r.article_id, r.content_hash, CASE
    WHEN r.repeat_no > 1 THEN 'duplicate'
    WHEN a.article_id IS NULL THEN 'loaded'
    WHEN a.content_hash = r.content_hash THEN 'duplicate'
    ELSE 'updated' END AS outcome,
    coalesce(a.content_version + 1, 1)::INTEGER AS content_version
FROM ranked r LEFT JOIN article_meta a ON a.article_id = r.article_id
"""

_INSERT = """
INSERT INTO article_meta BY NAME
SELECT k.article_id, b.source_id, b.outlet, b.outlet_name, b.url, b.url_canonical, b.title, b.authors,
       b.published_at, b.language, b.crawled_at, k.content_hash, 1 AS content_version, b.ingest_issues,
       $file AS source_file, b.rn AS record_number, $load_id AS load_id, $now AS ingested_at,
       $text_file_id AS text_file_id, b.page_type, b.page_type_reason
FROM _batch b JOIN _keys k ON k.rn = b.rn
WHERE k.outcome = 'loaded'
"""

_UPDATE = """
UPDATE article_meta SET
    title = c.title, authors = c.authors,
    published_at = coalesce(c.published_at, article_meta.published_at),
    language = coalesce(c.language, article_meta.language),
    crawled_at = coalesce(c.crawled_at, article_meta.crawled_at),
    outlet_name = coalesce(c.outlet_name, article_meta.outlet_name),
    content_hash = c.content_hash, content_version = c.content_version,
    ingest_issues = c.ingest_issues, source_file = $file, record_number = c.rn,
    updated_load_id = $load_id, updated_at = $now, text_file_id = $text_file_id,
    page_type = c.page_type, page_type_reason = c.page_type_reason
FROM (SELECT b.* EXCLUDE (text), k.article_id, k.content_hash, k.content_version FROM _batch b
      JOIN _keys k ON k.rn = b.rn WHERE k.outcome = 'updated') c
WHERE article_meta.article_id = c.article_id
"""


# A new or changed article's links replace those of its earlier version (a duplicate keeps them)
_DELETE_LINKS = """
DELETE FROM article_links WHERE article_id IN (SELECT article_id FROM _keys WHERE outcome IN ('loaded', 'updated'))
"""
_INSERT_LINKS = """
INSERT INTO article_links BY NAME
SELECT k.article_id, $load_id AS run_id, l.link_n, l.url, l.host, l.anchor_text
FROM _links l JOIN _keys k ON k.rn = l.rn
WHERE k.outcome IN ('loaded', 'updated')
"""


def _links(good: pl.DataFrame) -> pl.DataFrame:
    """The batch's outbound links, a row each: rn, link_n (1-based, in page order), url, host, anchor_text."""
    links = good.select("rn", "links").filter(pl.col("links").list.len() > 0)
    return (
        links.with_columns(link_n=pl.int_ranges(1, pl.col("links").list.len() + 1, dtype=pl.Int64))
        .explode("links", "link_n")
        .unnest("links")
        .select("rn", "link_n", "url", "host", "anchor_text")
    )


@dataclass
class FileResult:
    path: str
    status: str  # loaded, partial (loaded up to where the file broke off; error says where), skipped, failed
    records_read: int = 0
    loaded: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str | None = None
    userinfo_stripped: int = 0  # records whose URL had userinfo (user:password@) removed
    skipped: dict[str, int] = field(default_factory=dict)  # records read but not articles, by reason (revisit)
    tallies: dict[str, int] = field(default_factory=dict)  # how records were read (body:dechunked, ...)

    @property
    def empty(self) -> bool:
        """Read whole and held no record (an empty file): not counted as loaded."""
        return self.status == "loaded" and self.records_read == 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass
class IngestOptions:
    fmt: str = "auto"
    mapping: dict[str, str] = field(default_factory=dict)
    force: bool = False
    batch_size: int = 50_000
    max_text_chars: int = 200_000


@dataclass
class IngestSummary:
    run_id: int
    files: list[FileResult]
    missing: list[str]
    seconds: float
    fmt: str = "auto"  # --format, for the message of an input that matched no file

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def all_rejected(self) -> list[FileResult]:
        """Files read whole but with every record rejected (not articles: a label file left in the corpus?)."""
        return [
            f
            for f in self.files
            if f.status == "loaded" and f.records_read and f.rejected and f.rejected + f.skipped_total == f.records_read
        ]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "files_loaded": sum(f.status == "loaded" and not f.empty for f in self.files),
            "files_empty": sum(f.empty for f in self.files),
            "files_skipped": sum(f.status == "skipped" for f in self.files),
            "files_failed": sum(f.status == "failed" for f in self.files) + len(self.missing),
            "files_partial": sum(f.status == "partial" for f in self.files),
            "files_all_rejected": len(self.all_rejected),
            **{
                k: self.total(k)
                for k in ("records_read", "loaded", "updated", "duplicates", "rejected", "userinfo_stripped")
            },
            "skipped": sum(f.skipped_total for f in self.files),
            **_by_name(f.skipped for f in self.files),
            **_by_name(f.tallies for f in self.files),
        }

    @property
    def ok(self) -> bool:
        return self.counts["files_failed"] == 0 and self.counts["files_partial"] == 0 and not self.all_rejected

    def line(self) -> str:
        c = self.counts
        return (
            f"ingest run {self.run_id}: {c['files']} files ({c['files_loaded']} loaded, "
            + (f"{c['files_empty']} empty, " if c["files_empty"] else "")
            + f"{c['files_skipped']} skipped, {c['files_failed']} failed, {c['files_partial']} partial"
            + (f", {c['files_all_rejected']} with every record rejected" if c["files_all_rejected"] else "")
            + f"); read {c['records_read']} = loaded {c['loaded']} + updated {c['updated']} "
            f"+ duplicates {c['duplicates']} + "
            + (f"skipped {c['skipped']} + " if c["skipped"] else "")
            + f"rejected {c['rejected']}"
            + (f"; userinfo removed from {c['userinfo_stripped']} URLs" if c["userinfo_stripped"] else "")
            + f" in {self.seconds:.1f}s"
        )


def _by_name(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Counts by name summed over files (skipped:revisit, body:dechunked, ...), in name order."""
    total: dict[str, int] = {}
    for part in parts:
        for name, n in part.items():
            total[name] = total.get(name, 0) + n
    return dict(sorted(total.items()))


def _add(into: dict[str, int], part: dict[str, int]) -> None:
    for name, n in part.items():
        into[name] = into.get(name, 0) + n


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    batch: PreparedBatch,
    *,
    file: str,
    load_id: int,
    now: datetime,
    result: FileResult,
    written: list[Path],
) -> None:
    if batch.rejects.height:
        con.executemany(
            "INSERT INTO ingest_rejects VALUES (?, ?, ?, ?, ?, ?)",
            [(load_id, file, rn, reason, raw, now) for rn, reason, raw in batch.rejects.iter_rows()],
        )
    result.records_read += batch.n_records
    result.rejected += batch.rejects.height
    result.userinfo_stripped += batch.userinfo_stripped
    _add(result.skipped, batch.skipped)
    _add(result.tallies, batch.tallies)
    good = batch.good
    if good.is_empty():
        return
    con.register("_batch", good.drop("links").to_arrow())
    con.register("_links", _links(good).to_arrow())
    try:
        con.execute(_CLASSIFY)
        changed = con.sql(
            "SELECT rn, article_id, content_version FROM _keys WHERE outcome IN ('loaded', 'updated')"
        ).pl()
        text_file_id = None
        if not changed.is_empty():
            texts = changed.join(good.select("rn", "text"), on="rn").select(*TEXT_COLUMNS)
            written_file = write_texts(con, texts, load_id=load_id)
            written.append(written_file.path)
            text_file_id = written_file.text_file_id
        params = {"file": file, "load_id": load_id, "now": now, "text_file_id": text_file_id}
        con.execute(_INSERT, params)
        con.execute(_UPDATE, params)
        con.execute(_DELETE_LINKS)
        con.execute(_INSERT_LINKS, {"load_id": load_id})
        outcomes = dict(con.execute("SELECT outcome, count(*) FROM _keys GROUP BY outcome").fetchall())
    finally:
        con.unregister("_batch")
        con.unregister("_links")
    result.loaded += outcomes.get("loaded", 0)
    result.updated += outcomes.get("updated", 0)
    result.duplicates += outcomes.get("duplicate", 0)


@dataclass
class FilePlan:
    """What ingest knows of a file before reading it: its fingerprint and format."""

    path: Path
    fmt: str | None
    digest: str | None = None
    size: int = 0
    result: FileResult | None = None  # set when the file cannot be read: it failed before reading

    @property
    def to_read(self) -> bool:
        return self.result is None


def plan_file(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions, *, load_id: int) -> FilePlan:
    """Fingerprint a file and find its format (a file of unknown format is recorded as failed here)."""
    file = str(path)
    fmt = detect_format(path) if options.fmt == "auto" else options.fmt
    try:
        digest = fingerprint(path)
        size = path.stat().st_size
    except OSError as exc:
        return FilePlan(path, fmt, result=FileResult(file, "failed", error=f"{file}: cannot read: {exc}"))
    plan = FilePlan(path, fmt, digest, size)
    if fmt is None:
        plan.result = FileResult(file, "failed", error=f"{file}: unknown format (use --format {'|'.join(FORMATS)})")
        _record_file(con, plan.result, load_id, digest, size, "unknown", now_utc())
    return plan


def loaded_before(con: duckdb.DuckDBPyConnection, plan: FilePlan, options: IngestOptions) -> bool:
    """A file with this content was loaded before (also earlier in this run) and is not forced: skip it."""
    return not options.force and bool(
        con.execute(
            "SELECT count(*) FROM ingest_files WHERE fingerprint = ? AND status IN ('loaded', 'partial')", [plan.digest]
        ).fetchall()[0][0]
    )


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    plan: FilePlan,
    batches: Iterable[PreparedBatch],
    *,
    load_id: int,
    options: IngestOptions,
    on_records: Callable[[int], None] = lambda n: None,
) -> FileResult:
    """Load one file's prepared batches in one transaction; a failure rolls it back and is recorded as failed."""
    if plan.result is not None:
        return plan.result
    file = str(plan.path)
    if loaded_before(con, plan, options):
        return FileResult(file, "skipped")
    started = now_utc()
    result = FileResult(file, "failed")
    written: list[Path] = []  # text files of this transaction: orphans unless it commits
    con.begin()
    try:
        for number, batch in enumerate(batches, 1):
            _load_batch(con, batch, file=file, load_id=load_id, now=started, result=result, written=written)
            log.debug("%s: batch %d done (%d records, not yet committed)", file, number, batch.n_records)
            on_records(batch.n_records)
            result.error = batch.error or result.error
        result.status = "partial" if result.error else "loaded"
        _record_file(con, result, load_id, plan.digest or "", plan.size, plan.fmt or "", started)
        if written:
            refresh_view(con)
        failpoint("ingest.before_commit")
        con.commit()
        return result
    except BaseException as exc:
        rollback_quietly(con, exc)
        discard(written)
        if not isinstance(exc, ReadError | duckdb.Error | pl.exceptions.PolarsError | OSError):
            raise
        if is_database_fault(exc):
            raise  # the database failed (damaged, full, unwritable), not this input: do not blame the file
        result = FileResult(file, "failed", error=str(exc) if isinstance(exc, ReadError) else f"{file}: {exc}")
    _record_file(con, result, load_id, plan.digest or "", plan.size, plan.fmt or "unknown", started)
    return result


def _record_file(
    con: duckdb.DuckDBPyConnection, r: FileResult, load_id: int, digest: str, size: int, fmt: str, started: datetime
) -> None:
    con.execute(
        "INSERT INTO ingest_files (load_id, path, fingerprint, size_bytes, format, status, records_read, loaded, "
        "updated, duplicates, rejected, skipped, error, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            r.path,
            digest,
            size,
            fmt,
            r.status,
            r.records_read,
            r.loaded,
            r.updated,
            r.duplicates,
            r.rejected,
            r.skipped_total,
            r.error,
            started,
            now_utc(),
        ],
    )


def ingest(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str],
    *,
    options: IngestOptions,
    resolver: OutletResolver,
    engine: Engine,
    on_file: Callable[[Path, int, int], None] = lambda path, index, total: None,
    on_records: Callable[[int], None] = lambda n: None,
) -> IngestSummary:
    """Ingest files, folders and globs; record the run; return the reconciled summary.

    The engine reads and normalises the files to read (the Spark engine: all of them first, a task per file);
    each file is then loaded here in its own transaction."""
    started = time.perf_counter()
    files, missing = expand_paths(paths, options.fmt)
    params = {"paths": list(paths), **asdict(options), "engine": engine.name}
    run_id = start_run(con, "ingest", params)
    con.execute("SET preserve_insertion_order = false")  # rows carry record_number; lets DuckDB write in parallel
    normalize = NormalizeOptions(resolver=resolver, now=now_utc(), max_text_chars=options.max_text_chars)
    reader = FileReader(options.mapping, options.batch_size, normalize)
    results: list[FileResult] = []
    total, read = estimated_records(files), [0]  # records of total for the progress display (jobs/infra/terminal.py)

    def records_done(n: int) -> None:
        read[0] += n
        advance(read[0], total)
        on_records(n)

    with failure_recorded(con, run_id, lambda: IngestSummary(run_id, results, missing, 0.0, options.fmt).counts):
        plans = [plan_file(con, path, options, load_id=run_id) for path in files]
        to_read = [(p.path, p.fmt or "") for p in plans if p.to_read and not loaded_before(con, p, options)]
        with engine.read_files(con, to_read, reader) as batches_of:
            for i, plan in enumerate(plans):
                on_file(plan.path, i, len(files))
                batches = batches_of(plan.path, plan.fmt or "") if plan.to_read else iter(())
                result = ingest_file(con, plan, batches, load_id=run_id, options=options, on_records=records_done)
                if result.status in ("failed", "partial"):
                    log.error("%s", result.error)
                results.append(result)
    summary = IngestSummary(run_id, results, missing, time.perf_counter() - started, options.fmt)
    _finish(con, summary)
    return summary


def _finish(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> None:
    """Log what could not be loaded and close the run with its counts and errors."""
    errors = [unmatched_message(m, summary.fmt) for m in summary.missing] + [
        r.error for r in summary.files if r.status in ("failed", "partial") and r.error
    ]
    rejected_whole = [
        f"{r.path}: all {r.records_read} records rejected (reasons in ingest_rejects): not an article file?"
        for r in summary.all_rejected
    ]
    for line in errors[: len(summary.missing)] + rejected_whole:
        log.error("%s", line)
    errors += rejected_whole
    finish_run(
        con,
        summary.run_id,
        status="ok" if summary.ok else "partial",
        counts=summary.counts,
        error="\n".join(errors) or None,
    )
