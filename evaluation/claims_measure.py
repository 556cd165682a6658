"""Claims on the shared corpora: how sparse they are in time, each claim cue's outlet-level Spearman with the
labels alone, and what extraction, embedding and matching cost (docs/claims.md).

    python evaluation/claims_measure.py --shared ../shared

In memory, no database: the AllSides corpus (allsides_2012_2020.parquet; outlet = its `domain`, resolved like the
pipeline resolves hosts), claims by features.claims.article_claims (no boilerplate history), stories and copies by
features.corroboration.corroboration, matching by features.claims.confirm_claims with the shipped owners, origins by
features.claims.claim_origins with the alias file's outlet names. Labels: the shipped Lin et al. pc1 file; outlets
with >= 20 articles.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy.stats import spearmanr

from features.claims import (
    CLAIM_UNITS_SCHEMA,
    article_claims,
    cited_outlets,
    claim_origins,
    claim_units,
    claim_vectors,
    confirm_claims,
)
from features.corroboration import corroboration
from features.embedding import load_static_embedding
from features.lexicons import load_lexicons
from jobs.infra import paths
from jobs.readers.labels import load_labels
from jobs.readers.outlets import OutletResolver, citation_names, load_owners

MIN_ARTICLES = 20


def corpus(shared: Path, resolver: OutletResolver) -> pl.DataFrame:
    raw = pl.read_parquet(
        shared / "data/corpora/allsides_2012_2020.parquet", columns=["id", "domain", "title", "text", "date"]
    )
    hosts = {h: resolver.resolve_host(h) for h in raw["domain"].unique().to_list()}
    return raw.select(
        pl.col("id").cast(pl.String).alias("article_id"),
        pl.col("domain").replace_strict(hosts, return_dtype=pl.String).alias("outlet"),
        "title",
        "text",
        pl.col("date").str.to_datetime(strict=False).alias("published_at"),
    ).filter(pl.col("outlet").is_not_null())


def sparsity(articles: pl.DataFrame) -> None:
    dated = articles.filter(pl.col("published_at").is_not_null())
    per = (
        dated.group_by("outlet")
        .agg(
            pl.len().alias("n"),
            pl.col("published_at").dt.date().n_unique().alias("days_with_articles"),
            ((pl.col("published_at").max() - pl.col("published_at").min()).dt.total_days() + 1).alias("span_days"),
        )
        .filter(pl.col("n") >= MIN_ARTICLES)
    )
    per = per.with_columns((pl.col("n") / pl.col("span_days")).alias("per_day"))
    days = dated["published_at"].dt.date()
    print(f"dated articles {dated.height} of {articles.height}; corpus days with an article {days.n_unique()}; "
          f"articles per such day: median {dated.group_by(days).len()['len'].median()}")  # fmt: skip
    print(f"outlets with >= {MIN_ARTICLES} dated articles: {per.height}; articles per outlet per day of its span: "
          f"median {per['per_day'].median():.3f}, p90 {per['per_day'].quantile(0.9):.3f}; "
          f"share of an outlet's span days with an article: "
          f"median {(per['days_with_articles'] / per['span_days']).median():.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    args = parser.parse_args()
    resolver = OutletResolver.default(labels=[paths.LABELS_FILE])
    articles = corpus(args.shared, resolver)
    sparsity(articles)
    none = pl.LazyFrame(schema={"outlet": pl.String, "line_norm": pl.String})
    t = time.process_time()
    found = article_claims(
        articles.lazy(), boilerplate=none, lexicons=load_lexicons(), cited=cited_outlets(citation_names())
    ).collect()
    t_extract = time.process_time() - t
    t = time.process_time()
    vectors = claim_vectors(load_static_embedding(), found["sentence"])
    t_embed = time.process_time() - t
    t = time.process_time()
    stories = corroboration(articles).articles
    t_stories = time.process_time() - t
    meta = stories.select(
        "article_id",
        "outlet",
        "published_at",
        "story_id",
        pl.col("copy_of").fill_null(pl.col("article_id")).alias("copy_root"),
    )
    first = stories.select(pl.col("article_id").alias("_first"), pl.col("outlet").alias("story_origin_outlet"))
    meta = (
        meta.with_columns(pl.col("story_id").str.slice(2).alias("_first"))
        .join(first, on="_first", how="left")
        .drop("_first")
    )
    owners = load_owners()
    inputs = (
        found.select("article_id", "sentence_no")
        .join(meta, on="article_id", how="left")
        .with_columns(pl.col("outlet").replace_strict(owners, default=None, return_dtype=pl.String).alias("owner"))
    )
    t = time.process_time()
    confirmations = confirm_claims(inputs, vectors)
    t_match = time.process_time() - t
    n = articles.height
    print(f"{n} articles, {found.height} claims ({found.height / n:.1f} per article); CPU s per 10k articles: "
          f"extract {t_extract * 1e4 / n:.1f}, embed {t_embed * 1e4 / n:.1f}, match {t_match * 1e4 / n:.1f} "
          f"(stories, for scale: {t_stories * 1e4 / n:.1f})")  # fmt: skip
    with_origin = (
        claim_origins(found.lazy(), articles=meta.lazy())
        .collect()
        .join(confirmations, on=["article_id", "sentence_no"])
    )
    with_origin = with_origin.join(meta.select("article_id", "outlet"), on="article_id")
    print(with_origin.group_by("origin").len().sort("origin"))
    print(f"claims confirmed by an independent outlet: {(with_origin['confirming_outlets_n'] > 0).mean():.3f}; "
          f"claims with a candidate: {with_origin['best_cosine'].is_not_null().mean():.3f}")  # fmt: skip
    labels = load_labels(paths.LABELS_FILE, resolver=resolver)
    low = set(labels.filter(pl.col("label_grade") == "low")["outlet"].to_list())
    units = (
        claim_units(with_origin.lazy(), low_rated=low)
        .collect()
        .join(meta.select("article_id", "outlet"), on="article_id")
    )
    counts = articles.group_by("outlet").len().filter(pl.col("len") >= MIN_ARTICLES)
    per_outlet = units.group_by("outlet").agg(pl.col(c).mean() for c in CLAIM_UNITS_SCHEMA if c != "article_id")
    joined = per_outlet.join(counts, on="outlet").join(labels.select("outlet", "label_score"), on="outlet")
    print(f"outlets with >= {MIN_ARTICLES} articles and a label: {joined.height}")
    for cue in (c for c in CLAIM_UNITS_SCHEMA if c != "article_id"):
        ok = joined.filter(pl.col(cue).is_not_null())
        rho = spearmanr(ok[cue].to_numpy(), ok["label_score"].to_numpy()).statistic if ok.height > 2 else np.nan
        print(f"  {cue}: Spearman with pc1 {rho:+.3f} over {ok.height} outlets (outlet mean {ok[cue].mean():.3f})")


if __name__ == "__main__":
    main()
