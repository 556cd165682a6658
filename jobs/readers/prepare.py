"""An input file as prepared batches: read (jobs/readers/files.py), normalised (jobs/readers/normalize.py), and
every reject kept with its reason and raw record. No database: an engine runs this where it likes (this process,
or a Spark task per file), and the ingest stage loads the batches.

Userinfo (`user:password@`) never leaves here: normalisation removes it from the url and outlet fields, and the
raw copies of rejects lose it too (`scrub_userinfo`), before any row is staged or stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from jobs.readers.files import read_file
from jobs.readers.normalize import GOOD_COLUMNS, NormalizeOptions, normalize_batch
from jobs.readers.records import RawBatch, scrub_userinfo


@dataclass
class PreparedBatch:
    """A raw batch after normalisation: what the ingest stage loads (computed here, or by a Spark task)."""

    good: pl.DataFrame  # GOOD_COLUMNS
    rejects: pl.DataFrame  # REJECT_SCHEMA: the reader's and normalisation's rejects, with their raw records
    n_records: int
    error: str | None = None  # the file broke off here (RawBatch.error)
    userinfo_stripped: int = 0  # records whose URL (or outlet) had userinfo removed
    skipped: dict[str, int] = field(default_factory=dict)  # RawBatch.skipped: read, not articles, by reason
    tallies: dict[str, int] = field(default_factory=dict)  # RawBatch.tallies: how records were read


REJECT_SCHEMA: dict[str, pl.DataType] = {"rn": pl.Int64(), "reason": pl.String(), "raw": pl.String()}


def prepare_batch(batch: RawBatch, normalize: NormalizeOptions) -> PreparedBatch:
    """Normalise a raw batch and collect every reject with its reason and raw record, userinfo removed (no
    database)."""
    good, rejects, stripped = normalize_batch(batch.frame, normalize)
    raws = batch.raw_of(rejects.get_column("rn").to_list())
    rows: list[tuple[int, str, str | None]] = []
    for r in batch.rejects:
        clean = scrub_userinfo(r.raw)
        stripped += clean != r.raw
        rows.append((r.rn, r.reason, clean))
    for rn, reason, removed in rejects.iter_rows():
        raw = raws.get(rn)
        rows.append((rn, reason, None if raw is None else scrub_userinfo(raw, removed)))
    return PreparedBatch(
        good.select(GOOD_COLUMNS),
        pl.DataFrame(rows, schema=REJECT_SCHEMA, orient="row"),
        batch.n_records,
        batch.error,
        stripped,
        dict(batch.skipped),
        dict(batch.tallies),
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
