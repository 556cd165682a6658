"""python -m jobs: the presstrust command."""

from jobs.cli import cli

cli()
