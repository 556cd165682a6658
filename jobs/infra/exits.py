"""Exit codes of every presstrust command, and the signals it turns into recorded interruptions.

    0  everything ran (the nightly published)
    1  ran, but some input could not be read (the nightly still published); or a lookup found nothing
       (no such article, outlet, model, or database file: `scores --outlet nosuch.com`)
    2  usage error, before anything is written: a bad option, `query ""`, a missing --corpus path, an empty
       folder, a label file that cannot be used (a ragged row: its file and line), too few labelled outlets,
       a window that does not fit
    3  another process holds the database (the nightly's lock, or DuckDB's single writer)
    4  failed: nothing new was published (a stage failed, a model too weak to publish without
       --allow-weak-model; the database is damaged and so never opened for writing, full, unwritable, or
       too new)
  128+N  interrupted by signal N: 130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP; every row of the run is
         recorded as 'interrupted' in runs and nothing new was published

Every failure is one line on stderr (a JSON object under --log-format json, usage errors too).
docs/operations.md has the same table with what to do for each, and the cases an operator meets, by code.
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
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The process got SIGINT, SIGTERM or SIGHUP: unwinds like Ctrl-C, so every transaction rolls back."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_RECEIVED: list[int] = []  # the signals received within signals_interrupt(), first first
_SHIELD: list[bool] = []  # non-empty while an interruption is being recorded


def _raise(signum: int, frame: FrameType | None) -> None:
    _RECEIVED.append(signum)
    if not _SHIELD:
        raise Interrupted(signum)


def received_signal() -> int | None:
    """The first signal received within signals_interrupt(), if any. A library that turns the interruption into
    an error of its own (DuckDB raises `RuntimeError: Query interrupted`) still ends as an interruption."""
    return _RECEIVED[0] if _RECEIVED else None


def interruption(exc: BaseException) -> Interrupted | None:
    """The interruption `exc` stands for: itself (SIGINT's plain KeyboardInterrupt as Interrupted), or any error
    raised after a signal arrived; None for an ordinary error."""
    if isinstance(exc, Interrupted):
        return exc
    signum = received_signal()
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted(signum or signal.SIGINT)
    return Interrupted(signum) if signum is not None else None


@contextmanager
def shielded() -> Iterator[None]:
    """Within the block a signal is noted, not raised: the bookkeeping that records an interruption (or a failure)
    is not cut short by a second signal, or by the same one delivered twice."""
    _SHIELD.append(True)
    try:
        yield
    finally:
        _SHIELD.pop()


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise Interrupted, once per signal.

    SIGINT gets this handler too, not Python's default: under the default one, polars raises a KeyboardInterrupt
    of its own for a Ctrl-C inside a query and Python then raises a second one at the next line, which could land
    in the middle of recording the first (a stage left `running`).
    """
    _RECEIVED.clear()
    previous = {s: signal.signal(s, _raise) for s in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _RECEIVED.clear()
