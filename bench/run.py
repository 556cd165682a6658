"""Benchmarks (not tests): throughput and peak memory of presstrust jobs on the shared corpora.

Each job runs in a child process so that its peak RSS is its own. Results are printed as a
Markdown table to paste into BENCHMARKS.md, with the machine they ran on.

Example: python -m bench.run --shared ../shared --scaled 1000000 --nightly 1000000 --increment 10000 --warc 12000

`--engine local,spark` runs ingest (into a fresh database each), then featurize, corroborate and aggregate once
per engine on the same ingested database (Spark in
local[2] mode unless PRESSTRUST_SPARK_MASTER says otherwise); peak memory is then the summed RSS of the process
tree (driver, JVM, Python workers).

The end-to-end benchmark (`--nightly N`) times `presstrust nightly` on N resampled articles dated 2024, then a
second night with `--increment` new ones, and prints the ratio of the first night to a raw Polars scan of the
same files (read, lower-case, count a 200-cue alternation and the words) measured in the same run.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import date
from pathlib import Path

from bench.make_scaled_corpus import make
from bench.measure import fresh_db, last_counts, machine, timed

OUT = Path(__file__).parent / "out"


def bench_pipeline(
    name: str, inputs: list[Path], db: Path, stages: list[str], engines: tuple[str, ...] = ("local",)
) -> list[dict[str, object]]:
    """Run ingest once per engine (each into a fresh database; the first engine's is kept), then the other stages
    once per engine (recomputing everything) on the kept database; one child process (and RSS) per stage."""
    commands = {
        "ingest": ["ingest", *map(str, inputs)],
        "featurize": ["featurize", "--force"],
        "corroborate": ["corroborate", "--full"],
        "aggregate": ["aggregate", "--as-of", "2030-12-31", "--window-days", "36500"],
    }
    n = {
        "ingest": "records_read",
        "featurize": "articles_computed",
        "corroborate": "articles_reclustered",
        "aggregate": "articles",
    }
    results: list[dict[str, object]] = []
    scratch = db.with_name(f"{db.stem}_scratch.duckdb")
    runs = [("ingest", e, scratch) for e in engines[1:]] + [("ingest", engines[0], db)]
    runs += [(stage, engine, db) for engine in engines for stage in stages]
    fresh_db(db)
    for stage, engine, target in runs:
        if stage == "ingest":
            fresh_db(target)
        command = [sys.executable, "-m", "jobs", *commands[stage], "--engine", engine, "--db", str(target), "-q"]
        seconds, peak = timed(command)
        records = int(last_counts(target, stage)[n[stage]])
        results.append(
            {
                "benchmark": f"{stage} {name} --engine {engine}",
                "records": records,
                "seconds": round(seconds, 1),
                "per_second": round(records / seconds),
                "peak_rss_mb": round(peak),
                "db_mb": round(target.stat().st_size / 2**20),
            }
        )
        print(results[-1], flush=True)
        if target == scratch:
            fresh_db(scratch)
    return results


# The raw-scan yardstick of the performance issue: read every text, lower-case it, count a 200-cue alternation
# and the words. Whatever the nightly costs is reported as a multiple of this, measured in the same run.
RAW_SCAN_CUES = 200


def raw_scan(paths: list[Path]) -> float:
    """Seconds for the raw Polars scan of `paths` (see RAW_SCAN_CUES), the nightly's practical lower bound."""
    import polars as pl

    from features.lexicons import load_lexicons

    lex = load_lexicons()
    cues = sorted({*lex.speech_verbs, *lex.hedge_cues}, key=lambda c: (-len(c), c))[:RAW_SCAN_CUES]
    pattern = r"(?-u:\b)(?:" + "|".join(re.escape(c) for c in cues) + r")(?-u:\b)"
    started = time.perf_counter()
    low = pl.col("text").str.to_lowercase()
    pl.scan_parquet(paths).select(
        low.str.count_matches(pattern).sum().alias("cues"), low.str.count_matches(r"\w+").sum().alias("words")
    ).collect()
    return time.perf_counter() - started


def bench_nightly(shared: Path, n: int, increment: int, workers: int | None = None) -> list[dict[str, object]]:
    """`presstrust nightly` end to end on n resampled articles (dated 2024), then on `increment` new ones, with
    `--workers workers` (None: the engine's default, the cores available)."""
    corpus = shared / "data" / "corpora" / "allsides_2012_2020.parquet"
    first_dir, new_dir = OUT / f"nightly_{n}", OUT / f"nightly_{n}_plus_{increment}"
    if not first_dir.exists():
        make(corpus, first_dir, n, start=date(2024, 1, 1), end=date(2024, 12, 31))
    if increment and not new_dir.exists():
        make(corpus, new_dir, increment, start=date(2025, 1, 1), end=date(2025, 1, 1), seed=11, prefix="inc")
    db = OUT / "bench_nightly.duckdb"
    fresh_db(db)  # with its text files: a run per --workers value starts from nothing
    Path(f"{db}.lock").unlink(missing_ok=True)
    scan = raw_scan(sorted(first_dir.glob("*.parquet")))
    results: list[dict[str, object]] = []
    runs = [("first night", first_dir, date(2024, 12, 31), n)]
    if increment:
        runs.append((f"next night (+{increment:,})", new_dir, date(2025, 1, 1), increment))
    pool = [] if workers is None else ["--workers", str(workers)]
    for label, folder, as_of, articles in runs:
        seconds, peak = timed(
            [sys.executable, "-m", "jobs", "nightly", "--db", str(db), "--corpus", str(folder), "--as-of",
             as_of.isoformat(), "--window-days", "366", "--quiet", *pool]
        )  # fmt: skip
        stages = last_counts(db, "nightly")
        results.append(
            {
                "benchmark": f"nightly {label}, {n:,} articles" + (f", --workers {workers}" if pool else ""),
                "records": articles,
                "seconds": round(seconds, 1),
                "per_second": round(articles / seconds),
                "peak_rss_mb": round(peak),
                "db_mb": round(db.stat().st_size / 2**20),
                "raw_scan_s": round(scan, 1),
                "ratio": round(seconds / scan, 1) if label == "first night" else "",
                "stages_s": {k: v.get("seconds") for k, v in stages.items()},
            }
        )
        print(results[-1], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--scaled", type=int, default=1_000_000, help="articles in the scaled corpus (0: skip)")
    parser.add_argument("--only", default="ingest,featurize,corroborate,aggregate", help="stages after ingest to time")
    parser.add_argument("--nightly", type=int, default=1_000_000, help="articles of the end-to-end nightly (0: skip)")
    parser.add_argument("--increment", type=int, default=10_000, help="new articles of the incremental night")
    parser.add_argument("--stages", action=argparse.BooleanOptionalAction, default=True, help="per-stage benchmarks")
    parser.add_argument(
        "--shared-corpus-stages",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the per-stage benchmarks on the shared corpus itself (before the scaled one)",
    )
    parser.add_argument(
        "--engine",
        default="local",
        help="engines the per-stage benchmarks run every stage on, e.g. local,spark (spark: local[2], "
        "or PRESSTRUST_SPARK_MASTER)",
    )
    parser.add_argument(
        "--workers",
        default="",
        help="comma-separated --workers values of the local engine to run the nightly with, one fresh database "
        "each (default: once, with the engine's default, the cores available)",
    )
    parser.add_argument("--warc", type=int, default=12_000, help="pages of the generated WARC to ingest (0: skip)")
    parser.add_argument("--warc-files", type=int, default=4, help="WARC files the pages are split over")
    args = parser.parse_args()
    corpus = args.shared / "data" / "corpora" / "allsides_2012_2020.parquet"
    if not corpus.exists():
        sys.exit(f"{corpus} not found: the benchmarks need ../shared/data (pass --shared DIR)")
    OUT.mkdir(exist_ok=True)
    stages = [s for s in args.only.split(",") if s in ("featurize", "corroborate", "aggregate")]
    engines = tuple(e for e in args.engine.split(",") if e)
    shared_db = OUT / "bench_shared.duckdb"
    run_shared = args.stages and args.shared_corpus_stages
    results = bench_pipeline("shared corpus", [corpus], shared_db, stages, engines) if run_shared else []
    if args.warc:
        from bench.warc_bench import bench_warc

        results += bench_warc(args.shared, args.warc, files=args.warc_files, engines=engines)
    if args.nightly:
        for workers in [int(w) for w in args.workers.split(",") if w] or [None]:
            results += bench_nightly(args.shared, args.nightly, args.increment, workers)
    if args.scaled and args.stages:
        scaled_dir = OUT / f"scaled_{args.scaled}"
        if not scaled_dir.exists():
            make(corpus, scaled_dir, args.scaled, start=date(2017, 1, 1), end=date(2020, 12, 31))
        scaled_db = OUT / "bench_scaled.duckdb"
        results += bench_pipeline(f"scaled {args.scaled:,}", [scaled_dir], scaled_db, stages, engines)
        for suffix in ("", ".wal"):
            Path(f"{scaled_db}{suffix}").unlink(missing_ok=True)
    print(f"\nMachine: {machine()}\n")
    keys = list(dict.fromkeys(k for r in results for k in r))
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in results:
        print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")


if __name__ == "__main__":
    main()
