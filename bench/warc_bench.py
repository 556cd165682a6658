"""WARC ingest throughput: `presstrust ingest` on a generated .warc.gz of news pages (bench/warc_corpus.py).

Reports pages/s (response records read), articles/s (articles loaded), peak RSS of the ingest process, and the
load average before and after (other work may share the machine). Part of `make bench` (bench/run.py --warc N).

Example: python -m bench.warc_bench --shared ../shared --pages 12000
         python -m bench.warc_bench --shared ../shared --pages 48000 --files 8 --engine local,spark
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"

_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); print(u.ru_maxrss, u.ru_utime + u.ru_stime)"
)


def timed_cpu(cmd: list[str]) -> tuple[float, float, float]:
    """Run a command under its own parent; return (wall seconds, its CPU seconds, its peak RSS in MB)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], check=True, capture_output=True, text=True)
    rss, cpu = out.stdout.split()
    return time.perf_counter() - start, float(cpu), int(rss) / 1024


def bench_warc(
    shared: Path, pages: int, *, files: int = 1, engines: tuple[str, ...] = ("local",)
) -> list[dict[str, object]]:
    """Generate the WARC once (kept in bench/out; `files` > 1: the pages split over that many files, as a crawl
    ships them), then time one ingest of it into a fresh database per engine."""
    from itertools import islice

    from bench.measure import last_counts
    from bench.warc_corpus import load_rows, write_warc
    from bench.warc_corpus import pages as make_pages

    OUT.mkdir(exist_ok=True)
    name = f"news_{pages}" if files == 1 else f"news_{pages}_in_{files}"
    folder = OUT / name
    if not folder.exists():
        folder.mkdir()
        stream = make_pages(load_rows(shared), pages)
        for k in range(files):
            write_warc(folder / f"{name}-{k:03d}.warc.gz", islice(stream, -(-pages // files)))
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    db = OUT / "bench_warc.duckdb"
    results: list[dict[str, object]] = []
    for engine in engines:
        for suffix in ("", ".wal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(OUT / "bench_warc.texts", ignore_errors=True)
        load_before = os.getloadavg()[0]
        command = [sys.executable, "-m", "jobs", "ingest", str(folder), "--db", str(db), "--engine", engine, "-q"]
        seconds, cpu, peak = timed_cpu(command)
        load_after = os.getloadavg()[0]
        counts = last_counts(db, "ingest")
        result: dict[str, object] = {
            "benchmark": f"ingest WARC --engine {engine}, {pages:,} pages in {files} file(s) ({size:.0f} MB gzip)",
            "records": counts["records_read"],
            "seconds": round(seconds, 1),
            "per_second": round(int(counts["records_read"]) / seconds),
            "articles": counts["loaded"],
            "articles_per_second": round(int(counts["loaded"]) / seconds),
            # the process and the children it waited for: with Spark, not the JVM's Python workers
            "cpu_seconds": round(cpu, 1),
            "pages_per_cpu_second": round(int(counts["records_read"]) / cpu),
            "rejected": counts["rejected"],
            "peak_rss_mb": round(peak),
            "load_avg_1m": f"{load_before:.2f} -> {load_after:.2f}",
        }
        print(result, flush=True)
        results.append(result)
    for suffix in ("", ".wal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--pages", type=int, default=12_000)
    parser.add_argument("--files", type=int, default=1, help="split the pages over this many WARC files")
    parser.add_argument("--engine", default="local", help="engines to ingest with, e.g. local,spark")
    args = parser.parse_args()
    bench_warc(args.shared, args.pages, files=args.files, engines=tuple(args.engine.split(",")))


if __name__ == "__main__":
    main()
