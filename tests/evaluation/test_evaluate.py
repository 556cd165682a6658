"""The evaluation's pieces (evaluation/, run by `make evaluate`).

Those reading ../shared/data skip (with the reason) when it is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from evaluation.__main__ import main
from evaluation.crossval import Result, metrics
from evaluation.data import CORPUS, MBFC, EvalSet, build_eval_set, load_all_corpora, load_corpus
from evaluation.report import GENERATED_MARKER, replace_generated
from jobs.infra import paths
from jobs.readers.labels import load_labels
from jobs.readers.outlets import OutletResolver


@pytest.fixture(scope="module")
def resolver() -> OutletResolver:
    return OutletResolver.default()


def test_cli_without_the_corpus_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--shared", str(tmp_path)])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_metrics_of_a_perfect_and_a_constant_prediction() -> None:
    y = np.linspace(0.1, 0.95, 12)
    ev = EvalSet(
        outlets=[f"o{i}" for i in range(12)],
        y=y,
        right_share=np.r_[np.ones(4), np.zeros(8)],
        n_articles=np.full(12, 50),
        mbfc_grade=["low", "low", "mixed", "mixed"] + ["high"] * 8,
    )
    perfect = metrics(Result("perfect", np.tile(y, (3, 1)), np.tile(y - 0.01, (3, 1)), np.tile(y + 0.01, (3, 1))), ev)
    assert perfect["spearman"] == (pytest.approx(1.0), 0.0)
    assert perfect["mae"] == (0.0, 0.0)
    assert perfect["coverage"][0] == 1.0
    assert perfect["rho_within_right"][0] == pytest.approx(1.0)
    constant = metrics(Result("mean", np.full((3, 12), y.mean())), ev)
    assert np.isnan(constant["spearman"][0]) and "coverage" not in constant


@pytest.mark.shared
def test_corpus_and_evaluation_set(shared_data: Path, resolver: OutletResolver) -> None:
    articles = load_corpus(shared_data / CORPUS, resolver)
    assert articles.height > 30_000 - 100
    assert articles["article_id"].is_unique().all()
    assert {"foxnews.com", "cnn.com", "npr.org"} <= set(articles["outlet"])
    labels = load_labels(paths.LABELS_FILE, resolver=resolver)
    mbfc = load_labels(shared_data / MBFC, resolver=resolver)
    ev = build_eval_set(articles, labels, mbfc, None, min_articles=20)
    assert 60 <= len(ev.outlets) <= 70
    assert (ev.n_articles >= 20).all()
    assert 15 <= ev.right.sum() <= 20
    # the trap the evaluation reports: lean alone tracks the labels
    from scorer.cv import spearman

    assert spearman(ev.right_share, ev.y) < -0.3
    assert articles.filter(pl.col("outlet").is_in(ev.outlets))["lean"].null_count() == 0


def test_replace_generated_keeps_the_hand_written_part(tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    doc.write_text(f"# Title\n\nhand-written\n\n{GENERATED_MARKER}\n\nold numbers\n", encoding="utf-8")
    replace_generated(doc, f"{GENERATED_MARKER}\n\nnew numbers\n")
    assert doc.read_text(encoding="utf-8") == f"# Title\n\nhand-written\n\n{GENERATED_MARKER}\n\nnew numbers\n"


def test_the_doc_has_the_generated_marker() -> None:
    """`make evaluate --doc docs/evaluation.md` replaces the part from the marker on: the heading must be there."""
    doc = paths.PROJECT_ROOT / "docs" / "evaluation.md"
    assert doc.read_text(encoding="utf-8").count(GENERATED_MARKER) == 1


@pytest.mark.shared
def test_all_corpora_and_their_evaluation_set(shared_data: Path, resolver: OutletResolver) -> None:
    articles = load_all_corpora(shared_data, resolver)
    assert set(articles["corpus"].unique()) == {"allsides", "recovery", "fakes", "fakehealth", "fang_covid", "pac"}
    assert articles["article_id"].is_unique().all()
    pac = articles.filter(pl.col("corpus") == "pac")
    assert pac.height >= 300 - 2  # every PAC outlet name resolves except two byline placeholders
    english = articles.filter(pl.col("language") == "en")
    labels = load_labels(paths.LABELS_FILE, resolver=resolver)
    ev = build_eval_set(english, labels, None, None, min_articles=20)
    assert 75 <= len(ev.outlets) <= 85 and {"rt.com", "presstv.com", "infowars.com"} <= set(ev.outlets)
