"""`presstrust score`: every outlet of the window scored with a fitted model, and the scores written.

Each outlet's score and interval come from per-outlet aggregates of stored per-article numbers
(jobs/stages/model_inputs.py; no resampling). Outlets whose articles are mostly not English get status
`unsupported_language` and no score; outlets with fewer than min_articles English articles get a score but
no grade (`insufficient_data`). outlet_scores and its publications row are written in one transaction, unless
the guard below refuses: then nothing is written.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from jobs.infra.clock import now_utc
from jobs.infra.failpoints import failpoint
from jobs.readers.labels import load_labels
from jobs.readers.outlets import OutletResolver
from jobs.stages.model_inputs import (
    ESTIMATOR,
    cited_outlets,
    ensure_article_cues,
    ensure_text_scores,
    fold_model_id,
    is_english,
    outlet_rows,
    window_articles,
)
from jobs.store.runs import failure_recorded, finish_run, start_run
from jobs.store.transactions import transaction
from scorer.cues import CITED_RATING
from scorer.grades import SCORE_THRESHOLDS
from scorer.text import group_stats, text_sample
from scorer.text_layer import TextLayer
from scorer.two_layer import TwoLayerModel, cited_rating_rows, factor_table, predict_two_layer

log = logging.getLogger(__name__)

PUBLISHED_DIGITS = 6
STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient_data"
STATUS_LANGUAGE = "unsupported_language"
CLIPPED = "clipped to 0-100"


class EmptyWindow(ValueError):
    """The window holds no featurized article: there is nothing to score or publish."""


class NoModel(LookupError):
    """No fitted model to score with."""


MIN_KEPT_SHARE = 0.5  # docs/operations.md


class ShrinkRefused(RuntimeError):
    """Writing these scores would shrink latest_scores below MIN_KEPT_SHARE of the previous publication: refused
    (exit 4) unless the operator passes `--allow-shrink`."""


def check_shrink(con: duckdb.DuckDBPyConnection, n_outlets: int, *, allow_shrink: bool) -> None:
    """The guard before writing scores: a cron job whose feed died, or a mistyped `--as-of` (2099), would otherwise
    publish a handful of outlets in place of the whole table, and `latest_scores` would silently lose the rest.

    Raise ShrinkRefused when n_outlets < MIN_KEPT_SHARE x the previous publication's (unless allowed)."""
    row = con.execute("SELECT n_outlets, as_of FROM publications ORDER BY published_at DESC, run_id DESC LIMIT 1")
    previous = row.fetchall()
    if not previous:
        return
    before, as_of = int(previous[0][0]), previous[0][1]
    needed = math.ceil(MIN_KEPT_SHARE * before)
    if n_outlets >= needed:
        return
    message = (
        f"refusing to publish {n_outlets} outlets where the previous publication (as of {as_of}) had {before}: "
        f"fewer than {MIN_KEPT_SHARE:.0%} would remain. Is the feed still arriving, and is --as-of right? "
        "Pass --allow-shrink to publish anyway"
    )
    if allow_shrink:
        log.warning("%s (--allow-shrink: publishing)", message.split(". Pass")[0])
        return
    raise ShrinkRefused(message)


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
    mean = se = distance = np.full(len(outlets), np.nan)
    if s.height:
        index = {o: i for i, o in enumerate(outlets)}
        group = np.array([index[o] for o in s["outlet"].to_list()])
        mean, se, _ = group_stats(s["contribution"].to_numpy(), group, len(outlets))
        with_coords = s["coords"].is_not_null().to_numpy()
        if model.text is not None and model.text.has_coords and with_coords.any():
            stored = s.filter(pl.Series(with_coords))["coords"]
            coords = stored.list.to_array(stored.list.len().max()).to_numpy().astype(np.float64)  # type: ignore[arg-type]
            distance = model.text.outlet_distance(coords, group[with_coords], len(outlets))
    # the score and its sampling error come from the English articles only
    inputs = rows.with_columns(
        pl.Series("text_mean", mean),
        pl.Series("text_se", se),
        pl.Series("text_distance", distance),
        pl.col("n_english").alias("n_articles"),
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
    model, else the fold model's number), contribution (stored s_i), coords (stored, or null); `cited`: article_id,
    outlet, cited_outlets.
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
    ordered = _ordered_factors([factors[o] for o in out["outlet"].to_list()], has_score, score, 100 * pred)
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


def _ordered_factors(
    factors: list[list[dict[str, Any]]], has_score: np.ndarray, score: np.ndarray, unclipped: np.ndarray
) -> list[list[dict[str, Any]] | None]:
    """Each outlet's factors, largest first, with a last one for the clipping to 0-100 (none without a score)."""
    ordered: list[list[dict[str, Any]] | None] = []
    for i, rows_i in enumerate(factors):
        if not has_score[i]:
            ordered.append(None)
            continue
        rows_i = sorted(rows_i, key=lambda f: -abs(f["contribution"]))
        if score[i] != unclipped[i]:  # the published score is clipped to 0-100: say by how much
            rows_i.append({"feature": CLIPPED, "value": None, "contribution": float(score[i] - unclipped[i])})
        ordered.append(rows_i)
    return ordered


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
    """Score every outlet of the window with a stored model; write the scores and their publications row in one
    transaction (readers see them once the snapshot is published, jobs/stages/publish.py).

    Refused (ShrinkRefused) when it would publish under half of the previous publication's outlets, unless
    allow_shrink (`check_shrink`).
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
        scores = score_frame(model, articles, text_scores, cited_outlets(con, articles), min_articles=min_articles)
        labels = load_labels(Path(label_file), resolver=resolver) if Path(label_file).exists() else None
        if labels is not None:
            scores = scores.join(labels.select("outlet", "label_score"), on="outlet", how="left")
        else:
            scores = scores.with_columns(label_score=pl.lit(None, dtype=pl.Float64))
        _write_scores(con, scores, run_id=run_id, model_id=chosen, as_of=as_of, window_days=window_days)
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
    """(article_id, fold, contribution, coords) of the English articles, each under the model that scores its outlet.

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
        "SELECT article_id, model_id, contribution, coords FROM article_text_scores "
        "WHERE list_contains($ids, model_id)",
        params={"ids": sorted(ids)},
    ).pl()
    mapping = pl.DataFrame(
        {"model_id": list(fold_of_id), "fold": list(fold_of_id.values())},
        schema={"model_id": pl.String, "fold": pl.Int64},
    )
    frame = frame.join(mapping, on="model_id").select("article_id", "fold", "contribution", "coords")
    return frame, new


def _write_scores(
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
            failpoint("score.before_commit")
    finally:
        con.unregister("_scores")
