"""Article texts in immutable Parquet files (migration 0009): kills, re-ingest, updates, paths, old databases."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from jobs.store import schema
from jobs.store.connection import connect
from jobs.store.texts import TextStoreError, read_texts, texts_dir

from ..conftest import LOCAL, article, reconciles, write_jsonl


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def registered(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {Path(p).name for (p,) in con.execute("SELECT path FROM text_files").fetchall()}


def test_texts_live_in_parquet_files_and_the_view_has_every_column(tmp_path: Path, con, load) -> None:
    summary = load(write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(5)]))
    assert reconciles(summary) and summary.counts["loaded"] == 5
    folder = texts_dir(tmp_path / "t.duckdb")
    assert files_in(folder) == registered(con) and len(registered(con)) == 1
    (path,) = folder.iterdir()
    on_disk = pl.read_parquet(path).sort("article_id")
    assert on_disk.columns == ["article_id", "content_version", "text"]
    view = con.sql("SELECT article_id, content_version, text FROM articles ORDER BY article_id").pl()
    assert view.to_dicts() == on_disk.to_dicts()
    columns = [
        c
        for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'articles' ORDER BY column_index"
        ).fetchall()
    ]
    assert columns[:9] == ["article_id", "source_id", "outlet", "outlet_name", "url", "url_canonical", "title",
                           "text", "authors"]  # fmt: skip
    # nothing in DuckDB holds the texts
    assert "text" not in [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() "
                                                    "WHERE table_name = 'article_meta'").fetchall()]  # fmt: skip


def test_reingest_adds_no_file_and_an_update_adds_one(tmp_path: Path, con, load) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [article(1), article(2)])
    load(first)
    assert load(first).counts["files_skipped"] == 1
    forced = load(first, force=True)
    assert forced.counts["duplicates"] == 2 and len(registered(con)) == 1  # duplicates write no text
    changed = write_jsonl(tmp_path / "b.jsonl", [article(1, text="A new body.")])
    assert load(changed).counts["updated"] == 1
    assert len(registered(con)) == 2
    rows = con.execute("SELECT source_id, text, content_version FROM articles ORDER BY source_id").fetchall()
    assert rows == [("a1", "A new body.", 2), ("a2", "Body of story 2. It has two sentences.", 1)]
    assert files_in(texts_dir(tmp_path / "t.duckdb")) == registered(con)  # the old version's file stays


def test_read_texts_reads_the_current_versions_from_their_files_only(tmp_path: Path, con, load) -> None:
    load(write_jsonl(tmp_path / "a.jsonl", [article(1), article(2)]))
    load(write_jsonl(tmp_path / "b.jsonl", [article(1, text="A new body."), article(3)]))
    ids = dict(con.execute("SELECT source_id, article_id FROM article_meta").fetchall())
    got = read_texts(con, pl.Series([ids["a3"], ids["a1"], "no-such-id"]), columns=("outlet", "title"))
    assert got.columns == ["article_id", "outlet", "title", "text"]
    assert got.select("title", "text").rows() == sorted(
        [("Story 1", "A new body."), ("Story 3", "Body of story 3. It has two sentences.")],
        key=lambda r: ids["a" + r[0][-1]],
    )  # the current version, ordered by article_id; unknown ids are not rows
    assert read_texts(con, pl.Series([ids["a1"]]), cut=5)["text"].to_list() == ["A new"]
    # the first load's file holds neither current text: reads no longer touch it (the articles view would)
    (first,) = [p for (p,) in con.execute("SELECT path FROM text_files ORDER BY text_file_id LIMIT 1").fetchall()]
    Path(first).unlink()
    assert read_texts(con, pl.Series([ids["a1"], ids["a3"]]), columns=())["text"].to_list() == sorted(
        ["A new body.", "Body of story 3. It has two sentences."], key=lambda t: ids["a1" if t[0] == "A" else "a3"]
    )
    with pytest.raises(duckdb.IOException):
        con.execute("SELECT count(*) FROM articles").fetchall()
    with pytest.raises(TextStoreError, match="missing"):
        read_texts(con, pl.Series([ids["a2"]]))  # its text is in the removed file


def test_a_failed_file_leaves_no_text_file(tmp_path: Path, con, load) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [article(i) for i in range(3)])
    body = "".join(json.dumps(article(100 + i)) + "\n" for i in range(2000)).encode()
    bad = tmp_path / "truncated.jsonl.gz"
    bad.write_bytes(gzip.compress(body)[:-200])  # its first batches are written before the read fails
    summary = load(good, bad, batch_size=100)
    assert summary.counts["files_failed"] == 1
    assert files_in(texts_dir(tmp_path / "t.duckdb")) == registered(con)


def _ingest_process(db_path: Path, inputs: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "ingest", str(inputs), "--db", str(db_path), "-q"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )


def test_kill_between_writing_texts_and_commit_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    corpus = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(50)])
    proc = _ingest_process(path, corpus, PRESSTRUST_FAILPOINT="ingest.before_commit")
    assert proc.stderr is not None
    for line in proc.stderr:
        if "failpoint ingest.before_commit reached" in line:
            break
    folder = texts_dir(path)
    assert any(p.suffix == ".parquet" for p in folder.iterdir())  # written before the commit ...
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    with duckdb.connect(str(path), read_only=True) as con:  # ... and not registered: nothing was loaded
        assert con.execute("SELECT count(*) FROM article_meta").fetchall() == [(0,)]
        assert registered(con) == set()
    orphans = files_in(folder)
    assert orphans
    again = _ingest_process(path, corpus)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchall() == [(50, 50)]
        assert files_in(folder) == registered(con) and not (orphans & registered(con))
        assert con.execute("SELECT sum(loaded) FROM ingest_files WHERE status = 'loaded'").fetchall() == [(50,)]


def test_the_database_opens_from_another_directory_and_after_a_move(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    con = connect(home / "m.duckdb")
    from jobs.readers.outlets import OutletResolver
    from jobs.stages.ingest import IngestOptions, ingest

    ingest(con, [str(write_jsonl(tmp_path / "a.jsonl", [article(1)]))], options=IngestOptions(),
           resolver=OutletResolver.default(), engine=LOCAL)  # fmt: skip
    con.close()
    query = (
        "import duckdb, sys; "
        "print(duckdb.connect(sys.argv[1], read_only=True).sql('SELECT text FROM articles').fetchall())"
    )
    other = tmp_path / "elsewhere"
    other.mkdir()
    out = subprocess.run([sys.executable, "-c", query, str(home / "m.duckdb")], cwd=other, capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert "Body of story 1" in out.stdout
    moved = tmp_path / "moved"
    shutil.move(home, moved)  # the folder with the database and its .texts folder
    with pytest.raises(duckdb.Error, match="No files found"):  # read-only: the old absolute paths
        duckdb.connect(str(moved / "m.duckdb"), read_only=True).sql("SELECT text FROM articles").fetchall()
    connect(moved / "m.duckdb").close()  # the next writing connection re-points them
    with duckdb.connect(str(moved / "m.duckdb"), read_only=True) as con:
        assert con.sql("SELECT text FROM articles").fetchall() == [("Body of story 1. It has two sentences.",)]
        assert all(p.startswith(str(moved)) for (p,) in con.execute("SELECT path FROM text_files").fetchall())


def test_an_old_database_moves_its_texts_to_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "migrations_0008"
    old.mkdir()
    for migration in sorted(schema.MIGRATIONS_DIR.glob("*.sql"))[:8]:
        shutil.copy(migration, old)
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", old)
    path = tmp_path / "old.duckdb"
    con = connect(path)
    con.execute(
        "INSERT INTO articles (article_id, outlet, title, text, authors, content_hash, content_version, source_file, "
        "record_number, load_id, ingested_at) "
        "SELECT 'id' || i, 'example.com', 'T' || i, repeat('x', i), ['A'], 'h' || i, 1 + i % 2, 'f', i, 1, now() "
        "FROM range(1, 2001) r(i)"
    )
    before = con.execute("SELECT * FROM articles ORDER BY article_id").fetchall()
    con.close()
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", Path(schema.__file__).with_name("migrations"))
    con = connect(path)
    assert con.execute("SELECT * EXCLUDE (crawled_at) FROM articles ORDER BY article_id").fetchall() == before
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'articles_0008'").fetchall() == [(0,)]
    assert con.execute("SELECT sum(n_rows), count(*) FROM text_files").fetchall() == [(2000, 1)]
    assert files_in(texts_dir(path)) == registered(con)
    con.close()
