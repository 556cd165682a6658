"""One logging contract for every command: stderr, text or JSON lines, --quiet for cron, --verbose for debugging.

- `--quiet`: errors only on stderr, and no summary line in text mode.
- `--verbose`: debug lines too.
- `--log-format json`: every stderr line is one JSON object; a successful command ends with exactly one
  `"event": "summary"` line, even under --quiet, so a cron log shows every run (docs/operations.md).
- A failing command ends with one error line (`report_error`), in JSON too, usage errors included: a traceback
  is a field of that JSON line, or a debug line in text (--verbose).
- Each warning is logged once per command run, however often the code path that raises it runs.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

_STATE: dict[str, Any] = {"format": "text", "quiet": False}
LOGGERS = ("jobs", "features", "scorer")


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


class _OncePerRun(logging.Filter):
    """Drops a line whose logger, level and text were already logged in this run (a nightly loads the label file
    for fit and again for score: its notes are said once). Debug lines are never dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return True
        key = (record.name, record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _Stderr(logging.StreamHandler):
    """Writes to sys.stderr as it is when a line is logged: a progress display redirects it to print above
    its bar, so log lines never tear the display."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def json_format() -> bool:
    """Whether this command run logs JSON (--log-format json, once its options are parsed)."""
    return bool(_STATE["format"] == "json")


def report_error(message: str, *, exc: BaseException | None = None, as_json: bool | None = None, **fields: Any) -> None:
    """A command's final error: one line on stderr, a JSON object under --log-format json (or `as_json`, for an
    error found before the options were parsed), else plain text, also under --quiet. With `exc`, the JSON line
    carries its traceback as a field; in text the traceback is a debug line (--verbose), never the error itself.
    `fields` are extra keys of the JSON line."""
    if json_format() if as_json is None else as_json:
        info = (type(exc), exc, exc.__traceback__) if exc is not None else None
        record = logging.LogRecord("jobs", logging.ERROR, __file__, 0, "%s", (message,), info)
        record.fields = fields
        click.echo(_JsonFormatter().format(record), err=True)
        return
    if exc is not None:
        logging.getLogger("jobs").debug("the error's traceback:", exc_info=exc)
    click.echo(message, err=True)


def report_summary(line: str, **fields: Any) -> None:
    """A successful command's one summary line: stdout in text mode (not under --quiet); one JSON line on
    stderr under --log-format json, always (also under --quiet), with `fields` as keys."""
    if _STATE["format"] == "json":
        formatter = _JsonFormatter()
        record = logging.LogRecord("jobs", logging.INFO, __file__, 0, "%s", (line,), None)
        record.fields = {"event": "summary", **fields}
        click.echo(formatter.format(record), err=True)
    elif not _STATE["quiet"]:
        click.echo(line)


def text_output() -> bool:
    """Whether extra text lines (hints) go to stdout: text format and not --quiet."""
    return _STATE["format"] == "text" and not _STATE["quiet"]


def setup_logging(*, quiet: bool = False, verbose: bool = False, fmt: str = "text") -> None:
    """Configure the presstrust loggers for one command run (idempotent: tests run many in one process)."""
    _STATE.update(format=fmt, quiet=quiet)
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handler = _Stderr()
    handler.addFilter(_OncePerRun())
    handler.setFormatter(
        _JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    )
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
