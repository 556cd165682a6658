"""python -m jobs.cli: the presstrust command."""

from jobs.cli import cli

cli()
