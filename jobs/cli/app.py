"""The `presstrust` command group: every command's database errors, usage errors and signals end in one line and a
documented exit code (jobs/infra/exits.py), in JSON under `--log-format json`. The commands live by role: the
pipeline's stages (jobs/cli/pipeline.py), the reading commands (jobs/cli/reading.py) and database maintenance
(jobs/cli/database.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from jobs.cli import database, pipeline, reading
from jobs.cli.options import DB_KEY
from jobs.infra.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_PARTIAL, interruption, signals_interrupt
from jobs.infra.logs import report_error
from jobs.store.errors import DatabaseError, DatabaseInUse, DatabaseMissing, fault_message, is_database_fault

_ARGS_KEY = "presstrust.args"  # ctx.meta: the command line, to see --log-format before the options are parsed


def json_requested(args: Sequence[str]) -> bool:
    """Whether this command line asks for JSON logs (`--log-format json`, `--log-format=json` or
    PRESSTRUST_LOG_FORMAT=json), read from the command line itself: a usage error comes before the options are
    parsed (and a previous command run in this process may have logged JSON)."""
    fmt = os.environ.get("PRESSTRUST_LOG_FORMAT", "text")
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--log-format" and i + 1 < len(args):
            fmt = args[i + 1]
        elif arg.startswith("--log-format="):
            fmt = arg.partition("=")[2]
    return fmt == "json"


def _usage_error(exc: click.ClickException, args: Sequence[str]) -> None:
    """Under JSON logs, a usage error (or another of click's errors) as one JSON line, then its exit code;
    otherwise nothing: click prints it as text."""
    if not json_requested(args):
        return
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "presstrust"
    fields: dict[str, Any] = {"event": "usage_error", "exit_code": exc.exit_code}
    if ctx is not None:
        fields["usage"] = ctx.get_usage()
        fields["help"] = f"{where} --help"
    report_error(f"{where}: {exc.format_message()}", as_json=True, **fields)
    sys.exit(exc.exit_code)


def _interrupted(exc: BaseException) -> NoReturn:
    signal = interruption(exc)
    assert signal is not None
    name = signal.args[0]
    report_error(f"presstrust: interrupted by {name}: the run is recorded as interrupted, nothing new published")
    sys.exit(signal.exit_code)


class PresstrustGroup(click.Group):
    """The command group: every command's database errors and signals end in one line and a documented code.

    Exit codes (jobs/infra/exits.py): 2 for a usage error, 3 when another process holds the database, 4 when the
    database is damaged, full, unwritable or newer than this code, 128+N after signal N (130 Ctrl-C, 143 SIGTERM,
    129 SIGHUP). Under `--log-format json` each of these messages is one JSON line, usage errors too.
    """

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            ctx = super().make_context(info_name, list(args), parent, **extra)
        except click.ClickException as exc:
            _usage_error(exc, args)
            raise
        ctx.meta[_ARGS_KEY] = list(args)
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        with signals_interrupt():
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt as exc:
                _interrupted(exc)
            except click.ClickException as exc:
                _usage_error(exc, ctx.meta.get(_ARGS_KEY, []))
                raise
            except BrokenPipeError:  # `presstrust scores | head`: the reader has what it wanted; not an error
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
                sys.exit(0)
            except DatabaseError as exc:
                report_error(f"presstrust: {exc}")
                codes = {DatabaseInUse: EXIT_LOCKED, DatabaseMissing: EXIT_PARTIAL}
                sys.exit(codes.get(type(exc), EXIT_FAILED))
            except Exception as exc:
                if interruption(exc) is not None:  # a library's own error for the signal (DuckDB: Query interrupted)
                    _interrupted(exc)
                if not is_database_fault(exc):
                    raise
                report_error(f"presstrust: {fault_message(ctx.meta.get(DB_KEY, 'database'), exc)}", exc=exc)
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
