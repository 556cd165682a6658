"""Benchmark for features.corroboration (not a test): throughput and peak memory.

    python -m tests.features.bench_corroboration [--shared ../shared] [--scaled 50000,100000,200000]
                                                 [--per-day 275] [--skip-full] [--stream 20000]

Runs, each in a fresh subprocess so that peak RSS belongs to that run alone:
  full    the AllSides corpus as is (30,196 articles, 448 outlets, ~12% undated)
  scaled  the corpus resampled to N articles (with replacement, seeded; ids perturbed as
          '<id>~<k>'), all dated, spread uniformly over N / per_day days from 2018-01-01 with
          a random time of day. Same density, more days: if cost is linear in days, the
          articles/s figure stays flat as N grows.
With --stream N the dated articles go through ``StoryStream`` in time order, N at a time, with the
text model from ``document_frequencies`` of N-article slices (as ``presstrust corroborate`` does on
a first run; undated ones through ``assign_stories``), and the result is checked equal to the
one-shot ``assign_stories`` when the corpus is the shared one.
Reported: wall seconds, articles/s, CPU seconds (user+sys, all threads), peak RSS (MB) and the
RSS after loading the input (so the clustering's own share is the difference).
The machine is shared: CPU seconds are the steadier figure when other work runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime

import numpy as np
import polars as pl

from features.corroboration import (
    StoryStream,
    assign_stories,
    document_frequencies,
    merge_frequencies,
    text_model_from_frequencies,
)
from tests.features.validate_corroboration import ALLSIDES_FILE, shared_dir


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_corpus(shared: str | None) -> pl.DataFrame:
    a = pl.read_parquet(shared_dir(shared) / ALLSIDES_FILE, columns=["id", "domain", "date", "title", "text"])
    return a.select(
        pl.col("id").alias("article_id"),
        pl.col("domain").alias("outlet"),
        pl.col("date").str.to_date(strict=False).cast(pl.Datetime("us")).alias("published_at"),
        "title",
        "text",
    )


def resample(corpus: pl.DataFrame, n: int, per_day: int, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    days = max(1, n // per_day)
    idx = rng.integers(0, corpus.height, n)
    offs = rng.integers(0, days * 86_400, n)  # seconds since the start
    start = datetime(2018, 1, 1)
    out = corpus[idx].with_columns(
        (pl.col("article_id") + "~" + pl.Series(np.arange(n)).cast(pl.String)).alias("article_id"),
        (pl.lit(start) + pl.duration(seconds=pl.Series(offs))).cast(pl.Datetime("us")).alias("published_at"),
    )
    return out


def streamed(df: pl.DataFrame, batch: int) -> pl.DataFrame:
    """assign_stories through StoryStream, `batch` articles at a time, the model from merged frequencies."""
    freq = None
    for part in df.iter_slices(batch):
        f = document_frequencies(part)
        freq = f if freq is None else merge_frequencies([freq, f])
    if freq is None:
        return assign_stories(df)
    model = text_model_from_frequencies(freq, df.height)
    del freq
    dated = df.filter(pl.col("published_at").is_not_null()).sort("published_at", "article_id")
    stream = StoryStream(model)
    out = [stream.push(part) for part in dated.iter_slices(batch)]
    out.append(stream.close())
    out.append(assign_stories(df.filter(pl.col("published_at").is_null()), text_model=model))
    return pl.concat(out).sort("article_id")


def one(scenario: str, shared: str | None, per_day: int, stream: int = 0) -> dict:
    corpus = load_corpus(shared)
    if scenario == "full":
        df = corpus
    else:
        df = resample(corpus, int(scenario), per_day)
        del corpus
    rss_input = _rss_mb()
    c0, t0 = _cpu(), time.perf_counter()
    out = streamed(df, stream) if stream else assign_stories(df)
    wall = time.perf_counter() - t0
    cpu = _cpu() - c0
    peak = _rss_mb()
    if stream and scenario == "full":
        assert out.equals(assign_stories(df)), "streamed result differs from the one-shot one"
    stories = out["story_id"].n_unique()
    day = df["published_at"].drop_nulls().dt.epoch("d").to_numpy()
    ndays = int(day.max() - day.min()) + 1 if len(day) else 0
    return {
        "scenario": scenario,
        "articles": df.height,
        "days": ndays,
        "stories": stories,
        "wall_s": round(wall, 2),
        "articles_per_s": round(df.height / wall),
        "cpu_s": round(cpu, 2),
        "articles_per_cpu_s": round(df.height / cpu),
        "rss_input_mb": round(rss_input),
        "rss_peak_mb": round(peak),
        "copies": int(out["copy_of"].is_not_null().sum()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=None)
    ap.add_argument("--scaled", default="50000,100000,200000", help="article counts ('' to skip)")
    ap.add_argument("--per-day", type=int, default=275, help="articles a day in scaled runs")
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--stream", type=int, default=0, help="stream N articles at a time (0: one-shot)")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.shared, args.per_day, args.stream)))
        return 0
    scenarios = ([] if args.skip_full else ["full"]) + [s for s in args.scaled.split(",") if s]
    cmd = [sys.executable, "-m", "tests.features.bench_corroboration", "--per-day", str(args.per_day)]
    cmd += ["--stream", str(args.stream)]
    if args.shared:
        cmd += ["--shared", args.shared]
    header = (
        f"{'scenario':>9} {'articles':>8} {'days':>5} {'stories':>8} {'wall s':>7} {'art/s':>7} "
        f"{'cpu s':>7} {'art/cpu-s':>9} {'RSS in':>7} {'RSS peak':>8} {'copies':>6}"
    )
    print(header, flush=True)
    for sc in scenarios:
        res = subprocess.run([*cmd, "--one", sc], capture_output=True, text=True, check=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(
            f"{r['scenario']:>9} {r['articles']:>8} {r['days']:>5} {r['stories']:>8} {r['wall_s']:>7} "
            f"{r['articles_per_s']:>7} {r['cpu_s']:>7} {r['articles_per_cpu_s']:>9} "
            f"{r['rss_input_mb']:>7} {r['rss_peak_mb']:>8} {r['copies']:>6}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
