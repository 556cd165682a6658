"""Throughput of features.pipeline.article_features on the full shared corpus (not a test).

    python -m tests.features.bench_features [--shared ../shared] [--engine auto|streaming|in-memory] [--repeat 3]

Reads ../shared/data/corpora/allsides_2012_2020.parquet (30,196 articles), computes the outlet boilerplate
table (timed separately), then times `article_features(...).collect()` and prints articles/s and the peak
RSS of this process. The machine may be shared: the load average before each run and the CPU seconds are
printed too (articles per CPU-second x cores is the ceiling on an idle machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import polars as pl

from features.boilerplate import repeated_lines
from features.lexicons import load_lexicons
from features.pipeline import article_features

ROOT = Path(__file__).resolve().parents[2]


def load_corpus(shared: Path) -> pl.DataFrame:
    """The AllSides corpus in the feature input contract (authors as a list, outlet = domain)."""
    return pl.read_parquet(shared / "data" / "corpora" / "allsides_2012_2020.parquet").select(
        pl.col("id").alias("article_id"),
        pl.col("domain").alias("outlet"),
        "title",
        "text",
        pl.col("authors").str.split(",").list.eval(pl.element().str.strip_chars()).alias("authors"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    articles = load_corpus(args.shared)
    lexicons = load_lexicons()
    t0 = time.perf_counter()
    boilerplate = repeated_lines(articles.lazy()).collect(engine=args.engine)
    t_bp = time.perf_counter() - t0
    print(f"repeated_lines: {len(boilerplate)} outlet lines in {t_bp:.2f} s")

    best = float("inf")
    for i in range(args.repeat):
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        frames = article_features(articles.lazy(), boilerplate=boilerplate.lazy(), lexicons=lexicons)
        features, evidence, removed = frames.collect(engine=args.engine)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best = min(best, wall)
        print(
            f"run {i + 1}: {wall:.2f} s wall, {cpu:.2f} s cpu, {len(articles) / wall:,.0f} articles/s, "
            f"{len(articles) / cpu:,.0f} articles per cpu-second, load average before {load:.1f} "
            f"({len(features)} feature rows, {len(evidence)} evidence rows, {len(removed)} removed lines)"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"best: {len(articles) / best:,.0f} articles/s ({best:.2f} s for {len(articles)} articles, "
        f"{os.cpu_count()} cores, engine={args.engine}); peak RSS {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
