"""Choose the WARC reader and the HTML extractor by measurement (the numbers are in docs/research.md).

Readers: fastwarc vs warcio, records/s reading every response record's HTTP status, Content-Type and body.
Extractors: trafilatura (text + its own title/date/author extraction) vs resiliparse (main-content text, with the
title, date and authors taken from the page's metadata by jobs.readers.warc's rules), scored against the truth of the
generated pages (bench/warc_corpus.py): bag-of-words precision/recall/F1 of the text, exact title, date and
author set, and how many index/short pages each lets through as articles by jobs.readers.warc's article rule.

Example: python -m bench.warc_compare --shared ../shared --pages 2000
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.warc_corpus import Page, load_rows, pages, write_warc

OUT = Path(__file__).parent / "out"
_WORD = re.compile(r"\w+")


def read_fastwarc(path: Path) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            _ = (record.http_headers.status_code, record.http_headers.get("Content-Type"), record.reader.read())
            n += 1
    return n


def read_warcio(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response":
                continue
            _ = (
                record.http_headers.get_statuscode(),
                record.http_headers.get_header("Content-Type"),
                record.content_stream().read(),
            )
            n += 1
    return n


def extract_trafilatura(body: bytes, url: str) -> dict[str, Any] | None:
    from trafilatura import bare_extraction

    doc = bare_extraction(body.decode("utf-8"), url=url, with_metadata=True)
    if doc is None:
        return None
    authors = [a.strip() for a in re.split(r";|,| and ", doc.author or "") if a.strip()]
    return {"title": doc.title, "text": doc.text or "", "date": doc.date, "authors": authors}


def extract_resiliparse(body: bytes, url: str) -> dict[str, Any] | None:
    from jobs.readers.warc import extract_page

    page = extract_page(body.decode("utf-8"), url)
    return {"title": page.title, "text": page.text, "date": page.published_at, "authors": page.authors}


EXTRACTORS: dict[str, Callable[[bytes, str], dict[str, Any] | None]] = {
    "trafilatura": extract_trafilatura,
    "resiliparse": extract_resiliparse,
}


def _words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def _as_dates(values: list[str | None]) -> list[str | None]:
    """Dates as the ingest normaliser parses them (YYYY-MM-DD), so every extractor's format counts."""
    import polars as pl

    from jobs.readers.normalize import parse_published_at

    parsed = pl.DataFrame({"d": values}, schema={"d": pl.String}).select(parse_published_at(pl.col("d")).dt.date())
    return [d.isoformat() if d else None for d in parsed.to_series()]


def score(truth: list[Page], name: str) -> dict[str, Any]:
    """Extract every page (timed), then score it; the article rule is jobs.readers.warc's, on this extractor's text."""
    from dataclasses import replace

    from jobs.readers.warc import extract_page, not_an_article

    structure = [extract_page(p.body.decode("utf-8"), p.url) for p in truth]  # link share, declared type
    extract = EXTRACTORS[name]
    started = time.process_time()  # CPU time: other work shares this machine
    results = [extract(p.body, p.url) for p in truth]
    seconds = time.process_time() - started
    dates = _as_dates([str(got["date"]) if got and got["date"] else None for got in results])
    tp = fp = fn = 0
    title = date = dated = authors = authored = 0
    passed = {"article": 0, "index": 0, "short": 0}
    for page, got, shape, got_date in zip(truth, results, structure, dates, strict=True):
        text = got["text"] if got else ""
        if not_an_article(replace(shape, words=len(text.split()))) is None:
            passed[page.kind] += 1
        if page.kind != "article":
            continue
        want, have = _words(page.text or ""), _words(text)
        common = sum((want & have).values())
        tp += common
        fp += sum(have.values()) - common
        fn += sum(want.values()) - common
        if got and (got["title"] or "").strip() == (page.title or "").strip():
            title += 1
        if page.date:
            dated += 1
            date += got_date == page.date
        if page.authors:
            authored += 1
            authors += bool(got and sorted(got["authors"]) == sorted(page.authors))
    kinds = Counter(p.kind for p in truth)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return {
        "extractor": name,
        "pages per CPU-second": round(len(truth) / seconds),
        "word precision": round(precision, 4),
        "word recall": round(recall, 4),
        "word F1": round(2 * precision * recall / (precision + recall), 4),
        "title exact": f"{title / kinds['article']:.3f}",
        "date exact": f"{date / dated:.3f}",
        "authors exact": f"{authors / authored:.3f}",
        "articles kept": f"{passed['article']}/{kinds['article']}",
        "index pages passed": f"{passed['index']}/{kinds['index']}",
        "short pages passed": f"{passed['short']}/{kinds['short']}",
    }


def _table(rows: list[dict[str, Any]]) -> None:
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="reader timings: best of N")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"compare_{args.pages}.warc.gz"
    written = write_warc(path, pages(load_rows(args.shared), args.pages))
    readers = []
    for name, read in (("fastwarc", read_fastwarc), ("warcio", read_warcio)):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.process_time()  # CPU time: other work shares this machine
            n = read(path)
            best = min(best, time.process_time() - started)
        mb = path.stat().st_size / 2**20
        readers.append(
            {
                "reader": name,
                "responses": n,
                "CPU seconds": round(best, 2),
                "records per CPU-second": round(n / best),
                "MB (gzip) per CPU-second": round(mb / best, 1),
            }
        )
    _table(readers)
    print()
    html = [p for p in written if p.kind in ("article", "index", "short")]
    _table([score(html, name) for name in EXTRACTORS])


if __name__ == "__main__":
    main()
