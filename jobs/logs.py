"""Logging to stderr: plain lines for people, JSON lines for log collectors; --quiet for cron."""

from __future__ import annotations

import json
import logging
import sys

import click

_FORMAT = {"current": "text"}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        data.update(getattr(record, "fields", {}))
        return json.dumps(data, default=str)


def report_error(message: str) -> None:
    """A command's final error line on stderr: a JSON log line under --log-format json, else plain text."""
    if _FORMAT["current"] == "json":
        logging.getLogger("jobs").error("%s", message)
    else:
        click.echo(message, err=True)


def setup_logging(*, quiet: bool = False, verbose: bool = False, fmt: str = "text") -> None:
    """Configure the 'jobs' and 'features' loggers once per process (idempotent for tests)."""
    _FORMAT["current"] = fmt
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    )
    for name in ("jobs", "features"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
