"""Fault tests with real processes: SIGKILL a nightly inside its transactions, then check and rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from .conftest import article, labelled_corpus, write_jsonl

pytestmark = pytest.mark.slow  # real presstrust processes, a nightly each

ARGS = ["--as-of", "2020-06-30", "--window-days", "90"]
LATEST = "SELECT outlet, score, score_low, score_high, grade, run_id FROM latest_scores ORDER BY outlet"


def nightly(db: Path, corpus: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "nightly", "--db", str(db), "--corpus", str(corpus), *ARGS],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )


def kill_at(db: Path, corpus: Path, point: str) -> None:
    proc = nightly(db, corpus, PRESSTRUST_FAILPOINT=point)
    assert proc.stderr is not None
    for line in proc.stderr:
        if f"failpoint {point} reached" in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"never reached {point}"


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path, list[tuple[object, ...]]]:
    """A database with one published nightly, and a corpus folder with one more (new) file in it."""
    db, corpus = tmp_path / "f.duckdb", tmp_path / "corpus"
    labelled_corpus(corpus)
    first = nightly(db, corpus)
    first.communicate()
    assert first.returncode == 0
    before = duckdb.connect(str(db), read_only=True).execute(LATEST).fetchall()
    assert len(before) == 6
    write_jsonl(
        corpus / "new.jsonl",
        [
            article(
                1,
                url="https://www.nytimes.com/2020/06/29/late",
                text="Officials said late on Monday that the plan could change.",
            )
        ],
    )
    return db, corpus, before


@pytest.mark.parametrize("point", ["featurize.before_commit", "score.before_commit"])
def test_kill_leaves_published_scores_intact_and_rerun_publishes(
    published: tuple[Path, Path, list[tuple[object, ...]]], point: str
) -> None:
    db, corpus, before = published
    kill_at(db, corpus, point)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(LATEST).fetchall() == before  # the last published scores, intact and readable
    assert con.execute("SELECT count(*) FROM publications").fetchall() == [(1,)]
    statuses = dict(
        con.execute(
            "SELECT job, status FROM runs WHERE run_id = (SELECT max(run_id) FROM runs WHERE job = 'nightly')"
        ).fetchall()
    )
    assert statuses == {"nightly": "running"}  # the killed run left its trace
    con.close()
    rerun = nightly(db, corpus)
    _, err = rerun.communicate()
    assert rerun.returncode == 0, err
    assert "stale lock" in err  # the killed run's lock file was taken over
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM publications").fetchall() == [(2,)]
    assert con.execute("SELECT count(*) FROM articles").fetchall() == [(121,)]
    assert con.execute("SELECT count(*) FROM article_features").fetchall() == [(121,)]
