"""Readers for article files: JSONL (also .gz), JSON arrays, CSV/TSV, Parquet and WARC (jobs.readers.warc), each
yielding the `RawBatch`es of jobs/readers/records.py; and the input files a load names (folders, globs) with
their fingerprints."""

from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow.parquet as pq

from jobs.readers.records import (
    AUTHOR_SPLIT,
    FIELDS,
    MappingError,
    PreReject,
    RawBatch,
    ReadError,
    canonical_record,
    cap_raw,
    raw_lookup,
    records_frame,
    resolve_mapping,
)

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "warc")
_SUFFIX_FORMAT = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".warc": "warc",
    ".arc": "warc",  # the WARC reader reads ARC files too (jobs/readers/warc.py)
}


def detect_format(path: Path) -> str | None:
    """Format from the file name (a trailing .gz is ignored); None when unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return _SUFFIX_FORMAT.get(suffixes[-1]) if suffixes else None


def _open_binary(path: Path) -> IO[bytes]:
    handle: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
    if handle.read(2) == b"\x1f\x8b":
        handle.close()
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]  # GzipFile is a binary IO
    handle.seek(0)
    return handle


def _reading(path: Path) -> Callable[[BaseException], ReadError]:
    def wrap(exc: BaseException) -> ReadError:
        return ReadError(f"{path}: cannot read: {type(exc).__name__}: {exc}")

    return wrap


def _objects_batches(
    items: Iterator[tuple[int, Any, str]], overrides: Mapping[str, str], batch_size: int
) -> Iterator[RawBatch]:
    """Turn (record number, parsed object or PreReject, raw text) items into RawBatches."""
    mappings: dict[frozenset[str], dict[str, str]] = {}
    records: list[dict[str, Any]] = []
    rejects: list[PreReject] = []
    raws: dict[int, str] = {}
    for rn, obj, raw in items:
        if isinstance(obj, PreReject):
            rejects.append(obj)
        elif not isinstance(obj, dict):
            rejects.append(PreReject(rn, f"not_an_object:{type(obj).__name__}", cap_raw(raw)))
        else:
            keys = frozenset(obj)
            if keys not in mappings:
                mappings[keys] = resolve_mapping(sorted(keys), overrides, strict=False)
            record, reason = canonical_record(obj, mappings[keys])
            if reason:
                rejects.append(PreReject(rn, reason, cap_raw(raw)))
            else:
                record["rn"] = rn
                records.append(record)
                raws[rn] = raw
        if len(records) + len(rejects) >= batch_size:
            yield RawBatch(records_frame(records), rejects, raw_lookup(raws))
            records, rejects, raws = [], [], {}
    if records or rejects:
        yield RawBatch(records_frame(records), rejects, raw_lookup(raws))


def _jsonl_items(handle: IO[bytes]) -> Iterator[tuple[int, Any, str]]:
    for rn, line in enumerate(handle, start=1):
        if rn == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raw = line.decode("utf-8", "backslashreplace")
            yield rn, PreReject(rn, "invalid_utf8", cap_raw(raw)), raw
            continue
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            yield rn, PreReject(rn, f"malformed_json:{str(exc)[:80]}", cap_raw(text)), text
            continue
        yield rn, obj, text


def read_jsonl(path: Path, overrides: Mapping[str, str], batch_size: int) -> Iterator[RawBatch]:
    wrap = _reading(path)
    try:
        with _open_binary(path) as handle:
            yield from _objects_batches(_jsonl_items(handle), overrides, batch_size)
    except (OSError, EOFError, gzip.BadGzipFile, ValueError) as exc:
        raise wrap(exc) from exc


def read_json(path: Path, overrides: Mapping[str, str], batch_size: int) -> Iterator[RawBatch]:
    """A .json file: an array of objects, one object, or (failing both) JSON lines."""
    wrap = _reading(path)
    try:
        with _open_binary(path) as handle:
            data = handle.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise wrap(exc) from exc
    try:
        whole = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        yield from _objects_batches(_jsonl_items(io.BytesIO(data)), overrides, batch_size)
        return
    items = whole if isinstance(whole, list) else [whole]
    yield from _objects_batches(
        ((i, obj, json.dumps(obj, ensure_ascii=False, default=str)) for i, obj in enumerate(items, start=1)),
        overrides,
        batch_size,
    )


def _csv_items(handle: IO[bytes], delimiter: str, overrides: Mapping[str, str]) -> Iterator[tuple[int, Any, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    header: list[str] | None = None
    rn = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            rn += 1
            yield rn, PreReject(rn, f"malformed_csv:{exc}", ""), ""
            continue
        if header is None:
            if any(_has_surrogates(c) for c in row):
                raise ReadError("CSV header is not valid UTF-8")
            try:
                resolve_mapping(row, overrides)
            except MappingError as exc:
                raise ReadError(str(exc)) from exc
            header = row
            continue
        rn += 1
        raw = json.dumps(row, ensure_ascii=False)
        if any(_has_surrogates(c) for c in row):
            shown = json.dumps([c.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") for c in row])
            yield rn, PreReject(rn, "invalid_utf8", cap_raw(shown)), shown
        elif len(row) != len(header):
            yield rn, PreReject(rn, f"csv_field_count:{len(row)}!={len(header)}", cap_raw(raw)), raw
        else:
            yield rn, dict(zip(header, row, strict=True)), raw


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value) if not value.isascii() else False


def read_csv(path: Path, overrides: Mapping[str, str], batch_size: int, delimiter: str = ",") -> Iterator[RawBatch]:
    wrap = _reading(path)
    try:
        with _open_binary(path) as handle:
            yield from _objects_batches(_csv_items(handle, delimiter, overrides), overrides, batch_size)
    except ReadError as exc:
        raise ReadError(f"{path}: {exc}") from exc
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise wrap(exc) from exc


def _typed_column(frame: pl.DataFrame, name: str, column: str | None) -> pl.Expr:
    if column is None:
        dtype: pl.DataType = pl.List(pl.String()) if name == "authors" else pl.String()
        return pl.lit(None, dtype=dtype).alias(name)
    dtype = frame.schema[column]
    expr = pl.col(column)
    if name == "authors":
        if isinstance(dtype, pl.List):
            return expr.cast(pl.List(pl.String())).alias(name)
        return (
            expr.cast(pl.String())
            .str.replace_all(AUTHOR_SPLIT, ",")
            .str.split(",")
            .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""))
            .alias(name)
        )
    if name == "published_at" and isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            expr = expr.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return expr.cast(pl.Datetime("us")).alias(name)
    if name == "published_at" and isinstance(dtype, pl.Date):
        return expr.cast(pl.Datetime("us")).alias(name)
    return expr.cast(pl.String()).alias(name)


def _row_group_spans(parquet: pq.ParquetFile, batch_size: int) -> Iterator[tuple[int, int]]:
    """(offset, length) windows over whole row groups, each >= batch_size rows where groups allow."""
    offset, length = 0, 0
    for i in range(parquet.metadata.num_row_groups):
        length += parquet.metadata.row_group(i).num_rows
        if length >= batch_size:
            yield offset, length
            offset, length = offset + length, 0
    if length:
        yield offset, length


def read_parquet(path: Path, overrides: Mapping[str, str], batch_size: int) -> Iterator[RawBatch]:
    """Parquet in windows of whole row groups (Polars' multi-threaded reader; memory bounded by the window)."""
    wrap = _reading(path)
    try:
        parquet = pq.ParquetFile(path)
        columns = parquet.schema_arrow.names
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
        raise wrap(exc) from exc
    try:
        mapping = resolve_mapping(columns, overrides)
    except MappingError as exc:
        raise ReadError(f"{path}: {exc}") from exc
    scan = pl.scan_parquet(path).select(sorted(set(mapping.values())))
    try:
        for offset, length in _row_group_spans(parquet, batch_size):
            frame = scan.slice(offset, length).collect()
            first = offset + 1
            rns = pl.int_range(first, first + frame.height, dtype=pl.Int64, eager=True)
            out = frame.select(
                [_typed_column(frame, "source_id" if n == "id" else n, mapping.get(n)) for n in FIELDS]
            ).with_columns(rn=rns, issues=pl.lit([], dtype=pl.List(pl.String())))
            yield RawBatch(out, [], _row_lookup(frame, first))
    except ReadError:
        raise
    except Exception as exc:
        raise wrap(exc) from exc


def _row_lookup(frame: pl.DataFrame, first: int) -> Callable[[Sequence[int]], dict[int, str]]:
    def lookup(rns: Sequence[int]) -> dict[int, str]:
        return {
            rn: cap_raw(json.dumps(frame.row(rn - first, named=True), ensure_ascii=False, default=str)) for rn in rns
        }

    return lookup


def read_file(path: Path, fmt: str, overrides: Mapping[str, str], batch_size: int) -> Iterator[RawBatch]:
    """Dispatch on format; raises ReadError for a file that cannot be read."""
    if fmt == "jsonl":
        return read_jsonl(path, overrides, batch_size)
    if fmt == "json":
        return read_json(path, overrides, batch_size)
    if fmt in ("csv", "tsv"):
        return read_csv(path, overrides, batch_size, delimiter="\t" if fmt == "tsv" else ",")
    if fmt == "parquet":
        return read_parquet(path, overrides, batch_size)
    if fmt == "warc":
        from jobs.readers.warc import read_warc  # --map does not apply: WARC records have fixed fields

        return read_warc(path, batch_size)
    raise ValueError(f"unknown format {fmt!r}")


def _files_of(item: str, fmt: str) -> Iterator[Path]:
    """The files an input names, in the order found: itself, a folder's files with a known suffix (any file when
    `fmt` is given), or a glob's matches."""
    path = Path(item)
    if path.is_dir():
        return (p for p in path.rglob("*") if p.is_file() and (fmt != "auto" or detect_format(p)))
    if path.is_file():
        return iter([path])
    return (Path(p) for p in glob.iglob(item, recursive=True) if Path(p).is_file())


def expand_paths(paths: Iterable[str], fmt: str) -> tuple[list[Path], list[str]]:
    """Files named, found in folders (recursively, known suffixes) or matched by globs; and inputs matching nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for item in paths:
        found = sorted(_files_of(item, fmt))
        if not found:
            missing.append(item)
        files.extend(found)
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, missing


def unmatched_inputs(paths: Iterable[str], fmt: str) -> list[str]:
    """The inputs `expand_paths` would find no file in, checked cheaply (each input up to its first file)."""
    return [item for item in paths if next(_files_of(item, fmt), None) is None]


def unmatched_message(item: str, fmt: str) -> str:
    """Why an input of `expand_paths` gave no file: a folder without article files (and what was looked for), or
    nothing of that name."""
    if not Path(item).is_dir():
        return f"{item}: no such file, folder or glob match"
    if fmt != "auto":
        return f"no files in folder {item}"
    patterns = ", ".join(f"*{suffix}" for suffix in _SUFFIX_FORMAT)
    return f"no article files in folder {item} (looked for {patterns}, each also .gz)"


def fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
