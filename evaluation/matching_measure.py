"""What claim matching (features.claims.confirm_claims) costs on a sample of the AllSides corpus (docs/claims.md).

    python evaluation/matching_measure.py --shared ../shared --articles 10000 --repeat 3

Inputs are built as evaluation/claims_measure.py builds them (claims by article_claims, stories and copies by
features.corroboration, the shipped owners) on a seeded sample of `--articles` articles; only confirm_claims is
timed (process CPU seconds, the best of `--repeat` runs), reported per 10k articles.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from evaluation.claims_measure import corpus
from features.claims import article_claims, cited_outlets, claim_vectors, confirm_claims, match_inputs
from features.corroboration import corroboration
from features.embedding import load_static_embedding
from features.lexicons import load_lexicons
from jobs.infra import paths
from jobs.readers.outlets import OutletResolver, citation_names, load_owners


def sample_inputs(shared: Path, n_articles: int, seed: int) -> tuple[pl.DataFrame, np.ndarray, int]:
    """confirm_claims' inputs (claims with article meta, their vectors) for a seeded sample, and its size."""
    resolver = OutletResolver.default(labels=[paths.LABELS_FILE])
    articles = corpus(shared, resolver)
    articles = articles.sample(min(n_articles, articles.height), seed=seed).sort("article_id")
    none = pl.LazyFrame(schema={"outlet": pl.String, "line_norm": pl.String})
    found = article_claims(
        articles.lazy(), boilerplate=none, lexicons=load_lexicons(), cited=cited_outlets(citation_names())
    ).collect()
    vectors = claim_vectors(load_static_embedding(), found["sentence"])
    stories = corroboration(articles).articles
    meta = stories.select(
        "article_id",
        "outlet",
        "published_at",
        "story_id",
        pl.col("copy_of").fill_null(pl.col("article_id")).alias("copy_root"),
    )
    inputs = match_inputs(found, meta, load_owners())
    return inputs, vectors, articles.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs, vectors, n = sample_inputs(args.shared, args.articles, args.seed)
    seconds = []
    for _ in range(args.repeat):
        t = time.process_time()
        out = confirm_claims(inputs, vectors)
        seconds.append(time.process_time() - t)
    runs = ", ".join(f"{s * 1e4 / n:.2f}" for s in seconds)
    print(f"{n} articles, {inputs.height} claims; matching CPU s per 10k articles: best {min(seconds) * 1e4 / n:.2f} "
          f"(runs: {runs}); claims confirmed {(out['confirming_outlets_n'] > 0).sum()}, "
          f"with a candidate {out['best_cosine'].is_not_null().sum()}")  # fmt: skip


if __name__ == "__main__":
    main()
