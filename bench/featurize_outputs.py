"""Write (or compare) the three outputs of `features.pipeline.article_features` for whole corpora (not a test).

    python -m bench.featurize_outputs write DIR [--shared ../shared]     # before a change
    python -m bench.featurize_outputs compare DIR [--shared ../shared]   # after it: exit 1 on any difference
    [--engine auto|in-memory|streaming]   # the Polars engine that collects the outputs

Corpora: the embedded sample (jobs/data/sample/*.parquet) and, when ../shared is there, the shared AllSides and
extra corpora (36,497 articles). Boilerplate is learned per corpus from the corpus itself, as the benchmark
does. The outputs (features, evidence, removed lines) go to DIR/<corpus>.<output>.parquet; `compare` checks
them frame by frame (same rows in the same order, same dtypes, exact floats) and prints the first
differing rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from features.boilerplate import repeated_lines
from features.lexicons import load_lexicons
from features.pipeline import Engine, article_features
from tests.features.measure_detectors import sample_articles

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("features", "evidence", "removed")


def _contract(frame: pl.DataFrame) -> pl.DataFrame:
    """A corpus file in the feature input contract, with the corpus's language code when it has one."""
    articles = sample_articles(frame)
    if "language" in frame.columns:
        return articles.with_columns(frame.get_column("language"))
    return articles.with_columns(language=pl.lit(None, dtype=pl.String))


def corpora(shared: Path) -> dict[str, pl.DataFrame]:
    from jobs.infra.paths import SAMPLE_DIR

    sample = pl.concat([_contract(pl.read_parquet(p)) for p in sorted(SAMPLE_DIR.glob("*.parquet"))])
    out = {"sample": sample}
    shared_dir = shared / "data" / "corpora"
    if (shared_dir / "allsides_2012_2020.parquet").exists():
        out["allsides"] = _contract(pl.read_parquet(shared_dir / "allsides_2012_2020.parquet"))
        out["extra"] = _contract(pl.read_parquet(shared_dir / "extra_2010_2021.parquet"))
    return out


def outputs(articles: pl.DataFrame, *, engine: Engine = "auto") -> dict[str, pl.DataFrame]:
    boilerplate = repeated_lines(articles.lazy()).collect()
    frames = article_features(articles.lazy(), boilerplate=boilerplate.lazy(), lexicons=load_lexicons())
    return dict(zip(OUTPUTS, frames.collect(engine=engine), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["write", "compare"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--engine", default="auto", choices=["auto", "in-memory", "streaming"])
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    failed = False
    for name, articles in corpora(args.shared).items():
        for output, frame in outputs(articles, engine=args.engine).items():
            path = args.dir / f"{name}.{output}.parquet"
            if args.mode == "write":
                frame.write_parquet(path)
                print(f"{path}: {frame.height} rows")
                continue
            expected = pl.read_parquet(path)
            try:
                assert_frame_equal(frame, expected, check_exact=True)
                print(f"{name}.{output}: identical ({frame.height} rows)")
            except AssertionError as err:
                failed = True
                print(f"{name}.{output}: DIFFERENT ({frame.height} rows now, {expected.height} before): {err}")
                key = [c for c in ("article_id", "cue_start", "start", "kind") if c in frame.columns]
                print("only now:", frame.join(expected, on=frame.columns, how="anti", nulls_equal=True).sort(key))
                print("only before:", expected.join(frame, on=frame.columns, how="anti", nulls_equal=True).sort(key))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
