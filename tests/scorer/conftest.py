from __future__ import annotations

import numpy as np
import polars as pl
import pytest


def make_articles(
    n_outlets: int = 30, *, seed: int = 0, min_n: int = 5, max_n: int = 60
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A hand-made per-article feature frame and labels: the label depends on two of the three features."""
    rng = np.random.default_rng(seed)
    rows = []
    labels = []
    for i in range(n_outlets):
        outlet = f"outlet{i:02d}.com"
        quality = rng.random()
        n = int(rng.integers(min_n, max_n + 1))
        for j in range(n):
            rows.append(
                {
                    "article_id": f"{outlet}/{j}",
                    "outlet": outlet,
                    "hedges_per_1k_words": max(0.0, 8 - 6 * quality + rng.normal(0, 2)),
                    "named_share": float(np.clip(quality + rng.normal(0, 0.2), 0, 1)),
                    "noise": rng.normal(),
                }
            )
        labels.append({"outlet": outlet, "label_score": float(np.clip(quality + rng.normal(0, 0.05), 0, 1))})
    return pl.DataFrame(rows), pl.DataFrame(labels)


FEATURES = ["hedges_per_1k_words", "named_share", "noise"]


@pytest.fixture
def articles_and_labels() -> tuple[pl.DataFrame, pl.DataFrame]:
    return make_articles()
