"""presstrust's reliability scorer: pure code (Polars, NumPy, scikit-learn), no I/O.

The published model is two layers (scorer.two_layer): a text layer (scorer.text_layer: a ridge on TF-IDF vectors
(scorer.text) and a ridge on the static sentence embedding (scorer.embedding_ridge, features.embedding), averaged,
with per-article contributions stored once) and the cue model below (signed ridge over per-outlet cue features,
incl. scorer.cues), combined with a fixed weight and calibrated on cross-validated predictions (scorer.combine
holds the interval and the grade rules):

    model = fit_two_layer(text_matrix(texts, source="body"), doc_group, y, cue_rows, ratings=..., seed=0)
    frame = predict_two_layer(model, outlet_inputs, thresholds=SCORE_THRESHOLDS)
    baseline, factors = factor_table(model, outlet_inputs)   # baseline + factors = 100 x prediction

The cue model on its own:

    matrix = outlet_matrix(article_features, features=model_feature_columns(article_features))
    train = training_frame(matrix, labels)                   # labels: jobs.readers.labels.load_labels(...)
    model = ReliabilityModel().fit(train.select(features), train["label_score"].to_numpy())
    data = model_to_dict(model); same = model_from_dict(data)  # persisted as data, never pickled

See docs/evaluation.md for how well it works and how it was chosen.
"""

from scorer.grades import GRADE_THRESHOLDS, GRADES, grade_of, grades_of
from scorer.inputs import model_feature_columns, training_frame, with_derived_features
from scorer.matrix import outlet_matrix, subsample_articles
from scorer.model import ReliabilityModel
from scorer.persist import model_from_dict, model_to_dict

__all__ = [
    "GRADES",
    "GRADE_THRESHOLDS",
    "ReliabilityModel",
    "grade_of",
    "grades_of",
    "model_feature_columns",
    "model_from_dict",
    "model_to_dict",
    "outlet_matrix",
    "subsample_articles",
    "training_frame",
    "with_derived_features",
]
