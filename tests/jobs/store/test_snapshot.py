"""Readers and the nightly side by side (issue 12, item 1), with real processes, and `presstrust query`.

Readers query the published snapshot; the nightly works on its own database and replaces the snapshot
by a rename after scoring. Readers see the old publication or the new one, never a mix, and never block
the nightly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.infra import paths
from jobs.store.snapshot import snapshot_path

from ..conftest import article, labelled_corpus, write_jsonl
from ..test_faults import ARGS, LATEST, nightly

pytestmark = pytest.mark.slow  # real presstrust processes: nightlies beside readers, a kill

SAMPLE_ARGS = ["--as-of", "2020-12-31", "--window-days", "3650"]

# A reader process: open the snapshot, read the scores and the articles view in one connection, close, repeat
# until the stop file exists; one JSON line per read (or the error).
READER = """
import json, os, sys, duckdb
snapshot, out, stop = sys.argv[1:4]
with open(out, "w") as log:
    while not os.path.exists(stop):
        try:
            with duckdb.connect(snapshot, read_only=True) as con:
                rows = con.execute(sys.argv[4]).fetchall()
                texts = con.execute("SELECT count(*), sum(length(text)) FROM articles").fetchall()[0]
            log.write(json.dumps({"rows": rows, "texts": texts}, default=str) + "\\n")
        except Exception as exc:
            log.write(json.dumps({"error": repr(exc)}) + "\\n")
        log.flush()
"""

# A reader that holds one connection open across the nightly.
HOLDER = """
import json, os, sys, time, duckdb
snapshot, out, stop = sys.argv[1:4]
con = duckdb.connect(snapshot, read_only=True)
print("connected", flush=True)
with open(out, "w") as log:
    while not os.path.exists(stop):
        try:
            log.write(json.dumps({"rows": con.execute(sys.argv[4]).fetchall()}, default=str) + "\\n")
        except Exception as exc:
            log.write(json.dumps({"error": repr(exc)}) + "\\n")
        log.flush()
        time.sleep(0.05)
"""


def observations(path: Path, *, complete: bool = False) -> list[dict[str, object]]:
    """The reads logged in `path`; `complete`: only finished lines (the reader may be writing the last one)."""
    text = path.read_text()
    if complete:
        text = text.rpartition("\n")[0]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def latest(snapshot: Path, sql: str = LATEST) -> list[list[object]]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return json.loads(json.dumps(con.execute(sql).fetchall(), default=str))


@pytest.fixture(scope="module")
def sample_published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("snap") / "sample.duckdb"
    corpus = ["--corpus", str(paths.SAMPLE_DIR)]  # a database other than the default loads only what it is given
    result = CliRunner().invoke(cli, ["nightly", "--db", str(db), *corpus, *SAMPLE_ARGS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return db


def test_a_reader_looping_through_a_whole_nightly_sees_old_then_new_never_a_mix(
    sample_published: Path, tmp_path: Path
) -> None:
    db, snapshot = sample_published, snapshot_path(sample_published)
    sql = "SELECT outlet, score, as_of, run_id FROM latest_scores ORDER BY outlet"
    old = latest(snapshot, sql)
    out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snapshot), str(out), str(stop), sql])
    try:
        while not out.exists() or not out.read_text():
            time.sleep(0.05)
        # the next night: one day later, so every row of the new publication differs from the old one
        run = subprocess.run(
            [sys.executable, "-m", "jobs", "nightly", "--db", str(db), "--as-of", "2021-01-01", "--window-days",
             "3650", "--quiet"],
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        new = latest(snapshot, sql)
        deadline = time.monotonic() + 300  # let the reader read the new snapshot a few times, however loaded
        while sum(r.get("rows") == new for r in observations(out, complete=True)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    assert new != old and {r[2] for r in new} == {"2021-01-01"} and {r[2] for r in old} == {"2020-12-31"}
    reads = observations(out)
    assert [r for r in reads if "error" in r] == []
    kinds = ["old" if r["rows"] == old else "new" if r["rows"] == new else "mix" for r in reads]
    assert "mix" not in kinds
    assert kinds[0] == "old" and kinds[-1] == "new"
    assert kinds == sorted(kinds, key=lambda k: k == "new")  # old ..., then new ..., never back
    assert len(reads) > 20


def test_a_nightly_runs_while_readers_hold_connections(tmp_path: Path) -> None:
    db, corpus = tmp_path / "h.duckdb", tmp_path / "corpus"
    labelled_corpus(corpus)
    first = nightly(db, corpus)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    snapshot = snapshot_path(db)
    old = latest(snapshot)
    write_jsonl(corpus / "new.jsonl", [article(i, url=f"https://www.nytimes.com/2020/06/2{i}/x") for i in range(5)])
    stop = tmp_path / "stop"
    holders = []
    for n in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(snapshot), str(tmp_path / f"held{n}.jsonl"), str(stop), LATEST],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "connected"
        holders.append(proc)
    try:
        second = nightly(db, corpus)
        _, err = second.communicate(timeout=600)
        assert second.returncode == 0, err  # not 3: readers do not hold the nightly's database
        new = latest(snapshot)  # a new connection sees the new publication
        time.sleep(0.5)
    finally:
        stop.touch()
        for proc in holders:
            proc.wait(timeout=60)
    assert new != old and {r[-1] for r in new} != {r[-1] for r in old}
    for n in range(2):
        reads = observations(tmp_path / f"held{n}.jsonl")
        assert reads and all(r.get("rows") == old for r in reads)  # the open connection keeps the old snapshot


def test_a_kill_while_publishing_leaves_the_last_snapshot(tmp_path: Path) -> None:
    db, corpus = tmp_path / "k.duckdb", tmp_path / "corpus"
    labelled_corpus(corpus)
    first = nightly(db, corpus)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    snapshot = snapshot_path(db)
    old_bytes, old = snapshot.read_bytes(), latest(snapshot)
    write_jsonl(corpus / "new.jsonl", [article(1, url="https://www.nytimes.com/2020/06/29/late")])
    proc = nightly(db, corpus, PRESSTRUST_FAILPOINT="publish.before_rename")
    assert proc.stderr is not None
    for line in proc.stderr:
        if "failpoint publish.before_rename reached" in line:
            break
    assert list(tmp_path.glob("k.snapshot.duckdb.tmp-*"))  # the new copy is written ...
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert snapshot.read_bytes() == old_bytes and latest(snapshot) == old  # ... the old one is what readers see
    result = CliRunner().invoke(cli, ["publish", "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob("k.snapshot.duckdb.tmp-*"))
    assert latest(snapshot) != old  # the scores the killed run committed are published now


def test_query_reads_the_snapshot_in_every_format(sample_published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSTRUST_DB", str(sample_published))  # the snapshot beside it is the default
    sql = "SELECT outlet, round(score, 1) AS score FROM latest_scores WHERE outlet IN ('npr.org', 'foxnews.com') "
    sql += "ORDER BY outlet"
    expected = latest(snapshot_path(sample_published), sql)
    runner = CliRunner()
    as_json = runner.invoke(cli, ["query", "--format", "json", sql], catch_exceptions=False)
    assert as_json.exit_code == 0, as_json.output
    assert [[r["outlet"], r["score"]] for r in json.loads(as_json.output)] == expected  # one array (docs)
    as_csv = runner.invoke(cli, ["query", "--format", "csv", sql], catch_exceptions=False)
    assert as_csv.output.splitlines() == ["outlet,score", *(f"{o},{s}" for o, s in expected)]
    table = runner.invoke(cli, ["query", sql], catch_exceptions=False)
    assert table.output.splitlines()[0].split() == ["outlet", "score"] and len(table.output.splitlines()) == 3
    bad = runner.invoke(cli, ["query", "SELECT nope FROM latest_scores"], catch_exceptions=False)
    assert bad.exit_code == 2 and "nope" in bad.output and len(bad.output.splitlines()) == 1  # a usage error
    write = runner.invoke(cli, ["query", "DELETE FROM latest_scores"], catch_exceptions=False)
    assert write.exit_code == 2  # read-only
    assert latest(snapshot_path(sample_published), sql) == expected


def test_query_commands_default_to_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "none.duckdb"
    connect_only = CliRunner().invoke(cli, ["db", "migrate", "--db", str(db)], catch_exceptions=False)
    assert connect_only.exit_code == 0
    monkeypatch.setenv("PRESSTRUST_DB", str(db))
    for command in (["scores"], ["query", "select 1"], ["explain", "npr.org"], ["report", "--out", "r"], ["runs"]):
        for db_given in ([], ["--db", str(db)]):  # --db on the command line names the database whose snapshot
            result = CliRunner().invoke(cli, [*command, *db_given], catch_exceptions=False)
            assert result.exit_code == 1 and "no published snapshot" in result.output, command
    result = CliRunner().invoke(cli, ["query", "--live", "--db", str(db), "select 41 + 1 AS x"])
    assert result.output.split() == ["x", "42"]  # --live: the working database


def test_the_hint_after_a_nightly_uses_presstrust_query(tmp_path: Path) -> None:
    db, corpus = tmp_path / "n.duckdb", tmp_path / "corpus"
    labelled_corpus(corpus)
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(db), "--corpus", str(corpus), *ARGS], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    hint = next(line for line in result.output.splitlines() if "try:" in line)
    command = hint.split("try: ", 1)[1]
    assert command.startswith(f"presstrust query --snapshot {snapshot_path(db)} ")
    sql = command.split(" ", 4)[4].strip('"')
    ran = CliRunner().invoke(cli, ["query", "--snapshot", str(snapshot_path(db)), sql], catch_exceptions=False)
    assert ran.exit_code == 0 and len(ran.output.splitlines()) == 7  # header + six outlets
    assert os.path.exists(snapshot_path(db))


def test_the_research_doc_queries_run_on_the_snapshot(sample_published: Path) -> None:
    import re

    from jobs.infra.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "research.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert len(queries) == 5
    for sql in queries:
        result = CliRunner().invoke(
            cli, ["query", "--snapshot", str(snapshot_path(sample_published)), "--format", "json", sql],
            catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code == 0 and result.output.strip(), sql
