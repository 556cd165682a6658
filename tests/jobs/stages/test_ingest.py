from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.readers.outlets import OutletResolver
from jobs.stages.ingest import IngestOptions, ingest
from jobs.store.connection import connect

from ..conftest import LOCAL, article, reconciles, write_jsonl


def table_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    articles = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    rejects = con.execute("SELECT count(*) FROM ingest_rejects").fetchall()[0][0]
    return articles, rejects


def mixed_jsonl(path: Path) -> Path:
    """One record of every kind of bad input, between good ones; line numbers are asserted below."""
    lines = [
        json.dumps(article(1)),  # 1 good
        '{"id": "a2", "text": "unterminated',  # 2 malformed JSON
        json.dumps([1, 2, 3]),  # 3 not an object
        json.dumps(article(4, text=None)),  # 4 missing text
        json.dumps(article(5, text="   \n ")),  # 5 empty text
        json.dumps({"id": "a6", "title": "t", "text": "no url, no outlet"}),  # 6 no outlet
        None,  # 7 invalid UTF-8 (written as bytes below)
        json.dumps(article(8, published_at="1850-01-01")),  # 8 absurd date: loaded, date null, issue
        json.dumps(article(9, published_at="2199-01-01T00:00:00Z")),  # 9 future date: loaded with issue
        json.dumps(article(10, text="word " * 400)),  # 10 huge text: capped at 1000, issue
        json.dumps(article(1)),  # 11 repeat of line 1: duplicate
        json.dumps(article(1, url="https://example-news.com/story/1/?utm_source=x")),  # 12 same canonical URL
        json.dumps(article(13, title="bad \ud800 surrogate")),  # 13 lone surrogate: replaced, issue
        json.dumps({"outlet": "No Such Outlet Name", "text": "body"}),  # 14 unknown outlet name
        json.dumps(article(15, text={"html": "<p>x</p>"})),  # 15 text is an object
        json.dumps(article(16, text="nul\x00inside")),  # 16 NUL character: removed, issue
        "",  # blank line: not a record
        json.dumps({"outlet": "The Guardian", "text": "named outlet, no url", "id": "g1"}),  # 18 alias
    ]
    with open(path, "wb") as f:
        for line in lines:
            f.write(b'{"id": "a7", "text": "caf\xe9"}\n' if line is None else line.encode("utf-8") + b"\n")
    return path


def test_mixed_file_reconciles_and_keeps_every_reject(tmp_path: Path, con, load) -> None:
    summary = load(mixed_jsonl(tmp_path / "mixed.jsonl"), max_text_chars=1000)
    c = summary.counts
    assert (c["records_read"], c["loaded"], c["updated"], c["duplicates"], c["rejected"]) == (17, 7, 0, 2, 8)
    assert reconciles(summary)
    assert table_counts(con) == (7, 8)
    rejects = dict(con.execute("SELECT record_number, reason FROM ingest_rejects").fetchall())
    assert rejects[2].startswith("malformed_json")
    assert rejects[3] == "not_an_object:list"
    assert rejects[4] == "missing_text"
    assert rejects[5] == "empty_text"
    assert rejects[6] == "missing_outlet_and_url"
    assert rejects[7] == "invalid_utf8"
    assert rejects[14] == "unknown_outlet:No Such Outlet Name"
    assert rejects[15] == "text_not_a_string:dict"
    assert sorted(rejects) == [2, 3, 4, 5, 6, 7, 14, 15]
    raw7 = con.execute("SELECT raw_record FROM ingest_rejects WHERE record_number = 7").fetchall()[0][0]
    assert "caf\\xe9" in raw7  # the bad byte is kept, visibly
    issues = dict(con.execute("SELECT source_id, ingest_issues FROM articles").fetchall())
    dates = dict(con.execute("SELECT source_id, published_at FROM articles").fetchall())
    assert issues["a8"] == ["date_out_of_range:1850-01-01"] and dates["a8"] is None
    assert issues["a9"] == ["date_out_of_range:2199-01-01T00:00:00Z"] and dates["a9"] is None
    assert issues["a10"] == ["text_truncated:1999"]
    assert issues["a13"] == ["invalid_unicode_replaced:title"]
    assert issues["a16"] == ["nul_characters_removed"]
    assert issues["a1"] == [] and dates["a1"] is not None
    text10 = con.execute("SELECT length(text) FROM articles WHERE source_id = 'a10'").fetchall()[0][0]
    assert text10 == 1000
    guardian = con.execute("SELECT outlet, outlet_name, url FROM articles WHERE source_id = 'g1'").fetchall()
    assert guardian == [("theguardian.com", "The Guardian", None)]
    run = con.execute("SELECT status, counts FROM runs").fetchall()
    assert run[0][0] == "ok" and json.loads(run[0][1])["rejected"] == 8


def test_csv_reconciles(tmp_path: Path, con, load) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        b"url,title,text,date\n"
        b'https://a.com/1,T1,"Body, with comma\nand newline",2020-01-01\n'
        b"https://a.com/2,T2,too,many,fields\n"
        b"https://a.com/3,T\xff3,body,2020-01-01\n"
        b"https://a.com/4,T4,,2020-01-01\n"
    )
    summary = load(path)
    assert summary.counts["records_read"] == 4 and summary.counts["loaded"] == 1 and reconciles(summary)
    reasons = dict(con.execute("SELECT record_number, reason FROM ingest_rejects").fetchall())
    assert reasons == {2: "csv_field_count:5!=4", 3: "invalid_utf8", 4: "empty_text"}
    assert con.execute("SELECT text FROM articles").fetchall() == [("Body, with comma\nand newline",)]


def test_second_run_adds_nothing(tmp_path: Path, con, load) -> None:
    path = mixed_jsonl(tmp_path / "mixed.jsonl")
    load(path)
    before = table_counts(con)
    again = load(path)
    assert again.counts["files_skipped"] == 1 and again.counts["records_read"] == 0
    assert table_counts(con) == before
    forced = load(path, force=True)
    assert forced.counts["loaded"] == 0 and forced.counts["updated"] == 0 and reconciles(forced)
    assert con.execute("SELECT count(*) FROM articles").fetchall()[0][0] == before[0]
    # the same content under another name is the same file
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes())
    assert load(copy).counts["files_skipped"] == 1


def test_changed_body_updates_row(tmp_path: Path, con, load) -> None:
    load(write_jsonl(tmp_path / "v1.jsonl", [article(1), article(2)]))
    summary = load(write_jsonl(tmp_path / "v2.jsonl", [article(1, text="A corrected body."), article(2), article(3)]))
    c = summary.counts
    assert (c["loaded"], c["updated"], c["duplicates"]) == (1, 1, 1)
    row = con.execute(
        "SELECT text, content_version, updated_load_id IS NOT NULL, load_id FROM articles WHERE source_id = 'a1'"
    ).fetchall()
    assert row == [("A corrected body.", 2, True, 1)]
    assert con.execute("SELECT count(*) FROM articles").fetchall()[0][0] == 3


def test_same_id_without_url_is_duplicate(tmp_path: Path, con, load) -> None:
    rec = {"id": "x1", "outlet": "nytimes.com", "text": "t"}
    summary = load(write_jsonl(tmp_path / "a.jsonl", [rec, {**rec, "url": "https://nytimes.com/x1"}]))
    assert summary.counts["duplicates"] == 1 and summary.counts["loaded"] == 1


def test_article_ids_are_stable_across_databases(tmp_path: Path, resolver: OutletResolver) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(5)])
    ids = []
    for name in ("one", "two"):
        con = connect(tmp_path / f"{name}.duckdb")
        ingest(con, [str(path)], options=IngestOptions(), resolver=resolver, engine=LOCAL)
        ids.append(con.execute("SELECT article_id FROM articles ORDER BY 1").fetchall())
        con.close()
    assert ids[0] == ids[1] and len(ids[0]) == 5


def test_unreadable_files_fail_alone(tmp_path: Path, con, load) -> None:
    write_jsonl(tmp_path / "good.jsonl", [article(1)])
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    body = "".join(json.dumps(article(i)) + "\n" for i in range(100, 400)).encode()
    (tmp_path / "truncated.jsonl.gz").write_bytes(gzip.compress(body)[:-200])
    summary = load(tmp_path, tmp_path / "missing-*.jsonl")
    assert not summary.ok
    statuses = {Path(f.path).name: f.status for f in summary.files}
    assert statuses == {"good.jsonl": "loaded", "corrupt.parquet": "failed", "truncated.jsonl.gz": "failed"}
    # nothing of the truncated file is loaded, though its first lines were readable
    assert con.execute("SELECT count(*) FROM articles").fetchall()[0][0] == 1
    failed = con.execute("SELECT path, error FROM ingest_files WHERE status = 'failed' ORDER BY path").fetchall()
    assert len(failed) == 2 and all(Path(p).name in e for p, e in failed)
    run = con.execute("SELECT status, error FROM runs").fetchall()[0]
    assert run[0] == "partial" and "missing-*.jsonl" in run[1]


def test_news_please_jsonl_loads(tmp_path: Path, con, load) -> None:
    rec = {
        "url": "https://www.reuters.com/world/x",
        "title": "T",
        "maintext": "Body text.",
        "date_publish": "2021-03-04 05:06:07",
        "authors": ["A B", "C D"],
        "source_domain": "www.reuters.com",
        "language": "en",
        "description": "d",
    }
    summary = load(write_jsonl(tmp_path / "np.jsonl", [rec]))
    assert summary.counts["loaded"] == 1
    row = con.execute("SELECT outlet, text, authors, published_at::VARCHAR, language FROM articles").fetchall()
    assert row == [("reuters.com", "Body text.", ["A B", "C D"], "2021-03-04 05:06:07", "en")]


def test_parquet_with_map(tmp_path: Path, con, load) -> None:
    pl.DataFrame(
        {"key": ["k1"], "site": ["https://www.npr.org/x"], "body": ["B"], "when": ["2019-02-03"], "by": ["A, B and C"]}
    ).write_parquet(tmp_path / "x.parquet")
    summary = load(
        tmp_path / "x.parquet",
        mapping={"id": "key", "url": "site", "text": "body", "authors": "by", "published_at": "when"},
    )
    assert summary.counts["loaded"] == 1
    assert con.execute("SELECT source_id, outlet, authors FROM articles").fetchall() == [
        ("k1", "npr.org", ["A", "B", "C"])
    ]


def test_kill_mid_file_leaves_no_half_file(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    path = write_jsonl(tmp_path / "big.jsonl", [article(i) for i in range(20_000)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "ingest", str(path), "--db", str(db), "--batch-size", "500", "-v"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "batch 3 " in line:  # some batches are in the open transaction
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    con = connect(db)
    assert con.execute("SELECT count(*) FROM articles").fetchall() == [(0,)]
    assert con.execute("SELECT status FROM runs").fetchall() == [("running",)]
    con.close()
    rerun = subprocess.run(
        [sys.executable, "-m", "jobs.cli", "ingest", str(path), "--db", str(db)], capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "loaded 20000" in rerun.stdout


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".jsonl", ".csv", ".json", ".tsv"]))
def test_fuzz_arbitrary_bytes(tmp_path: Path, con, resolver: OutletResolver, data: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{abs(hash(data))}{suffix}"
    path.write_bytes(data)
    before = table_counts(con)
    summary = ingest(con, [str(path)], options=IngestOptions(force=True), resolver=resolver, engine=LOCAL)
    assert reconciles(summary)
    after = table_counts(con)
    c = summary.counts
    assert after[0] - before[0] == c["loaded"] and after[1] - before[1] == c["rejected"]
    if data.startswith(b"\x1f\x8b"):  # read as gzip: corrupt, so the whole file fails and nothing is counted
        assert summary.files[0].status == "failed" and c["records_read"] == 0
    elif suffix == ".jsonl":
        lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
        assert summary.files[0].status == "loaded"
        assert c["records_read"] == sum(1 for line in lines if line.strip())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["id", "url", "outlet", "title", "text", "authors", "published_at", "date", "language"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(json_values | st.dictionaries(fields, json_values, max_size=6), max_size=8))
def test_fuzz_arbitrary_json(tmp_path: Path, con, resolver: OutletResolver, records: list[object]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    before = table_counts(con)
    summary = ingest(con, [str(path)], options=IngestOptions(force=True), resolver=resolver, engine=LOCAL)
    # the file is read whole; it is "not ok" (exit 1) only when every record was rejected
    assert summary.counts["files_failed"] == 0 and reconciles(summary)
    assert summary.ok == (not records or summary.counts["rejected"] < len(records))
    assert summary.counts["records_read"] == len(records)
    after = table_counts(con)
    assert after[0] - before[0] == summary.counts["loaded"] and after[1] - before[1] == summary.counts["rejected"]
