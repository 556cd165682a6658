from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from features.evidence import EVIDENCE_SCHEMA, evidence


def test_evidence_keeps_every_unnamed_cue_and_the_first_cue_of_each_speculative_sentence():
    unnamed = pl.LazyFrame(
        {
            "article_id": ["a", "a"],
            "sentence_no": [0, 0],
            "sentence_start": [0, 0],
            "sentence_end": [30, 30],
            "sentence": ["Sources said others argue it."] * 2,
            "cue": ["Sources said", "others argue"],
            "cue_start": [0, 13],
            "cue_end": [12, 25],
        },
        schema_overrides={
            c: pl.Int64 for c in ["sentence_no", "sentence_start", "sentence_end", "cue_start", "cue_end"]
        },
    )
    speculation = pl.LazyFrame(
        {
            "article_id": ["a", "a", "b"],
            "sentence_no": [2, 2, 0],
            "sentence_start": [40, 40, 5],
            "sentence_end": [60, 60, 20],
            "sentence": ["It could, or might.", "It could, or might.", "Maybe later."],
            "cue": ["might", "could", "maybe"],
            "cue_start": [53, 43, 5],
            "cue_end": [58, 48, 10],
            "weight": [0.6, 0.6, 0.5],
            "is_modal": [True, True, False],
        },
        schema_overrides={
            c: pl.Int64 for c in ["sentence_no", "sentence_start", "sentence_end", "cue_start", "cue_end"]
        },
    )
    got = evidence(unnamed, speculation).collect()
    expected = pl.DataFrame(
        {
            "article_id": ["a", "a", "a", "b"],
            "kind": ["unnamed_source", "unnamed_source", "speculation", "speculation"],
            "cue": ["Sources said", "others argue", "could", "Maybe"],
            "cue_start": [0, 13, 43, 5],
            "cue_end": [12, 25, 48, 10],
            "sentence_start": [0, 0, 40, 5],
            "sentence_end": [30, 30, 60, 20],
            "sentence": [
                "Sources said others argue it.",
                "Sources said others argue it.",
                "It could, or might.",
                "Maybe later.",
            ],
        },
        schema=EVIDENCE_SCHEMA,
    )
    assert_frame_equal(got, expected)
