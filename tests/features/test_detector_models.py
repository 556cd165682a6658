"""The learned detector decisions: model files (checksum, shipped, reproducible) and their scoring."""

from __future__ import annotations

import json

import polars as pl
import pytest

from features.detector_models import MODEL_DIR, MODEL_NAMES, LinearModel, load_models, model_from_json, model_json


def test_both_models_ship_and_load():
    models = load_models()
    assert set(models) == set(MODEL_NAMES)
    for model in models.values():
        assert model.weights and all(isinstance(w, float) for t in model.weights.values() for w in t.values())


def test_a_hand_edited_model_is_refused():
    payload = json.loads((MODEL_DIR / "unnamed_source.json").read_text(encoding="utf-8"))
    payload["threshold"] = payload["threshold"] - 1.0  # checksum left as it was
    with pytest.raises(ValueError, match="checksum"):
        model_from_json(json.dumps(payload))


def test_model_json_round_trips():
    payload = {"name": "x", "intercept": -0.5, "threshold": 0.25, "weights": {"kind": {"a": 1.0, "b": -2.0}}}
    model = model_from_json(model_json(payload))
    assert model == LinearModel("x", -0.5, {"kind": {"a": 1.0, "b": -2.0}}, 0.25)


def test_score_adds_the_weights_of_the_row_values_and_zero_for_unknown_or_absent_ones():
    model = LinearModel("x", 0.5, {"kind": {"a": 1.0, "b": -2.0}, "det": {"def": 0.25}}, 1.0)
    rows = pl.DataFrame({"f_kind": ["a", "b", "zzz", None], "f_det": ["def", "def", "none", "def"]})
    out = rows.select(model.score().alias("s"), model.accepts().alias("ok"), model.score(["kind"]).alias("k"))
    assert out["s"].to_list() == [1.75, -1.25, 0.5, 0.75]
    assert out["ok"].to_list() == [True, False, False, False]
    assert out["k"].to_list() == [1.5, -1.5, 0.5, 0.5]


def test_shipped_models_are_what_the_training_script_writes(tmp_path):
    from tests.fixtures.devset import train_detectors

    assert train_detectors.main(["--out", str(tmp_path)]) == 0
    for name in MODEL_NAMES:
        assert (tmp_path / f"{name}.json").read_bytes() == (MODEL_DIR / f"{name}.json").read_bytes(), name


def _frames_with_context(sentences: list[tuple[str, int, str]], keys: tuple[str, ...]) -> pl.DataFrame:
    from features.attribution import attribution_cues
    from features.attribution.frames import _verb_frames
    from features.lexicons import load_lexicons
    from features.sentences import lowercase_sentences

    frame = pl.LazyFrame(
        [{"article_id": a, "sentence_no": n, "start": 0, "end": len(s), "sentence": s} for a, n, s in sentences]
    )
    frame = lowercase_sentences(frame)
    if keys == ("_rid",):
        frame = frame.with_row_index("_rid")
    cues = attribution_cues(load_lexicons(), use_model=False)
    return _verb_frames(frame, cues, keys=keys, decide=False).collect()


@pytest.mark.parametrize("keys", [("article_id", "sentence_no"), ("_rid",)])
def test_candidates_read_the_previous_sentence_of_their_own_article_only(keys):
    rows = [
        ("a", 0, "The study surveyed 2,000 farmers in Iowa."),
        ("a", 1, "The farmers said prices were falling."),
        ("b", 0, "The farmers said prices were falling."),
    ]
    out = _frames_with_context(rows, keys).filter(pl.col("f_head") == "farmers")
    got = sorted(out.select("f_head_prev", "f_prev_doc", "f_prev_said").rows())
    # article a: "farmers" and "study" in its previous sentence; article b: no previous sentence at all
    assert got == [("false", "false", "false"), ("true", "true", "false")]
    assert set(out["f_head_emb"].to_list()) == {"farmers"}


def test_labelled_sentences_follow_their_previous_sentence():
    from tests.features.measure_detectors import LABELLED, one_sentence_articles

    frame = pl.DataFrame(
        {"sentence_id": ["x", "y"], "sentence": ["Second one.", "Alone."], "prev_sentence": ["First.", None]}
    )
    out = one_sentence_articles(frame).collect()
    assert out.select("article_id", "sentence_no", "sentence").rows() == [
        ("x", LABELLED - 1, "First."),
        ("x", LABELLED, "Second one."),
        ("y", LABELLED, "Alone."),
    ]


def test_the_head_table_folds_the_embedding_weights_into_word_scores():
    import numpy as np

    from features.embedding import load_static_embedding
    from tests.fixtures.devset import train_detectors

    dense = np.linspace(-1.0, 1.0, load_static_embedding().dim)
    table = train_detectors.head_table(dense, ["whistleblowers"])
    want = float(train_detectors._word_vectors(("critics",))[0].astype(np.float64) @ dense)
    assert table["critics"] == round(want, 3)
    assert "whistleblowers" in table  # a training head outside the vocabulary's whole words is kept
    assert all(abs(v) >= train_detectors.HEAD_TABLE_MIN for v in table.values())


def test_kappa_reads_the_second_labels_and_compares_them_per_label(tmp_path, capsys):
    from tests.fixtures.devset import kappa

    first = tmp_path / "hard2_1.csv"
    first.write_text(
        "sentence_id,attribution,speculative,att_category,spec_category,source_phrase,note\n"
        "a,unnamed,yes,collective,modal,critics,\nb,none,no,none_writer,none,,\n"
        "c,named,no,named_person,none,he,\nd,unnamed,no,collective,none,some,\n",
        encoding="utf-8",
    )
    second = tmp_path / "second.jsonl"
    rows = [("a", "unnamed", "yes"), ("b", "none", "no"), ("c", "named", "yes"), ("d", "named", "no")]
    second.write_text(
        "".join(json.dumps({"id": i, "attribution": a, "speculative": s}) + "\n" for i, a, s in rows), encoding="utf-8"
    )
    assert kappa.main(["--second", str(second), "--first", str(first)]) == 0
    out = capsys.readouterr().out
    assert "unnamed or mixed (yes/no): Cohen's kappa 0.500, raw agreement 0.750 (n = 4)" in out
    assert kappa.main(["--second", str(tmp_path / "absent.jsonl"), "--first", str(first)]) == 2
