"""Exit codes of every presstrust command, and the signals it turns into recorded interruptions.

    0  everything ran (the nightly published)
    1  ran, but some input could not be read (the nightly still published); or a lookup found nothing
       (no such article, outlet, model, or database file)
    2  usage error (bad option, bad label file, a window that does not fit)
    3  another process holds the database (the nightly's lock, or DuckDB's single writer)
    4  failed: nothing new was published (a stage failed, the database is damaged, full, or too new)
  128+N  interrupted by signal N: 130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP; the run is recorded as
         'interrupted' in runs and nothing new was published

docs/operations.md has the same table with what to do for each.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_FAILED = 4
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The process got SIGINT, SIGTERM or SIGHUP: unwinds like Ctrl-C, so every transaction rolls back."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Interrupted (as SIGINT raises KeyboardInterrupt)."""
    previous = {s: signal.signal(s, _raise) for s in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
