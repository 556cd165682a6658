"""`presstrust export`: every public table and view as Parquet or CSV, with a schema file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from jobs.outputs.schema_doc import schema_markdown


@dataclass
class ExportSummary:
    out: Path
    tables: dict[str, int]

    def line(self) -> str:
        rows = sum(self.tables.values())
        return (
            f"exported {len(self.tables)} tables and views ({rows} rows) to {self.out}, with schema.json and SCHEMA.md"
        )


def public_relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, 'table' | 'view') of every documented table and view of the main schema."""
    rows = con.execute(
        "SELECT table_name, 'table' FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal AND NOT temporary "
        "AND database_name = current_database() UNION ALL SELECT view_name, 'view' FROM duckdb_views() "
        "WHERE schema_name = 'main' AND NOT internal AND NOT temporary AND database_name = current_database() "
        "ORDER BY 1"
    ).fetchall()
    return [(str(n), str(k)) for n, k in rows]


# OWASP "CSV Injection": a spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def csv_safe(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with every text cell that starts like a formula prefixed by a single quote (OWASP).

    Columns are referred to by position (`#1`), so a query's result with two columns of one name keeps both.
    """
    starts = ", ".join("'" + c.replace("'", "''") + "'" for c in FORMULA_STARTS)
    columns = []
    for position, (name, dtype) in enumerate(zip(relation.columns, relation.dtypes, strict=True), start=1):
        col = f"#{position}"
        if str(dtype) == "VARCHAR":
            columns.append(
                f"CASE WHEN left({col}, 1) IN ({starts}) THEN chr(39) || {col} ELSE {col} END AS {_quoted(name)}"
            )
        else:
            columns.append(f"{col} AS {_quoted(name)}")
    return relation.select(", ".join(columns))


def export(
    con: duckdb.DuckDBPyConnection, out: Path, *, fmt: str = "parquet", escape_formulas: bool = True
) -> ExportSummary:
    """Write each public table and view to out/<name>.<fmt>, plus schema.json and SCHEMA.md.

    CSV text cells that a spreadsheet would run as a formula (starting with = + - @ tab or CR) get a leading
    single quote, as OWASP's CSV-injection guidance says, unless `escape_formulas` is False (a machine reads the
    file); Parquet keeps every value exactly.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, not {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, int] = {}
    schema: dict[str, dict[str, object]] = {}
    for name, kind in public_relations(con):
        relation = con.table(name) if kind == "table" else con.view(name)
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            relation.write_parquet(str(path))
        else:
            (csv_safe(relation) if escape_formulas else relation).write_csv(str(path))
        tables[name] = int(relation.aggregate("count(*)").fetchall()[0][0])
        columns = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND database_name = current_database() AND table_name = ? ORDER BY column_index",
            [name],
        ).fetchall()
        schema[name] = {
            "kind": kind,
            "rows": tables[name],
            "file": path.name,
            "columns": [{"name": c, "type": t, "description": d} for c, t, d in columns],
        }
    (out / "schema.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")
    (out / "SCHEMA.md").write_text(schema_markdown(con), encoding="utf-8")
    return ExportSummary(out, tables)
