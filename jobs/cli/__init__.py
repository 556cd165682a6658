"""The `presstrust` command line: one Click group (jobs/cli/app.py), shared options (jobs/cli/options.py) and thin
commands, each parsing its options, calling one library function and printing a one-line summary."""

from jobs.cli.app import cli

__all__ = ["cli"]
