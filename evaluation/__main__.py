"""Honest evaluation of the two-layer scorer: `python -m evaluation --shared ../shared [--doc docs/evaluation.md]`.

Trains and tests on EVERY shared corpus (`corpora/allsides_2012_2020.parquet`, `corpora/extra_2010_2021.parquet`,
`corpora/pac_story_pairs.jsonl.gz`; outlets canonicalised by the OutletResolver, PAC's outlet names through
jobs/data/outlet_aliases.csv) with repeated outlet-grouped CV (5 folds x 5 repeats). Everything label-dependent is
fitted inside the training folds: the text layer's IDF and ridge, the cue model, the cited-outlet ratings, the
combination weight, the conformal quantile and the grade thresholds (the last three on inner out-of-fold
predictions of the training outlets). Reports, side by side with predict-the-mean, a whole-text TF-IDF ridge,
a topic-mix-only model, a language-only model and lean alone:

- Spearman and MAE against the training labels (Lin et al. 2023 pc1);
- macro-F1 and the confusion matrix against MBFC 2026 grades collapsed to high / mixed / low (evaluation only);
- coverage and median width of the ~90% intervals on held-out outlets;
- confounds: political lean (AllSides `allsides_bias`), topic (COVID pages), language (German outlets);
- boilerplate on/off, a per-corpus breakdown (Spearman, MAE, coverage, width), the learning curves (5/10/20/50
  articles per outlet; a quarter, half, three quarters of the training outlets), and the cost (articles/s,
  memory) of each text representation;
- extra training outlets: those only MBFC or Baly rate, with labels mapped onto the target scale inside each
  fold (evaluation.label_maps), with vs without (`--extra-labels`; the outlets and maps are always listed).

The Markdown report goes to stdout (and --report FILE; --doc FILE replaces the generated part of that file);
progress goes to stderr. Deterministic for a given --seed. Lean is read only to audit, never as a feature.
`make evaluate` runs it with --quick on ../shared and regenerates docs/evaluation.md.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from evaluation.data import CORPUS, EXTRA, PAC, data_dir
from evaluation.experiments import Settings, measure
from evaluation.report import GENERATED_MARKER, render, replace_generated
from jobs.infra import paths


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--shared",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("../shared"),
    show_default=True,
    help="The shared folder (its data/ holds corpora/ and labels/).",
)
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=paths.LABELS_FILE,
    show_default=True,
    help="Training label file (domain + score or grade).",
)
@click.option("--score-column", default=None, help="Score column of the label file (default: score, else pc1).")
@click.option("--min-articles", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=2))
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--no-tfidf", is_flag=True, help="Skip the whole-text TF-IDF baseline.")
@click.option(
    "--quick",
    is_flag=True,
    help="Leave out the two slow alternative text representations (char n-grams of titles, title + lead).",
)
@click.option(
    "--extra-labels",
    is_flag=True,
    help="Also measure the scorer with extra training outlets whose labels are mapped from MBFC / Baly levels "
    "(two more cross-validations; measured not to help, so off by default).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the Markdown report to this file.",
)
@click.option(
    "--doc",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Replace the generated part of this Markdown file (from '{GENERATED_MARKER}' on) with the report.",
)
@click.option(
    "--model-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the final model as JSON data (scorer.two_layer.TwoLayerModel.to_dict).",
)
def main(
    shared: Path,
    labels_path: Path,
    score_column: str | None,
    min_articles: int,
    folds: int,
    repeats: int,
    seed: int,
    no_tfidf: bool,
    quick: bool,
    extra_labels: bool,
    report: Path | None,
    doc: Path | None,
    model_out: Path | None,
) -> None:
    """Evaluate the scorer on every shared corpus with outlet-grouped CV; Markdown report to stdout."""
    setup_progress_logging()
    data = data_dir(shared)
    for needed in (CORPUS, EXTRA, PAC):
        if not (data / needed).exists():
            raise click.UsageError(f"{data / needed} not found: pass --shared (the folder holding data/corpora)")
    settings = Settings(
        shared=shared,
        labels_path=labels_path,
        score_column=score_column,
        min_articles=min_articles,
        folds=folds,
        repeats=repeats,
        seed=seed,
        tfidf=not no_tfidf,
        model_out=model_out,
        quick=quick,
        extra_labels=extra_labels,
    )
    text = render(measure(settings))
    sys.stdout.write(text)
    if report is not None:
        report.write_text(text, encoding="utf-8")
    if doc is not None:
        replace_generated(doc, text)


def setup_progress_logging() -> None:
    """Progress on stderr at INFO, through presstrust's logging set-up (jobs.infra.logs) for `evaluation` too."""
    from jobs.infra.logs import setup_logging

    setup_logging()
    logging.getLogger("jobs").setLevel(logging.INFO)
    progress = logging.getLogger("evaluation")
    progress.handlers[:] = logging.getLogger("jobs").handlers
    progress.setLevel(logging.INFO)


if __name__ == "__main__":
    main()
