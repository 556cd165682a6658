"""Featurize per step: CPU seconds of each step of `features.pipeline.article_features`, materialised one by one.

The pipeline is lazy Polars: a Python profiler sees one `collect`. This script runs the pipeline's stages
(`features.pipeline._Stages`) the way its `collect` does, but materialises every step on its own and times it with
`time.process_time()` (run it with POLARS_MAX_THREADS=1 so that CPU and wall time agree, as in a pool worker):

    POLARS_MAX_THREADS=1 python -m bench.profile_featurize --input bench/out/nightly_100000 --n 20000

Prints a Markdown table (step, CPU seconds, share, articles per CPU second of the step alone). The sum is a little
more than one `collect()`: steps materialised apart cannot share Polars' plan.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from features import attribution, evidence, language, sentences, signals, speculation
from features.boilerplate import mark_lines, repeated_lines, split_lines
from features.lexicons import load_lexicons
from features.pipeline import INPUT_COLUMNS, article_features


def _articles(source: Path, n: int) -> pl.DataFrame:
    files = sorted(source.glob("*.parquet")) if source.is_dir() else [source]
    frame = pl.read_parquet(files, n_rows=n).with_row_index("_i")
    frame = frame.with_columns(
        article_id=pl.format("p{}", pl.col("_i")),
        outlet=pl.col("outlet") if "outlet" in frame.columns else pl.col("source").cast(pl.String),
        authors=pl.col("authors").str.split(", ")
        if frame.schema.get("authors") == pl.String
        else pl.col("authors")
        if "authors" in frame.columns
        else pl.lit([], dtype=pl.List(pl.String)),
        language=pl.lit(None, dtype=pl.String),
    )
    return frame.select(INPUT_COLUMNS)


def profile(articles: pl.DataFrame) -> list[tuple[str, float]]:
    """(step, CPU seconds) of each step, in pipeline order."""
    lex = load_lexicons()
    boilerplate = repeated_lines(articles.lazy()).collect().lazy()
    cues = attribution.attribution_cues(lex)
    timings: list[tuple[str, float]] = []

    def step(name: str, run: Callable[[], pl.DataFrame]) -> pl.LazyFrame:
        started = time.process_time()
        frame = run()
        timings.append((name, time.process_time() - started))
        return frame.lazy()

    lazy = articles.lazy()
    lines = step(
        "boilerplate: mark lines",
        lambda: mark_lines(lazy, boilerplate=boilerplate, patterns=lex.boilerplate_patterns).collect(),
    )
    split = step(
        "sentences: split",
        lambda: sentences.split_sentences(
            split_lines(lines).kept, abbreviations=lex.abbreviations, sentence_starters=lex.sentence_starters
        ).collect(),
    )
    lower = step("sentences: lower-case", lambda: sentences.lowercase_sentences(split).collect())
    attributed = step("attribution: per sentence", lambda: attribution.sentence_attribution(lower, cues=cues).collect())
    sents = step(
        "signals: per sentence", lambda: signals.sentence_signals(attributed, cues=signals.signal_cues(lex)).collect()
    )
    spec = step(
        "speculation: cue matches",
        lambda: speculation.speculation_cue_matches(sents, cues=speculation.speculation_cues(lex)).collect(),
    )
    unnamed = step("attribution: unnamed spans", lambda: attribution.unnamed_source_spans(sents, cues=cues).collect())
    sizes = step("sizes", lambda: signals.article_sizes(lazy, sents).collect())
    step(
        "attribution: per article",
        lambda: attribution.article_attribution(sents, unnamed_spans=unnamed, sizes=sizes).collect(),
    )
    step("speculation: per article", lambda: speculation.article_speculation(spec, sizes=sizes).collect())
    step(
        "signals: per article",
        lambda: signals.article_signals(lazy, sents, sizes=sizes, cues=signals.signal_cues(lex)).collect(),
    )
    step("language", lambda: language.article_language(lazy, profiles=lex.function_words).collect())
    step("evidence rows", lambda: evidence.evidence(unnamed, spec).collect())
    step("removed lines", lambda: split_lines(lines).removed.collect())
    started = time.process_time()
    article_features(lazy, boilerplate=boilerplate, lexicons=lex).collect()
    timings.append(("whole pipeline, one collect() (for comparison)", time.process_time() - started))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, default=Path("../shared/data/corpora/allsides_2012_2020.parquet"))
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    articles = _articles(args.input, args.n)
    timings = profile(articles)
    total = sum(s for name, s in timings[:-1])
    print(f"{articles.height:,} articles, Polars threads: {pl.thread_pool_size()}\n")
    print("| step | CPU s | share | articles per CPU s |\n|---|---|---|---|")
    for name, seconds in timings:
        share = f"{seconds / total:.0%}" if not name.startswith("whole") else ""
        print(f"| {name} | {seconds:.2f} | {share} | {articles.height / max(seconds, 1e-9):,.0f} |")
    print(f"| sum of the steps | {total:.2f} | 100% | {articles.height / total:,.0f} |")


if __name__ == "__main__":
    main()
