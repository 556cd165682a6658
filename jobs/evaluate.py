"""Honest evaluation of the reliability scorer: `python -m jobs.evaluate --shared ../shared [--report FILE]`.

Trains and tests on the AllSides corpus (`corpora/allsides_2012_2020.parquet`, read with Polars; outlet =
the `domain` column canonicalised by the OutletResolver) with repeated outlet-grouped CV (5 folds x 5
repeats by default). Reports, for the scorer and side by side for the baselines (predict-the-mean; a TF-IDF
bag-of-words ridge on outlet-mean vectors, with and without boilerplate lines; lean alone, as a warning):

- Spearman and MAE against the training labels (Lin et al. 2023 pc1 by default);
- macro-F1 and grade-step MAE against MBFC 2026 grades collapsed to high / mixed / low;
- coverage of the ~90% intervals (model error + article bootstrap) on held-out outlets;
- the political-lean trap: Spearman of predictions with the outlet's right-leaning share next to the labels'
  own, and Spearman with the labels within majority-right outlets and within the others;
- a learning curve: held-out outlets represented by k sampled articles (k = 5, 10, 20, 50, 100);
- the estimator / preprocessing comparison the chosen configuration comes from.

The Markdown report goes to stdout (and to --report FILE); progress goes to stderr. Deterministic for a
given --seed. Lean (`allsides_bias`) is read only to audit predictions, never as a feature.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
import polars as pl
import scipy.sparse as sp

from jobs import paths
from jobs.labels import load_labels
from jobs.outlets import OutletResolver

log = logging.getLogger("jobs.evaluate")

CORPUS = Path("corpora") / "allsides_2012_2020.parquet"
MBFC = Path("labels") / "mbfc_2026.csv"
BALY = Path("labels") / "baly_acl2020_corpus.tsv"
LEARNING_KS = (5, 10, 20, 50, 100)


# --------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------


def load_corpus(path: Path, resolver: OutletResolver) -> pl.DataFrame:
    """AllSides articles: article_id, outlet (canonical domain), title, text, authors (list), published_at, lean."""
    raw = pl.read_parquet(path)
    hosts = {d: resolver.resolve_host(d) for d in raw["domain"].drop_nulls().unique().to_list()}
    out = raw.select(
        pl.col("id").cast(pl.String).alias("article_id"),
        pl.col("domain").replace_strict(hosts, default=None, return_dtype=pl.String).alias("outlet"),
        pl.col("title").fill_null(""),
        pl.col("text").fill_null(""),
        pl.col("authors")
        .fill_null("")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
        .alias("authors"),
        pl.col("date").str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")).alias("published_at"),
        pl.col("allsides_bias").alias("lean"),
    )
    dropped = out.filter(pl.col("outlet").is_null()).height
    if dropped:
        log.warning("%d articles without a resolvable domain dropped", dropped)
    return out.filter(pl.col("outlet").is_not_null())


def boilerplate_table(articles: pl.DataFrame) -> pl.LazyFrame:
    from features.boilerplate import repeated_lines

    return repeated_lines(articles.lazy()).collect().lazy()


def per_article_features(articles: pl.DataFrame, boilerplate: pl.LazyFrame) -> pl.DataFrame:
    """The feature pipeline's per-article frame (+ outlet and the scorer's derived ratios)."""
    from features.lexicons import load_lexicons
    from features.pipeline import article_features
    from scorer.inputs import with_derived_features

    frames = article_features(
        articles.select("article_id", "outlet", "title", "text", "authors").lazy(),
        boilerplate=boilerplate,
        lexicons=load_lexicons(),
    )
    feats = frames.features.collect()
    feats = feats.join(articles.select("article_id", "outlet"), on="article_id", how="inner")
    return with_derived_features(feats)


def corroboration_per_article(articles: pl.DataFrame) -> pl.DataFrame:
    """Per-article 0/1 units whose outlet means are the corroboration shares (features.aggregate.corroboration_units).

    Stories are clustered over the whole corpus (features.corroboration.assign_stories); the story-level
    units sit on one article per outlet and story (null on the others), so resampling articles resamples them.
    """
    from features.aggregate import corroboration_units
    from features.corroboration import assign_stories

    stories = assign_stories(articles.select("article_id", "outlet", "published_at", "title", "text"))
    return corroboration_units(stories.lazy()).collect().drop("outlet")


def kept_texts(articles: pl.DataFrame, boilerplate: pl.LazyFrame) -> pl.Series:
    """Each article's text with its boilerplate lines removed (the feature pipeline's line split)."""
    from features.boilerplate import mark_lines, split_lines
    from features.lexicons import load_lexicons

    lines = mark_lines(
        articles.select("article_id", "outlet", "title", "text").lazy(),
        boilerplate=boilerplate,
        patterns=load_lexicons().boilerplate_patterns,
    )
    kept = (
        split_lines(lines)
        .kept.sort("article_id", "line_no")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("line").str.join("\n").alias("kept"))
        .collect()
    )
    joined = articles.select("article_id").join(kept, on="article_id", how="left", maintain_order="left")
    return joined["kept"].fill_null("")


# --------------------------------------------------------------------------------------------------------
# Evaluation set
# --------------------------------------------------------------------------------------------------------


@dataclass
class EvalSet:
    """The labelled outlets with >= min_articles articles, in a fixed order (sorted by outlet)."""

    outlets: list[str]
    y: np.ndarray  # training label score in [0, 1]
    right_share: np.ndarray  # share of the outlet's articles AllSides rates right-leaning (audit only)
    n_articles: np.ndarray
    mbfc_grade: list[str | None]
    baly_grade: list[str | None] = field(default_factory=list)
    mbfc_score: np.ndarray | None = None  # MBFC grade mapped to [0, 1] (jobs.labels.GRADE_SCORES)

    @property
    def right(self) -> np.ndarray:
        return self.right_share > 0.5


def build_eval_set(
    articles: pl.DataFrame,
    labels: pl.DataFrame,
    mbfc: pl.DataFrame | None,
    baly: pl.DataFrame | None,
    *,
    min_articles: int,
) -> EvalSet:
    per_outlet = articles.group_by("outlet").agg(
        pl.len().alias("n"), (pl.col("lean") == "right").mean().alias("right_share")
    )
    table = (
        per_outlet.join(labels.select("outlet", "label_score"), on="outlet", how="inner")
        .filter(pl.col("n") >= min_articles)
        .sort("outlet")
    )
    if mbfc is not None:
        table = table.join(
            mbfc.select("outlet", pl.col("label_grade").alias("mbfc"), pl.col("label_score").alias("mbfc_score")),
            on="outlet",
            how="left",
        )
    if baly is not None:
        table = table.join(baly.select("outlet", pl.col("label_grade").alias("baly")), on="outlet", how="left")
    return EvalSet(
        outlets=table["outlet"].to_list(),
        y=table["label_score"].to_numpy().astype(float),
        right_share=table["right_share"].to_numpy().astype(float),
        n_articles=table["n"].to_numpy(),
        mbfc_grade=table["mbfc"].to_list() if "mbfc" in table.columns else [None] * table.height,
        baly_grade=table["baly"].to_list() if "baly" in table.columns else [None] * table.height,
        mbfc_score=table["mbfc_score"].to_numpy().astype(float) if "mbfc_score" in table.columns else None,
    )


# --------------------------------------------------------------------------------------------------------
# Metrics of one method (out-of-fold predictions, n_repeats x n_outlets)
# --------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    oof: np.ndarray  # n_repeats x n_outlets, label scale, clipped to [0, 1]
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    note: str = ""


def metrics(result: Result, ev: EvalSet) -> dict[str, Any]:
    from scorer.cv import coverage, grade_mae, macro_f1, mae, mean_sd, spearman
    from scorer.grades import grades_of
    from scorer.lean import lean_report

    per: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        per.setdefault(key, []).append(value)

    has_mbfc = np.array([g is not None for g in ev.mbfc_grade])
    mbfc_true = [g for g in ev.mbfc_grade if g is not None]
    has_baly = np.array([g is not None for g in ev.baly_grade]) if ev.baly_grade else np.zeros(len(ev.y), bool)
    baly_true = [g for g in ev.baly_grade if g is not None]
    for r in range(result.oof.shape[0]):
        pred = result.oof[r]
        add("spearman", spearman(pred, ev.y))
        add("mae", mae(pred, ev.y))
        grades = grades_of(pred)
        add("label_f1", macro_f1(list(grades), list(grades_of(ev.y))))
        if has_mbfc.any():
            add("mbfc_f1", macro_f1(list(grades[has_mbfc]), mbfc_true))
            add("mbfc_grade_mae", grade_mae(list(grades[has_mbfc]), mbfc_true))
        if has_baly.any():
            add("baly_f1", macro_f1(list(grades[has_baly]), baly_true))
        lean = lean_report(pred, ev.y, ev.right_share)
        add("rho_right", lean["rho_scores_right_share"])
        add("rho_within_right", lean["rho_within_right"])
        add("rho_within_other", lean["rho_within_other"])
        if result.low is not None and result.high is not None:
            add("coverage", coverage(result.low[r], result.high[r], ev.y))
            add("width", float(np.mean(result.high[r] - result.low[r])))
    return {k: mean_sd(v) for k, v in per.items()}


# --------------------------------------------------------------------------------------------------------
# The feature model under CV
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    name: str
    estimator: str = "signed_ridge"
    transform: str = "quantile"
    values: tuple[str, ...] = ("shrunk_mean",)
    corroboration: bool = False

    def model(self, seed: int) -> Any:
        from scorer.model import ReliabilityModel

        return ReliabilityModel(self.estimator, transform=self.transform, random_state=seed)


CANDIDATES = (
    Config("signed ridge / quantile / shrunk mean"),
    Config("ridge (unconstrained signs) / quantile / shrunk mean", estimator="ridge"),
    Config("signed ridge / standard / shrunk mean", transform="standard"),
    Config("signed ridge / quantile / mean", values=("mean",)),
    Config("signed ridge / quantile / shrunk mean + median", values=("shrunk_mean", "median")),
    Config("signed ridge / quantile / shrunk mean + corroboration", corroboration=True),
    Config("elastic net / quantile / shrunk mean", estimator="elasticnet"),
    Config("gradient boosting / shrunk mean", estimator="hgb", transform="standard"),
    Config(
        "gradient boosting / shrunk mean + median",
        estimator="hgb",
        transform="standard",
        values=("shrunk_mean", "median"),
    ),
)
CHOSEN = CANDIDATES[0]


def config_features(config: Config, features: Sequence[str], corroboration: Sequence[str]) -> list[str]:
    """The per-article columns a configuration uses."""
    return [*features, *corroboration] if config.corroboration else list(features)


def matrix_for(config: Config, article_feats: pl.DataFrame, features: Sequence[str]) -> pl.DataFrame:
    from scorer.matrix import outlet_matrix

    return outlet_matrix(article_feats, features=features, value=config.values)


def rows_of(matrix: pl.DataFrame, outlets: Sequence[str]) -> pl.DataFrame:
    """The matrix rows of `outlets`, in that order (missing outlets -> all-null rows)."""
    order = pl.DataFrame({"outlet": list(outlets)})
    return order.join(matrix, on="outlet", how="left", maintain_order="left")


def cv_feature_model(
    config: Config,
    matrix: pl.DataFrame,
    ev: EvalSet,
    splits: Sequence[Any],
    *,
    seed: int,
    bootstrap: pl.DataFrame | None = None,
) -> tuple[Result, list[Any]]:
    """Out-of-fold predictions (and intervals when `bootstrap` is given); also returns the fitted fold models."""
    from scorer.matrix import ID_COLUMNS
    from scorer.score import interval_bounds

    rows = rows_of(matrix, ev.outlets)
    cols = [c for c in rows.columns if c not in ID_COLUMNS]
    X = rows.select(cols)
    n_rep = max(s.repeat for s in splits) + 1
    oof = np.full((n_rep, len(ev.y)), np.nan)
    low = np.full_like(oof, np.nan)
    high = np.full_like(oof, np.nan)
    models = []
    boot_q: pl.DataFrame | None = None
    for s in splits:
        model = config.model(seed).fit(X[s.train], ev.y[s.train])
        models.append(model)
        pred = model.predict(X[s.test])
        oof[s.repeat, s.test] = np.clip(pred, 0, 1)
        if bootstrap is not None:
            test_outlets = [ev.outlets[i] for i in s.test]
            reps = bootstrap.filter(pl.col("outlet").is_in(test_outlets))
            alpha = 1 - model.coverage
            boot_q = (
                reps.select("outlet")
                .with_columns(pl.Series("pred", model.predict(reps.select(cols))))
                .group_by("outlet")
                .agg(pl.col("pred").quantile(alpha / 2).alias("lo"), pl.col("pred").quantile(1 - alpha / 2).alias("hi"))
            )
            q = pl.DataFrame({"outlet": test_outlets}).join(boot_q, on="outlet", how="left", maintain_order="left")
            lo, hi = interval_bounds(
                pred,
                conformal_quantile=model.conformal_quantile_,
                boot_low=q["lo"].to_numpy(),
                boot_high=q["hi"].to_numpy(),
            )
            low[s.repeat, s.test] = np.clip(lo, 0, 1)
            high[s.repeat, s.test] = np.clip(hi, 0, 1)
    has_interval = bootstrap is not None
    return Result(config.name, oof, low if has_interval else None, high if has_interval else None), models


# --------------------------------------------------------------------------------------------------------
# Baselines under the same CV
# --------------------------------------------------------------------------------------------------------


def cv_mean(ev: EvalSet, splits: Sequence[Any]) -> Result:
    from scorer.baselines import MeanBaseline
    from scorer.cv import out_of_fold

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return MeanBaseline().fit(None, ev.y[train]).predict(test)

    return Result("predict the mean", out_of_fold(splits, len(ev.y), fit_predict))


def cv_lean_only(ev: EvalSet, splits: Sequence[Any]) -> Result:
    """Ridge on the right-leaning share alone: what a model that learned only lean would score (a warning)."""
    from sklearn.linear_model import LinearRegression

    from scorer.cv import out_of_fold

    x = ev.right_share.reshape(-1, 1)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return np.clip(LinearRegression().fit(x[train], ev.y[train]).predict(x[test]), 0, 1)

    return Result("lean alone (right share; NOT a feature)", out_of_fold(splits, len(ev.y), fit_predict))


def cv_tfidf(name: str, counts: sp.csr_matrix, doc_outlet: np.ndarray, ev: EvalSet, splits: Sequence[Any]) -> Result:
    """TF-IDF ridge on outlet-mean vectors; vocabulary and IDF fitted on the training outlets' articles only."""
    from scorer.baselines import TfidfOutletRidge
    from scorer.cv import out_of_fold

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        train_docs = np.isin(doc_outlet, train)
        remap = np.full(len(ev.y), -1)
        remap[train] = np.arange(len(train))
        model = TfidfOutletRidge(alphas=tuple(np.logspace(-5, 2, 22))).fit(
            counts[train_docs], remap[doc_outlet[train_docs]], ev.y[train]
        )
        test_docs = np.isin(doc_outlet, test)
        remap_t = np.full(len(ev.y), -1)
        remap_t[test] = np.arange(len(test))
        return np.clip(model.predict(counts[test_docs], remap_t[doc_outlet[test_docs]]), 0, 1)

    return Result(name, out_of_fold(splits, len(ev.y), fit_predict))


# --------------------------------------------------------------------------------------------------------
# Learning curve
# --------------------------------------------------------------------------------------------------------


def learning_curve(
    config: Config,
    article_feats: pl.DataFrame,
    features: Sequence[str],
    full: Result,
    models: Sequence[Any],
    ev: EvalSet,
    splits: Sequence[Any],
    *,
    seed: int,
    n_boot: int,
    ks: Sequence[int] = LEARNING_KS,
) -> list[dict[str, Any]]:
    """Held-out outlets represented by k sampled articles (models trained on full data of the training outlets)."""
    from scorer.cv import coverage, mae, mean_sd, spearman
    from scorer.matrix import ID_COLUMNS, bootstrap_matrices, outlet_matrix, subsample_articles
    from scorer.score import interval_bounds

    rows_out = []
    n_rep = full.oof.shape[0]
    for k in ks:
        eligible = ev.n_articles >= k
        names = [o for o, e in zip(ev.outlets, eligible, strict=True) if e]
        stats: dict[str, list[float]] = {"rho": [], "mae": [], "rho_full": [], "mae_full": [], "cov": [], "width": []}
        for r in range(n_rep):
            sub = subsample_articles(article_feats, k=k, seed=seed + 1000 * r, outlets=names)
            mat_k = rows_of(matrix_for(config, sub, features), ev.outlets)
            cols = [c for c in mat_k.columns if c not in ID_COLUMNS]
            to_matrix = functools.partial(outlet_matrix, features=features, value=config.values)
            boot = bootstrap_matrices(
                sub.select("article_id", "outlet", *features),
                to_matrix=to_matrix,
                n_boot=n_boot,
                seed=seed + 1000 * r + k,
                outlets=names,
            )
            pred = np.full(len(ev.y), np.nan)
            lo = np.full(len(ev.y), np.nan)
            hi = np.full(len(ev.y), np.nan)
            for s, model in zip(splits, models, strict=True):
                if s.repeat != r:
                    continue
                test = s.test[eligible[s.test]]
                if not len(test):
                    continue
                p = model.predict(mat_k[test].select(cols))
                pred[test] = np.clip(p, 0, 1)
                outs = [ev.outlets[i] for i in test]
                reps = boot.filter(pl.col("outlet").is_in(outs))
                alpha = 1 - model.coverage
                q = (
                    reps.select("outlet")
                    .with_columns(pl.Series("pred", model.predict(reps.select(cols))))
                    .group_by("outlet")
                    .agg(
                        pl.col("pred").quantile(alpha / 2).alias("lo"),
                        pl.col("pred").quantile(1 - alpha / 2).alias("hi"),
                    )
                )
                q = pl.DataFrame({"outlet": outs}).join(q, on="outlet", how="left", maintain_order="left")
                a, b = interval_bounds(
                    p,
                    conformal_quantile=model.conformal_quantile_,
                    boot_low=q["lo"].to_numpy(),
                    boot_high=q["hi"].to_numpy(),
                )
                lo[test], hi[test] = np.clip(a, 0, 1), np.clip(b, 0, 1)
            e = eligible
            stats["rho"].append(spearman(pred[e], ev.y[e]))
            stats["mae"].append(mae(pred[e], ev.y[e]))
            stats["rho_full"].append(spearman(full.oof[r][e], ev.y[e]))
            stats["mae_full"].append(mae(full.oof[r][e], ev.y[e]))
            stats["cov"].append(coverage(lo[e], hi[e], ev.y[e]))
            stats["width"].append(float(np.mean(hi[e] - lo[e])))
        row: dict[str, Any] = {"k": k, "n_outlets": int(eligible.sum())}
        row.update({key: mean_sd(v) for key, v in stats.items()})
        rows_out.append(row)
        log.info("learning curve k=%d: rho %.3f (full %.3f)", k, row["rho"][0], row["rho_full"][0])
    return rows_out


# --------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------


def fmt(pair: tuple[float, float] | None, digits: int = 2) -> str:
    if pair is None or pair[0] != pair[0]:
        return "n/a"
    mean, sd = pair
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def paired_difference(result: Result, reference: Result, ev: EvalSet) -> tuple[float, float]:
    """Mean and sd over repeats of Spearman(result) - Spearman(reference) on the same splits."""
    from scorer.cv import mean_sd, spearman

    return mean_sd([spearman(a, ev.y) - spearman(b, ev.y) for a, b in zip(result.oof, reference.oof, strict=True)])


def results_table(
    results: Sequence[tuple[Result, dict[str, Any]]],
    *,
    lean_labels: float,
    paired: Sequence[tuple[float, float]] | None = None,
) -> list[str]:
    extra = " difference in Spearman to the first row (paired by repeat) |" if paired is not None else ""
    lines = [
        "| method | Spearman vs label | MAE vs label | macro-F1 vs MBFC (3 grades) | grade-step MAE vs MBFC | "
        "interval coverage (width) | Spearman with right share | within majority-right | within others |" + extra,
        "|---|---|---|---|---|---|---|---|---|" + ("---|" if paired is not None else ""),
    ]
    for i, (res, m) in enumerate(results):
        cov = f"{fmt(m.get('coverage'))} ({fmt(m.get('width'))})" if "coverage" in m else "n/a"
        lines.append(
            f"| {res.name} | {fmt(m.get('spearman'))} | {fmt(m.get('mae'), 3)} | {fmt(m.get('mbfc_f1'))} | "
            f"{fmt(m.get('mbfc_grade_mae'))} | {cov} | {fmt(m.get('rho_right'))} | {fmt(m.get('rho_within_right'))} | "
            f"{fmt(m.get('rho_within_other'))} |" + (f" {fmt(paired[i])} |" if paired is not None else "")
        )
    if paired is None:
        lines.append(f"| *the labels themselves* | 1 | 0 | | | | {lean_labels:.2f} | 1 | 1 |")
    return lines


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def add(self, *text: str) -> None:
        self.lines.extend(text)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def run(
    shared: Path,
    *,
    labels_path: Path,
    score_column: str | None,
    min_articles: int,
    folds: int,
    repeats: int,
    seed: int,
    n_boot: int,
    n_boot_curve: int,
    compare: bool,
    tfidf: bool,
    model_out: Path | None,
) -> str:
    from scorer.cv import grouped_splits, spearman
    from scorer.inputs import model_feature_columns
    from scorer.matrix import bootstrap_matrices, outlet_matrix
    from scorer.model import ReliabilityModel
    from scorer.persist import model_to_dict
    from scorer.score import fit_scorer, score_outlets

    t0 = time.time()
    resolver = OutletResolver.default()
    data = shared / "data" if (shared / "data").is_dir() else shared
    articles = load_corpus(data / CORPUS, resolver)
    labels = load_labels(labels_path, resolver=resolver, score_column=score_column)
    mbfc = load_labels(data / MBFC, resolver=resolver) if (data / MBFC).exists() else None
    baly = load_labels(data / BALY, resolver=resolver) if (data / BALY).exists() else None
    ev = build_eval_set(articles, labels, mbfc, baly, min_articles=min_articles)
    log.info(
        "%d articles, %d outlets; %d labelled outlets with >= %d articles",
        articles.height,
        articles["outlet"].n_unique(),
        len(ev.outlets),
        min_articles,
    )

    boilerplate = boilerplate_table(articles)
    t = time.time()
    feats = per_article_features(articles, boilerplate)
    features = model_feature_columns(feats)
    log.info("per-article features: %d columns in %.0f s", len(features), time.time() - t)
    t = time.time()
    units = corroboration_per_article(articles)
    corr_features = [c for c in units.columns if c != "article_id"]
    feats = feats.join(units, on="article_id", how="left")
    log.info("corroboration units in %.0f s", time.time() - t)

    splits = grouped_splits(ev.outlets, n_splits=folds, n_repeats=repeats, seed=seed)

    # 1. estimator / preprocessing comparison (no intervals)
    comparison: list[tuple[Result, dict[str, Any]]] = []
    if compare:
        for config in CANDIDATES:
            used = config_features(config, features, corr_features)
            res, _ = cv_feature_model(config, matrix_for(config, feats, used), ev, splits, seed=seed)
            comparison.append((res, metrics(res, ev)))
            log.info("candidate %-50s rho %.3f", config.name, comparison[-1][1]["spearman"][0])
        # the same features with only the generic boilerplate patterns removed (no outlet-repeated lines)
        from features.boilerplate import REPEATED_LINES_SCHEMA

        no_repeated = pl.LazyFrame(schema=REPEATED_LINES_SCHEMA)
        feats_nb = per_article_features(articles, no_repeated)
        feats_nb = feats_nb.join(units, on="article_id", how="left")
        used = config_features(CHOSEN, features, corr_features)
        res, _ = cv_feature_model(CHOSEN, matrix_for(CHOSEN, feats_nb, used), ev, splits, seed=seed)
        res.name = f"{CHOSEN.name}, outlet-repeated boilerplate lines KEPT"
        comparison.append((res, metrics(res, ev)))
        log.info("candidate %-50s rho %.3f", res.name, comparison[-1][1]["spearman"][0])

    # 2. the chosen configuration with intervals
    config = CHOSEN
    features = config_features(config, features, corr_features)
    matrix = matrix_for(config, feats, features)
    to_matrix = functools.partial(outlet_matrix, features=features, value=config.values)
    t = time.time()
    boot = bootstrap_matrices(
        feats.select("article_id", "outlet", *features),
        to_matrix=to_matrix,
        n_boot=n_boot,
        seed=seed,
        outlets=ev.outlets,
    )
    log.info("bootstrap (%d replicates) in %.0f s", n_boot, time.time() - t)
    chosen, fold_models = cv_feature_model(config, matrix, ev, splits, seed=seed, bootstrap=boot)
    chosen.name = f"**scorer** ({config.name})"

    # 3. baselines
    baselines = [cv_mean(ev, splits), cv_lean_only(ev, splits)]
    if tfidf:
        from scorer.baselines import count_matrix

        docs = articles.filter(pl.col("outlet").is_in(ev.outlets)).sort("outlet", "article_id")
        index = {o: i for i, o in enumerate(ev.outlets)}
        doc_outlet = np.array([index[o] for o in docs["outlet"].to_list()])
        for name, texts in (
            ("TF-IDF ridge, raw text", docs["text"]),
            ("TF-IDF ridge, boilerplate lines removed", kept_texts(docs, boilerplate)),
        ):
            t = time.time()
            counts, _ = count_matrix(texts.to_list())
            baselines.append(cv_tfidf(name, counts, doc_outlet, ev, splits))
            log.info("%s in %.0f s", name, time.time() - t)
    results = [(chosen, metrics(chosen, ev))] + [(b, metrics(b, ev)) for b in baselines]

    # 4. learning curve
    curve = learning_curve(config, feats, features, chosen, fold_models, ev, splits, seed=seed, n_boot=n_boot_curve)

    # 5. final model on every labelled outlet; scores for every outlet of the corpus
    final = fit_scorer(matrix, labels, min_articles=min_articles, model=config.model(seed))
    all_boot = bootstrap_matrices(
        feats.select("article_id", "outlet", *features), to_matrix=to_matrix, n_boot=n_boot, seed=seed
    )
    scores = score_outlets(final, matrix, bootstrap=all_boot, min_articles=min_articles)
    free = fit_scorer(
        matrix, labels, min_articles=min_articles, model=ReliabilityModel("ridge", transform=config.transform)
    )
    if model_out is not None:
        model_out.write_text(json.dumps(model_to_dict(final), indent=1) + "\n", encoding="utf-8")

    # ---- report ----
    m = results[0][1]
    lean_labels = spearman(ev.y, ev.right_share)
    rep = Report()
    rep.add(
        "## Measured results (generated by `jobs.evaluate`)",
        "",
        f"Command: `python -m jobs.evaluate --shared {shared} --folds {folds} --repeats {repeats} --seed {seed} "
        f"--n-boot {n_boot}` ({time.time() - t0:.0f} s on this machine).",
        "",
        f"- Corpus: {articles.height:,} AllSides articles, {articles['outlet'].n_unique()} outlets; "
        f"**{len(ev.outlets)} outlets** have a label in `{labels_path.name}` and >= {min_articles} articles "
        f"({int(ev.right.sum())} of them majority right-leaning).",
        f"- Label: `{score_column or 'auto'}` column of `{labels_path.name}`; MBFC 2026 grades for "
        f"{sum(g is not None for g in ev.mbfc_grade)} of these outlets (collapsed: very-high+high -> high, "
        "mostly-factual+mixed -> mixed, low+very-low -> low).",
        f"- CV: GroupKFold by outlet, {folds} folds x {repeats} repeats (seeds {seed}..{seed + repeats - 1}); "
        "every number is the mean ± sd over the repeats.",
        f"- Per-article features ({len(features)}; feature version `{feature_version_text()}`): "
        + ", ".join(f"`{f}`" for f in features)
        + ".",
        f"- Predicted grades use the score thresholds high >= 60, mixed >= 30; the labels' own grades vs MBFC "
        f"reach macro-F1 {macro_f1_labels(ev):.2f} on these outlets (the ceiling for a perfect copy of the label).",
        f"- How well two expert rating sets agree here: Spearman(label, MBFC 2026 grade mapped to a score) = "
        f"{spearman(ev.y, ev.mbfc_score) if ev.mbfc_score is not None else float('nan'):.2f}.",
        "",
        "### Scorer vs baselines",
        "",
        *results_table(results, lean_labels=lean_labels),
        "",
        "### Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *target_rows(m, lean_labels),
        "",
    )
    if comparison:
        rep.add(
            "### Estimator and preprocessing comparison (same splits, no intervals)",
            "",
            *results_table(
                comparison,
                lean_labels=lean_labels,
                paired=[paired_difference(r, comparison[0][0], ev) for r, _ in comparison],
            ),
            "",
            "Choosing the best of these on the same splits is optimistic by the spread of the table; the chosen "
            "configuration is fixed in `jobs/evaluate.py` (`CHOSEN`).",
            "",
        )
    rep.add(
        "### Learning curve: how many articles an outlet needs",
        "",
        "Held-out outlets are represented by k randomly sampled articles (outlets with >= k articles only; "
        "training outlets keep all theirs); 'all articles' is the same outlets scored from all their articles.",
        "",
        "| k articles | outlets | Spearman | Spearman, all articles | MAE | MAE, all articles | coverage | width |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {row['k']} | {row['n_outlets']} | {fmt(row['rho'])} | {fmt(row['rho_full'])} | {fmt(row['mae'], 3)} | "
            f"{fmt(row['mae_full'], 3)} | {fmt(row['cov'])} | {fmt(row['width'])} |"
            for row in curve
        ],
        "",
        "### Final model (all labelled outlets) and the corpus's scores",
        "",
        f"- alpha {final.pipeline_[-1].alpha_:.3g}, conformal 90% quantile of CV residuals "
        f"{final.conformal_quantile_:.3f} (label scale), baseline score {100 * final.intercept_:.1f}.",
        f"- {scores.height} outlets scored: {scores.filter(pl.col('status') == 'ok').height} `ok`, "
        f"{scores.filter(pl.col('status') != 'ok').height} `insufficient_data`; grades "
        + ", ".join(f"{g} {n}" for g, n in scores.group_by("grade").len().sort("grade").iter_rows())
        + ".",
        "",
        "Coefficients in score points per standard deviation of the (quantile-normalised) feature; 'allowed' is the "
        "direction `scorer.inputs.FEATURE_DIRECTIONS` lets the cue move the score; the unconstrained ridge on the same "
        "outlets shows what the data alone would say (opposite signs marked !).",
        "",
        "| feature | allowed | coefficient | unconstrained ridge |",
        "|---|---|---|---|",
        *coefficient_rows(final, free),
        "",
        "Training outlets, final model (in-sample; for the held-out numbers see above):",
        "",
        "| outlet | label | score | interval | grade | top factors (score points) |",
        "|---|---|---|---|---|---|",
    )
    label_of = dict(zip(ev.outlets, ev.y, strict=True))
    shown = scores.filter(pl.col("outlet").is_in(ev.outlets)).sort("score", descending=True)
    for row in shown.iter_rows(named=True):
        top = ", ".join(f"{f['feature']} {f['contribution']:+.1f}" for f in row["factors"][:3])
        rep.add(
            f"| {row['outlet']} | {100 * label_of[row['outlet']]:.0f} | {row['score']:.0f} | "
            f"{row['score_low']:.0f}-{row['score_high']:.0f} | {row['grade']} | {top} |"
        )
    return rep.text()


def feature_version_text() -> str:
    from features.lexicons import load_lexicons
    from features.pipeline import feature_version

    return feature_version(load_lexicons())


def coefficient_rows(final: Any, free: Any) -> list[str]:
    names = [str(n) for n in final.feature_names_in_]
    signs = dict(zip(names, final.signs_, strict=True))
    free_coef = dict(zip([str(n) for n in free.feature_names_in_], free.coef_, strict=True))
    rows = []
    for name, coef in sorted(zip(names, final.coef_, strict=True), key=lambda t: (-abs(t[1]), t[0])):
        allowed = {1: "+", -1: "-", 0: "either"}[int(signs[name])]
        other = free_coef[name]
        flag = " !" if signs[name] and np.sign(other) == -signs[name] and abs(100 * other) >= 0.05 else ""
        rows.append(f"| `{name}` | {allowed} | {100 * coef:+.1f} | {100 * other:+.1f}{flag} |")
    return rows


def target_rows(m: dict[str, Any], lean_labels: float) -> list[str]:
    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    within = min(m["rho_within_right"][0], m["rho_within_other"][0])
    return [
        f"| Spearman vs label >= 0.75 | {fmt(m['spearman'])} | {yes(m['spearman'][0] >= 0.75)} |",
        f"| MAE vs label <= 0.10 | {fmt(m['mae'], 3)} | {yes(m['mae'][0] <= 0.10)} |",
        f"| interval coverage 85-95% | {fmt(m['coverage'])} | {yes(0.85 <= m['coverage'][0] <= 0.95)} |",
        f"| follows lean no more than the labels (abs rho <= {abs(lean_labels):.2f}) | {fmt(m['rho_right'])} | "
        f"{yes(abs(m['rho_right'][0]) <= abs(lean_labels))} |",
        f"| ranks within both lean groups | right {fmt(m['rho_within_right'])}, others "
        f"{fmt(m['rho_within_other'])} | {yes(within > 0)} |",
    ]


def macro_f1_labels(ev: EvalSet) -> float:
    from scorer.cv import macro_f1
    from scorer.grades import grades_of

    has = [i for i, g in enumerate(ev.mbfc_grade) if g is not None]
    if not has:
        return float("nan")
    return macro_f1(list(grades_of(ev.y[has])), [ev.mbfc_grade[i] for i in has])  # type: ignore[misc]


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
@click.option(
    "--n-boot",
    default=200,
    show_default=True,
    type=click.IntRange(min=10),
    help="Bootstrap replicates of each outlet's articles for the intervals.",
)
@click.option(
    "--n-boot-curve",
    default=50,
    show_default=True,
    type=click.IntRange(min=10),
    help="Bootstrap replicates in the learning curve.",
)
@click.option("--no-compare", is_flag=True, help="Skip the estimator comparison.")
@click.option("--no-tfidf", is_flag=True, help="Skip the TF-IDF baselines (the slowest part).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the Markdown report to this file.",
)
@click.option(
    "--model-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the final model as JSON data (scorer.persist.model_to_dict).",
)
def main(
    shared: Path,
    labels_path: Path,
    score_column: str | None,
    min_articles: int,
    folds: int,
    repeats: int,
    seed: int,
    n_boot: int,
    n_boot_curve: int,
    no_compare: bool,
    no_tfidf: bool,
    report: Path | None,
    model_out: Path | None,
) -> None:
    """Evaluate the scorer on the AllSides corpus with outlet-grouped CV; Markdown report to stdout."""
    from jobs.logs import setup_logging

    setup_logging()
    logging.getLogger("jobs").setLevel(logging.INFO)
    data = shared / "data" if (shared / "data").is_dir() else shared
    if not (data / CORPUS).exists():
        raise click.UsageError(f"{data / CORPUS} not found: pass --shared (the folder holding data/corpora)")
    text = run(
        shared,
        labels_path=labels_path,
        score_column=score_column,
        min_articles=min_articles,
        folds=folds,
        repeats=repeats,
        seed=seed,
        n_boot=n_boot,
        n_boot_curve=n_boot_curve,
        compare=not no_compare,
        tfidf=not no_tfidf,
        model_out=model_out,
    )
    sys.stdout.write(text)
    if report is not None:
        report.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()


__all__: list[str] = ["main", "run", "load_corpus", "build_eval_set", "metrics", "Config", "CANDIDATES", "CHOSEN"]
