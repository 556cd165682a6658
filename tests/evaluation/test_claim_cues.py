"""The claim cues in the evaluation: computed per article, read only by the "claims" variants, reported with the
ablation (issue 25)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import numpy as np
import polars as pl

from evaluation.claim_cues import claim_shares
from evaluation.crossval import Result, Variant, _cue_columns
from evaluation.experiments import CUE_CLAIMS, CUE_MODEL, MissionCue
from evaluation.inputs import Data
from evaluation.report import mission_section
from scorer.inputs import CLAIM_CUES, FEATURE_DIRECTIONS

from .test_label_maps import _ev

UNNAMED = "Officials familiar with the plan said on condition of anonymity that the city would close the bridge."
SPECULATIVE = "The mayor could possibly announce the closure of the old river bridge as early as next week."


def _articles() -> pl.DataFrame:
    day = datetime(2020, 5, 4)
    rows = [
        ("a1", "one.example", "Bridge to close", f"The council met on Monday evening downtown. {UNNAMED}"),
        ("a2", "two.example", "Mayor weighs closure", f"Residents gathered at the hall on Monday. {SPECULATIVE}"),
        ("a3", "three.example", "Weather", "It rained all day across the whole region on Monday afternoon."),
    ]
    return pl.DataFrame(
        [(*r, day) for r in rows], schema=["article_id", "outlet", "title", "text", "published_at"], orient="row"
    )


def test_claim_shares_are_per_article_shares_and_null_without_such_claims() -> None:
    articles = _articles()
    none = pl.LazyFrame(schema={"outlet": pl.String, "line_norm": pl.String})
    shares = claim_shares(articles, none)
    assert shares.columns == ["article_id", *CLAIM_CUES]
    assert shares["article_id"].to_list() == ["a1", "a2", "a3"]
    by_id = {r["article_id"]: r for r in shares.iter_rows(named=True)}
    assert by_id["a1"]["unconfirmed_unnamed_claim_share"] == 1.0  # nobody else says it
    assert by_id["a2"]["confirmed_speculative_claim_share"] == 0.0
    assert by_id["a2"]["unconfirmed_unnamed_claim_share"] is None  # no unnamed-source claim
    assert by_id["a3"]["confirmed_speculative_claim_share"] is None


def test_only_the_claims_variant_reads_the_claim_cues() -> None:
    data = Data(
        ev=_ev(np.array([0.2, 0.8]), ["a", "b"]),
        rows=pl.DataFrame({"outlet": ["a", "b"]}),
        cue_features=["hedges_per_1k_words", "exclamations_per_1k_chars"],
        cues=pl.DataFrame(),
        counts={},
        doc_group=np.zeros(0, dtype=np.int64),
        article_ids=[],
        claim_features=list(CLAIM_CUES),
    )
    shipped = _cue_columns(data, Variant(CUE_MODEL, text=None, weight=0.0))
    ablation = _cue_columns(data, Variant(CUE_CLAIMS, text=None, cue_features="claims", weight=0.0))
    assert not set(CLAIM_CUES) & set(shipped)
    assert ablation == [*shipped, *CLAIM_CUES]
    assert FEATURE_DIRECTIONS["unconfirmed_unnamed_claim_share"] == -1
    assert FEATURE_DIRECTIONS["confirmed_speculative_claim_share"] == 1


def test_the_mission_section_shows_each_cue_and_the_ablation_on_the_same_splits() -> None:
    ev = _ev(np.linspace(0.1, 0.9, 5), list("abcde"))
    better = np.tile(ev.y, (2, 1))
    worse = np.tile(ev.y[::-1], (2, 1))
    compared = [
        (Result(CUE_MODEL, worse), {"spearman": (-1.0, 0.0), "mae": (0.2, 0.0)}),
        (Result(CUE_CLAIMS, better), {"spearman": (1.0, 0.0), "mae": (0.1, 0.0)}),
    ]
    mission = [
        MissionCue("any_unnamed_source_share", -1, 0.38, 0.0, 0.0),
        MissionCue("confirmed_speculative_claim_share", 1, -0.25, None, 0.0),
    ]
    text = "\n".join(mission_section(SimpleNamespace(mission=mission, compared=compared, ev=ev)))  # type: ignore[arg-type]
    assert "| `any_unnamed_source_share` | - | +0.38 | +0.0 | +0.0 |" in text
    assert "| `confirmed_speculative_claim_share` | + | -0.25 | not an input | +0.0 |" in text
    assert "without the claim cues Spearman -1.00 ± 0.00, with them 1.00 ± 0.00 (paired difference 2.000" in text
