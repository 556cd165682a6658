"""Make a scaled corpus by resampling the shared AllSides corpus: N articles, new ids and URLs,
dates spread uniformly over a realistic range, written as Parquet parts of 100,000 rows.

Example: python -m bench.make_scaled_corpus --n 1000000 --out bench/out/scaled_1m
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import polars as pl

PART_ROWS = 100_000


def make(source: Path, out: Path, n: int, *, start: date, end: date, seed: int = 7, prefix: str = "s") -> list[Path]:
    """Resample `source` to n articles dated start..end; ids and URLs carry `prefix` + a running number."""
    corpus = pl.read_parquet(source)
    days = (end - start).days
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for part, first in enumerate(range(0, n, PART_ROWS)):
        rows = min(PART_ROWS, n - first)
        sample = corpus.sample(rows, with_replacement=True, seed=seed + part)
        index = pl.int_range(first, first + rows, eager=True).cast(pl.String)
        offsets = pl.Series(sample.select(pl.col("id").hash(seed) % (days + 1)).to_series()).cast(pl.Int32)
        scaled = sample.with_columns(
            id=pl.lit(prefix) + index,
            # before any #fragment: canonical URLs drop fragments, which would merge resamples
            url=pl.col("url").str.replace(r"#.*$", "") + pl.lit(f"/{prefix}r") + index,
            date=(pl.lit(start) + pl.duration(days=offsets)).dt.strftime("%Y-%m-%d"),
        )
        path = out / f"part-{part:04d}.parquet"
        scaled.write_parquet(path, compression="zstd")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path("../shared/data/corpora/allsides_2012_2020.parquet"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2017, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2020, 12, 31))
    args = parser.parse_args()
    paths = make(args.source, args.out, args.n, start=args.start, end=args.end)
    print(f"wrote {args.n} articles in {len(paths)} files to {args.out}")


if __name__ == "__main__":
    main()
