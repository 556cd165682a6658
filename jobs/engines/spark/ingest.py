"""`ingest --engine spark`: the input files read and normalised by Spark tasks, one per file."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from jobs.engines.base import FileBatches
from jobs.engines.spark.session import session
from jobs.engines.spark.staging import parts, staging
from jobs.readers.prepare import FileReader, PreparedBatch
from jobs.readers.records import ReadError

log = logging.getLogger(__name__)


Staged = dict[str, list[tuple[str, int, str | None, str | None, int, str]]]
"""Per input path, its staged batches in order: (file stem, records, the break's error, the file's read error,
records whose URL had userinfo removed, the batch's skipped and tallies counts as JSON)."""


@contextmanager
def read_files(
    con: duckdb.DuckDBPyConnection, files: Sequence[tuple[Path, str]], reader: FileReader, *, master: str | None
) -> Iterator[FileBatches]:
    """Read and normalise files as one Spark job (a task per file, `FileReader.batches`); yields a function giving
    a file's prepared batches, in order, for the driver to load (`jobs.stages.ingest.ingest_file`).

    The tasks write each batch's rows and rejects as Arrow IPC files to the staging folder and return one small
    row per batch; a file that cannot be read returns its ReadError, raised again when the driver reaches it,
    so the file fails as it does with the local engine. The job runs to completion before anything is loaded.
    """
    with staging(con) as folder:
        prep = folder / "prep"
        staged = _read_job(files, reader, folder, prep, master) if files else {}

        def batches(path: Path, fmt: str) -> Iterator[PreparedBatch]:
            key = str(path)
            if key not in staged:
                raise RuntimeError(f"spark ingest: {key} was not read by the Spark job")
            for stem, n_records, error, read_error, userinfo_stripped, counts in staged[key]:
                if read_error is not None:
                    raise ReadError(read_error)
                good = pl.read_ipc(prep / f"{stem}.good.arrow")
                rejects = pl.read_ipc(prep / f"{stem}.rejects.arrow")
                tallied = json.loads(counts)
                yield PreparedBatch(
                    good, rejects, n_records, error, userinfo_stripped, tallied["skipped"], tallied["tallies"]
                )

        yield batches


def _read_job(
    files: Sequence[tuple[Path, str]], reader: FileReader, folder: Path, prep: Path, master: str | None
) -> Staged:
    """Run the Spark job that reads every file into `prep`; return what it staged per file."""
    spark = session(master)
    prep.mkdir()

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for rb in batches:
            for index, path, fmt in zip(*(rb.column(c).to_pylist() for c in ("file", "path", "fmt")), strict=True):
                yield from _stage_file(reader, prep, index, Path(path), fmt)

    listed = [(i, str(path), fmt or "") for i, (path, fmt) in enumerate(files)]
    started = time.perf_counter()
    frame = spark.createDataFrame(listed, "file long, path string, fmt string")
    frame.repartitionByRange(len(listed), "file").mapInArrow(read, _INGEST_OUT).write.parquet(str(folder / "out"))
    rows = pl.read_parquet(parts(folder / "out")).sort("file", "batch")
    staged: Staged = {}
    for (index,), group in rows.group_by(["file"], maintain_order=True):
        if group["batch"].to_list() != list(range(1, group.height + 1)):
            raise RuntimeError(f"spark ingest: the batches of {listed[index][1]} came back incomplete")
        staged[listed[index][1]] = [
            (
                f"{index}-{r['batch']}",
                r["n_records"],
                r["error"],
                r["read_error"],
                r["userinfo_stripped"],
                r["counts"],
            )
            for r in group.iter_rows(named=True)
        ]
    log.info(
        "spark ingest: %d files read and normalised (%d records), %.1fs",
        len(listed),
        int(rows["n_records"].sum() or 0),
        time.perf_counter() - started,
    )
    return staged


def _stage_file(reader: FileReader, prep: Path, index: int, path: Path, fmt: str) -> Iterator[pa.RecordBatch]:
    """In a task: read input file `index` into `prep`, a pair of IPC files per batch; one result row per batch (a
    file that cannot be read: one row with its ReadError)."""
    number = 0
    try:
        for number, batch in enumerate(reader.batches(path, fmt), 1):
            batch.good.write_ipc(prep / f"{index}-{number}.good.arrow", compression="lz4")
            batch.rejects.write_ipc(prep / f"{index}-{number}.rejects.arrow", compression="lz4")
            counts = json.dumps({"skipped": batch.skipped, "tallies": batch.tallies})
            yield _batch_row(index, number, batch.n_records, batch.error, None, batch.userinfo_stripped, counts)
    except ReadError as exc:
        yield _batch_row(index, number + 1, 0, None, str(exc), 0)


_INGEST_OUT = (
    "file long, batch long, n_records long, error string, read_error string, userinfo_stripped long, counts string"
)
_NO_COUNTS = json.dumps({"skipped": {}, "tallies": {}})


def _batch_row(
    index: int,
    number: int,
    n_records: int,
    error: str | None,
    read_error: str | None,
    userinfo_stripped: int,
    counts: str = _NO_COUNTS,
) -> pa.RecordBatch:
    """One batch's result row; `counts`: its skipped records and tallies by name (PreparedBatch), as JSON."""
    return pa.RecordBatch.from_pydict(
        {
            "file": [index],
            "batch": [number],
            "n_records": [n_records],
            "error": [error],
            "read_error": [read_error],
            "userinfo_stripped": [userinfo_stripped],
            "counts": [counts],
        },
        schema=pa.schema(
            [
                ("file", pa.int64()),
                ("batch", pa.int64()),
                ("n_records", pa.int64()),
                ("error", pa.string()),
                ("read_error", pa.string()),
                ("userinfo_stripped", pa.int64()),
                ("counts", pa.string()),
            ]
        ),
    )
