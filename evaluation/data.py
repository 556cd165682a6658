"""The evaluation's data: the shared corpora and label files, and the evaluation set (the labelled outlets).

Every shared corpus is read (`corpora/allsides_2012_2020.parquet`, `corpora/extra_2010_2021.parquet`,
`corpora/pac_story_pairs.jsonl.gz`), outlets canonicalised by the OutletResolver (PAC's outlet names through
jobs/data/outlet_aliases.csv). MBFC and Baly grades are read for evaluation only; lean only to audit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import polars as pl

from jobs.readers.labels import load_labels
from jobs.readers.outlets import OutletResolver

log = logging.getLogger("evaluation")

CORPUS = Path("corpora") / "allsides_2012_2020.parquet"
EXTRA = Path("corpora") / "extra_2010_2021.parquet"
PAC = Path("corpora") / "pac_story_pairs.jsonl.gz"
MBFC = Path("labels") / "mbfc_2026.csv"
BALY = Path("labels") / "baly_acl2020_corpus.tsv"
COVID = r"(?i)covid|coronavirus|corona-virus|sars-cov|pandemi"


def data_dir(shared: Path) -> Path:
    """The folder holding corpora/ and labels/: `shared`/data, or `shared` itself."""
    return shared / "data" if (shared / "data").is_dir() else shared


def _authors(col: str) -> pl.Expr:
    return (
        pl.col(col)
        .fill_null("")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
        .alias("authors")
    )


def _date(col: str) -> pl.Expr:
    return pl.col(col).str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")).alias("published_at")


def load_corpus(path: Path, resolver: OutletResolver) -> pl.DataFrame:
    """AllSides articles: article_id, outlet (canonical domain), title, text, authors (list), published_at, lean."""
    raw = pl.read_parquet(path)
    hosts = {d: resolver.resolve_host(d) for d in raw["domain"].drop_nulls().unique().to_list()}
    out = raw.select(
        pl.col("id").cast(pl.String).alias("article_id"),
        pl.col("domain").replace_strict(hosts, default=None, return_dtype=pl.String).alias("outlet"),
        pl.col("title").fill_null(""),
        pl.col("text").fill_null(""),
        _authors("authors"),
        _date("date"),
        pl.col("allsides_bias").alias("lean"),
    )
    dropped = out.filter(pl.col("outlet").is_null()).height
    if dropped:
        log.warning("%d articles without a resolvable domain dropped", dropped)
    return out.filter(pl.col("outlet").is_not_null())


def load_all_corpora(data: Path, resolver: OutletResolver) -> pl.DataFrame:
    """Every shared corpus: load_corpus's columns + language, corpus, topic (AllSides/PAC topic, else null)."""
    allsides = pl.read_parquet(data / CORPUS)
    extra = pl.read_parquet(data / EXTRA)
    pac = pl.read_ndjson(data / PAC)
    a_hosts = {d: resolver.resolve_host(d) for d in allsides["domain"].drop_nulls().unique().to_list()}
    e_hosts = {d: resolver.resolve_host(d) for d in extra["domain"].drop_nulls().unique().to_list()}
    names = {n: resolver.resolve(n) for n in pac["outlet"].drop_nulls().unique().to_list()}
    unresolved = sorted(n for n, v in names.items() if v is None)
    if unresolved:
        log.info("PAC outlet names without an outlet (bylines/placeholders, dropped): %s", ", ".join(unresolved))
    common = ["article_id", "outlet", "title", "text", "authors", "published_at", "lean", "language", "corpus", "topic"]
    parts = [
        allsides.select(
            pl.col("id").cast(pl.String).alias("article_id"),
            pl.col("domain").replace_strict(a_hosts, default=None, return_dtype=pl.String).alias("outlet"),
            pl.col("title").fill_null(""),
            pl.col("text").fill_null(""),
            _authors("authors"),
            _date("date"),
            pl.col("allsides_bias").alias("lean"),
            pl.lit("en").alias("language"),
            pl.lit("allsides").alias("corpus"),
            pl.col("topic").cast(pl.String),
        ),
        extra.select(
            pl.col("id").cast(pl.String).alias("article_id"),
            pl.col("domain").replace_strict(e_hosts, default=None, return_dtype=pl.String).alias("outlet"),
            pl.col("title").fill_null(""),
            pl.col("text").fill_null(""),
            _authors("authors"),
            _date("date"),
            pl.lit(None, dtype=pl.String).alias("lean"),
            pl.col("language"),
            pl.col("corpus"),
            pl.lit(None, dtype=pl.String).alias("topic"),
        ),
        pac.select(
            ("pac-" + pl.col("id").cast(pl.String)).alias("article_id"),
            pl.col("outlet").replace_strict(names, default=None, return_dtype=pl.String).alias("outlet"),
            pl.col("title").fill_null(""),
            pl.col("text").fill_null(""),
            pl.lit([], dtype=pl.List(pl.String)).alias("authors"),
            _date("date"),
            pl.lit(None, dtype=pl.String).alias("lean"),
            pl.lit("en").alias("language"),
            pl.lit("pac").alias("corpus"),
            pl.col("topic").cast(pl.String),
        ),
    ]
    out = pl.concat([p.select(common) for p in parts], how="vertical_relaxed")
    out = out.filter(pl.col("outlet").is_not_null()).unique("article_id", keep="first", maintain_order=True)
    return out.with_columns(
        (pl.col("title") + " " + pl.col("text").str.slice(0, 3000)).str.contains(COVID).alias("covid")
    )


@dataclass
class Corpora:
    """Every shared corpus and the label files, as the run reads them."""

    everything: pl.DataFrame  # load_all_corpora: every language
    english: pl.DataFrame  # its English articles
    labels: pl.DataFrame  # the training labels
    mbfc: pl.DataFrame | None  # MBFC 2026 grades (evaluation only); None: no such file
    baly: pl.DataFrame | None  # Baly et al. grades (evaluation only); None: no such file


def load_corpora(shared: Path, *, labels_path: Path, score_column: str | None) -> Corpora:
    """The corpora of `shared` with the training labels of `labels_path` and the evaluation-only grades."""
    resolver = OutletResolver.default()
    data = data_dir(shared)
    everything = load_all_corpora(data, resolver)
    labels = load_labels(labels_path, resolver=resolver, score_column=score_column)
    mbfc = load_labels(data / MBFC, resolver=resolver) if (data / MBFC).exists() else None
    baly = load_labels(data / BALY, resolver=resolver) if (data / BALY).exists() else None
    return Corpora(everything, everything.filter(pl.col("language") == "en"), labels, mbfc, baly)


@dataclass
class EvalSet:
    """The labelled outlets with >= min_articles articles, in a fixed order (sorted by outlet)."""

    outlets: list[str]
    y: np.ndarray  # training label score in [0, 1]
    right_share: np.ndarray  # share of the outlet's AllSides articles rated right-leaning (audit only; NaN: none)
    n_articles: np.ndarray
    mbfc_grade: list[str | None]
    baly_grade: list[str | None] = field(default_factory=list)
    mbfc_score: np.ndarray | None = None  # MBFC grade mapped to [0, 1] (jobs.readers.labels.GRADE_SCORES)
    covid_share: np.ndarray | None = None  # share of the outlet's articles about COVID-19 (topic audit)
    german_share: np.ndarray | None = None  # share of German articles (language audit)
    main_corpus: list[str] = field(default_factory=list)  # the corpus most of its articles come from
    corpora: list[tuple[str, ...]] = field(default_factory=list)  # every corpus it has articles in (sorted)

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
    aggs = [pl.len().alias("n"), (pl.col("lean") == "right").mean().alias("right_share")]
    if "covid" in articles.columns:
        aggs.append(pl.col("covid").cast(pl.Float64).mean().alias("covid_share"))
    if "language" in articles.columns:
        aggs.append((pl.col("language") == "de").cast(pl.Float64).mean().alias("german_share"))
    if "corpus" in articles.columns:
        aggs.append(pl.col("corpus").mode().sort().first().alias("main_corpus"))
        aggs.append(pl.col("corpus").unique().sort().alias("corpora"))
    per_outlet = articles.group_by("outlet").agg(aggs)
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

    def arr(name: str) -> np.ndarray | None:
        return table[name].cast(pl.Float64).to_numpy().astype(float) if name in table.columns else None

    return EvalSet(
        outlets=table["outlet"].to_list(),
        y=table["label_score"].to_numpy().astype(float),
        right_share=table["right_share"].cast(pl.Float64).fill_null(float("nan")).to_numpy().astype(float),
        n_articles=table["n"].to_numpy(),
        mbfc_grade=table["mbfc"].to_list() if "mbfc" in table.columns else [None] * table.height,
        baly_grade=table["baly"].to_list() if "baly" in table.columns else [None] * table.height,
        mbfc_score=arr("mbfc_score"),
        covid_share=arr("covid_share"),
        german_share=arr("german_share"),
        main_corpus=table["main_corpus"].to_list() if "main_corpus" in table.columns else [],
        corpora=[tuple(c) for c in table["corpora"].to_list()] if "corpora" in table.columns else [],
    )


def subset_eval_set(ev: EvalSet, idx: np.ndarray) -> EvalSet:
    """The outlets `idx` of `ev` (in that order), every per-outlet field with them."""
    picked: dict[str, object] = {}
    for f in fields(ev):
        value = getattr(ev, f.name)
        if isinstance(value, np.ndarray):
            picked[f.name] = value[idx]
        elif isinstance(value, list) and len(value) == len(ev.outlets):
            picked[f.name] = [value[i] for i in idx]
        else:
            picked[f.name] = value
    return EvalSet(**picked)  # type: ignore[arg-type]
