"""WARC ingest (jobs/warc.py): every WARC here is written by the test, with warcio, from HTML written here."""

from __future__ import annotations

import csv
import gzip
import io
import json
import socket
import zlib
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from jobs.cli import cli
from jobs.readers.files import ReadError, detect_format
from jobs.readers.warc import MIN_WORDS, dechunk, extract_page, link_target, not_an_article, read_warc
from tests.jobs.conftest import reconciles

CRAWLED = "2024-03-05T10:20:30Z"
_SENTENCES = (
    "The city council voted on Tuesday to expand the bus network into three new districts.",
    "Officials said the plan would cost about twelve million over the next five years.",
    "Residents at the meeting asked whether the night routes would run on weekends as well.",
    "The transport director told reporters that a decision on fares would follow in spring.",
    "Opposition members argued that the money should first repair the existing stations.",
)
_GERMAN = (
    "Der Stadtrat hat am Dienstag beschlossen, das Busnetz in drei neue Stadtteile zu erweitern.",
    "Nach Angaben der Verwaltung kostet der Plan in den nächsten fünf Jahren etwa zwölf Millionen.",
    "Anwohner fragten bei der Sitzung, ob die Nachtlinien auch am Wochenende fahren würden.",
    "Die Verkehrsdirektorin sagte, über die Fahrpreise werde im Frühjahr entschieden.",
)


def body_text(sentences: tuple[str, ...] = _SENTENCES, paragraphs: int = 6) -> list[str]:
    return [" ".join(sentences[(i + j) % len(sentences)] for j in range(3)) for i in range(paragraphs)]


def nav() -> str:
    links = "".join(f'<li><a href="/{s}">{s}</a></li>' for s in ("Politics", "World", "Business", "Sport"))
    return f"<header><nav><ul>{links}</ul></nav></header>"


def json_ld_article(title: str, date: str, authors: list[str]) -> str:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": date,
          "author": [{"@type": "Person", "name": a} for a in authors]}  # fmt: skip
    paras = "".join(f"<p>{p}</p>" for p in body_text())
    return (
        f'<!DOCTYPE html><html lang="en-GB"><head><title>{title} | Example News</title>'
        f'<script type="application/ld+json">{json.dumps(ld)}</script></head><body>{nav()}'
        f"<article><h1>{title}</h1>{paras}</article><footer>All rights reserved. Privacy policy.</footer></body></html>"
    )


def meta_article(title: str, date: str, author: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in body_text())
    return (
        f'<html lang="en"><head><meta property="og:type" content="article"><meta property="og:title" content="{title}">'
        f'<meta name="author" content="{author}"><meta property="article:published_time" content="{date}">'
        f'</head><body>{nav()}<div class="story-body">{paras}</div></body></html>'
    )


def bare_article(title: str, visible_date: str, byline: str, sentences: tuple[str, ...] = _SENTENCES) -> str:
    paras = "".join(f"<p>{p}</p>" for p in body_text(sentences))
    return (
        f"<html><head><title>{title}</title></head><body>{nav()}<div class='main'><h1>{title}</h1>"
        f"<div class='date'>Published {visible_date}</div><div class='byline'>{byline}</div>{paras}</div></body></html>"
    )


def index_page() -> str:
    teasers = "".join(
        f'<div class="teaser"><h3><a href="/story/{i}">Council votes on the bus network, part {i} of the series'
        f"</a></h3><p>{_SENTENCES[i % 5][:60]}</p></div>"
        for i in range(20)
    )
    return f"<html><head><title>Local news</title></head><body>{nav()}<main>{teasers}</main></body></html>"


Page = tuple[str, int, str | None, bytes, list[tuple[str, str]]]


def html_page(url: str, html: str, *, charset: str = "utf-8", headers: list[tuple[str, str]] | None = None) -> Page:
    return (url, 200, f"text/html; charset={charset}", html.encode(charset), headers or [])


def write_warc(path: Path, pages: list[Page], *, compress: bool = True) -> dict[str, int]:
    """Write a warcinfo record, then a request and a response record per page; return each URL's offset."""
    offsets: dict[str, int] = {}
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "presstrust tests"}))
        for url, status, content_type, body, extra in pages:
            req = StatusAndHeaders("GET / HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", http_headers=req))
            headers = ([("Content-Type", content_type)] if content_type else []) + extra
            reason = {200: "OK", 301: "Moved Permanently", 404: "Not Found"}[status]
            http = StatusAndHeaders(f"{status} {reason}", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": CRAWLED}
            )
            offsets[url] = out.tell()
            writer.write_record(record)
    return offsets


def news_pages() -> list[Page]:
    return [
        html_page(
            "https://www.example-news.com/2024/03/04/council-bus-plan",
            json_ld_article("Council expands bus network", "2024-03-04T09:15:00+01:00", ["Jane Doe", "John Roe"]),
        ),
        html_page(
            "https://example-daily.com/news/fares?utm_source=x",
            meta_article("Fares to be decided in spring", "2024-03-01T07:00:00Z", "Ann Smith and Bo Li"),
        ),
        html_page(
            "https://www.example-post.com/local/stations",
            bare_article("Stations need repairs, opposition says", "March 2, 2024", "By Carl Jones"),
        ),
        html_page(
            "https://www.beispiel-zeitung.de/lokales/busnetz",
            bare_article("Stadtrat erweitert das Busnetz", "2024-03-03", "Von Erika Mustermann", _GERMAN),
        ),
        html_page("https://www.example-news.com/local/", index_page()),
        html_page(
            "https://www.example-news.com/photos/1",
            "<html><head><title>Photo</title></head><body><h1>Bus at dawn</h1><p>Photo: staff.</p></body></html>",
        ),
        ("https://www.example-news.com/files/budget.pdf", 200, "application/pdf", b"%PDF-1.4\n%%EOF\n", []),
        ("https://www.example-news.com/gone", 404, "text/html", b"<html><body>Not found</body></html>", []),
        ("http://example-news.com/old", 301, "text/html", b"", [("Location", "https://www.example-news.com/new")]),
        html_page(
            "https://www.example-news.com/broken-encoding",
            json_ld_article("Broken", "2024-03-04", ["X"]),
            headers=[("Content-Encoding", "gzip")],  # says gzip, is not
        ),
    ]


@pytest.fixture
def warc(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "crawl.warc.gz"
    return path, write_warc(path, news_pages())


def test_detect_format() -> None:
    assert detect_format(Path("CC-NEWS-20240305.warc.gz")) == "warc"
    assert detect_format(Path("crawl.WARC")) == "warc"


def test_articles_load_with_metadata_and_the_rest_is_rejected_with_reasons(load, con, warc) -> None:
    path, offsets = warc
    summary = load(path)
    assert summary.ok and reconciles(summary)
    assert summary.counts["records_read"] == 10  # response records only: warcinfo and requests are not records
    assert summary.counts["loaded"] == 4 and summary.counts["rejected"] == 6
    rows = con.execute(
        "SELECT url, outlet, title, published_at::VARCHAR, authors, language, crawled_at::VARCHAR, record_number, text "
        "FROM articles ORDER BY record_number"
    ).fetchall()
    got = {r[1]: r for r in rows}
    assert set(got) == {"example-news.com", "example-daily.com", "example-post.com", "beispiel-zeitung.de"}
    news = got["example-news.com"]
    assert news[2:6] == ("Council expands bus network", "2024-03-04 08:15:00", ["Jane Doe", "John Roe"], "en")
    assert got["example-daily.com"][2:6] == ("Fares to be decided in spring", "2024-03-01 07:00:00",
                                             ["Ann Smith", "Bo Li"], "en")  # fmt: skip
    assert got["example-post.com"][2:6] == ("Stations need repairs, opposition says", "2024-03-02 00:00:00",
                                            ["Carl Jones"], "en")  # fmt: skip
    german = got["beispiel-zeitung.de"]
    assert german[3:6] == ("2024-03-03 00:00:00", ["Erika Mustermann"], "de")  # no lang attribute: detected
    for row in rows:
        assert row[6] == "2024-03-05 10:20:30"  # the crawl time, apart from the publication time
        assert row[7] == offsets[row[0]]
        assert "Politics" not in row[8] and "Council expands" not in row[8]  # no navigation, no repeated headline
    assert "expand the bus network" in news[8]
    rejects = dict(con.execute("SELECT record_number, reason FROM ingest_rejects").fetchall())
    assert rejects == {
        offsets["https://www.example-news.com/local/"]: rejects[offsets["https://www.example-news.com/local/"]],
        offsets["https://www.example-news.com/photos/1"]: rejects[offsets["https://www.example-news.com/photos/1"]],
        offsets["https://www.example-news.com/files/budget.pdf"]: "non_html:application/pdf",
        offsets["https://www.example-news.com/gone"]: "http_status:404",
        offsets["http://example-news.com/old"]: "http_status:301",
        offsets["https://www.example-news.com/broken-encoding"]: "undecodable_body:error",
    }
    assert rejects[offsets["https://www.example-news.com/local/"]].startswith("not_an_article:listing:")
    assert rejects[offsets["https://www.example-news.com/photos/1"]].startswith("not_an_article:too_little_text:")


def test_rejects_keep_where_the_record_is_not_its_body(load, con, warc) -> None:
    path, offsets = warc
    load(path)
    for offset, raw in con.execute("SELECT record_number, raw_record FROM ingest_rejects").fetchall():
        summary = json.loads(raw)
        assert summary["warc_offset"] == offset and "<html" not in raw and "%PDF" not in raw
        with open(path, "rb") as handle:  # the offset leads to the record
            handle.seek(offset)
            record = next(iter(ArchiveIterator(handle)))
            assert record.rec_headers.get_header("WARC-Target-URI") == summary["target_uri"]
    redirect = con.execute("SELECT raw_record FROM ingest_rejects WHERE reason = 'http_status:301'").fetchall()[0][0]
    assert json.loads(redirect)["location"] == "https://www.example-news.com/new"


def test_reingest_adds_nothing(load, con, warc) -> None:
    path, _ = warc
    load(path)
    before = con.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM ingest_rejects)").fetchall()
    again = load(path)
    assert again.counts["files_skipped"] == 1 and again.counts["records_read"] == 0
    forced = load(path, force=True)
    assert forced.counts["duplicates"] == 4 and forced.counts["loaded"] == 0 and reconciles(forced)
    assert con.execute("SELECT count(*) FROM articles").fetchall() == [before[0][:1]]


def test_charset_from_the_header_and_from_the_page(load, con, tmp_path: Path) -> None:
    latin = bare_article("Über die Brücke", "2024-03-03", "Von Jörg Müller", _GERMAN)
    meta_only = latin.replace("<head>", '<head><meta charset="iso-8859-1">')
    pages = [
        html_page("https://www.beispiel-zeitung.de/a", latin, charset="iso-8859-1"),
        ("https://www.beispiel-zeitung.de/b", 200, "text/html", meta_only.encode("iso-8859-1"), []),
    ]
    write_warc(tmp_path / "latin.warc", pages, compress=False)
    summary = load(tmp_path / "latin.warc")
    assert summary.counts["loaded"] == 2, summary.counts
    titles = {r[0] for r in con.execute("SELECT title FROM articles").fetchall()}
    assert titles == {"Über die Brücke"}
    assert con.execute("SELECT count(*) FROM articles WHERE text LIKE '%nächsten fünf%'").fetchall() == [(2,)]


def test_content_encodings_are_undone(load, con, tmp_path: Path) -> None:
    html = json_ld_article("Zipped page", "2024-03-04", ["Jane Doe"]).encode()
    pages: list[Page] = [
        ("https://www.example-news.com/z", 200, "text/html", gzip.compress(html), [("Content-Encoding", "gzip")]),
        ("https://www.example-news.com/c", 200, "text/html", b"x", [("Content-Encoding", "compress")]),
        ("https://www.example-news.com/b", 200, "text/html", b"not brotli", [("Content-Encoding", "br")]),
    ]
    write_warc(tmp_path / "enc.warc.gz", pages)
    summary = load(tmp_path / "enc.warc.gz")
    assert summary.counts["loaded"] == 1 and summary.counts["rejected"] == 2
    reasons = con.execute("SELECT reason FROM ingest_rejects ORDER BY reason").fetchall()
    assert reasons == [("undecodable_body",), ("undecodable_body:ValueError",)]


def test_truncated_record_is_kept_as_a_reject_and_the_file_reported(load, con, tmp_path: Path) -> None:
    path = tmp_path / "cut.warc"
    offsets = write_warc(path, news_pages()[:3], compress=False)
    data = path.read_bytes()
    last = offsets["https://www.example-post.com/local/stations"]
    path.write_bytes(data[: last + (len(data) - last) // 2])
    summary = load(path)
    assert not summary.ok and summary.counts["files_partial"] == 1 and reconciles(summary)
    assert summary.counts["loaded"] == 2  # the records before the cut
    assert con.execute("SELECT record_number, reason FROM ingest_rejects").fetchall() == [(last, "truncated_record")]
    status, error = con.execute("SELECT status, error FROM ingest_files").fetchall()[0]
    assert status == "partial" and f"byte offset {last}" in error
    assert load(path).counts["files_skipped"] == 1  # the same bytes again add nothing


def test_broken_gzip_loads_what_it_can_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.warc.gz"
    offsets = write_warc(path, news_pages()[:4])
    data = path.read_bytes()
    cut = offsets["https://example-daily.com/news/fares?utm_source=x"] + 40  # inside the second article's member
    path.write_bytes(data[:cut] + b"\x00garbage\xff" * 20 + data[cut:])
    db = tmp_path / "t.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(path), "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "broken.warc.gz" in result.output and "partial" in result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT outlet FROM articles").fetchall() == [("example-news.com",)]
        status, records = con.execute("SELECT status, records_read FROM ingest_files").fetchall()[0]
        assert status == "partial" and records >= 1
    finally:
        con.close()


def test_not_a_warc_file_fails_whole(load, tmp_path: Path) -> None:
    path = tmp_path / "fake.warc"
    path.write_bytes(b"this is not a WARC file\n" * 10)
    summary = load(path)
    assert summary.counts["files_failed"] == 1 and summary.counts["records_read"] == 0


def test_folder_and_glob_of_warcs(load, tmp_path: Path) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    pages = news_pages()
    write_warc(folder / "a.warc.gz", pages[:2])
    write_warc(folder / "b.warc", pages[2:4], compress=False)
    (folder / "notes.txt").write_text("not an input")
    assert load(folder).counts["loaded"] == 4
    assert load(str(folder / "*.warc*")).counts["files_skipped"] == 2


def test_nothing_is_fetched(load, warc, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access during ingest")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    path, _ = warc
    assert load(path).counts["loaded"] == 4


def test_article_rule() -> None:
    article = extract_page(json_ld_article("T", "2024-03-04", ["A"]))
    assert article.declared_article and not_an_article(article) is None and article.words >= MIN_WORDS
    index = extract_page(index_page())
    assert not index.declared_article and index.link_share > 0.25
    assert (not_an_article(index) or "").startswith("not_an_article:listing")
    stub = extract_page("<html><body><p>Just a caption.</p></body></html>")
    assert not_an_article(stub) == "not_an_article:too_little_text:3_words"


_SEED_WARC = io.BytesIO()


def _seed_bytes() -> bytes:
    if not _SEED_WARC.getvalue():
        writer = WARCWriter(_SEED_WARC, gzip=False)
        for url, status, content_type, body, extra in news_pages()[:6]:
            headers = ([("Content-Type", content_type)] if content_type else []) + extra
            http = StatusAndHeaders(f"{status} OK", headers, protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return _SEED_WARC.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 8), st.binary(max_size=12)), max_size=4),
    truncate=st.floats(0.05, 1.0),
    compress=st.booleans(),
)
def test_fuzz_reader_never_crashes_and_counts_every_record(
    tmp_path_factory: pytest.TempPathFactory, cuts: list[tuple[float, int, bytes]], truncate: float, compress: bool
) -> None:
    """Damaged WARCs (bytes replaced, cut short, gzip or not): a ReadError or batches, never another exception."""
    data = bytearray(_seed_bytes())
    for where, length, new in cuts:
        at = int(where * len(data))
        data[at : at + length] = new
    blob = bytes(data[: max(1, int(truncate * len(data)))])
    if compress:
        blob = gzip.compress(blob)
    path = tmp_path_factory.mktemp("fuzz") / "f.warc"
    path.write_bytes(blob)
    try:
        batches = list(read_warc(path, batch_size=3))
    except ReadError:
        return
    offsets = [rn for b in batches for rn in b.frame.get_column("rn").to_list()] + [
        r.rn for b in batches for r in b.rejects
    ]
    assert len(offsets) == len(set(offsets)) == sum(b.n_records for b in batches)
    assert all(0 <= rn < len(blob) or compress for rn in offsets)
    assert all(r.reason and json.loads(r.raw)["warc_offset"] == r.rn for b in batches for r in b.rejects)
    assert all(b.error is None for b in batches[:-1])


def test_crawl_time_from_other_formats(load, con, tmp_path: Path) -> None:
    """news-please JSONL (CC-News extracted elsewhere) carries the crawl time as date_download."""
    from tests.jobs.conftest import article, write_jsonl

    path = write_jsonl(tmp_path / "np.jsonl", [article(1, date_download="2024-03-05 10:20:30"), article(2)])
    assert load(path).counts["loaded"] == 2
    rows = con.execute("SELECT source_id, crawled_at::VARCHAR FROM articles ORDER BY source_id").fetchall()
    assert rows == [("a1", "2024-03-05 10:20:30"), ("a2", None)]


# Real crawls (issue 27): how other crawlers write their records.


def _chunked(body: bytes, size: int = 700) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def test_a_dechunked_payload_with_the_chunked_header_kept_is_read_as_it_is(load, con, tmp_path: Path) -> None:
    html = json_ld_article("Council expands bus network", "2024-03-04T09:15:00+01:00", ["Jane Doe"]).encode()
    pages: list[Page] = [
        ("https://www.example-news.com/a", 200, "text/html", html, [("Transfer-Encoding", "chunked")]),
        ("https://www.example-news.com/b", 200, "text/html", _chunked(html), [("Transfer-Encoding", "chunked")]),
    ]
    write_warc(tmp_path / "chunks.warc.gz", pages)
    summary = load(tmp_path / "chunks.warc.gz")
    assert summary.counts["loaded"] == 2 and summary.counts["rejected"] == 0 and reconciles(summary)
    assert summary.counts["body:dechunked"] == 1 and summary.counts["body:chunked_header_not_chunked"] == 1
    texts = con.execute("SELECT text FROM articles ORDER BY url").fetchall()
    assert texts[0] == texts[1] and "bus network into three new districts" in texts[0][0]


@given(body=st.binary(max_size=3000), size=st.integers(1, 500))
def test_dechunk_undoes_any_chunking_and_refuses_a_body_that_is_not_chunked(body: bytes, size: int) -> None:
    assert dechunk(_chunked(body, size)) == body
    html = b"<!DOCTYPE html><html>" + body
    assert dechunk(html) is None


def test_a_revisit_record_is_counted_as_skipped(load, con, tmp_path: Path) -> None:
    path = tmp_path / "revisit.warc.gz"
    write_warc(path, news_pages()[:1])
    with open(path, "ab") as out:
        writer = WARCWriter(out, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_revisit_record(
                "https://www.example-news.com/2024/03/04/council-bus-plan",
                "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "https://www.example-news.com/2024/03/04/council-bus-plan",
                CRAWLED,
                http_headers=http,
            )
        )
    summary = load(path)
    assert summary.ok and summary.counts["records_read"] == 2 and summary.counts["skipped"] == 1
    assert summary.counts["skipped:revisit"] == 1 and reconciles(summary)
    assert "skipped 1" in summary.line()
    assert con.execute("SELECT records_read, loaded, skipped FROM ingest_files").fetchall() == [(2, 1, 1)]


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("cut_at", [30, 120, 250])  # bytes into the response record: inside its WARC headers
def test_a_record_cut_inside_its_headers_is_a_truncated_record(
    load, con, tmp_path: Path, compress: bool, cut_at: int
) -> None:
    path = tmp_path / ("cut.warc.gz" if compress else "cut.warc")
    offsets = write_warc(path, news_pages()[:2], compress=compress)
    last = offsets["https://example-daily.com/news/fares?utm_source=x"]
    path.write_bytes(path.read_bytes()[: last + cut_at])
    summary = load(path)
    assert summary.counts["files_partial"] == 1 and summary.counts["loaded"] == 1 and reconciles(summary)
    assert con.execute("SELECT record_number, reason FROM ingest_rejects").fetchall() == [(last, "truncated_record")]


def test_a_warc_gzipped_as_one_stream_and_cut_short_keeps_its_records_and_rejects_the_cut_one(
    load, con, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.warc"
    offsets = write_warc(plain, news_pages()[:3], compress=False)
    data = plain.read_bytes()
    last = offsets["https://www.example-post.com/local/stations"]
    path = tmp_path / "cc-news.warc.gz"
    deflate = zlib.compressobj(wbits=31)  # one gzip stream, ended (the download stopped) inside the last record
    path.write_bytes(deflate.compress(data[: last + 900]) + deflate.flush(zlib.Z_SYNC_FLUSH))
    summary = load(path)
    assert summary.counts["files_partial"] == 1 and summary.counts["loaded"] == 2 and reconciles(summary)
    assert con.execute("SELECT record_number, reason FROM ingest_rejects").fetchall() == [(last, "truncated_record")]


_JAPANESE = (
    "市議会は火曜日、バス路線網を三つの新しい地区に拡大することを決めた。",
    "当局によると、計画の費用は今後五年間で約千二百万円になる見込みだという。",
    "会合に出席した住民は、夜間路線が週末も運行されるのかどうかを尋ねた。",
    "交通局長は記者団に対し、運賃については春に決定すると述べた。",
)


def japanese_page(charset_meta: str | None) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">' if charset_meta else ""
    paras = "".join(f"<p>{p}</p>" for p in body_text(_JAPANESE, paragraphs=8))
    return (
        f"<!-- generated by an old CMS -->{'<!-- x -->' * 300}<html><head>{meta}<title>バス路線網を拡大</title></head>"
        f"<body><div class='main'><h1>バス路線網を拡大</h1>{paras}</div></body></html>"
    )


@pytest.mark.parametrize(
    ("content_type", "meta", "codec"),
    [
        ("text/html; charset=x-euc-jp", None, "euc_jp"),  # a label Python does not know
        (None, "Shift_JIS", "cp932"),  # no Content-Type at all: the page's own meta charset, not detection
        ("text/html", "EUC-JP", "euc_jp"),
    ],
)
def test_legacy_japanese_charsets_are_honoured(
    load, con, tmp_path: Path, content_type: str | None, meta: str | None, codec: str
) -> None:
    body = japanese_page(meta).encode(codec)
    write_warc(tmp_path / "jp.warc.gz", [("http://www.example.co.jp/news/1", 200, content_type, body, [])])
    summary = load(tmp_path / "jp.warc.gz")
    assert summary.counts["loaded"] == 1, con.execute("SELECT reason FROM ingest_rejects").fetchall()
    title, text = con.execute("SELECT title, text FROM articles").fetchall()[0]
    assert title == "バス路線網を拡大" and _JAPANESE[0] in text


def _arc_record(url: str, date: str, content_type: str, payload: bytes) -> bytes:
    return f"{url} 192.0.2.1 {date} {content_type} {len(payload)}\n".encode() + payload + b"\n"


def write_arc(path: Path, pages: list[tuple[str, str]], *, compress: bool) -> list[int]:
    """An ARC (version 1) file as the Internet Archive's crawlers wrote them; return each page's offset."""
    version = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [_arc_record(f"filedesc://{path.name}", "20080430204825", "text/plain", version)]
    for url, html in pages:
        http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()
        records.append(_arc_record(url, "20080430204826", "text/html", http))
    blobs = [gzip.compress(r) if compress else r for r in records]
    path.write_bytes(b"".join(blobs))
    return [sum(len(b) for b in blobs[:i]) for i in range(1, len(blobs))]


@pytest.mark.parametrize("compress", [True, False])
def test_arc_files_are_read(load, con, tmp_path: Path, compress: bool) -> None:
    path = tmp_path / ("crawl.arc.gz" if compress else "crawl.arc")
    assert detect_format(path) == "warc"
    pages = [
        (
            "http://www.example-news.com/2008/04/30/bus",
            json_ld_article("Council expands bus network", "2008-04-30", ["Jane Doe"]),
        ),
        ("http://www.example-news.com/local/", index_page()),
    ]
    offsets = write_arc(path, pages, compress=compress)
    summary = load(path)
    assert summary.ok and summary.counts["records_read"] == 2 and summary.counts["loaded"] == 1 and reconciles(summary)
    row = con.execute("SELECT record_number, title, crawled_at FROM articles").fetchall()[0]
    assert row[0] == offsets[0] and row[1] == "Council expands bus network" and row[2].year == 2008
    assert con.execute("SELECT record_number FROM ingest_rejects").fetchall() == [(offsets[1],)]


FIXTURES = Path(__file__).parents[2] / "fixtures" / "warc"


def test_the_real_archive_fixtures_load_their_article_and_account_for_every_record(load, con, tmp_path) -> None:
    archives = tmp_path / "archives"  # the fixtures' archives, without their labels and scripts
    archives.mkdir()
    for path in FIXTURES.iterdir():
        if ".warc" in path.name or ".arc" in path.name:
            (archives / path.name).write_bytes(path.read_bytes())
    summary = load(archives)
    assert summary.counts["files"] == 5 and reconciles(summary)
    # news-pages.warc.gz: of its 45 records, 15 de-chunked with the header kept and 15 really chunked
    assert summary.counts["skipped:revisit"] == 1 and summary.counts["body:chunked_header_not_chunked"] == 2 + 15
    assert summary.counts["body:dechunked"] == 1 + 15
    reasons = dict(
        con.execute(
            'SELECT regexp_extract(raw_record, \'"target_uri": "([^"]+)\', 1), reason FROM ingest_rejects'
        ).fetchall()
    )
    assert sorted(reasons.values())[-1] == "truncated_record"
    assert reasons["http://scamlist.example.onion/"].startswith("not_an_article:listing:")  # a list of links
    files = dict(con.execute("SELECT regexp_extract(path, '[^/]+$'), loaded + duplicates FROM ingest_files").fetchall())
    assert files["legacy.arc.gz"] == 1 and files["crawler-dechunked.warc.gz"] >= 1
    title, authors, text = con.execute(
        "SELECT title, authors, text FROM articles WHERE url LIKE '%fivethirtyeight%'"
    ).fetchall()[0]
    assert title == "Could Manchin Actually Leave The Democratic Party?" and authors == ["Geoffrey Skelley"]
    assert len(text) >= 500


def test_the_labelled_real_news_pages_load_as_articles_and_their_home_pages_do_not(load, con) -> None:
    """pages.csv's hand labels: at least 80% of the real article pages load with their main text's labelled start;
    no home page (a front of teasers) loads, though real articles carry teasers, pagers and link lists too."""
    with open(FIXTURES / "pages.csv", newline="", encoding="utf-8") as f:
        labelled = list(csv.DictReader(f))
    load(FIXTURES / "news-pages.warc.gz")
    texts = dict(con.execute("SELECT url, text FROM articles").fetchall())
    articles = [p for p in labelled if p["type"] == "article"]
    with_text = [p for p in articles if " ".join(p["text_start"].split()) in " ".join(texts.get(p["url"], "").split())]
    assert len(articles) >= 30 and len(with_text) >= 0.8 * len(articles), len(with_text)
    assert not [p["id"] for p in labelled if p["type"] == "listing" and p["url"] in texts]


def test_the_page_type_and_its_reason_are_stored_per_article(load, con, tmp_path: Path) -> None:
    posts = "".join(
        f'<div class="post"><time datetime="2024-03-04T1{h}:00:00Z">1{h}:00</time><p>{" ".join(_SENTENCES)}</p></div>'
        for h in range(6)
    )
    head = "<head><title>Live: the council vote</title></head>"
    live = f"<html>{head}<body><h1>Live: the council vote</h1>{posts}</body></html>"
    pages = [*news_pages()[:1], html_page("https://www.example-news.com/live/vote", live)]
    write_warc(tmp_path / "live.warc.gz", pages)
    assert load(tmp_path / "live.warc.gz").counts["loaded"] == 2
    rows = con.execute("SELECT url, page_type, page_type_reason FROM article_meta ORDER BY url").fetchall()
    assert rows == [
        ("https://www.example-news.com/2024/03/04/council-bus-plan", "article", "declared"),
        ("https://www.example-news.com/live/vote", "live_blog", "live_posts_6"),
    ]


def linked_article(title: str, links: str, *, lead: str = _SENTENCES[0]) -> str:
    """An article whose first paragraph holds `links` (HTML) after its lead, with a navigation of its own links."""
    paras = "".join(f"<p>{p}</p>" for p in body_text())
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": "2024-03-04"}
    return (
        f'<html lang="en"><head><title>{title}</title><script type="application/ld+json">{json.dumps(ld)}</script>'
        f"</head><body>{nav()}<article><h1>{title}</h1><p>{lead} {links}</p>{paras}</article></body></html>"
    )


def link_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT a.url, l.link_n, l.url, l.host, l.anchor_text, l.run_id = coalesce(a.updated_load_id, a.load_id) "
        "FROM article_links l JOIN articles a USING (article_id) ORDER BY a.url, l.link_n"
    ).fetchall()


def test_outbound_links_of_the_main_text_are_kept_without_userinfo_query_or_fragment(load, con, tmp_path) -> None:
    links = (
        "It was <a href='https://ria.ru/20240304/x.html?utm_source=a#top'>first reported</a> in Moscow, "
        "<a href='https://user:secret@www.Other-Site.org:8443/doc'>a filing</a> shows, "
        "<a href='//news.example.org/y'>a wire</a> adds, and <a href='/local/z'>our archive</a>, "
        "<a href='https://video.example-news.com/v'>our video</a> and <a href='mailto:desk@x.org'>the desk</a> too. "
        "The file: <a href='https://bob:hunter2@files.example.org/f'>https://bob:hunter2@files.example.org/f</a>."
    )
    path = tmp_path / "links.warc.gz"
    write_warc(
        path,
        [
            html_page("https://www.example-news.com/2024/03/04/linked", linked_article("Linked", links)),
            html_page("https://example-post.com/plain", bare_article("Plain", "March 2, 2024", "By Carl Jones")),
        ],
    )
    summary = load(path)
    assert summary.counts["loaded"] == 2 and reconciles(summary)
    page = "https://www.example-news.com/2024/03/04/linked"
    assert link_rows(con) == [  # the page without links has none; the site's own and navigation links are not kept
        (page, 1, "https://ria.ru/20240304/x.html", "ria.ru", "first reported", True),
        (page, 2, "https://www.other-site.org:8443/doc", "other-site.org", "a filing", True),
        (page, 3, "https://news.example.org/y", "news.example.org", "a wire", True),
    ]
    stored = con.execute("SELECT list(url || host || anchor_text) FROM article_links").fetchall()[0][0]
    assert not any("secret" in s or "user" in s or "hunter2" in s for s in stored)  # an anchor that is a URL too


def test_a_changed_page_replaces_its_links_and_a_repeat_keeps_them(load, con, tmp_path) -> None:
    url = "https://www.example-news.com/2024/03/04/linked"
    first, second = tmp_path / "a.warc.gz", tmp_path / "b.warc.gz"
    write_warc(first, [html_page(url, linked_article("V", "as <a href='https://ria.ru/a'>reported</a>"))])
    write_warc(second, [html_page(url, linked_article("V", "as <a href='https://tass.ru/b'>said</a> later"))])
    load(first)
    load(first, force=True)  # a duplicate: its links stay
    assert [r[2] for r in link_rows(con)] == ["https://ria.ru/a"]
    summary = load(second)
    assert summary.counts["updated"] == 1
    assert [(r[2], r[4], r[5]) for r in link_rows(con)] == [("https://tass.ru/b", "said", True)]


@given(st.text(max_size=60))
def test_a_link_target_never_keeps_userinfo_query_or_fragment(noise: str) -> None:
    target = link_target(f"https://u{noise}:p{noise}@ria.ru/x?q={noise}#{noise}")
    if target is not None:
        assert "@" not in target[0] and "?" not in target[0] and "#" not in target[0]


def test_link_anchors_with_markup_entities_and_unquoted_hrefs_are_read() -> None:
    links = (
        "as <a class=x href=https://ria.ru/a?b=1&amp;c=2><b>first</b> reported</a> and "
        '<A HREF="https://tass.ru/&#98;">Tass &amp; others</A> said, <a href="https://ria.ru/a">first reported</a>.'
    )
    page = extract_page(linked_article("T", links), "https://example-news.com/t")
    assert page.links == [
        {"url": "https://ria.ru/a", "host": "ria.ru", "anchor_text": "first reported"},
        {"url": "https://tass.ru/b", "host": "tass.ru", "anchor_text": "Tass & others"},
    ]
