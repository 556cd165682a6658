"""Rows for the terminal: the latest scores, the recent runs or any SQL, as a table that fits the terminal, CSV,
or JSON (one array of objects; docs/research.md).

CSV and JSON are streamed: the result is read in Arrow record batches (`to_arrow_reader`) and written batch by
batch, so `presstrust query --format csv "select * from range(100000000)"` runs in flat memory. A table needs
every row it shows to size its columns: it shows the first MAX_TABLE_ROWS rows and says so when there are more.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import duckdb

from jobs.infra.terminal import visible
from jobs.outputs.export import csv_safe

TABLE_WIDTH = 80  # terminal tables fit this (or the terminal's width), as the DuckDB CLI's do; --wide for all
MAX_CELL = 40  # longer values are cut with "…" in a table (never in CSV or JSON)
MAX_TABLE_ROWS = 1_000  # a table shows at most this many rows (CSV and JSON: every row)
BATCH_ROWS = 8_192  # rows per Arrow record batch read and written at a time

_LATEST_SCORES = (
    "SELECT outlet, round(score, 1) AS score, round(score_low, 1) AS low, round(score_high, 1) AS high, "
    "round(100 * label_score, 1) AS label, grade, status, grade_confidence, n_articles, n_english, "
    "round(text_score, 1) AS text_score, round(cue_score, 1) AS cue_score, as_of, model_id FROM latest_scores "
    "WHERE len($1::VARCHAR[]) = 0 OR list_contains($1::VARCHAR[], outlet) ORDER BY score DESC NULLS LAST, outlet"
)
# The run in progress (from the run lock's record, jobs/store/lock.py: its rows are in the working database, which
# the run holds) comes first, then the runs of the database read, newest first.
_RECENT_RUNS = (
    "SELECT run_id, job, status, started_at, seconds, code_version, counts, error FROM ("
    "SELECT 0 AS part, NULL::BIGINT AS run_id, $3::VARCHAR AS job, 'running' AS status, "
    "date_trunc('second', $4::TIMESTAMP) AS started_at, round(epoch($5::TIMESTAMP - $4::TIMESTAMP), 1) AS seconds, "
    "NULL::VARCHAR AS code_version, $6::JSON AS counts, NULL::VARCHAR AS error "
    "WHERE $4::TIMESTAMP IS NOT NULL AND ($1::VARCHAR IS NULL OR $3::VARCHAR = $1) "
    "UNION ALL SELECT * FROM (SELECT 1 AS part, run_id, job, status, date_trunc('second', started_at) AS started_at, "
    "round(epoch(finished_at - started_at), 1) AS seconds, code_version, counts, error FROM runs "
    "WHERE $1::VARCHAR IS NULL OR job = $1 ORDER BY run_id DESC LIMIT $2)) ORDER BY part, run_id DESC"
)


@dataclass(frozen=True)
class InProgress:
    """A run that holds the database's run lock now (jobs/store/lock.py: its record)."""

    job: str
    started_at: Any  # datetime, UTC, naive
    now: Any  # datetime, UTC, naive
    holder: dict[str, Any]


def latest_scores(con: duckdb.DuckDBPyConnection, outlets: list[str]) -> duckdb.DuckDBPyRelation:
    """The latest published scores of `outlets` (all when empty), best first, on the 0-100 scale."""
    return con.sql(_LATEST_SCORES, params=[outlets])


def missing_outlets(con: duckdb.DuckDBPyConnection, outlets: list[str]) -> list[str]:
    """Those of `outlets` that have no published score."""
    found = {r[0] for r in con.sql("SELECT DISTINCT outlet FROM latest_scores").fetchall()}
    return [o for o in dict.fromkeys(outlets) if o not in found]


def recent_runs(
    con: duckdb.DuckDBPyConnection, job: str | None, limit: int, in_progress: InProgress | None = None
) -> duckdb.DuckDBPyRelation:
    """The `limit` most recent runs (of `job` only, when given), newest first; the run in progress first."""
    now = in_progress.now if in_progress else None
    started = in_progress.started_at if in_progress else None
    holder = json.dumps(in_progress.holder) if in_progress else None
    name = in_progress.job if in_progress else None
    return con.sql(_RECENT_RUNS, params=[job, limit, name, started, now, holder])


def statement(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation | None:
    """A user's SQL as a relation (None when the statement returns no result)."""
    return con.sql(sql)


def _interval(value: Any) -> Any:
    """An Arrow interval (pyarrow MonthDayNano) as DuckDB's own Python value: a timedelta (30-day months)."""
    if value is None:
        return None
    return timedelta(days=30 * value.months + value.days, microseconds=value.nanoseconds / 1000)


def _converter(duckdb_type: str, arrow_type: Any) -> Callable[[Any], Any] | None:
    """How a column's Arrow values become what DuckDB's fetchall gives (None: as they are): JSON parsed (so JSON
    output nests it once), an interval as a timedelta, a whole-number decimal (HUGEINT, sum()) as an int."""
    import pyarrow as pa

    if duckdb_type == "JSON":
        return lambda v: json.loads(v) if isinstance(v, str) else v
    if pa.types.is_interval(arrow_type):
        return _interval
    if pa.types.is_decimal(arrow_type) and arrow_type.scale == 0:
        return lambda v: None if v is None else int(v)
    return None


def _rows(relation: duckdb.DuckDBPyRelation) -> Iterator[list[tuple[Any, ...]]]:
    """The relation's rows, one batch (a list of rows, each a tuple by position) at a time."""
    reader = relation.to_arrow_reader(BATCH_ROWS)
    converters = [_converter(str(t), f.type) for t, f in zip(relation.types, reader.schema, strict=True)]
    for batch in reader:
        columns = []
        for column, convert in zip(batch.columns, converters, strict=True):
            values = column.to_pylist()
            columns.append(values if convert is None else [convert(v) for v in values])
        yield list(zip(*columns, strict=True))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def write_rows(
    relation: duckdb.DuckDBPyRelation,
    fmt: str,
    write: Callable[[str], Any],
    *,
    escape_formulas: bool = True,
    wide: bool = False,
    width: int = TABLE_WIDTH,
) -> int:
    """Write the relation's rows with `write` and return how many there were (a table: how many it read).

    CSV: a header line, then the rows (even none); text cells that a spreadsheet would run as a formula get a
    leading single quote (OWASP, jobs.outputs.export.csv_safe) unless `escape_formulas` is False. JSON: one array
    of objects, one object per line (`jq '.[]'` or json.load read it). Both are streamed. Table: see `_table`.
    """
    if fmt == "table":
        return _write_table(relation, write, wide=wide, width=width)
    count = 0
    if fmt == "csv":
        relation = csv_safe(relation) if escape_formulas else relation
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(relation.columns)
        for batch in _rows(relation):
            writer.writerows([_text(v) if isinstance(v, list | dict) else v for v in row] for row in batch)
            count += len(batch)
            write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
        write(buffer.getvalue())
        return count
    names = relation.columns
    write("[")
    for batch in _rows(relation):
        objects = (json.dumps(dict(zip(names, row, strict=True)), default=str, ensure_ascii=False) for row in batch)
        write(("\n" if count == 0 else ",\n") + ",\n".join(objects))
        count += len(batch)
    write("\n]\n" if count else "]\n")
    return count


def _write_table(relation: duckdb.DuckDBPyRelation, write: Callable[[str], Any], *, wide: bool, width: int) -> int:
    rows = relation.limit(MAX_TABLE_ROWS + 1).fetchall()  # no Arrow for a table: a reader needs no pyarrow
    more = len(rows) > MAX_TABLE_ROWS
    rows = rows[:MAX_TABLE_ROWS]
    text = _table(list(relation.columns), [[_text(v) for v in r] for r in rows], wide=wide, width=width)
    if more:
        text += f"(the first {MAX_TABLE_ROWS} rows; --format csv or json prints every row)\n"
    write(text)
    return len(rows)


def _table(columns: list[str], text_rows: list[list[str]], *, wide: bool, width: int) -> str:
    """A table that fits `width`: values cut at MAX_CELL characters and columns kept from the left while they fit;
    the last lines name every column left out (--wide shows every column in full). A header line even with no
    rows."""
    text_rows = [[visible(v) for v in r] for r in text_rows]  # a terminal table: no control characters
    if not wide:
        text_rows = [[_cut(v, MAX_CELL) for v in r] for r in text_rows]
    header = [visible(c) for c in columns]
    widths = [max([len(c), *(len(r[i]) for r in text_rows)]) for i, c in enumerate(header)]
    shown = len(columns)
    if not wide:
        used, shown = widths[0], 1
        while shown < len(columns) and used + 2 + widths[shown] <= width:
            used += 2 + widths[shown]
            shown += 1
    lines = ["  ".join(c.ljust(w) for c, w in zip(header[:shown], widths, strict=False)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r[:shown], widths, strict=False)).rstrip() for r in text_rows]
    if shown < len(columns):
        lines += _left_out(header[shown:], width)
    return "\n".join(lines) + "\n"


def _left_out(names: list[str], width: int) -> list[str]:
    """Lines naming every column left out of a table, wrapped at `width` (never cut: each name is shown)."""
    noun = "column" if len(names) == 1 else "columns"
    words = [f"(--wide shows {len(names)} more {noun}:", *(f"{n}," for n in names[:-1]), f"{names[-1]})"]
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = " " + word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]
