"""presstrust's reliability scorer: pure code (Polars, NumPy, scikit-learn), no I/O.

The published model is two layers (scorer.two_layer): a text layer (scorer.text: ridge on outlet-mean TF-IDF
vectors of hashed title n-grams, with per-article contributions stored once) and the cue model below
(signed ridge over per-outlet cue features, incl. scorer.cues), combined by a weight chosen in
cross-validation (scorer.combine, which also holds the interval and the grade rules):

    model = fit_two_layer(hashed_counts(titles), doc_group, y, cue_rows, ratings=..., seed=0)
    frame = predict_two_layer(model, outlet_inputs, thresholds=SCORE_THRESHOLDS)
    baseline, factors = factor_table(model, outlet_inputs)   # baseline + factors = 100 x prediction

The cue model on its own (and the older bootstrap interval, no longer used by the jobs):

    matrix = outlet_matrix(article_features, features=model_feature_columns(article_features))
    model = fit_scorer(matrix, labels)                       # labels: jobs.labels.load_labels(...)
    boot = bootstrap_matrices(article_features, to_matrix=..., n_boot=200, seed=0)
    scores = score_outlets(model, matrix, bootstrap=boot)    # outlet, n_articles, score, score_low, ...
    data = model_to_dict(model); same = model_from_dict(data)  # persisted as data, never pickled

See docs/evaluation.md for how well it works and how it was chosen.
"""

from scorer.grades import GRADE_THRESHOLDS, GRADES, grade_of, grades_of
from scorer.inputs import model_feature_columns, with_derived_features
from scorer.matrix import bootstrap_matrices, outlet_matrix, subsample_articles
from scorer.model import ReliabilityModel
from scorer.persist import model_from_dict, model_to_dict
from scorer.score import SCORE_SCHEMA, baseline_score, fit_scorer, score_outlets

__all__ = [
    "GRADES",
    "GRADE_THRESHOLDS",
    "SCORE_SCHEMA",
    "ReliabilityModel",
    "baseline_score",
    "bootstrap_matrices",
    "fit_scorer",
    "grade_of",
    "grades_of",
    "model_feature_columns",
    "model_from_dict",
    "model_to_dict",
    "outlet_matrix",
    "score_outlets",
    "subsample_articles",
    "with_derived_features",
]
