"""A progress display on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class Progress:
    """Files done of total, records read so far; a no-op off a TTY or with --quiet."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: RichProgress | None = None
        self._records = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[records]:,} records"),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("ingest", total=None, records=0)
        return self

    def file(self, path: Path, index: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=path.name[:40], completed=index, total=total)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._records += n
            self._bar.update(self._task, records=self._records)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
