"""Label files as tables of text with each row's line: CSV/TSV (also .gz) parsed line by line, or Parquet.

Every way a file can fail to be a table (not UTF-8, a row with more or fewer fields than the header, a quote that
never closes, no header, a repeated column, a broken Parquet file) is a `LabelFileError`: one line naming the file
and, where it applies, the line. `jobs.readers.labels` turns the table into labels; `jobs.readers.outlets` reads
its domain column for the hosts the labels know.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

DOMAIN_COLUMNS = ("domain", "source_url_normalized", "source_url")
"""The columns a label file's domain is read from, the first one present."""
LINE = "_line"
"""The column of `read_label_table` with each row's line in a CSV/TSV file (its row, from 1, in a Parquet file)."""
SHOWN_LINES = 10  # line numbers a message lists before "…"


class LabelFileError(ValueError):
    """A label file that cannot be used, said in one line that names the file and, where it applies, the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path} {unit_of(path)} {line}"
        super().__init__(f"{where}: {message}")


def domain_column(table: pl.DataFrame, path: str | Path) -> str:
    """The first of DOMAIN_COLUMNS the table of `read_label_table` has; LabelFileError when it has none."""
    column = next((c for c in DOMAIN_COLUMNS if c in table.columns), None)
    if column is None:
        raise LabelFileError(path, f"expected a 'domain' column (columns: {[c for c in table.columns if c != LINE]})")
    return column


def is_parquet(path: str | Path) -> bool:
    return "".join(Path(path).suffixes).lower().endswith(".parquet")


def unit_of(path: str | Path) -> str:
    return "row" if is_parquet(path) else "line"


def lines_text(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:SHOWN_LINES])
    return shown + (f", … ({len(lines) - SHOWN_LINES} more)" if len(lines) > SHOWN_LINES else "")


def read_label_table(path: str | Path) -> pl.DataFrame:
    """A label file as strings plus its `LINE` column: CSV (`,`), TSV (`.tsv`/`.tab`, tab; `.gz` too) or Parquet;
    `#` lines, blank lines and a BOM skipped; empty fields null. LabelFileError when it cannot be read."""
    path = Path(path)
    if is_parquet(path):
        try:
            table = pl.read_parquet(path).cast(pl.String)
        except (pl.exceptions.PolarsError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise LabelFileError(path, f"not a readable Parquet file ({first})") from exc
        return table.with_columns(pl.int_range(1, table.height + 1, dtype=pl.Int64).alias(LINE))
    suffixes = "".join(path.suffixes).lower().removesuffix(".gz")
    separator = "\t" if suffixes.endswith((".tsv", ".tab")) else ","
    header, rows, lines = _csv_rows(path, _text(path), separator)
    columns = {name: [row[i] or None for row in rows] for i, name in enumerate(header)}
    schema = {**dict.fromkeys(header, pl.String), LINE: pl.Int64}
    return pl.DataFrame({**columns, LINE: lines}, schema=schema)


def _text(path: Path) -> str:
    """The file's text (gunzipped for `.gz`); a UTF-8 byte-order mark dropped."""
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise LabelFileError(path, f"cannot be read ({exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LabelFileError(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x}): save it as UTF-8", line) from exc


def _csv_rows(path: Path, text: str, separator: str) -> tuple[list[str], list[list[str]], list[int]]:
    """(header, data rows, each row's line): every row must have the header's number of fields."""
    at = [0]  # the physical line the reader has reached

    def physical_lines() -> Iterator[str]:
        for number, line in enumerate(io.StringIO(text, newline=""), 1):
            at[0] = number
            if not line.startswith("#"):
                yield line

    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(physical_lines(), delimiter=separator, quotechar='"', strict=True)
    start = 1  # the line after the last row read: where a row that cannot be parsed starts
    try:
        for row in reader:
            start = at[0] + 1
            if len(row) <= 1 and not "".join(row).strip():
                continue  # a blank line (a row of empty fields is a row: it has no value, and is counted)
            if header is None:
                header = _header(path, row, at[0])
            elif len(row) != len(header):
                fields = f"{len(row)} field{'s' if len(row) != 1 else ''}"
                raise LabelFileError(path, f"{fields} where the header has {len(header)}", at[0])
            else:
                rows.append(row)
                lines.append(at[0])
    except csv.Error as exc:
        kind = "TSV" if separator == "\t" else "CSV"
        read_to = f", read to line {at[0]}" if at[0] != start else ""
        raise LabelFileError(path, f"not valid {kind} ({exc}{read_to})", start) from exc
    if header is None:
        raise LabelFileError(path, "no header line (the file is empty)")
    return header, rows, lines


def _header(path: Path, row: list[str], line: int) -> list[str]:
    names = [name.lstrip("\ufeff").strip() for name in row]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LabelFileError(path, f"the header names {repeated[0]!r} more than once", line)
    if LINE in names:
        raise LabelFileError(path, f"the header has a column named {LINE!r}, which presstrust reserves", line)
    return names
