"""An operator's bad night (issue 22, cases 4, 5, 6 and 13), each with the real `presstrust` process.

- 4: SIGINT at any point of a nightly ends every row of its run `interrupted` (with `finished_at`), in one line;
- 5: a nightly on a full disk ends its row `failed` (at the latest when the next run finds it) and leaves the
  published snapshot byte-identical;
- 6: a damaged (truncated) database is refused in one line before anything opens it for writing: byte-identical;
- 13: a read-only mount is one line, and under `--log-format json` every message is JSON, usage errors included.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.infra.exits import EXIT_FAILED, EXIT_USAGE
from jobs.store.runs import ABANDONED

from .conftest import copy_published, labelled_corpus

pytestmark = pytest.mark.slow  # real presstrust processes

ARGS = ["--as-of", "2020-06-30", "--window-days", "90"]
LATEST = "SELECT outlet, score, score_low, score_high, grade, run_id FROM latest_scores ORDER BY outlet"
INTERRUPTED_LINE = "presstrust: interrupted by SIGINT: the run is recorded as interrupted, nothing new published"


def presstrust(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


def start_nightly(db: Path, corpus: Path, *extra: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )


def last_run(db: Path) -> list[tuple[str, str, bool, str | None]]:
    """(job, status, finished, error) of the latest nightly's run and every run it started."""
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            (job, status, finished, error)
            for job, status, finished, error in con.execute(
                "SELECT job, status, finished_at IS NOT NULL, error FROM runs "
                "WHERE run_id >= (SELECT max(run_id) FROM runs WHERE job = 'nightly') ORDER BY run_id"
            ).fetchall()
        ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- case 4: SIGINT --------------------------------------------------------------------------------------------


def assert_interrupted_everywhere(db: Path, stage: str) -> None:
    rows = last_run(db)
    assert [r for r in rows if r[1] not in ("ok", "interrupted") or not r[2]] == [], rows  # none left running
    interrupted = {job: error for job, status, _, error in rows if status == "interrupted"}
    assert set(interrupted) == {"nightly", stage}, rows
    assert all(error == "interrupted by SIGINT" for error in interrupted.values()), rows


@pytest.mark.parametrize("wait", ["sleep", "duckdb", "polars"])
def test_sigint_inside_corroborate_interrupts_every_row_of_the_run(tmp_path: Path, wait: str) -> None:
    """The signal lands inside corroborate: in Python, inside a DuckDB query (which turns it into `RuntimeError:
    Query interrupted`), or inside a polars computation (which raised a second KeyboardInterrupt into the
    bookkeeping under Python's default handler, leaving the stage `running`)."""
    db, corpus = tmp_path / "s.duckdb", labelled_corpus(tmp_path / "corpus").parent
    proc = start_nightly(
        db, corpus, "--quiet", PRESSTRUST_FAILPOINT="corroborate.before_write", PRESSTRUST_FAILPOINT_WAIT=wait
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "failpoint corroborate.before_write reached" in line:
            time.sleep(0.5)  # well inside the wait (a native call for duckdb and polars)
            proc.send_signal(signal.SIGINT)
            break
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 130, err
    assert err.splitlines() == [INTERRUPTED_LINE]  # one plain line
    assert_interrupted_everywhere(db, "corroborate")
    assert not (tmp_path / "s.snapshot.duckdb").exists()  # nothing published


@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(delay=st.floats(min_value=0.0, max_value=1.5))
def test_sigint_at_a_random_moment_leaves_no_row_running(
    tmp_path_factory: pytest.TempPathFactory, delay: float
) -> None:
    """Without a failpoint: SIGINT up to 1.5 s after featurize ends (corroborate, aggregate or fit running)."""
    work = tmp_path_factory.mktemp("sigint")
    db, corpus = work / "r.duckdb", labelled_corpus(work / "corpus").parent
    proc = start_nightly(db, corpus)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "stage featurize:" in line:
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            break
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == INTERRUPTED_LINE and "Traceback" not in err and "KeyboardInterrupt" not in err
    rows = last_run(db)
    assert all(status in ("ok", "interrupted") and finished for _, status, finished, _ in rows), rows
    assert rows[0][:2] == ("nightly", "interrupted")


def test_sigint_while_publishing_records_the_run_as_interrupted(
    published_once: tuple[Path, Path], tmp_path: Path
) -> None:
    """The run's row was closed before the publish: an interrupted publish must not leave it `ok`."""
    db, corpus = copy_published(published_once, tmp_path / "w")
    snapshot = db.with_name(f"{db.stem}.snapshot.duckdb")
    before = sha256(snapshot)
    proc = start_nightly(db, corpus, "--quiet", PRESSTRUST_FAILPOINT="publish.before_rename")
    assert proc.stderr is not None
    for line in proc.stderr:
        if "failpoint publish.before_rename reached" in line:
            proc.send_signal(signal.SIGINT)
            break
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 130 and err.splitlines() == [INTERRUPTED_LINE], err
    assert sha256(snapshot) == before and not list(snapshot.parent.glob("*.tmp-*"))
    rows = last_run(db)
    assert rows[0][:3] == ("nightly", "interrupted", True) and rows[0][3] == "interrupted by SIGINT", rows
    assert all(status == "ok" for _, status, _, _ in rows[1:]), rows  # every stage had finished


# --- case 5: a full disk -----------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk but `leave` bytes."""
    free = shutil.disk_usage(disk).free
    filler = disk / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))
    return filler


@pytest.mark.parametrize(("leave", "where"), [(2 * 2**20, "checkpoint"), (7 * 2**20, "publish")])
def test_full_disk_fails_the_run_and_leaves_the_snapshot(
    published_once: tuple[Path, Path], small_disk: Path, leave: int, where: str
) -> None:
    """The disk fills at the checkpoint after the score stage (2 MB left), or while copying the snapshot (7 MB)."""
    db, corpus = copy_published(published_once, small_disk / "w")
    snapshot = db.with_name(f"{db.stem}.snapshot.duckdb")
    before = sha256(snapshot)
    filler = fill(small_disk, leave)
    failed = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet")
    assert failed.returncode == EXIT_FAILED, failed.stderr
    assert len(failed.stderr.splitlines()) == 1 and "nothing new published" in failed.stderr, failed.stderr
    assert "No space left on device" in failed.stderr and ("checkpoint" in failed.stderr) == (where == "checkpoint")
    assert sha256(snapshot) == before  # the published tables are unchanged
    status, finished, error = last_run(db)[0][1:]
    if where == "publish":  # the run's row was closed before the publish: reopened and recorded failed at once
        assert (status, finished) == ("failed", True) and "No space left on device" in (error or ""), error
    else:  # DuckDB invalidates the database when its checkpoint fails: the next run records it
        assert (status, finished) == ("running", False)
    filler.unlink()  # space is back
    rerun = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet")
    assert rerun.returncode == 0, rerun.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT job, status, finished_at IS NOT NULL, error FROM runs ORDER BY run_id").fetchall()
    nightlies = [r for r in rows if r[0] == "nightly"]
    assert [r[1] for r in nightlies] == ["ok", "failed", "ok"], rows  # the failed one ends failed
    assert all(finished for _, _, finished, _ in rows), rows  # no row left running
    error = nightlies[1][3]
    assert "No space left on device" in error or ABANDONED in error, error


def test_a_killed_run_is_closed_as_failed_by_the_next_nightly(
    published_once: tuple[Path, Path], tmp_path: Path
) -> None:
    """What could not record its end (SIGKILL here; a full disk alike) is closed by the next run, which says so."""
    db, corpus = copy_published(published_once, tmp_path / "w")
    proc = start_nightly(db, corpus, PRESSTRUST_FAILPOINT="featurize.before_commit")
    assert proc.stderr is not None
    for line in proc.stderr:
        if "failpoint featurize.before_commit reached" in line:
            proc.kill()
            break
    proc.wait(timeout=60)
    assert [(job, status) for job, status, _, _ in last_run(db)] == [
        ("nightly", "running"),
        ("ingest", "ok"),
        ("featurize", "running"),
    ]
    rerun = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS)
    assert rerun.returncode == 0, rerun.stderr
    assert "closed 2 earlier run(s) still marked running as failed" in rerun.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        killed = con.execute(
            "SELECT job, status, finished_at IS NOT NULL, error FROM runs WHERE job IN ('nightly', 'featurize') "
            "ORDER BY run_id"
        ).fetchall()
    assert [(job, status, finished) for job, status, finished, _ in killed] == [
        ("nightly", "ok", True),
        ("featurize", "ok", True),
        ("nightly", "failed", True),
        ("featurize", "failed", True),
        ("nightly", "ok", True),
        ("featurize", "ok", True),
    ]
    assert all(ABANDONED in error for _, status, _, error in killed if status == "failed")


# --- case 6: a damaged database ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [
        lambda n: 1_000_000,  # the issue's `truncate -s 1000000`: a block the catalog needs is gone
        lambda n: n - 2 * 262_144,  # whole blocks cut off the end: only the blocks its tables use show it
    ],
    ids=["mid-block", "whole-blocks"],
)
def test_damaged_database_is_never_written_to(published_once: tuple[Path, Path], tmp_path: Path, size) -> None:
    db, corpus = copy_published(published_once, tmp_path / "w")
    os.truncate(db, size(db.stat().st_size))
    before = sha256(db)
    for command in (
        ["nightly", "--corpus", str(corpus), *ARGS, "--quiet"],
        ["nightly", "--corpus", str(corpus), *ARGS, "--quiet", "--log-format", "json"],
        ["ingest", str(corpus)],
        ["featurize"],
    ):
        result = presstrust(*command, "--db", str(db))
        assert result.returncode == EXIT_FAILED, (command, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, (command, result.stderr)
        message = json.loads(lines[0])["message"] if "json" in command else lines[0]
        assert "is damaged" in message and "nothing was written" in message, message
        assert sha256(db) == before, command  # byte-identical
    assert not Path(f"{db}.wal").exists()


# --- case 13: a read-only mount, JSON for every message -----------------------------------------------------------


@pytest.fixture
def read_only_copy(published_once: tuple[Path, Path], tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    db, corpus = copy_published(published_once, tmp_path / "src")
    mount = tmp_path / "ro"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root for a read-only bind mount")
    bound = subprocess.run(["mount", "--bind", str(db.parent), str(mount)], capture_output=True)
    if bound.returncode:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        yield mount / db.name, corpus
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_read_only_mount_is_one_line(read_only_copy: tuple[Path, Path]) -> None:
    db, corpus = read_only_copy
    before = sha256(db)
    text = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet")
    assert text.returncode == EXIT_FAILED, text.stderr
    assert len(text.stderr.splitlines()) == 1 and "Read-only file system" in text.stderr, text.stderr
    assert "read-only mount" in text.stderr
    as_json = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet", "--log-format", "json")
    assert as_json.returncode == EXIT_FAILED
    (line,) = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert line["level"] == "error" and "Read-only file system" in line["message"] and "traceback" in line
    ingest = presstrust("ingest", str(corpus), "--db", str(db), "--quiet")
    assert ingest.returncode == EXIT_FAILED and len(ingest.stderr.splitlines()) == 1, ingest.stderr
    assert sha256(db) == before


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["nightly", "--bogus", "--log-format", "json"], {}),
        (["--log-format", "json", "nightly"], {}),  # a group option that does not exist
        (["nightly", "--log-format=json", "--window-days", "999999999"], {}),
        (["scores", "--format", "xml"], {"PRESSTRUST_LOG_FORMAT": "json"}),
        (["nosuchcommand"], {"PRESSTRUST_LOG_FORMAT": "json"}),
    ],
)
def test_usage_errors_are_json_under_log_format_json(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    result = presstrust(*args, **env)
    assert result.returncode == EXIT_USAGE, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line parses
    assert len(lines) == 1 and lines[0]["level"] == "error" and lines[0]["event"] == "usage_error", lines
    assert lines[0]["exit_code"] == EXIT_USAGE and lines[0]["message"]
    plain = presstrust(*[a.replace("json", "text") for a in args], PRESSTRUST_LOG_FORMAT="text")
    assert plain.returncode == EXIT_USAGE and "Usage:" in plain.stderr  # text stays text


def test_usage_error_raised_by_a_command_is_json(published_once: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = copy_published(published_once, tmp_path / "w")
    labels = tmp_path / "labels.csv"
    labels.write_text("site,rating\nexample.com,x\n", encoding="utf-8")
    result = presstrust("fit", "--db", str(db), "--labels", str(labels), *ARGS, "--log-format", "json")
    assert result.returncode == EXIT_USAGE, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines[-1]["event"] == "usage_error" and "domain" in lines[-1]["message"], lines
