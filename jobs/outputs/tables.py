"""Rows for the terminal: the latest scores, the recent runs or any SQL, as a table that fits the terminal, CSV,
or JSON (one array of objects; docs/research.md)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import duckdb

from jobs.infra.terminal import visible

TABLE_WIDTH = 80  # terminal tables fit this (or the terminal's width), as the DuckDB CLI's do; --wide for all
MAX_CELL = 40  # longer values are cut with "…" in a table (never in CSV or JSON)

_LATEST_SCORES = (
    "SELECT outlet, round(score, 1) AS score, round(score_low, 1) AS low, round(score_high, 1) AS high, "
    "round(100 * label_score, 1) AS label, grade, status, grade_confidence, n_articles, n_english, "
    "round(text_score, 1) AS text_score, round(cue_score, 1) AS cue_score, as_of, model_id FROM latest_scores "
    "WHERE len($1::VARCHAR[]) = 0 OR list_contains($1::VARCHAR[], outlet) ORDER BY score DESC NULLS LAST, outlet"
)
_RECENT_RUNS = (
    "SELECT run_id, job, status, date_trunc('second', started_at) AS started_at, "
    "round(epoch(finished_at - started_at), 1) AS seconds, code_version, counts, error FROM runs "
    "WHERE $1::VARCHAR IS NULL OR job = $1 ORDER BY run_id DESC LIMIT $2"
)


def query_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts from an open connection (closed after); JSON columns (runs.counts, runs.parameters) parsed,
    so JSON output nests them once."""
    with con:
        cursor = con.execute(sql, params)
        description = cursor.description or []
        names = [d[0] for d in description]
        is_json = [str(d[1]) == "JSON" for d in description]
        return [
            {
                name: json.loads(value) if parse and isinstance(value, str) else value
                for name, value, parse in zip(names, row, is_json, strict=True)
            }
            for row in cursor.fetchall()
        ]


def latest_scores(con: duckdb.DuckDBPyConnection, outlets: list[str]) -> list[dict[str, Any]]:
    """The latest published scores of `outlets` (all when empty), best first, on the 0-100 scale."""
    return query_rows(con, _LATEST_SCORES, [outlets])


def recent_runs(con: duckdb.DuckDBPyConnection, job: str | None, limit: int) -> list[dict[str, Any]]:
    """The `limit` most recent runs (of `job` only, when given), newest first."""
    return query_rows(con, _RECENT_RUNS, [job, limit])


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def format_rows(rows: list[dict[str, Any]], fmt: str, *, wide: bool = False, width: int = TABLE_WIDTH) -> str:
    """Rows as a table that fits `width`, CSV, or JSON: one array of objects, one object per line (`jq '.[]'` or
    json.load read it). The text ends with a newline (empty when a table or CSV has no rows).

    Table: values cut at MAX_CELL characters and columns kept from the left while they fit in `width`; a last line
    names the columns left out. `wide` shows every column in full.
    """
    if fmt == "json":
        body = ",\n".join(json.dumps(row, default=str, ensure_ascii=False) for row in rows)
        return (f"[\n{body}\n]" if rows else "[]") + "\n"
    if not rows:
        return ""
    columns = list(rows[0])
    text_rows = [[_text(v) for v in r.values()] for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows(text_rows)
        return buffer.getvalue()
    return _table(columns, text_rows, wide=wide, width=width)


def _table(columns: list[str], text_rows: list[list[str]], *, wide: bool, width: int) -> str:
    text_rows = [[visible(v) for v in r] for r in text_rows]  # a terminal table: no control characters
    if not wide:
        text_rows = [[_cut(v, MAX_CELL) for v in r] for r in text_rows]
    widths = [max(len(c), *(len(r[i]) for r in text_rows)) for i, c in enumerate(columns)]
    shown = len(columns)
    if not wide:
        used, shown = widths[0], 1
        while shown < len(columns) and used + 2 + widths[shown] <= width:
            used += 2 + widths[shown]
            shown += 1
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns[:shown], widths, strict=False)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r[:shown], widths, strict=False)).rstrip() for r in text_rows]
    if shown < len(columns):
        left_out = f"(--wide shows {len(columns) - shown} more columns: {', '.join(columns[shown:])})"
        lines.append(_cut(left_out, TABLE_WIDTH))
    return "\n".join(lines) + "\n"
