"""The shrinkage check of the evaluation report (evaluation/shrinkage.py)."""

from __future__ import annotations

import numpy as np
import polars as pl

from evaluation.shrinkage import article_shrinkage, markdown, shrinkage_table


def test_a_feature_with_one_shrunk_mean_or_half_shrunk_is_erased() -> None:
    stats = pl.DataFrame(
        {
            "outlet": ["a", "b", "c"] * 3,
            "feature": ["one_value"] * 3 + ["half"] * 3 + ["kept"] * 3,
            "shrinkage": [1.0, 1.0, 1.0, 0.5, 0.6, 0.4, 0.1, 0.2, 0.9],
            "shrunk_mean": [2.0, 2.0, 2.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
        }
    )
    counts = pl.DataFrame({"outlet": ["a", "b", "c"], "n_articles": [20, 500, 19]})  # c: too few articles
    got = shrinkage_table(stats, counts).sort("feature")
    assert got["feature"].to_list() == ["half", "kept", "one_value"]
    assert got["outlets"].to_list() == [2, 2, 2]
    assert got["mean_shrinkage"].to_list() == [0.55, 0.15000000000000002, 1.0]
    assert got["shrunk_values"].to_list() == [2, 2, 1]
    assert got["erased"].to_list() == [True, False, True]
    lines = markdown(got)
    assert lines[0].startswith("Erased") and "`half`" in lines[0] and "`kept`" not in lines[0]


def test_simulated_mission_feature_is_not_erased_among_many_one_article_outlets() -> None:
    """300 outlets with one or two articles, a little less noisy than 40 outlets with 20-200 (as on the
    shared corpora): the large outlets keep their own rates."""
    rng = np.random.default_rng(7)
    n = np.concatenate([rng.integers(1, 3, 300), rng.integers(20, 201, 40)])
    effect = rng.normal(0.0, 0.5, n.size)
    sd = np.where(n < 5, 0.75, 1.0)
    values = np.concatenate([rng.normal(e, s, k) for e, s, k in zip(effect, sd, n, strict=True)])
    feats = pl.DataFrame({"outlet": np.repeat([f"o{i:03d}" for i in range(n.size)], n), "rate": values})
    got = article_shrinkage(feats, ["rate"]).row(0, named=True)
    assert got["outlets"] == 40 and not got["erased"]
    assert got["shrunk_values"] == 40 and got["mean_shrinkage"] < 0.2
    assert markdown(article_shrinkage(feats, ["rate"]))[0].startswith("No feature")


def test_simulation_prints_every_estimator_in_every_scenario() -> None:
    from click.testing import CliRunner

    from evaluation.shrinkage_simulation import ESTIMATORS, SCENARIOS, main

    result = CliRunner().invoke(main, ["--reps", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(ESTIMATORS) * len(SCENARIOS) * 2

    def ratio(estimator: str) -> list[float]:
        cells = [r.split("|") for r in rows if "tiny outlets less noisy" in r and f"| {estimator} |" in r]
        return [float(c[4]) for c in cells]

    assert max(ratio("moments (former)")) < 0.2 and min(ratio("REML")) > 0.5
