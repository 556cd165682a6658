"""The evaluation run, step by step: every experiment on the same outlet-grouped splits.

`measure` loads the corpora and runs, in this order: the text representations and layers compared, the
two-layer scorer as shipped, the baselines (predict-the-mean, topic mix, lean alone, whole-text TF-IDF), the
language audit (English + German), the boilerplate audit (repeated lines kept), the learning curve (k articles
per held-out outlet), the cost of each text representation, the final model on every labelled outlet, the
scorer with extra training outlets whose labels are mapped from MBFC / Baly levels, and the training-size
learning curve (--quick: its first two repeats).
It returns a `Measured` for evaluation.report to write up. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import logging
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from evaluation.crossval import (
    Result,
    Scored,
    Variant,
    cv_columns,
    cv_mean,
    cv_tfidf,
    cv_two_layer,
    fold_inputs,
    metrics,
    topic_mix,
    variant_text,
)
from evaluation.data import Corpora, EvalSet, data_dir, load_corpora
from evaluation.inputs import (
    CHOSEN_TEXT,
    REPRESENTATION_NAMES,
    Data,
    prepare,
    representations,
    restrict_outlets,
    subset_data,
    text_builders,
)
from evaluation.label_maps import extra_outlets, fitted_maps, load_sources, mapped_labels
from evaluation.training_sets import ExtraLabels, extra_label_rows, training_curve
from jobs.readers.outlets import OutletResolver
from scorer.inputs import CLAIM_CUES, FEATURE_DIRECTIONS
from scorer.two_layer import PUBLISHED_WEIGHT

log = logging.getLogger("evaluation")

LEARNING_KS = (5, 10, 20, 50)
SCORER = Variant(
    f"**two-layer scorer** (text: {REPRESENTATION_NAMES[CHOSEN_TEXT]}; fixed text weight {PUBLISHED_WEIGHT})",
    text=CHOSEN_TEXT,
    weight=PUBLISHED_WEIGHT,
)
"""The two-layer scorer as the product ships it."""
TOPIC_MIX = "topic mix only (COVID share + AllSides/PAC topics + corpus)"
CUE_MODEL = "cue model only, + punctuation + cited-outlet rating"
CUE_CLAIMS = "cue model only, + punctuation + cited-outlet rating + claim cues (ablation; not shipped)"
MISSION_CUES = (
    "unnamed_source_share",
    "any_unnamed_source_share",
    "unnamed_sources_per_1k_words",
    "speculative_sentence_share",
    "speculation_weighted_per_1k_words",
    "hedges_per_1k_words",
    "cited_rating",
    *CLAIM_CUES,
)
"""The founding seed's cues (unnamed sources, speculation, hedges, who is cited) and the claim cues (issue 25)."""
TFIDF = ("tfidf",)
EMBEDDING_ALONE = "text layer only, static-embedding ridge alone (each outlet once)"
TEXT_LAYER = "text layer only, TF-IDF and embedding ridges averaged (the product's)"
ONE_QUANTILE = "two-layer, one conformal quantile for every outlet (no distance scaling)"


@dataclass(frozen=True)
class Settings:
    """The command's options that the run reads."""

    shared: Path
    labels_path: Path
    score_column: str | None
    min_articles: int
    folds: int
    repeats: int
    seed: int
    tfidf: bool
    model_out: Path | None
    quick: bool = False
    extra_labels: bool = False  # also cross-validate the scorer with the extra mapped-label outlets


@dataclass
class LanguageAudit:
    """English + German outlets on the same protocol."""

    ev: EvalSet  # the en + de evaluation set
    rows: list[Scored]  # the two-layer scorer trained on en + de, and a language-only model
    german_preds: list[tuple[str, float, float]]  # German outlets: outlet, label, mean out-of-fold prediction


@dataclass
class FinalModel:
    """The two-layer model fitted on every labelled outlet, and its grade thresholds."""

    model: Any  # scorer.two_layer.TwoLayerModel
    thresholds: tuple[float, float]


@dataclass(frozen=True)
class MissionCue:
    """One mission cue: its allowed direction, the Spearman of its outlet value with the labels alone, and its
    coefficient in the shipped cue model and in the cue model with the claim cues (both on every labelled outlet;
    None: not an input of that model)."""

    name: str
    direction: int
    spearman: float
    shipped: float | None
    with_claims: float | None


@dataclass
class Measured:
    """Everything evaluation.report writes up."""

    settings: Settings
    started: float  # time.time() at the start of the run
    corpora: Corpora
    ev: EvalSet
    compared: list[Scored]  # text representations and layers
    results: list[Scored]  # the two-layer scorer first, then the baselines
    language: LanguageAudit
    boilerplate: list[Scored]  # the scorer and the cue model, with boilerplate lines removed and kept
    curve: list[dict[str, Any]]  # the learning curve, one row per k
    costs: dict[str, tuple[float, float, float]]  # representation_cost
    final: FinalModel
    extra: ExtraLabels  # extra training outlets with labels mapped from other label sets
    train_curve: list[tuple[int, Scored]]  # the scorer trained on subsamples of the training outlets
    mission: list[MissionCue] = field(default_factory=list)  # each mission cue alone and its weights

    @property
    def chosen(self) -> Scored:
        """The two-layer scorer as shipped."""
        return self.results[0]

    def baseline(self, name: str) -> Scored:
        """The result and metrics of the method called `name`."""
        return next(r for r in self.results if r[0].name == name)


def measure(settings: Settings) -> Measured:
    """Every experiment of the evaluation, in a fixed order."""
    from scorer.cv import grouped_splits

    s = settings
    started = time.time()
    corpora = load_corpora(s.shared, labels_path=s.labels_path, score_column=s.score_column)
    english = corpora.english
    kept = representations(quick=s.quick)
    sources = load_sources(data_dir(s.shared), OutletResolver.default())
    extras = extra_outlets(
        sources, outlet_counts(english), corpora.labels["outlet"].to_list(), min_articles=s.min_articles
    )
    union, feats = prepare(
        english,
        with_unlabelled(corpora.labels, extras["outlet"].to_list()),
        corpora.mbfc,
        corpora.baly,
        min_articles=s.min_articles,
        representations=kept,
    )
    target_idx = np.flatnonzero(np.isfinite(union.ev.y))
    data = restrict_outlets(union, target_idx)
    ev = data.ev
    log.info(
        "%d English articles; %d labelled outlets with >= %d articles", english.height, len(ev.outlets), s.min_articles
    )
    splits = grouped_splits(ev.outlets, n_splits=s.folds, n_repeats=s.repeats, seed=s.seed)
    compared = compare_layers(data, kept, splits, seed=s.seed)
    chosen, fold_models = cv_two_layer(data, SCORER, splits, seed=s.seed, keep_models=True)
    scored = (chosen, metrics(chosen, ev))
    results = [scored] + [(b, metrics(b, ev)) for b in baselines(english, data, splits, tfidf=s.tfidf)]
    language = language_audit(corpora, s)
    cue_model = next(c for c in compared if c[0].name == CUE_MODEL)
    boilerplate = boilerplate_audit(corpora, s, ev, splits, scored=[scored, cue_model])
    curve = learning_curve(data, feats, SCORER, chosen, fold_models, splits, seed=s.seed)
    costs = representation_cost(english.sort("article_id"), {k: text_builders()[k] for k in kept})
    final = fit_final(data, seed=s.seed, model_out=s.model_out)
    labels_map = {o: float(v) for o, v in corpora.labels.select("outlet", "label_score").iter_rows()}
    extra = extra_labels(union, target_idx, extras, sources, labels_map, splits, seed=s.seed, run=s.extra_labels)
    train_curve = training_curve(data, SCORER, splits[: s.folds * (2 if s.quick else s.repeats)], seed=s.seed)
    mission = mission_cues(data, final, seed=s.seed)
    return Measured(
        s, started, corpora, ev, compared, results, language, boilerplate, curve, costs, final, extra, train_curve,
        mission,
    )  # fmt: skip


def outlet_counts(articles: pl.DataFrame) -> pl.DataFrame:
    """Per outlet: n (articles), main_corpus (the corpus most of them come from)."""
    return articles.group_by("outlet").agg(
        pl.len().alias("n"), pl.col("corpus").mode().sort().first().alias("main_corpus")
    )


def with_unlabelled(labels: pl.DataFrame, outlets: Sequence[str]) -> pl.DataFrame:
    """`labels` plus `outlets` without a label (null score and grade): the evaluation set keeps them, the
    cross-validation trains on them only with labels of a fold's own making."""
    extra = pl.DataFrame({"outlet": list(outlets)}, schema={"outlet": pl.String}).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("label_score"), pl.lit(None, dtype=pl.String).alias("label_grade")
    )
    return pl.concat([labels, extra.select(labels.columns)], how="vertical_relaxed")


def extra_labels(
    union: Data,
    target_idx: np.ndarray,
    extras: pl.DataFrame,
    sources: dict[str, pl.DataFrame],
    labels: dict[str, float],
    splits: Sequence[Any],
    *,
    seed: int,
    run: bool = True,
) -> ExtraLabels:
    """The extra training outlets (mapped labels) and (`run`) the scorer trained with them, on the same splits."""
    extra_idx = np.flatnonzero(~np.isfinite(union.ev.y))
    level_maps = fitted_maps(sources, labels)
    names = [union.ev.outlets[i] for i in extra_idx]
    mapped = dict(zip(names, mapped_labels(sources, level_maps, names).tolist(), strict=True))
    rows = (
        extra_label_rows(union, target_idx, extra_idx, sources, labels, SCORER, splits, seed=seed)
        if run and len(extra_idx)
        else []
    )
    return ExtraLabels(extras, level_maps, rows, mapped)


def compare_layers(data: Data, kept: Sequence[str], splits: Sequence[Any], *, seed: int) -> list[Scored]:
    """Each text representation's text layer alone, the cue model alone, and other two-layer variants."""
    variants = [
        Variant(f"text layer only, TF-IDF ridge alone: {REPRESENTATION_NAMES[k]}", text=k, weight=1.0, text_parts=TFIDF)
        for k in kept
    ] + [
        Variant(EMBEDDING_ALONE, text=CHOSEN_TEXT, weight=1.0, text_parts=("embedding",)),
        Variant(
            "text layer only, embedding ridge on outlet-mean vectors",
            text=CHOSEN_TEXT,
            weight=1.0,
            text_parts=("embedding",),
            within=False,
        ),
        Variant(TEXT_LAYER, text=CHOSEN_TEXT, weight=1.0),
        Variant("cue model only, the 19 cue features (as before)", text=None, cue_features="old", weight=0.0),
        Variant(CUE_MODEL, text=None, weight=0.0),
        Variant(CUE_CLAIMS, text=None, cue_features="claims", weight=0.0),
        Variant(
            "two-layer, weight chosen in the fold (lowest MAE on inner out-of-fold predictions)",
            text=CHOSEN_TEXT,
            weight=None,
        ),
        Variant("two-layer with the TITLE text layer (`--text-source title`)", text="word_title"),
        Variant("two-layer, TF-IDF text layer alone (before the embedding)", text=CHOSEN_TEXT, text_parts=TFIDF),
        Variant("two-layer, not calibrated", text=CHOSEN_TEXT, calibrate=False),
        Variant(ONE_QUANTILE, text=CHOSEN_TEXT, local_intervals=False),
    ]
    compared: list[Scored] = []
    for v in variants:
        t = time.time()
        res, _ = cv_two_layer(data, v, splits, seed=seed)
        compared.append((res, metrics(res, data.ev)))
        log.info("%-70s rho %.3f (%.0f s)", v.name, compared[-1][1]["spearman"][0], time.time() - t)
    return compared


def baselines(english: pl.DataFrame, data: Data, splits: Sequence[Any], *, tfidf: bool) -> list[Result]:
    """Predict-the-mean, the topic mix alone, lean alone, and (`tfidf`) a whole-text TF-IDF ridge."""
    ev = data.ev
    out = [cv_mean(ev, splits)]
    topics = topic_mix(english, ev.outlets)
    out.append(cv_columns(TOPIC_MIX, topics, ev, splits))
    out.append(cv_columns("lean alone (right share; NOT a feature)", ev.right_share, ev, splits))
    if tfidf:
        from scorer.baselines import count_matrix
        from scorer.text import text_sample

        docs = text_sample(english.filter(pl.col("outlet").is_in(ev.outlets)))  # the text layer's articles
        t = time.time()
        counts, _ = count_matrix(docs["text"].to_list())
        out.append(cv_tfidf("TF-IDF ridge, whole text (word unigrams)", counts, data.doc_group, ev, splits))
        log.info("TF-IDF baseline in %.0f s", time.time() - t)
    return out


def language_audit(corpora: Corpora, s: Settings) -> LanguageAudit:
    """English + German articles on the same protocol (own splits), and a language-only model."""
    from scorer.cv import grouped_splits

    both = corpora.everything.filter(pl.col("language").is_in(["en", "de"]))
    data_de, _ = prepare(
        both, corpora.labels, corpora.mbfc, corpora.baly, min_articles=s.min_articles, representations=(CHOSEN_TEXT,)
    )
    ev = data_de.ev
    splits_de = grouped_splits(ev.outlets, n_splits=s.folds, n_repeats=s.repeats, seed=s.seed)
    variant = Variant("two-layer, trained on en + de", text=CHOSEN_TEXT)
    lang_two, _ = cv_two_layer(data_de, variant, splits_de, seed=s.seed)
    german_share = ev.german_share if ev.german_share is not None else np.zeros(len(ev.y))
    lang_only = cv_columns("language only (German share)", german_share, ev, splits_de)
    german = german_share > 0.5
    german_preds = [(ev.outlets[i], ev.y[i], float(np.mean(lang_two.oof[:, i]))) for i in np.flatnonzero(german)]
    return LanguageAudit(ev, [(lang_two, metrics(lang_two, ev)), (lang_only, metrics(lang_only, ev))], german_preds)


def boilerplate_audit(
    corpora: Corpora, s: Settings, ev: EvalSet, splits: Sequence[Any], *, scored: list[Scored]
) -> list[Scored]:
    """`scored` (the scorer and the cue model, boilerplate lines removed), each followed by the same model with
    outlet-repeated lines kept in its features and text (the same outlets `ev` and `splits`)."""
    from features.boilerplate import REPEATED_LINES_SCHEMA

    data_nb, _ = prepare(
        corpora.english,
        corpora.labels,
        corpora.mbfc,
        corpora.baly,
        min_articles=s.min_articles,
        boilerplate=pl.LazyFrame(schema=REPEATED_LINES_SCHEMA),
        representations=(CHOSEN_TEXT,),
    )
    nb, _ = cv_two_layer(
        data_nb, Variant("two-layer, outlet-repeated boilerplate lines KEPT", text=CHOSEN_TEXT), splits, seed=s.seed
    )
    nb_cue, _ = cv_two_layer(
        data_nb, Variant("cue model only, boilerplate lines KEPT", text=None, weight=0.0), splits, seed=s.seed
    )
    return [scored[0], (nb, metrics(nb, ev)), scored[1], (nb_cue, metrics(nb_cue, ev))]


def learning_curve(
    data: Data,
    feats: pl.DataFrame,
    variant: Variant,
    full: Result,
    models: Sequence[Any],
    splits: Sequence[Any],
    *,
    seed: int,
    ks: Sequence[int] = LEARNING_KS,
) -> list[dict[str, Any]]:
    """Held-out outlets represented by k sampled articles (fold models trained on all articles of the others)."""
    from scorer.cv import coverage, mae, mean_sd, spearman
    from scorer.matrix import subsample_articles
    from scorer.two_layer import predict_two_layer

    ev = data.ev
    rows_out = []
    n_rep = full.oof.shape[0]
    for k in ks:
        eligible = ev.n_articles >= k
        names = [o for o, e in zip(ev.outlets, eligible, strict=True) if e]
        stats: dict[str, list[float]] = {"rho": [], "mae": [], "rho_full": [], "cov": [], "width": []}
        for r in range(n_rep):
            sub = subsample_articles(feats, k=k, seed=seed + 1000 * r, outlets=names)
            sub_data = subset_data(data, sub)
            pred, lo, hi = (np.full(len(ev.y), np.nan) for _ in range(3))
            for s, (model, thresholds) in zip(splits, models, strict=True):
                if s.repeat != r:
                    continue
                test = s.test[eligible[s.test]]
                if not len(test):
                    continue
                ratings = {ev.outlets[i]: float(ev.y[i]) for i in s.train}
                x = variant_text(sub_data, variant)
                out = predict_two_layer(model, fold_inputs(sub_data, model, test, x, ratings), thresholds=thresholds)
                pred[test] = np.clip(out["pred"].to_numpy(), 0, 1)
                lo[test], hi[test] = out["low"].to_numpy(), out["high"].to_numpy()
            e = eligible
            stats["rho"].append(spearman(pred[e], ev.y[e]))
            stats["mae"].append(mae(pred[e], ev.y[e]))
            stats["rho_full"].append(spearman(full.oof[r][e], ev.y[e]))
            stats["cov"].append(coverage(lo[e], hi[e], ev.y[e]))
            stats["width"].append(float(np.median(hi[e] - lo[e])))
        row: dict[str, Any] = {"k": k, "n_outlets": int(eligible.sum())}
        row.update({key: mean_sd(v) for key, v in stats.items()})
        rows_out.append(row)
        log.info("learning curve k=%d: rho %.3f (all articles %.3f)", k, row["rho"][0], row["rho_full"][0])
    return rows_out


def representation_cost(
    articles: pl.DataFrame, builders: dict[str, Callable[[pl.DataFrame], sp.csr_matrix]]
) -> dict[str, tuple[float, float, float]]:
    """Articles/s (one thread) and the counts matrix's size in MB per 10k articles, for each representation."""
    sample = articles.head(5000)
    out = {}
    for name, build in builders.items():
        t = time.perf_counter()
        counts = build(sample)
        seconds = time.perf_counter() - t  # timed without tracemalloc, which slows tokenising several-fold
        tracemalloc.start()
        build(sample)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = (counts.data.nbytes + counts.indices.nbytes + counts.indptr.nbytes) / 1e6 * 10_000 / sample.height
        out[name] = (sample.height / seconds, peak / 1e6 * 10_000 / sample.height, size)
    return out


def fit_final(data: Data, *, seed: int, model_out: Path | None) -> FinalModel:
    """The two-layer model on every labelled outlet, its grade thresholds (inner out-of-fold predictions vs MBFC);
    written to `model_out` as JSON data when given."""
    from scorer.combine import choose_thresholds
    from scorer.two_layer import cited_rating_rows, fit_two_layer

    ev = data.ev
    ratings = {o: float(v) for o, v in zip(ev.outlets, ev.y, strict=True)}
    rows = data.rows.join(
        cited_rating_rows(data.cues, ev.outlets, ratings), on="outlet", how="left", maintain_order="left"
    )
    final = fit_two_layer(
        variant_text(data, SCORER),
        data.doc_group,
        ev.y,
        rows.select([*data.cue_features, "cited_rating"]),
        ratings=ratings,
        seed=seed,
        weight=PUBLISHED_WEIGHT,
    )
    final_thresholds = choose_thresholds(final.inner_oof, ev.mbfc_grade)
    if model_out is not None:
        model_out.write_text(json.dumps(final.to_dict()) + "\n", encoding="utf-8")
    return FinalModel(final, final_thresholds)


def mission_cues(data: Data, final: FinalModel, *, seed: int) -> list[MissionCue]:
    """Each MISSION_CUES cue's outlet-level Spearman with the labels alone (its shrunk outlet mean; cited_rating
    from every other outlet's label) and its coefficient in the shipped cue model and in the cue model with the
    claim cues, both fitted on every labelled outlet."""
    from evaluation.crossval import fit_fold
    from scorer.cv import spearman
    from scorer.two_layer import cited_rating_rows

    ev = data.ev
    ratings = {o: float(v) for o, v in zip(ev.outlets, ev.y, strict=True)}
    rows = data.rows.join(
        cited_rating_rows(data.cues, ev.outlets, ratings), on="outlet", how="left", maintain_order="left"
    )
    variant = Variant(CUE_CLAIMS, text=None, cue_features="claims", weight=0.0)
    with_claims, _ = fit_fold(data, variant, np.arange(len(ev.outlets)), seed=seed)

    def coefficients(model: Any) -> dict[str, float]:
        return {str(n): float(c) for n, c in zip(model.feature_names_in_, model.coef_, strict=True)}

    shipped, claims = coefficients(final.model.cue), coefficients(with_claims.cue)
    return [
        MissionCue(
            name,
            FEATURE_DIRECTIONS.get(name, 0),
            spearman(rows[name].cast(pl.Float64).to_numpy(), ev.y) if name in rows.columns else float("nan"),
            shipped.get(name),
            claims.get(name),
        )
        for name in MISSION_CUES
    ]
