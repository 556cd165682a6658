"""Whether the empirical-Bayes shrinkage leaves well-covered outlets their own feature values.

`features.aggregate.pooled_outlet_stats` pulls every outlet's feature mean toward the population by
`shrinkage` = noise / (noise + between-outlet variance). If the between-outlet variance is estimated at 0,
every outlet gets the population mean and the feature carries nothing; an outlet with >= 20 articles
should keep most of its own mean. `shrinkage_table` says, per feature, how far the outlets with at least
`min_articles` articles were shrunk and how many distinct shrunk means they have; `shrinkage_section` is
that check as a section of the evaluation report (the articles the cue model reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from evaluation.experiments import Measured

WELL_COVERED = 20
"""Articles from which an outlet counts as well covered (the scorer's default --min-articles)."""
ERASED_SHRINKAGE = 0.5
"""Mean shrinkage of the well-covered outlets from which a feature counts as (half) erased."""


def shrinkage_table(stats: pl.DataFrame, n_articles: pl.DataFrame, *, min_articles: int = WELL_COVERED) -> pl.DataFrame:
    """Per feature, over the outlets with >= min_articles articles: how many, mean and max shrinkage, distinct
    shrunk means, and `erased` (one shrunk mean for all, or mean shrinkage >= ERASED_SHRINKAGE).

    `stats`: outlet_features rows (outlet, feature, shrinkage, shrunk_mean); `n_articles`: outlet, n_articles.
    """
    well = stats.join(n_articles.select("outlet", "n_articles"), on="outlet", how="inner").filter(
        pl.col("n_articles") >= min_articles
    )
    return (
        well.group_by("feature")
        .agg(
            outlets=pl.len(),
            mean_shrinkage=pl.col("shrinkage").mean(),
            max_shrinkage=pl.col("shrinkage").max(),
            shrunk_values=pl.col("shrunk_mean").round(12).n_unique(),
        )
        .with_columns(
            erased=((pl.col("shrunk_values") <= 1) & (pl.col("outlets") > 1))
            | (pl.col("mean_shrinkage") >= ERASED_SHRINKAGE)
        )
        .sort("mean_shrinkage", "feature", descending=[True, False])
    )


def article_shrinkage(
    feats: pl.DataFrame, features: Sequence[str], *, min_articles: int = WELL_COVERED
) -> pl.DataFrame:
    """`shrinkage_table` of per-article features (one row per article: outlet and the feature columns)."""
    from features.aggregate import outlet_feature_stats

    lf = feats.lazy().select("outlet", *[pl.col(f).cast(pl.Float64) for f in features])
    stats = outlet_feature_stats(lf, features=list(features)).collect()
    counts = feats.group_by("outlet").agg(n_articles=pl.len())
    return shrinkage_table(stats, counts, min_articles=min_articles)


def markdown(table: pl.DataFrame, *, min_articles: int = WELL_COVERED) -> list[str]:
    """The table as Markdown lines, with a one-line verdict first."""
    erased = table.filter(pl.col("erased"))["feature"].to_list()
    verdict = (
        f"Erased (one shrunk mean, or shrunk by half on average): {', '.join(f'`{f}`' for f in erased)}."
        if erased
        else "No feature is shrunk to one value or by half on average."
    )
    lines = [
        verdict,
        "",
        f"| feature | outlets with >= {min_articles} articles | mean shrinkage | max | distinct shrunk means |",
    ]
    lines.append("|---|---|---|---|---|")
    for r in table.iter_rows(named=True):
        lines.append(
            f"| `{r['feature']}` | {r['outlets']} | {r['mean_shrinkage']:.3f} | {r['max_shrinkage']:.3f} "
            f"| {r['shrunk_values']} |"
        )
    return lines


def shrinkage_section(m: Measured) -> list[str]:
    """The report section (after a blank line): shrinkage of the well-covered outlets' cue features, over every
    English article of the shared corpora (the population the evaluation's cue model reads)."""
    from evaluation.inputs import boilerplate_table, features_and_cues

    english = m.corpora.english
    feats, features, _ = features_and_cues(english, boilerplate_table(english))
    table = article_shrinkage(feats, features)
    return [
        "",
        f"### Shrinkage of the cue features (outlets with >= {WELL_COVERED} articles)",
        "",
        "Every English article of the shared corpora, all outlets in the population (`evaluation/shrinkage.py`).",
        "",
        *markdown(table),
    ]
