"""The shrinkage check and the cue model alone under CV: `python -m evaluation.shrinkage_check --shared ../shared`.

Prints (1) `evaluation.shrinkage.shrinkage_table` over every English article of the shared corpora, (2) with
--db, the same table from a database's stored outlet_features (its latest window; outlets counted by
outlet_windows.n_articles), and (3) the cue model alone (`evaluation.experiments.CUE_MODEL`) under the
evaluation's outlet-grouped CV (--folds x --repeats): Spearman and MAE against the training labels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import duckdb
import polars as pl

from evaluation.shrinkage import WELL_COVERED, markdown, shrinkage_table

LATEST_WINDOW = """
SELECT f.outlet, f.feature, f.shrinkage, f.shrunk_mean, w.n_articles
FROM outlet_features f JOIN outlet_windows w USING (outlet, as_of, window_days, undated)
WHERE f.run_id = (SELECT max(run_id) FROM outlet_features)
"""


def stored_table(db: Path) -> pl.DataFrame:
    """shrinkage_table of the latest aggregate run stored in `db`."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(LATEST_WINDOW).pl()
    return shrinkage_table(rows, rows.select("outlet", "n_articles").unique())


@click.command()
@click.option("--shared", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("../shared"))
@click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=2))
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
def main(shared: Path, db: Path | None, folds: int, repeats: int, seed: int) -> None:
    from evaluation.crossval import Variant, cv_two_layer, metrics
    from evaluation.data import load_corpora
    from evaluation.experiments import CUE_MODEL
    from evaluation.inputs import prepare
    from evaluation.shrinkage import article_shrinkage
    from jobs.infra import paths
    from scorer.cv import grouped_splits, spearman

    corpora = load_corpora(shared, labels_path=paths.LABELS_FILE, score_column=None)
    data, feats = prepare(
        corpora.english, corpora.labels, corpora.mbfc, corpora.baly, min_articles=WELL_COVERED, representations=()
    )
    out = ["## Every English article of the shared corpora", "", *markdown(article_shrinkage(feats, data.cue_features))]
    if db is not None:
        out += ["", f"## Stored outlet_features of {db} (latest aggregate run)", "", *markdown(stored_table(db))]
    splits = grouped_splits(data.ev.outlets, n_splits=folds, n_repeats=repeats, seed=seed)
    result, _ = cv_two_layer(data, Variant(CUE_MODEL, text=None, weight=0.0), splits, seed=seed)
    m = metrics(result, data.ev)
    out += [
        "",
        f"## {CUE_MODEL}: {len(data.ev.outlets)} labelled outlets, {folds}x{repeats} outlet-grouped CV, seed {seed}",
        "",
        f"Spearman {m['spearman'][0]:.3f} ± {m['spearman'][1]:.3f}, MAE {m['mae'][0]:.4f} ± {m['mae'][1]:.4f}",
        "",
        "Spearman per repeat (the same splits for the same --seed, so two runs compare repeat by repeat): "
        + ", ".join(f"{spearman(result.oof[r], data.ev.y):.3f}" for r in range(result.oof.shape[0])),
    ]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
