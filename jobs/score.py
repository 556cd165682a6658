"""`presstrust fit` and `presstrust score`: the two-layer reliability scorer on the window's English articles.

fit: the window's English articles -> a text layer (scorer.text: ridge on outlet-mean TF-IDF vectors of hashed
title n-grams) and the cue model (scorer.model: signed ridge over per-outlet cue features, incl. body
punctuation and the rating of the outlets an outlet cites), combined by a weight chosen on cross-validated
predictions (scorer.two_layer), trained on labelled outlets with >= min_articles English articles, and stored
in `models` as data (JSON, never a pickle).

score: per article, what depends on the article alone is computed ONCE and stored: its cues (`article_cues`)
and, per model, its text contribution (`article_text_scores`); a nightly pays only for new or changed
articles (all articles again only after a refit). Each outlet's score and interval then come from per-outlet
aggregates of stored numbers (no resampling). Outlets whose articles are mostly not English get status
`unsupported_language` and no score; outlets with fewer than min_articles English articles get a score but
no grade (`insufficient_data`). outlet_scores and its publications row are written in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import scipy.sparse as sp

from jobs.aggregate import feature_versions, window_features
from jobs.db import now_utc, transaction
from jobs.failpoints import failpoint
from jobs.labels import load_labels
from jobs.outlets import OutletResolver
from jobs.publish_guard import check_shrink
from jobs.runs import failure_recorded, finish_run, start_run
from jobs.terminal import advance
from jobs.version import code_version
from scorer.cues import CITED_RATING, PUNCTUATION, article_cues, citation_patterns
from scorer.cv import coverage, grouped_splits, mae, spearman
from scorer.grades import SCORE_THRESHOLDS
from scorer.inputs import model_feature_columns, with_derived_features
from scorer.matrix import outlet_matrix
from scorer.score import DEFAULT_MIN_ARTICLES, training_frame
from scorer.text import SOURCE_ANALYZERS, TextLayer, group_stats, hashed_counts, text_sample
from scorer.two_layer import (
    PUBLISHED_WEIGHT,
    TwoLayerModel,
    cited_rating_rows,
    factor_table,
    fit_two_layer,
    predict_two_layer,
)

log = logging.getLogger(__name__)

PUBLISHED_DIGITS = 6
ESTIMATOR = "two_layer"
ENGLISH = "en"
STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient_data"
STATUS_LANGUAGE = "unsupported_language"
CLIPPED = "clipped to 0-100"
BATCH = 50_000
MIN_LABELLED_OUTLETS = 30
"""Below this many labelled training outlets the fit warns (log and runs.counts.warnings): with 5-fold CV on
fewer outlets the reported Spearman's 90% interval is wider than +-0.3 (Fisher z, n=30), so a number like
"Spearman 0.90 on 5 outlets" says next to nothing. 3 is the hard minimum (an error)."""


class EmptyWindow(ValueError):
    """The window holds no featurized article: there is nothing to score or publish."""


class NoModel(LookupError):
    """No fitted model to score with."""


def window_articles(con: duckdb.DuckDBPyConnection, *, as_of: date, window_days: int, undated: str) -> pl.DataFrame:
    """The scorer's per-article inputs for the window (derived features, stored cues), sorted by outlet and article.

    `language` is kept (null, for articles featurized before languages were known, counts as English).
    """
    frame = window_features(con, as_of=as_of, window_days=window_days, undated=undated)
    if "language" not in frame.columns:
        frame = frame.with_columns(language=pl.lit(None, dtype=pl.String))
    frame = with_derived_features(frame.drop("feature_version"))
    cues = con.sql("SELECT article_id, " + ", ".join(PUNCTUATION) + " FROM article_cues").pl()
    frame = frame.join(cues, on="article_id", how="left")
    return frame.sort("outlet", "article_id")


def is_english() -> pl.Expr:
    return pl.col("language").is_null() | (pl.col("language") == ENGLISH)


# ----------------------------------------------------------------------------------------------------------
# Per-article numbers, computed once and stored
# ----------------------------------------------------------------------------------------------------------


def _citation_patterns() -> dict[str, str]:
    from jobs.evaluate import citation_names

    return citation_patterns(citation_names())


def cue_version(patterns: dict[str, str]) -> str:
    """Version of the cue code (bump CUE_CODE_VERSION) and of the outlet-name list it matches."""
    text = json.dumps(sorted(patterns.items()))
    return f"{CUE_CODE_VERSION}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


CUE_CODE_VERSION = "1"


def ensure_article_cues(con: duckdb.DuckDBPyConnection) -> int:
    """Compute and store article_cues for every article without an up-to-date row; returns how many."""
    patterns = _citation_patterns()
    version = cue_version(patterns)
    done = 0
    while True:
        todo = con.sql(
            "SELECT a.article_id, a.text, a.content_version FROM articles a LEFT JOIN article_cues c "
            "ON c.article_id = a.article_id AND c.content_version = a.content_version AND c.cue_version = $v "
            "WHERE c.article_id IS NULL ORDER BY a.article_id LIMIT $n",
            params={"v": version, "n": BATCH},
        ).pl()
        if not todo.height:
            return done
        cues = article_cues(todo.lazy(), patterns=patterns).collect()
        cues = cues.join(todo.select("article_id", "content_version"), on="article_id").with_columns(
            cue_version=pl.lit(version)
        )
        with transaction(con):
            con.register("_cues", cues.to_arrow())
            try:
                con.execute(
                    "INSERT OR REPLACE INTO article_cues BY NAME SELECT article_id, content_version, cue_version, "
                    + ", ".join(PUNCTUATION)
                    + ", cited_outlets FROM _cues"
                )
            finally:
                con.unregister("_cues")
        done += todo.height
        advance(done, unit="articles' cues")


def ensure_text_scores(con: duckdb.DuckDBPyConnection, targets: dict[str, tuple[TextLayer, list[str]]]) -> int:
    """Store article_text_scores where missing or stale for each model_id -> (its text layer, its article ids).

    Each batch's texts are read and hashed once, whichever models need them (the published model and the
    cross-fitted fold models share the source); returns how many rows were written.
    """
    want = [
        pl.DataFrame({"model_id": model_id, "article_id": ids}, schema={"model_id": pl.String, "article_id": pl.String})
        for model_id, (_, ids) in targets.items()
        if ids
    ]
    if not want:
        return 0
    layers = {model_id: layer for model_id, (layer, _) in targets.items()}
    sources = {layer.source for layer in layers.values()}
    if len(sources) != 1:
        raise ValueError(f"the text layers read different sources: {sorted(sources)}")
    source = sources.pop()
    done, total = 0, sum(len(ids) for _, ids in targets.values())
    con.register("_want", pl.concat(want).to_arrow())
    try:
        while True:
            todo = con.sql(
                "SELECT w.model_id, a.article_id, a.content_version FROM _want w JOIN articles a "
                "ON a.article_id = w.article_id LEFT JOIN article_text_scores t ON t.article_id = a.article_id "
                "AND t.model_id = w.model_id AND t.content_version = a.content_version WHERE t.article_id IS NULL "
                "ORDER BY a.article_id, w.model_id LIMIT $n",
                params={"n": BATCH},
            ).pl()
            if not todo.height:
                return done
            ids = todo["article_id"].unique(maintain_order=True)
            texts = pl.DataFrame({"article_id": ids}).join(
                _titles(con, ids.to_list(), source), on="article_id", how="left", maintain_order="left"
            )
            counts = hashed_counts(texts["title"].fill_null("").to_list(), analyzer=SOURCE_ANALYZERS[source])
            row_of = {a: i for i, a in enumerate(ids.to_list())}
            parts = []
            for (model_id,), group in todo.group_by("model_id", maintain_order=True):
                rows = np.array([row_of[a] for a in group["article_id"].to_list()], dtype=np.int64)
                contribution = layers[str(model_id)].contributions(counts[rows])
                parts.append(group.with_columns(contribution=pl.Series(contribution, dtype=pl.Float64)))
            with transaction(con):
                con.register("_text", pl.concat(parts).to_arrow())
                try:
                    con.execute(
                        "INSERT OR REPLACE INTO article_text_scores BY NAME "
                        "SELECT model_id, article_id, content_version, contribution FROM _text"
                    )
                finally:
                    con.unregister("_text")
            done += todo.height
            advance(done, total, unit="articles' text scores (of those in the window)")
    finally:
        con.unregister("_want")


def fold_model_id(model_id: str, fold: int) -> str:
    """The id under which a cross-fitted fold model's article contributions are stored (article_text_scores)."""
    return f"{model_id}/fold{fold}"


def _titles(con: duckdb.DuckDBPyConnection, article_ids: list[str], source: str = "title") -> pl.DataFrame:
    """article_id and `title`: the text the text layer reads (the title, or title + body without boilerplate)."""
    con.register("_ids", pl.DataFrame({"article_id": article_ids}).to_arrow())
    try:
        frame = con.sql(
            "SELECT a.article_id, a.title, a.text FROM articles a SEMI JOIN _ids i ON i.article_id = a.article_id"
        ).pl()
        if source == "title":
            return frame.select("article_id", "title")
        removed = con.sql(
            "SELECT b.article_id, b.line_start, b.line_end FROM boilerplate_removed b SEMI JOIN _ids i "
            "ON i.article_id = b.article_id ORDER BY b.article_id, b.line_start"
        ).pl()
    finally:
        con.unregister("_ids")
    return frame.select("article_id", pl.Series("title", text_layer_inputs(frame, removed)))


def text_layer_inputs(articles: pl.DataFrame, removed: pl.DataFrame) -> list[str]:
    """Title + newline + body with the removed boilerplate line spans cut out, per article (in frame order)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for article_id, start, end in removed.iter_rows():
        spans.setdefault(article_id, []).append((int(start), int(end)))
    out = []
    for article_id, title, text in articles.select("article_id", "title", "text").iter_rows():
        body = text or ""
        pieces, position = [], 0
        for start, end in spans.get(article_id, []):
            pieces.append(body[position:start])
            position = max(position, end)
        pieces.append(body[position:])
        out.append((title or "") + " \n " + "".join(pieces))
    return out


def _cited(con: duckdb.DuckDBPyConnection, articles: pl.DataFrame) -> pl.DataFrame:
    cues = con.sql("SELECT article_id, cited_outlets FROM article_cues").pl()
    return (
        articles.select("article_id", "outlet")
        .join(cues, on="article_id", how="left")
        .with_columns(pl.col("cited_outlets").fill_null([]))
    )


def cue_features(articles: pl.DataFrame) -> list[str]:
    """The cue model's per-article columns: the pipeline's model features plus body punctuation."""
    base = [c for c in model_feature_columns(articles.drop(*PUNCTUATION, strict=False)) if c != "language"]
    return [*base, *PUNCTUATION]


def outlet_rows(english: pl.DataFrame, outlets: list[str], features: list[str]) -> pl.DataFrame:
    """Per outlet (in `outlets` order): n_articles, shrunk means and {f}__sd of the English articles' features."""
    matrix = outlet_matrix(
        english.select("article_id", "outlet", *features), features=features, value=("shrunk_mean", "sd")
    )
    order = pl.DataFrame({"outlet": outlets}, schema={"outlet": pl.String})
    return order.join(matrix, on="outlet", how="left", maintain_order="left").with_columns(
        pl.col("n_articles").fill_null(0)
    )


# ----------------------------------------------------------------------------------------------------------
# Fit
# ----------------------------------------------------------------------------------------------------------


def cross_validate(
    english: pl.DataFrame,
    counts: sp.csr_matrix,
    group: np.ndarray,
    cited: pl.DataFrame,
    y_frame: pl.DataFrame,
    features: list[str],
    *,
    seed: int,
    repeats: int = 2,
    source: str = "title",
    weight: float | None = PUBLISHED_WEIGHT,
) -> tuple[dict[str, float], list[TwoLayerModel], dict[str, int]]:
    """Outlet-grouped CV (5 folds x `repeats`) of the same two-layer fit on the training outlets.

    `counts` / `group`: the hashed text of the training outlets' text sample and each row's outlet (index in
    y_frame), as `fit` built them. Returns the metrics (a quick check stored with the model; docs/evaluation.md
    has the full evaluation on every shared corpus), and the first repeat's five fold models with each training
    outlet's fold: the cross-fitted models that publish the training outlets' scores without seeing their labels.
    """
    outlets = y_frame["outlet"].to_list()
    y = y_frame["label_score"].to_numpy()
    rows = outlet_rows(english, outlets, features)
    splits = grouped_splits(outlets, n_splits=5, n_repeats=repeats, seed=seed)
    oof = np.full((repeats, len(y)), np.nan)
    low, high = np.full_like(oof, np.nan), np.full_like(oof, np.nan)
    folds: list[TwoLayerModel] = []
    fold_of: dict[str, int] = {}
    for done, s in enumerate(splits):
        advance(done, len(splits), unit="cross-validation folds")
        ratings = {outlets[i]: float(y[i]) for i in s.train}
        train_out = [outlets[i] for i in s.train]
        test_out = [outlets[i] for i in s.test]
        tr_rows = rows[s.train.tolist()].join(cited_rating_rows(cited, train_out, ratings), on="outlet", how="left")
        te_rows = rows[s.test.tolist()].join(cited_rating_rows(cited, test_out, ratings), on="outlet", how="left")
        tr_docs = np.flatnonzero(np.isin(group, s.train))
        remap = np.full(len(y), -1)
        remap[s.train] = np.arange(len(s.train))
        model = fit_two_layer(
            counts[tr_docs],
            remap[group[tr_docs]],
            y[s.train],
            tr_rows.select(*features, CITED_RATING),
            ratings=ratings,
            seed=seed,
            source=source,
            weight=weight,
        )
        if s.repeat == 0:
            folds.append(model)
            fold_of.update({o: s.fold for o in test_out})
        te_docs = np.flatnonzero(np.isin(group, s.test))
        remap[s.test] = np.arange(len(s.test))
        assert model.text is not None
        mean, se, _ = group_stats(model.text.contributions(counts[te_docs]), remap[group[te_docs]], len(s.test))
        out = predict_two_layer(
            model,
            te_rows.with_columns(pl.Series("text_mean", mean), pl.Series("text_se", se)),
            thresholds=SCORE_THRESHOLDS,
        )
        oof[s.repeat, s.test] = np.clip(out["pred"].to_numpy(), 0, 1)
        low[s.repeat, s.test] = out["low"].to_numpy()
        high[s.repeat, s.test] = out["high"].to_numpy()
    advance(len(splits), len(splits))
    metrics = {
        "outlets": float(len(y)),
        "spearman_mean": float(np.nanmean([spearman(row, y) for row in oof])),
        "mae_mean": float(np.nanmean([mae(row, y) for row in oof])),
        "interval_coverage": float(np.nanmean([coverage(a, b, y) for a, b in zip(low, high, strict=True)])),
        "interval_median_width": float(np.nanmean([np.median(b - a) for a, b in zip(low, high, strict=True)])),
    }
    return metrics, folds, fold_of


@dataclass
class FitSummary:
    run_id: int
    model_id: str
    outlets: int
    metrics: dict[str, float]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        line = (
            f"fit run {self.run_id}: model {self.model_id} on {self.outlets} labelled outlets; outlet-grouped CV "
            f"Spearman {self.metrics['spearman_mean']:.2f}, MAE {100 * self.metrics['mae_mean']:.1f} points (0-100) "
            f"in {self.seconds:.1f}s"
        )
        return line + "".join(f"; WARNING: {w}" for w in self.warnings)


def fit(
    con: duckdb.DuckDBPyConnection,
    *,
    labels_path: Path,
    resolver: OutletResolver,
    as_of: date,
    window_days: int = 365,
    undated: str = "include",
    min_articles: int = DEFAULT_MIN_ARTICLES,
    seed: int = 0,
    text_source: str = "body",
) -> FitSummary:
    """Fit the two-layer scorer on the window's labelled English outlets, cross-validate it, store it in `models`."""
    started = time.perf_counter()
    params = {
        "labels": str(labels_path),
        "as_of": as_of,
        "window_days": window_days,
        "undated": undated,
        "min_articles": min_articles,
        "seed": seed,
        "text_source": text_source,
    }
    run_id = start_run(con, "fit", params)
    with failure_recorded(con, run_id):
        ensure_article_cues(con)
        articles = window_articles(con, as_of=as_of, window_days=window_days, undated=undated)
        english = articles.filter(is_english())
        version = feature_versions(con)
        features = cue_features(english)
        labels = load_labels(labels_path, resolver=resolver)
        counts_frame = english.group_by("outlet").agg(pl.len().cast(pl.UInt32).alias("n_articles"))
        train = training_frame(counts_frame, labels, min_articles=min_articles)
        if train.height < 3:
            raise ValueError(f"only {train.height} labelled outlets with >= {min_articles} articles: cannot train")
        warnings = []
        if train.height < MIN_LABELLED_OUTLETS:
            warnings.append(
                f"only {train.height} labelled outlets with >= {min_articles} English articles (fewer than "
                f"{MIN_LABELLED_OUTLETS}): the cross-validated Spearman and MAE are too noisy to trust"
            )
            log.warning("fit: %s", warnings[-1])
        outlets = train["outlet"].to_list()
        y = train["label_score"].to_numpy()
        ratings = {o: float(v) for o, v in zip(outlets, y, strict=True)}
        cited = _cited(con, english)
        rows = outlet_rows(english, outlets, features).join(
            cited_rating_rows(cited, outlets, ratings), on="outlet", how="left", maintain_order="left"
        )
        docs = text_sample(english.filter(pl.col("outlet").is_in(outlets))).select("article_id", "outlet")
        titles = _titles(con, docs["article_id"].to_list(), text_source)
        docs = docs.join(titles, on="article_id").sort("outlet", "article_id")
        index = {o: i for i, o in enumerate(outlets)}
        group = np.array([index[o] for o in docs["outlet"].to_list()], dtype=np.int64)
        counts = hashed_counts(docs["title"].fill_null("").to_list(), analyzer=SOURCE_ANALYZERS[text_source])
        model = fit_two_layer(
            counts,
            group,
            y,
            rows.select(*features, CITED_RATING),
            ratings=ratings,
            seed=seed,
            source=text_source,
            weight=PUBLISHED_WEIGHT,
        )
        y_frame = train.select("outlet", "label_score")
        metrics, folds, fold_of = cross_validate(
            english, counts, group, cited, y_frame, features, seed=seed, source=text_source
        )
        # a fold model publishes the scores of the training outlets it left out, with the published model's
        # interval quantile (calibrated on out-of-fold residuals, which is what those scores are)
        for f in folds:
            f.quantile, f.quantile_cut, f.bin_quantiles = model.quantile, model.quantile_cut, model.bin_quantiles
        model.folds, model.fold_of = folds, fold_of
        metrics["text_weight"] = model.weight
        text = model.dumps()
        model_id = "m_" + hashlib.sha256(text.encode()).hexdigest()[:16]
        con.execute(
            "INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                model_id,
                run_id,
                now_utc(),
                str(labels_path),
                _sha256(labels_path),
                as_of,
                window_days,
                undated,
                min_articles,
                outlets,
                [*features, CITED_RATING],
                version,
                ESTIMATOR,
                json.dumps(
                    {
                        "cue": model.cue.get_params(),
                        "text": {"min_df": model.text.min_df if model.text else None, "source": text_source},
                    },
                    sort_keys=True,
                    default=str,
                ),
                json.dumps(metrics, sort_keys=True),
                code_version(),
                text,
            ],
        )
    summary = FitSummary(run_id, model_id, len(outlets), metrics, time.perf_counter() - started, warnings)
    counts = {"training_outlets": len(outlets), "model_id": model_id, **metrics, "warnings": warnings}
    finish_run(con, run_id, status="ok", counts=counts)
    return summary


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def needs_refit(
    con: duckdb.DuckDBPyConnection,
    *,
    labels_path: Path,
    feature_version: str,
    min_articles: int | None = None,
    text_source: str | None = None,
) -> str | None:
    """Why the latest model is out of date (labels, features, code or min_articles changed), or None when current."""
    latest = con.execute(
        "SELECT label_sha256, feature_version, code_version, min_articles, estimator, "
        "hyperparameters->>'$.text.source' FROM models ORDER BY trained_at DESC, model_id LIMIT 1"
    ).fetchall()
    if not latest:
        return "no model yet"
    label_sha, version, code, trained_min, estimator, source = latest[0]
    if estimator != ESTIMATOR:
        return "the latest model is not a two-layer model"
    if label_sha != _sha256(labels_path):
        return "the label file changed"
    if version != feature_version:
        return "the feature version changed"
    if code != code_version():
        return "the code version changed"
    if min_articles is not None and trained_min != min_articles:
        return "min_articles changed"
    if text_source is not None and source != text_source:
        return "the text source changed"
    return None


# ----------------------------------------------------------------------------------------------------------
# Score
# ----------------------------------------------------------------------------------------------------------


@dataclass
class ScoreSummary:
    run_id: int
    model_id: str
    outlets: int
    insufficient: int
    seconds: float
    unsupported: int = 0
    new_text_scores: int = 0

    def line(self) -> str:
        return (
            f"score run {self.run_id}: published {self.outlets} outlets ({self.insufficient} with insufficient data, "
            f"{self.unsupported} in an unsupported language) with model {self.model_id} in {self.seconds:.1f}s"
        )


def _predict_outlets(
    model: TwoLayerModel,
    rows: pl.DataFrame,
    sampled: pl.DataFrame,
    text_scores: pl.DataFrame,
    cited: pl.DataFrame,
    thresholds: tuple[float, float],
) -> tuple[pl.DataFrame, dict[str, list[dict[str, Any]]]]:
    """Prediction, interval and grade (frame), and factors (by outlet) of one model for the outlets of `rows`.

    `sampled`: article_id, outlet of the text layer's articles (`text_sample` of the window's English articles).
    """
    outlets = rows["outlet"].to_list()
    rows = rows.join(
        cited_rating_rows(cited.filter(pl.col("outlet").is_in(outlets)), outlets, model.ratings),
        on="outlet",
        how="left",
        maintain_order="left",
    )
    s = sampled.filter(pl.col("outlet").is_in(outlets))
    s = s.join(text_scores, on="article_id", how="inner", maintain_order="left")
    if s.height:
        index = {o: i for i, o in enumerate(outlets)}
        mean, se, _ = group_stats(
            s["contribution"].to_numpy(), np.array([index[o] for o in s["outlet"].to_list()]), len(outlets)
        )
    else:
        mean = se = np.full(len(outlets), np.nan)
    # the score and its sampling error come from the English articles only
    inputs = rows.with_columns(
        pl.Series("text_mean", mean), pl.Series("text_se", se), pl.col("n_english").alias("n_articles")
    )
    out = predict_two_layer(model, inputs, thresholds=thresholds)
    baseline, factors = factor_table(model, inputs)
    frame = out.with_columns(baseline=pl.lit(baseline, dtype=pl.Float64), weight=pl.lit(model.weight, dtype=pl.Float64))
    return frame, dict(zip(outlets, factors, strict=True))


def score_frame(
    model: TwoLayerModel,
    articles: pl.DataFrame,
    text_scores: pl.DataFrame,
    cited: pl.DataFrame,
    *,
    min_articles: int,
    thresholds: tuple[float, float] = SCORE_THRESHOLDS,
) -> pl.DataFrame:
    """One row per outlet of `articles` (the window, every language): the published columns before rounding.

    A training outlet is scored by its cross-fitted fold model (`TwoLayerModel.for_outlet`: fitted without its
    label), every other outlet by the published model. `text_scores`: article_id, fold (null for the published
    model, else the fold model's number), contribution (stored s_i); `cited`: article_id, outlet, cited_outlets.
    """
    per_outlet = (
        articles.group_by("outlet")
        .agg(pl.len().alias("n_articles"), is_english().sum().alias("n_english"))
        .sort("outlet")
    )
    outlets = per_outlet["outlet"].to_list()
    english = articles.filter(is_english())
    features = [c for c in model.cue_features if c != CITED_RATING]
    rows = per_outlet.join(
        outlet_rows(english, outlets, features).drop("n_articles"), on="outlet", how="left", maintain_order="left"
    )
    fold_of = pl.Series("fold", [model.for_outlet(o)[0] for o in outlets], dtype=pl.Int64)
    sampled = text_sample(english).select("article_id", "outlet")
    parts, factors = [], {}
    for fold in sorted(set(fold_of.to_list()), key=lambda k: -1 if k is None else k):
        chosen = model if fold is None else model.folds[fold]
        mine = fold_of.is_null() if fold is None else fold_of == fold
        scores = text_scores.filter(pl.col("fold").is_null() if fold is None else pl.col("fold") == fold)
        part, part_factors = _predict_outlets(
            chosen, rows.filter(mine), sampled, scores.drop("fold"), cited, thresholds
        )
        parts.append(part.with_columns(cross_fitted=pl.lit(fold is not None)))
        factors.update(part_factors)
    out = pl.concat(parts).sort("outlet")
    n_english = per_outlet["n_english"].to_numpy()
    n_all = per_outlet["n_articles"].to_numpy()
    unsupported = n_english * 2 <= n_all
    insufficient = ~unsupported & (n_english < min_articles)
    status = np.where(unsupported, STATUS_LANGUAGE, np.where(insufficient, STATUS_INSUFFICIENT, STATUS_OK))
    pred = out["pred"].to_numpy()
    has_score = ~unsupported
    score = np.where(has_score, np.clip(100 * pred, 0, 100), np.nan)
    graded = status == STATUS_OK
    ordered: list[list[dict[str, Any]] | None] = []
    for i, rows_i in enumerate(factors[o] for o in out["outlet"].to_list()):
        if not has_score[i]:
            ordered.append(None)
            continue
        rows_i = sorted(rows_i, key=lambda f: -abs(f["contribution"]))
        if score[i] != 100 * pred[i]:  # the published score is clipped to 0-100: say by how much
            rows_i.append({"feature": CLIPPED, "value": None, "contribution": float(score[i] - 100 * pred[i])})
        ordered.append(rows_i)
    return pl.DataFrame(
        {
            "outlet": outlets,
            "n_articles": n_all.astype(np.int64),
            "n_english": n_english.astype(np.int64),
            "score": score,
            "score_low": np.where(has_score, 100 * out["low"].to_numpy(), np.nan),
            "score_high": np.where(has_score, 100 * out["high"].to_numpy(), np.nan),
            "grade": out["grade"].to_list(),
            "grade_confidence": out["grade_confidence"].to_list(),
            "status": status,
            "text_score": np.where(has_score, 100 * out["text_pred"].to_numpy(), np.nan),
            "cue_score": np.where(has_score, 100 * out["cue_pred"].to_numpy(), np.nan),
            "text_weight": out["weight"].to_numpy(),
            "baseline_score": out["baseline"].to_numpy(),
            "cross_fitted": out["cross_fitted"].to_list(),
            "factors": pl.Series(
                ordered,
                dtype=pl.List(pl.Struct({"feature": pl.String, "value": pl.Float64, "contribution": pl.Float64})),
            ),
        },
        strict=False,
    ).with_columns(
        pl.col("score", "score_low", "score_high", "text_score", "cue_score").fill_nan(None),
        pl.when(pl.Series(graded)).then(pl.col("grade", "grade_confidence")),
    )


def score(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    window_days: int = 365,
    undated: str = "include",
    model_id: str | None = None,
    resolver: OutletResolver,
    allow_shrink: bool = False,
) -> ScoreSummary:
    """Score every outlet of the window with a stored model and publish the scores in one transaction.

    Refused (PublishRefused) when it would publish under half of the previous publication's outlets, unless
    allow_shrink (jobs.publish_guard).
    """
    started = time.perf_counter()
    run_id = start_run(
        con, "score", {"as_of": as_of, "window_days": window_days, "undated": undated, "model_id": model_id}
    )
    with failure_recorded(con, run_id):
        row = con.execute(
            "SELECT model_id, parameters, min_articles, label_file, estimator FROM models "
            "WHERE ? IS NULL OR model_id = ? ORDER BY trained_at DESC, model_id LIMIT 1",
            [model_id, model_id],
        ).fetchall()
        if not row:
            raise NoModel(f"no model {model_id!r}" if model_id else "no fitted model: run `presstrust fit` first")
        chosen, parameters, min_articles, label_file, estimator = row[0]
        if estimator != ESTIMATOR:
            raise NoModel(f"model {chosen} is not a two-layer model: run `presstrust fit` (or nightly --refit)")
        model = TwoLayerModel.from_dict(json.loads(parameters))
        ensure_article_cues(con)
        articles = window_articles(con, as_of=as_of, window_days=window_days, undated=undated)
        n_outlets = articles["outlet"].n_unique()
        check_shrink(con, n_outlets, allow_shrink=allow_shrink)  # one row per outlet of the window is published
        if n_outlets == 0:
            raise EmptyWindow(f"no featurized articles in the {window_days} days to {as_of}: nothing to score")
        text_scores, new = _text_scores(con, chosen, model, articles.filter(is_english()))
        scores = score_frame(model, articles, text_scores, _cited(con, articles), min_articles=min_articles)
        labels = load_labels(Path(label_file), resolver=resolver) if Path(label_file).exists() else None
        if labels is not None:
            scores = scores.join(labels.select("outlet", "label_score"), on="outlet", how="left")
        else:
            scores = scores.with_columns(label_score=pl.lit(None, dtype=pl.Float64))
        _publish(con, scores, run_id=run_id, model_id=chosen, as_of=as_of, window_days=window_days)
    insufficient = int((scores.get_column("status") == STATUS_INSUFFICIENT).sum())
    unsupported = int((scores.get_column("status") == STATUS_LANGUAGE).sum())
    summary = ScoreSummary(run_id, chosen, scores.height, insufficient, time.perf_counter() - started, unsupported, new)
    finish_run(
        con,
        run_id,
        status="ok",
        counts={
            "outlets": scores.height,
            "insufficient_data": insufficient,
            "unsupported_language": unsupported,
            "new_text_scores": new,
            "model_id": chosen,
        },
    )
    return summary


def _text_scores(
    con: duckdb.DuckDBPyConnection, model_id: str, model: TwoLayerModel, english: pl.DataFrame
) -> tuple[pl.DataFrame, int]:
    """(article_id, fold, contribution) of the English articles, each under the model that scores its outlet.

    Stored contributions are reused; missing ones are computed and stored first. Returns them and how many
    were new.
    """
    ids: dict[str, tuple[TextLayer, list[str]]] = {}
    fold_of_id: dict[str, int | None] = {}
    for (outlet,), group in text_sample(english).group_by("outlet", maintain_order=True):
        fold, chosen = model.for_outlet(str(outlet))
        if chosen.text is None:
            continue
        key = model_id if fold is None else fold_model_id(model_id, fold)
        fold_of_id[key] = fold
        ids.setdefault(key, (chosen.text, []))[1].extend(group["article_id"].to_list())
    new = ensure_text_scores(con, ids)
    frame = con.sql(
        "SELECT article_id, model_id, contribution FROM article_text_scores WHERE list_contains($ids, model_id)",
        params={"ids": sorted(ids)},
    ).pl()
    mapping = pl.DataFrame(
        {"model_id": list(fold_of_id), "fold": list(fold_of_id.values())},
        schema={"model_id": pl.String, "fold": pl.Int64},
    )
    frame = frame.join(mapping, on="model_id").select("article_id", "fold", "contribution")
    return frame, new


def _publish(
    con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, *, run_id: int, model_id: str, as_of: date, window_days: int
) -> None:
    params: dict[str, Any] = {"run_id": run_id, "model_id": model_id, "as_of": as_of, "window_days": window_days}
    # Parallel float sums upstream can differ in the last bits between runs; published numbers are rounded
    # to 1e-6 (far below any meaningful difference on a 0-100 scale) so the same inputs publish the same rows.
    scores = scores.with_columns(
        pl.col("score", "score_low", "score_high", "label_score", "text_score", "cue_score", "baseline_score").round(
            PUBLISHED_DIGITS
        ),
        pl.col("factors").list.eval(
            pl.struct(
                pl.element().struct.field("feature"),
                pl.element().struct.field("value").round(PUBLISHED_DIGITS),
                pl.element().struct.field("contribution").round(PUBLISHED_DIGITS),
            )
        ),
    )
    try:
        with transaction(con):
            con.register("_scores", scores.to_arrow())
            con.execute(
                "INSERT INTO outlet_scores BY NAME SELECT *, $run_id AS run_id, $model_id AS model_id, "
                "$as_of AS as_of, $window_days AS window_days FROM _scores",
                params,
            )
            con.execute(
                "INSERT INTO publications VALUES ($run_id, $now, $model_id, $as_of, $window_days, $n)",
                {**params, "now": now_utc(), "n": scores.height},
            )
            failpoint("publish.before_commit")
    finally:
        con.unregister("_scores")
