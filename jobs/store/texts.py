"""Where article texts live: immutable, compressed Parquet files beside the database (migration 0009).

Layout, for a database `<folder>/<name>.duckdb`:

- `<folder>/<name>.texts/t<text_file_id>-load<load_id>.parquet`: columns article_id, content_version, text.
  A file is written once (to a temporary name, fsynced, renamed) and never changed or deleted while it
  is registered; an article's new version goes to a new file.
- `text_files` (DuckDB) registers every file by absolute path; `article_meta` holds every other
  article column; the `articles` view joins them through the table macro `article_texts()`, whose body
  lists the registered files (DuckDB table functions take no subqueries, so the list is written into
  the macro whenever it changes, in the transaction that registers the files).

A load writes its files before the transaction that registers them commits: a kill in between leaves
unregistered files (orphans), which `clean_orphans` deletes at the next writing run. Views use
absolute paths, so the database opens from any working directory; a moved folder is repaired by the
next writing connection (`relocate`), see docs/operations.md ("Storage").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from jobs.infra.clock import now_utc

log = logging.getLogger(__name__)

TEXT_COLUMNS = {"article_id": pl.String, "content_version": pl.Int32, "text": pl.String}
# zstd level 1: measured 2x faster to write than the default level at 15% more bytes (BENCHMARKS.md).
COMPRESSION_LEVEL = 1
_EMPTY = "SELECT NULL::VARCHAR AS article_id, NULL::INTEGER AS content_version, NULL::VARCHAR AS text WHERE false"


class TextStoreError(Exception):
    """The text files cannot be written or found (e.g. an in-memory database, a folder moved without its texts)."""


def database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The connection's database file (absolute), or None for an in-memory database."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]).resolve() if rows and rows[0][0] else None


def texts_dir(db_file: Path) -> Path:
    """The folder holding a database's text files: `<name>.texts` beside `<name>.duckdb`."""
    return db_file.with_name(f"{db_file.stem}.texts")


def _folder(con: duckdb.DuckDBPyConnection) -> Path:
    db_file = database_file(con)
    if db_file is None:
        raise TextStoreError("an in-memory database cannot store article texts: open a database file")
    return texts_dir(db_file)


@dataclass(frozen=True)
class TextFile:
    text_file_id: int
    path: Path
    rows: int


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder: so that a rename in it is durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_texts(con: duckdb.DuckDBPyConnection, texts: pl.DataFrame, *, load_id: int) -> TextFile:
    """Write one immutable text file and register it in text_files (registration commits with the caller's
    transaction; until then the file is an orphan that `clean_orphans` removes after a kill)."""
    columns = [pl.col(c).cast(t) for c, t in TEXT_COLUMNS.items()]
    return _write(
        con,
        lambda tmp: texts.select(columns).write_parquet(tmp, compression="zstd", compression_level=COMPRESSION_LEVEL),
        load_id=load_id,
    )


def _write(con: duckdb.DuckDBPyConnection, write: Callable[[Path], object], *, load_id: int) -> TextFile:
    """Write a new file under a temporary name, fsync, rename into place, register it (uncommitted)."""
    folder = _folder(con)
    folder.mkdir(parents=True, exist_ok=True)
    file_id = int(con.execute("SELECT nextval('text_file_id_seq')").fetchall()[0][0])
    path = folder / f"t{file_id:08d}-load{load_id}.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    write(tmp)
    _publish_file(tmp, path)
    return TextFile(file_id, path, _register(con, file_id, path, load_id))


def _publish_file(tmp: Path, path: Path) -> None:
    """fsync the written file, rename it into place, fsync the folder: durable before any commit names it."""
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


def _register(con: duckdb.DuckDBPyConnection, file_id: int, path: Path, load_id: int) -> int:
    rows = int(pl.scan_parquet(path).select(pl.len()).collect().item())
    con.execute(
        "INSERT INTO text_files (text_file_id, load_id, path, n_rows, size_bytes, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [file_id, load_id, str(path), rows, path.stat().st_size, now_utc()],
    )
    return rows


def discard(paths: list[Path]) -> None:
    """Delete files written by a transaction that rolled back (best effort; clean_orphans catches the rest)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete unregistered text file %s: %s", path, exc)


def _literal(value: object) -> str:
    """A SQL string literal. Only for DDL and COPY, which take no parameters, and only our own paths."""
    return str(value).replace("'", "''")


def refresh_view(con: duckdb.DuckDBPyConnection) -> None:
    """Point the article_texts() macro (and so the articles view) at exactly the registered text files."""
    files = [p for (p,) in con.execute("SELECT path FROM text_files ORDER BY text_file_id").fetchall()]
    body = (
        "SELECT article_id, content_version, text FROM read_parquet(["
        + ", ".join(f"'{_literal(p)}'" for p in files)
        + "])"
        if files
        else _EMPTY
    )
    con.execute(f"CREATE OR REPLACE MACRO article_texts() AS TABLE {body}")


_META_COLUMNS = ("outlet", "title", "authors", "language", "published_at")


def check_files_exist(paths: list[str]) -> None:
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise TextStoreError(
            f"{len(missing)} registered text file(s) are missing, e.g. {missing[0]}: restore the database's "
            "texts folder beside it (docs/operations.md, 'Errors')"
        )


def _selected(columns: tuple[str, ...]) -> str:
    """`, m.<column>` for each article_meta column asked for (checked: the names go into SQL)."""
    unknown = set(columns) - set(_META_COLUMNS)
    if unknown:
        raise ValueError(f"not an article_meta column the text readers read: {sorted(unknown)}")
    return "".join(f", m.{c}" for c in columns)


def _with_texts(meta: pl.DataFrame, paths: list[str], columns: tuple[str, ...], cut: int | None) -> pl.DataFrame:
    """`meta` (article_id, content_version, `columns`) with each version's text from `paths`; every row must find
    its text."""
    check_files_exist(paths)
    meta = meta.with_columns(pl.col("content_version").cast(pl.Int32))
    text = pl.col("text") if cut is None else pl.col("text").str.slice(0, cut)
    texts = (
        pl.scan_parquet(paths, schema=TEXT_COLUMNS)
        .join(meta.lazy().select("article_id", "content_version"), on=["article_id", "content_version"], how="semi")
        .select("article_id", "content_version", text)
        .collect(engine="streaming")  # file by file: memory is the articles asked for, not the files read
        if paths
        else pl.DataFrame(schema=TEXT_COLUMNS)
    )
    found = meta.join(texts, on=["article_id", "content_version"]).select("article_id", *columns, "text")
    if found.height < meta.height:
        lost = meta.join(found, on="article_id", how="anti")["article_id"]
        raise TextStoreError(
            f"{lost.len()} article(s) have no text in the text file registered for them (e.g. {lost[0]}): "
            "the text files were changed or replaced outside presstrust"
        )
    return found


def text_files_of(
    con: duckdb.DuckDBPyConnection, ids: pl.Series, *, columns: tuple[str, ...] = ()
) -> tuple[pl.DataFrame, dict[int, str]]:
    """article_id, content_version, text_file_id and the article_meta `columns` of the articles in `ids`, and
    {text_file_id: path} of the text files that hold their texts, in text_file_id order."""
    selected = _selected(columns)
    con.register("_read_ids", ids.rename("article_id").to_frame().to_arrow())
    try:
        meta = con.sql(
            f"SELECT m.article_id, m.content_version, m.text_file_id{selected} FROM article_meta m "  # noqa: S608 - names checked
            "SEMI JOIN _read_ids i ON i.article_id = m.article_id"
        ).pl()
    finally:
        con.unregister("_read_ids")
    files = dict(
        con.execute(
            "SELECT text_file_id, path FROM text_files WHERE list_contains($ids, text_file_id) ORDER BY text_file_id",
            {"ids": meta.get_column("text_file_id").unique().drop_nulls().sort().to_list()},
        ).fetchall()
    )
    return meta, files


def read_texts(
    con: duckdb.DuckDBPyConnection, ids: pl.Series, *, columns: tuple[str, ...] = ("title",), cut: int | None = None
) -> pl.DataFrame:
    """article_id, the article_meta `columns` and `text` (its first `cut` characters if given) of the current
    version of each article in `ids`, ordered by article_id.

    Reads only the text files that hold those articles (article_meta.text_file_id), so the cost follows the
    articles asked for, not the corpus: the `articles` view scans every file, whatever the join.
    """
    meta, files = text_files_of(con, ids, columns=columns)
    paths = list(files.values())
    return _with_texts(meta.drop("text_file_id"), paths, columns, cut).sort("article_id")


def iter_texts(
    con: duckdb.DuckDBPyConnection, *, columns: tuple[str, ...] = ("title",), cut: int | None = None
) -> Iterator[pl.DataFrame]:
    """Every article's id, `columns` and text (the current version; its first `cut` characters if given),
    one text file at a time: memory is one file's articles, not the corpus (a DuckDB scan of the `articles`
    view builds its join over every text and ran out of memory at 1,000,000 articles)."""
    selected = _selected(columns)
    files = con.execute("SELECT text_file_id, path FROM text_files ORDER BY text_file_id").fetchall()
    check_files_exist([path for _, path in files])
    for file_id, path in files:
        meta = con.sql(
            f"SELECT m.article_id, m.content_version{selected} FROM article_meta m WHERE m.text_file_id = $id",  # noqa: S608 - names checked
            params={"id": file_id},
        ).pl()
        if meta.height:
            yield _with_texts(meta, [path], columns, cut)


def stream_file_texts(meta: pl.DataFrame, path: str, rows: int) -> Iterator[pl.DataFrame]:
    """`meta` (article_id, content_version, other columns) with `text`, from the one text file `path` that holds
    them, about `rows` articles at a time: the file is streamed, so memory is its reader (compressed column chunk,
    dictionary page) and a batch, not its texts. Every row of `meta` must find its text (as in `read_texts`)."""
    import pyarrow.parquet as pq  # here, not at the top: the read-only commands open the store without it

    meta = meta.with_columns(pl.col("content_version").cast(pl.Int32))
    pending: list[pl.DataFrame] = []
    found = waiting = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=list(TEXT_COLUMNS)):
        texts = pl.from_arrow(batch)
        assert isinstance(texts, pl.DataFrame)
        part = meta.join(texts.cast(pl.Schema(TEXT_COLUMNS)), on=["article_id", "content_version"])
        found += part.height
        waiting += part.height
        if part.height:
            pending.append(part)
        if waiting >= rows:
            yield pl.concat(pending)
            pending, waiting = [], 0
    if pending:
        yield pl.concat(pending)
    if found < meta.height:
        raise TextStoreError(
            f"{meta.height - found} article(s) have no text in the text file registered for them ({path}): "
            "the text files were changed or replaced outside presstrust"
        )


def clean_orphans(con: duckdb.DuckDBPyConnection) -> list[Path]:
    """Delete files in this database's text folder that no committed text_files row registers.

    Call only while holding the database for writing (DuckDB allows one writing process), so no other
    run can be between writing a file and registering it.
    """
    db_file = database_file(con)
    if db_file is None:
        return []
    folder = texts_dir(db_file)
    if not folder.is_dir():
        return []
    registered = {Path(p) for (p,) in con.execute("SELECT path FROM text_files").fetchall()}
    orphans = [p for p in sorted(folder.iterdir()) if p.is_file() and p not in registered]
    for path in orphans:
        path.unlink(missing_ok=True)
    if orphans:
        log.warning("removed %d text file(s) left by an interrupted run: %s", len(orphans), orphans[0].name)
    return orphans


def relocate(con: duckdb.DuckDBPyConnection) -> int:
    """After the folder was moved: re-point registered files that are missing but exist in this database's text
    folder under the same name. Returns how many were re-pointed; files found nowhere are left (reads name them)."""
    db_file = database_file(con)
    if db_file is None:
        return 0
    folder = texts_dir(db_file)
    moved = []
    for file_id, path in con.execute("SELECT text_file_id, path FROM text_files").fetchall():
        here = folder / Path(path).name
        if not Path(path).exists() and here.exists():
            moved.append((str(here), file_id))
    if moved:
        con.begin()
        try:
            con.executemany("UPDATE text_files SET path = ? WHERE text_file_id = ?", moved)
            refresh_view(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        log.warning("the database folder moved: %d text file path(s) now point into %s", len(moved), folder)
    return len(moved)


LEGACY_FILE_ID = 0  # the sequence starts at 1: id 0 is the file migration 0009 writes


def export_legacy_texts(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Migration 0009, before its transaction: write the old articles table's texts to one file (not registered)."""
    has_rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'articles' AND schema_name = 'main' "
        "AND database_name = current_database() AND estimated_size > 0"
    ).fetchall()[0][0]
    if not has_rows or not con.execute("SELECT count(*) FROM articles").fetchall()[0][0]:
        return None
    folder = _folder(con)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"t{LEGACY_FILE_ID:08d}-migration0009.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    con.execute("SET preserve_insertion_order = false")  # lets COPY stream in bounded memory (row order is moot)
    try:
        con.execute(
            f"COPY (SELECT article_id, content_version, text FROM articles) TO '{_literal(tmp)}' "  # no parameters here
            f"(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {COMPRESSION_LEVEL}, ROW_GROUP_SIZE 20000)"
        )  # row groups of ~100 MB of text: the default (122,880 rows) buffered 0.7 GB per thread and ran out of memory
    finally:
        con.execute("RESET preserve_insertion_order")
    _publish_file(tmp, path)
    log.info("migration 0009: wrote the article texts to %s", path)
    return path


def register_legacy_texts(con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
    """Migration 0009, in its transaction: register the texts file, move the metadata, drop the old table."""
    if path is not None:
        load = con.execute("SELECT coalesce(max(load_id), 0) FROM articles_0008").fetchall()[0][0]
        _register(con, LEGACY_FILE_ID, path, int(load))
    con.execute(
        "INSERT INTO article_meta SELECT article_id, source_id, outlet, outlet_name, url, url_canonical, title, "
        "authors, published_at, language, content_hash, content_version, ingest_issues, source_file, record_number, "
        "load_id, ingested_at, updated_load_id, updated_at, ? FROM articles_0008",
        [LEGACY_FILE_ID if path is not None else None],
    )
    con.execute("DROP TABLE articles_0008")
    refresh_view(con)
