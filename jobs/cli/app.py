"""The `presstrust` command group: every command's database errors and signals end in one line and a documented
exit code (jobs/infra/exits.py). The commands live by role: the pipeline's stages (jobs/cli/pipeline.py), the
reading commands (jobs/cli/reading.py) and database maintenance (jobs/cli/database.py)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from jobs.cli import database, pipeline, reading
from jobs.cli.options import DB_KEY
from jobs.infra.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_PARTIAL, Interrupted, signals_interrupt
from jobs.infra.logs import report_error
from jobs.store.errors import DatabaseError, DatabaseInUse, DatabaseMissing, fault_message, is_database_fault


class PresstrustGroup(click.Group):
    """The command group: every command's database errors and signals end in one line and a documented code.

    Exit codes (jobs/infra/exits.py): 3 when another process holds the database, 4 when the database is damaged,
    full, unwritable or newer than this code, 128+N after signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
    """

    def invoke(self, ctx: click.Context) -> Any:
        with signals_interrupt():
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt as exc:
                signum = exc.signum if isinstance(exc, Interrupted) else Interrupted().signum
                name = Interrupted(signum).args[0]
                report_error(
                    f"presstrust: interrupted by {name}: the run is recorded as interrupted, nothing new published"
                )
                sys.exit(128 + signum)
            except BrokenPipeError:  # `presstrust scores | head`: the reader has what it wanted; not an error
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
                sys.exit(0)
            except DatabaseError as exc:
                report_error(f"presstrust: {exc}")
                codes = {DatabaseInUse: EXIT_LOCKED, DatabaseMissing: EXIT_PARTIAL}
                sys.exit(codes.get(type(exc), EXIT_FAILED))
            except Exception as exc:
                if not is_database_fault(exc):
                    raise
                report_error(f"presstrust: {fault_message(ctx.meta.get(DB_KEY, 'database'), exc)}")
                sys.exit(EXIT_FAILED)


@click.group(cls=PresstrustGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="presstrust")
def cli() -> None:
    """presstrust: open, reproducible source-reliability scores for news outlets.

    Example:

        presstrust ingest jobs/data/sample --db data/presstrust.duckdb
    """


for command in (*pipeline.COMMANDS, *reading.COMMANDS, database.db):
    cli.add_command(command)
