"""`presstrust db`: database maintenance (schema migrations, the documented schema)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from jobs.cli.options import db_option, logging_options, open_db
from jobs.infra.logs import report_summary

if TYPE_CHECKING:
    from jobs.store.schema import MigrationStatus


@click.group()
def db() -> None:
    """Database maintenance: schema migrations.

    Example:

        presstrust db migrate --list
    """


def _status_line(status: MigrationStatus) -> str:
    state = f"applied {status.applied_at:%Y-%m-%d %H:%M:%S}" if status.applied_at else "pending"
    if not status.known:
        state += " (unknown to this code: the database was written by a newer presstrust)"
    if not status.checksum_ok:
        state += " (file changed since it was applied!)"
    return f"{status.version:04d}_{status.name}  {state}"


@db.command()
@db_option
@click.option("--list", "list_only", is_flag=True, help="Show each migration's status without writing anything.")
@logging_options
def migrate(db_path: Path, list_only: bool) -> None:
    """Apply pending numbered schema migrations (every job also does this on start).

    Example:

        presstrust db migrate --db data/presstrust.duckdb --list
    """
    from jobs.store.schema import apply_migrations, migration_status

    if list_only:
        con = open_db(db_path, read_only=True, migrate=False) if db_path.exists() else None
        try:
            for status in migration_status(con):
                click.echo(_status_line(status))
        finally:
            if con is not None:
                con.close()
        return
    with open_db(db_path, migrate=False) as con:
        done = apply_migrations(con)
    report_summary(f"{db_path}: applied {len(done)} migration(s)", applied=[m.version for m in done])


@db.command()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file instead of stdout."
)
@logging_options
def schema(out: Path | None) -> None:
    """Print the documented schema (tables, columns, COMMENT ON text) as Markdown.

    Built from a fresh in-memory database with every migration applied, so it shows the schema of
    this code version.

    Example:

        presstrust db schema --out docs/schema.md
    """
    from jobs.outputs.schema_doc import current_schema_markdown

    text = current_schema_markdown()
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
