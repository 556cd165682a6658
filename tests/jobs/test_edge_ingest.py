"""Ingest and URL edges (issue 22, cases 2, 3 and 14 and the smaller ones), each with the CLI as a real process:
internationalised domain names, userinfo in URLs, IP hosts, a folder without article files, a mistyped path,
an empty file."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from jobs.infra.exits import EXIT_USAGE
from jobs.readers.files import detect_format

from .conftest import article, labelled_corpus, write_jsonl
from .readers.test_warc import html_page, json_ld_article, write_warc
from .test_faults import ARGS

pytestmark = pytest.mark.slow  # real presstrust processes

IDN = "bücher-nachrichten.de"
PUNYCODE = "xn--bcher-nachrichten-22b.de"
SECRET = "s3cr3t"


def presstrust(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobs", *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def every_row_as_text(db: Path) -> str:
    """Every row of every table and view of a database, as one text."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall()
        assert names
        return "\n".join(f"{n}: {con.execute('SELECT * FROM ' + _quoted(n)).fetchall()}" for (n,) in names)


def _quoted(name: str) -> str:
    """A table name from information_schema as an SQL identifier (names cannot be parameters)."""
    return '"' + name.replace('"', '""') + '"'


def files_containing(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def ingest_counts(db: Path) -> dict[str, int]:
    (counts,) = query(db, "SELECT counts FROM runs WHERE job = 'ingest' ORDER BY run_id DESC LIMIT 1")[0]
    return json.loads(str(counts))


def test_an_idn_in_unicode_or_punycode_is_one_outlet_shown_in_unicode(tmp_path: Path) -> None:
    """Case 2: the URL's host or the outlet field, in either form, and a label file's host in either form."""
    db = tmp_path / "idn.duckdb"
    labels = tmp_path / "labels.csv"
    labels.write_text(f"domain,score\nlokal.{PUNYCODE},0.7\n", encoding="utf-8")
    corpus = write_jsonl(
        tmp_path / "idn.jsonl",
        [
            article(1, url=f"https://{IDN}/a/1"),
            article(2, url=f"https://{PUNYCODE}/a/2"),
            article(3, url=None, outlet=IDN),
            article(4, url=None, outlet=PUNYCODE.upper()),
            article(5, url=f"https://lokal.{IDN}/a/5"),  # a host the label file names in punycode stays itself
            article(6, url=f"https://www.{PUNYCODE}/a/1"),  # the same article as record 1
        ],
    )
    result = presstrust("ingest", corpus, "--db", db, "--labels", labels)
    assert result.returncode == 0, result.stderr
    assert "read 6 = loaded 5 + updated 0 + duplicates 1 + rejected 0" in result.stdout, result.stdout
    assert query(db, "SELECT outlet, count(*) FROM articles GROUP BY 1 ORDER BY 1") == [
        (IDN, 4),
        (f"lokal.{IDN}", 1),
    ]
    assert query(db, "SELECT count(*) FROM ingest_rejects") == [(0,)]


def _cred_news(corpus: Path) -> list[dict[str, object]]:
    """Twenty articles of cred-news.com whose URLs carry a password, written like the labelled ones."""
    lines = (corpus / "labelled.jsonl").read_text(encoding="utf-8").splitlines()[:20]
    records: list[dict[str, object]] = []
    for i, line in enumerate(lines):
        record = json.loads(line)
        record.update(id=f"cred-{i}", url=f"https://alice:{SECRET}@cred-news.com/2020/06/story-{i}")
        record["text"] = f"{record['text']} Cred News counted {i + 3} replies."
        records.append(record)
    return records


def test_userinfo_is_removed_at_ingest_counted_and_never_shown(tmp_path: Path) -> None:
    """Case 3: not in any table, raw reject, export, report or explain; counted in the summary and the run."""
    db, corpus = tmp_path / "cred.duckdb", tmp_path / "corpus"
    labelled_corpus(corpus)
    records = _cred_news(corpus)
    records.append(article(90, url=f"https://bob:{SECRET}@cred-news.com/2020/06/no-text", text=None))  # rejected
    records.append(article(91, url=f"carol:{SECRET}@cred-news.com/2020/06/bare", published_at="2020-06-20"))
    write_jsonl(corpus / "cred.jsonl", records)
    night = presstrust("nightly", "--db", db, "--corpus", corpus, *ARGS)
    assert night.returncode == 0, night.stderr
    assert SECRET not in every_row_as_text(db)
    assert ingest_counts(db)["userinfo_stripped"] == 22
    assert "userinfo removed from 22 URLs" in night.stderr + night.stdout
    assert query(db, "SELECT count(*) FROM articles WHERE url = 'https://cred-news.com/2020/06/story-0'") == [(1,)]
    assert query(db, "SELECT raw_record FROM ingest_rejects")[0][0].startswith(
        '{"id": "a90", "url": "https://cred-news.com/2020/06/no-text"'
    )
    assert query(db, "SELECT count(*) FROM latest_scores WHERE outlet = 'cred-news.com'") == [(1,)]
    explain = presstrust("explain", "cred-news.com", "--db", db)
    assert explain.returncode == 0 and "cred-news.com" in explain.stdout, explain.stderr
    export = presstrust("export", "--db", db, "--format", "csv", "--out", tmp_path / "export")
    report = presstrust("report", "--db", db, "--out", tmp_path / "report")
    assert export.returncode == 0 and report.returncode == 0, export.stderr + report.stderr
    assert files_containing(tmp_path / "export", "cred-news.com/2020/06/story-0")  # the URL is there, without it
    assert files_containing(tmp_path / "report", "cred-news.com")
    for shown in (night.stdout, night.stderr, explain.stdout, explain.stderr):
        assert SECRET not in shown
    for folder in (tmp_path / "export", tmp_path / "report"):
        assert files_containing(folder, SECRET) == [], folder


def test_userinfo_in_warc_target_uris_is_removed(tmp_path: Path) -> None:
    """Case 3 through the WARC reader: the article's URL and a rejected response's summary lose the password."""
    db, warc = tmp_path / "w.duckdb", tmp_path / "crawl.warc.gz"
    title = "Council expands bus network"
    write_warc(
        warc,
        [
            html_page(f"https://alice:{SECRET}@cred-news.com/a/1", json_ld_article(title, "2024-03-04", ["Jo Roe"])),
            (f"https://bob:{SECRET}@cred-news.com/gone", 404, "text/html", b"<html>gone</html>", []),
            (
                "http://cred-news.com/old",
                301,
                "text/html",
                b"",
                [("Location", f"https://carol:{SECRET}@cred-news.com/new")],
            ),
        ],
    )
    result = presstrust("ingest", warc, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "read 3 = loaded 1 + updated 0 + duplicates 0 + rejected 2" in result.stdout
    assert query(db, "SELECT outlet, url FROM articles") == [("cred-news.com", "https://cred-news.com/a/1")]
    assert SECRET not in every_row_as_text(db)
    assert ingest_counts(db)["userinfo_stripped"] == 3
    assert "cred-news.com/gone" in every_row_as_text(db)  # the rejected response is kept, without the password


def test_ip_hosts_are_rejected_with_a_reason_ports_and_fragments_ignored(tmp_path: Path) -> None:
    db = tmp_path / "ip.duckdb"
    records = [
        article(1, url=None, outlet="192.168.1.10"),
        article(2, url="http://[::1]/x"),
        article(3, url="http://10.0.0.1:8080/a"),
        article(4, url="https://cred-news.com/a/2"),
        article(5, url="https://Cred-News.com:8443/a/2#comments"),  # the same article: port and fragment ignored
    ]
    result = presstrust("ingest", write_jsonl(tmp_path / "ip.jsonl", records), "--db", db)
    assert "read 5 = loaded 1 + updated 0 + duplicates 1 + rejected 3" in result.stdout, result.stdout + result.stderr
    assert query(db, "SELECT reason FROM ingest_rejects ORDER BY record_number") == [("ip_address_host",)] * 3
    assert query(db, "SELECT outlet, url_canonical FROM articles") == [("cred-news.com", "https://cred-news.com/a/2")]


def test_a_folder_without_article_files_says_what_it_looked_for(tmp_path: Path) -> None:
    """Case 14: one line, exit 2, and no database."""
    folder = tmp_path / "emptydir"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an article file\n", encoding="utf-8")
    db = tmp_path / "e.duckdb"
    result = presstrust("ingest", folder, "--db", db)
    assert result.returncode == EXIT_USAGE
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"presstrust ingest: no article files in folder {folder} (looked for *.jsonl, ")
    suffixes = [s for s in (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".warc") if detect_format(Path(f"x{s}"))]
    assert all(f"*{s}," in line or f"*{s} " in line for s in suffixes), line
    assert not db.exists()


@pytest.mark.parametrize("command", ["ingest", "nightly"])
@pytest.mark.parametrize("existing", [False, True])
def test_a_mistyped_path_is_exit_2_before_anything_runs(tmp_path: Path, command: str, existing: bool) -> None:
    db = tmp_path / "m.duckdb"
    if existing:
        assert presstrust("ingest", labelled_corpus(tmp_path / "corpus"), "--db", db).returncode == 0
    before = query(db, "SELECT run_id, status FROM runs") if existing else None
    typo = tmp_path / "corpsu"
    args = [typo] if command == "ingest" else ["--corpus", typo, *ARGS]
    result = presstrust(command, *args, "--db", db)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert result.stderr.splitlines() == [f"presstrust {command}: {typo}: no such file, folder or glob match"]
    assert db.exists() == existing
    if existing:
        assert query(db, "SELECT run_id, status FROM runs") == before  # no run row, not even half-written


def test_an_empty_file_counts_as_read_with_no_articles_not_as_loaded(tmp_path: Path) -> None:
    db = tmp_path / "z.duckdb"
    (tmp_path / "empty.jsonl").write_bytes(b"")
    write_jsonl(tmp_path / "one.jsonl", [article(1)])
    result = presstrust("ingest", tmp_path / "empty.jsonl", tmp_path / "one.jsonl", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "2 files (1 loaded, 1 empty, 0 skipped, 0 failed, 0 partial); read 1 = loaded 1" in result.stdout
    counts = ingest_counts(db)
    assert (counts["files"], counts["files_loaded"], counts["files_empty"]) == (2, 1, 1)


def test_random_urls_through_a_real_ingest(tmp_path: Path) -> None:
    """The property of tests/jobs/readers/test_normalize.py on one real ingest: every combination of host form,
    userinfo, port, fragment and percent-escape."""
    hosts = {
        IDN: [IDN, PUNYCODE, "B%C3%BCcher-Nachrichten.de", f"www.{PUNYCODE}."],
        "cred-news.com": ["cred-news.com", "news.Cred-News.com"],
        None: ["192.168.1.10", "[::1]", "10.0.0.1"],
    }
    userinfos = ["", f"alice:{SECRET}@", f"{SECRET}@", f"a@b:{SECRET}%40x@"]
    ends = ["/a%20b/1", ":8080/a%2Fb/2#frag", "/c/3?utm_source=x#top"]
    records, expected_outlets, ips, with_userinfo = [], set(), 0, 0
    combos = itertools.product(hosts.items(), userinfos, ends, ["https://", ""])
    for n, ((outlet, forms), userinfo, end, scheme) in enumerate(combos):
        for form in forms:
            records.append(article(len(records), url=f"{scheme}{userinfo}{form}{end}", text=f"Text {n} {form}."))
            ips += outlet is None
            with_userinfo += userinfo != ""
        if outlet:
            expected_outlets.add(outlet)
    db = tmp_path / "p.duckdb"
    result = presstrust("ingest", write_jsonl(tmp_path / "urls.jsonl", records), "--db", db)
    assert result.returncode == 0, result.stderr
    counts = ingest_counts(db)
    assert counts["records_read"] == len(records)
    assert counts["records_read"] == counts["loaded"] + counts["updated"] + counts["duplicates"] + counts["rejected"]
    assert counts["userinfo_stripped"] == with_userinfo
    assert {o for (o,) in query(db, "SELECT DISTINCT outlet FROM articles")} == expected_outlets
    assert query(db, "SELECT reason, count(*) FROM ingest_rejects GROUP BY 1") == [("ip_address_host", ips)]
    assert SECRET not in every_row_as_text(db) and SECRET not in result.stdout + result.stderr
