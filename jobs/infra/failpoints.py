"""Failpoints for fault tests: named places where a test can make a real process stop and be killed.

When PRESSTRUST_FAILPOINT names a point, the process writes `failpoint NAME reached` to stderr and
waits (PRESSTRUST_FAILPOINT_SECONDS, default 60), so a test can signal or SIGKILL it exactly there, e.g.
inside the publishing transaction. PRESSTRUST_FAILPOINT_WAIT says how it waits: `sleep` (the default,
in Python), or inside the native code a stage spends its time in, `duckdb` (a query) or `polars` (a
computation), where a signal arrives as those libraries deliver it. PRESSTRUST_FAILPOINT_MARK names a folder where
the process also creates `NAME.PID` on arrival, so a test can find a child process that reached it (a worker
process's stderr is not the test's). Unset, a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def failpoint(name: str) -> None:
    if os.environ.get("PRESSTRUST_FAILPOINT") == name:
        sys.stderr.write(f"failpoint {name} reached\n")
        sys.stderr.flush()
        if mark := os.environ.get("PRESSTRUST_FAILPOINT_MARK"):
            (Path(mark) / f"{name}.{os.getpid()}").touch()
        seconds = float(os.environ.get("PRESSTRUST_FAILPOINT_SECONDS", "60"))
        wait = os.environ.get("PRESSTRUST_FAILPOINT_WAIT", "sleep")
        if wait == "sleep":
            time.sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:  # native work in slices of a fraction of a second each
            _native_slice(wait)


def _native_slice(wait: str) -> None:
    if wait == "duckdb":
        import duckdb

        duckdb.execute("SELECT sum(range % 7) FROM range(50_000_000)").fetchall()
    elif wait == "polars":
        import polars as pl

        pl.LazyFrame({"a": range(2_000)}).join(pl.LazyFrame({"b": range(2_000)}), how="cross").select(
            (pl.col("a") * pl.col("b")).sum()
        ).collect()
    else:
        raise ValueError(f"PRESSTRUST_FAILPOINT_WAIT={wait!r}: sleep, duckdb or polars")
