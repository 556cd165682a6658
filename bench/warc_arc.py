"""ARC versus WARC reading cost: the same pages written as an .arc.gz and a .warc.gz (a gzip member per record,
as crawlers write them), each read by `jobs.readers.warc.read_warc` (ARC through warcio, WARC through FastWARC),
text extraction included. Reports CPU seconds per 1,000 pages, best of --repeat.

Example: python -m bench.warc_arc --pages 2000
"""

from __future__ import annotations

import argparse
import gzip
import io
import tempfile
import time
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from jobs.readers.warc import read_warc

_PARAGRAPH = (
    "The city council voted on Tuesday to expand the bus network into three new districts, and officials said "
    "the plan would cost about twelve million over the next five years. "
)


def _page(i: int) -> bytes:
    paras = "".join(f"<p>{_PARAGRAPH * 2} Item {i}.{j}.</p>" for j in range(8))
    return (
        f"<html><head><title>Story {i}</title><meta property='og:type' content='article'></head>"
        f"<body><nav><a href='/a'>A</a></nav><article><h1>Story {i}</h1>{paras}</article></body></html>"
    ).encode()


def write_both(folder: Path, pages: int) -> tuple[Path, Path]:
    arc, warc = folder / "bench.arc.gz", folder / "bench.warc.gz"
    version = b"1 0 bench\nURL IP-address Archive-date Content-type Archive-length\n"
    with open(arc, "wb") as out:
        out.write(
            gzip.compress(b"filedesc://bench.arc 0.0.0.0 20080430204825 text/plain %d\n%s\n" % (len(version), version))
        )
        for i in range(pages):
            http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + _page(i)
            head = f"http://example-news.com/{i} 192.0.2.1 20080430204826 text/html {len(http)}\n".encode()
            out.write(gzip.compress(head + http + b"\n"))
    with open(warc, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(pages):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.0")
            writer.write_record(
                writer.create_warc_record(
                    f"http://example-news.com/{i}", "response", payload=io.BytesIO(_page(i)), http_headers=http
                )
            )
    return arc, warc


def cpu_per_1000(path: Path, pages: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        loaded = sum(batch.frame.height for batch in read_warc(path, 10_000))
        best = min(best, time.process_time() - start)
        assert loaded == pages, (path, loaded)
    return best / pages * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        arc, warc = write_both(Path(tmp), args.pages)
        a, w = cpu_per_1000(arc, args.pages, args.repeat), cpu_per_1000(warc, args.pages, args.repeat)
    print(
        f"pages {args.pages}: ARC (warcio) {a:.3f} CPU s / 1000 pages, WARC (FastWARC) {w:.3f}; ARC/WARC {a / w:.2f}x"
    )


if __name__ == "__main__":
    main()
