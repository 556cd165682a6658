from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.store.lock import LockHeld, RunLock


def hold_lock(db: Path) -> subprocess.Popen[str]:
    code = (
        "import sys; from pathlib import Path; from jobs.store.lock import RunLock; "
        f"l = RunLock(Path({str(db)!r})); l.acquire(); print('held', flush=True); sys.stdin.read()"
    )  # holds until the test is done, however long that takes
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    proc = hold_lock(db)
    try:
        with pytest.raises(LockHeld, match=f'"pid": {proc.pid}'):
            RunLock(db).acquire()
    finally:
        proc.kill()
        proc.wait()


def test_stale_lock_of_killed_process_is_taken_over(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "x.duckdb"
    proc = hold_lock(db)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads(Path(f"{db}.lock").read_text())["pid"] == proc.pid  # the file is still there
    with RunLock(db):
        assert json.loads(Path(f"{db}.lock").read_text())["pid"] == os.getpid()
    assert "stale lock" in caplog.text
    assert Path(f"{db}.lock").read_text() == ""  # released cleanly


def test_lock_is_reentrant_after_release(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with RunLock(db):
        pass
    with RunLock(db):
        pass
