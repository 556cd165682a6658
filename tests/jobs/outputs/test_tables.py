"""Invariants of the rows the reading commands print (jobs/outputs/tables.py)."""

from __future__ import annotations

import csv
import io
import json

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.outputs.export import FORMULA_STARTS
from jobs.outputs.tables import MAX_TABLE_ROWS, _left_out, write_rows

_CELLS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20
)


def _relation(con: duckdb.DuckDBPyConnection, cells: list[str]) -> duckdb.DuckDBPyRelation:
    return con.sql("SELECT v AS cell, v AS cell, length(v) AS n FROM unnest($1::VARCHAR[]) t(v)", params=[cells])


def _written(relation: duckdb.DuckDBPyRelation, fmt: str, **options: bool) -> str:
    out: list[str] = []
    write_rows(relation, fmt, out.append, **options)
    return "".join(out)


@settings(max_examples=60, deadline=None)
@given(st.lists(_CELLS, max_size=30))
def test_csv_escapes_exactly_the_formula_cells_and_json_keeps_every_value(cells: list[str]) -> None:
    con = duckdb.connect()
    rows = list(csv.reader(io.StringIO(_written(_relation(con, cells), "csv"), newline="")))
    assert rows[0] == ["cell", "cell", "n"] and len(rows) == len(cells) + 1  # a header even with no rows
    for cell, (first, second, n) in zip(cells, rows[1:], strict=True):
        expected = "'" + cell if cell.startswith(FORMULA_STARTS) else cell
        assert first == second == expected and n == str(len(cell))  # both columns of one name kept
    raw = list(csv.reader(io.StringIO(_written(_relation(con, cells), "csv", escape_formulas=False), newline="")))
    assert [r[0] for r in raw[1:]] == cells
    assert [r["n"] for r in json.loads(_written(_relation(con, cells), "json"))] == [len(c) for c in cells]


def test_a_table_shows_at_most_max_rows_and_says_so() -> None:
    con = duckdb.connect()
    for n, more in ((MAX_TABLE_ROWS, False), (MAX_TABLE_ROWS + 1, True)):
        lines = _written(con.sql("SELECT range AS n FROM range($1)", params=[n]), "table").splitlines()
        assert lines[1 : MAX_TABLE_ROWS + 1] == [str(i) for i in range(MAX_TABLE_ROWS)]
        assert ("--format csv or json" in lines[-1]) is more and len(lines) == MAX_TABLE_ROWS + 1 + more


@given(st.lists(st.from_regex(r"[a-z_]{1,30}", fullmatch=True), min_size=1, max_size=40), st.integers(40, 200))
def test_every_left_out_column_is_named_within_the_width(names: list[str], width: int) -> None:
    lines = _left_out(names, width)
    assert all(len(line) <= width for line in lines)
    words = " ".join(" ".join(lines).split()).removesuffix(")").split(": ", 1)[1].split(", ")
    assert words == names
