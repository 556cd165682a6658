"""An input file as prepared batches: read (jobs/readers/files.py), normalised (jobs/readers/normalize.py), and
every reject kept with its reason and raw record. No database: an engine runs this where it likes (this process,
or a Spark task per file), and the ingest stage loads the batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from jobs.readers.files import read_file
from jobs.readers.normalize import GOOD_COLUMNS, NormalizeOptions, normalize_batch
from jobs.readers.records import RawBatch


@dataclass
class PreparedBatch:
    """A raw batch after normalisation: what the ingest stage loads (computed here, or by a Spark task)."""

    good: pl.DataFrame  # GOOD_COLUMNS
    rejects: pl.DataFrame  # REJECT_SCHEMA: the reader's and normalisation's rejects, with their raw records
    n_records: int
    error: str | None = None  # the file broke off here (RawBatch.error)


REJECT_SCHEMA: dict[str, pl.DataType] = {"rn": pl.Int64(), "reason": pl.String(), "raw": pl.String()}


def prepare_batch(batch: RawBatch, normalize: NormalizeOptions) -> PreparedBatch:
    """Normalise a raw batch and collect every reject with its reason and raw record (no database)."""
    good, rejects = normalize_batch(batch.frame, normalize)
    reject_rns = rejects.get_column("rn").to_list()
    raws = batch.raw_of(reject_rns)
    rows = [(r.rn, r.reason, r.raw) for r in batch.rejects] + [
        (rn, reason, raws.get(rn)) for rn, reason in rejects.iter_rows()
    ]
    return PreparedBatch(
        good.select(GOOD_COLUMNS), pl.DataFrame(rows, schema=REJECT_SCHEMA, orient="row"), batch.n_records, batch.error
    )


@dataclass(frozen=True)
class FileReader:
    """How every input file of a load is read: the --map overrides, records per batch, and normalisation.
    Picklable, so a Spark task can read with it."""

    mapping: dict[str, str]
    batch_size: int
    normalize: NormalizeOptions

    def batches(self, path: Path, fmt: str) -> Iterator[PreparedBatch]:
        """A file's batches, read and normalised (raises ReadError for a file that cannot be read)."""
        for batch in read_file(path, fmt, self.mapping, self.batch_size):
            yield prepare_batch(batch, self.normalize)
