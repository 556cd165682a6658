"""What the cross-validation reads: per-article features and cues, per-outlet rows, hashed text representations.

`prepare` turns the articles of the labelled outlets into a `Data` (the outlets in the evaluation set's order);
`subset_data` restricts one to some articles (the learning curve). Boilerplate lines are those that repeat
within an outlet (features.boilerplate); `boilerplate=` an empty table keeps them (the boilerplate audit).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from evaluation.claim_cues import claim_shares
from evaluation.data import EvalSet, build_eval_set
from jobs.readers.outlets import citation_names
from scorer.inputs import CLAIM_CUES

log = logging.getLogger("evaluation")

REPRESENTATION_NAMES = {
    "word_title": "word 1-2-gram TF-IDF of titles",
    "char_title": "char 3-5-gram TF-IDF of titles",
    "word_lead": "word 1-2-gram TF-IDF of title + first 1,500 body characters",
    "word_body": "word unigram TF-IDF of title + whole body (boilerplate lines removed)",
}
CHOSEN_TEXT = "word_body"
HEAVY = ("word_lead", "char_title")  # alternatives only (slow under CV): --quick leaves them out


def representations(*, quick: bool) -> list[str]:
    """The text representations a run compares (REPRESENTATION_NAMES' order; --quick: without HEAVY)."""
    return [k for k in REPRESENTATION_NAMES if not (quick and k in HEAVY)]


@dataclass
class Data:
    """Everything the CV reads, for the outlets of `ev` (in its order)."""

    ev: EvalSet
    rows: pl.DataFrame  # per outlet: n_articles, cue features (shrunk means), {f}__sd
    cue_features: list[str]
    cues: pl.DataFrame  # per article: outlet, cited_outlets
    counts: dict[str, sp.csr_matrix]  # text representation -> hashed counts of the outlets' articles
    doc_group: np.ndarray  # article row -> outlet index
    article_ids: list[str]
    vectors: np.ndarray | None = None  # static embedding of each article's body text (the product's text layer)
    claim_features: list[str] = field(default_factory=list)  # claim cues in `rows`, read by the "claims" variants


def boilerplate_table(articles: pl.DataFrame) -> pl.LazyFrame:
    from features.boilerplate import repeated_lines

    return repeated_lines(articles.select("article_id", "outlet", "title", "text").lazy()).collect().lazy()


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


def prepare(
    articles: pl.DataFrame,
    labels: pl.DataFrame,
    mbfc: pl.DataFrame | None,
    baly: pl.DataFrame | None,
    *,
    min_articles: int,
    boilerplate: pl.LazyFrame | None = None,
    representations: Sequence[str] = ("word_title", "char_title", "word_lead", "word_body"),
) -> tuple[Data, pl.DataFrame]:
    """Features, cues and hashed text of `articles` for their labelled outlets; returns (Data, per-article feats)."""
    from scorer.text import text_sample

    ev = build_eval_set(articles, labels, mbfc, baly, min_articles=min_articles)
    bp = boilerplate_table(articles) if boilerplate is None else boilerplate
    feats, features, cues = features_and_cues(articles, bp)
    feats = feats.join(claim_shares(articles, bp), on="article_id", how="left")
    # the text layer reads each outlet's most recent TEXT_ARTICLES_PER_OUTLET articles, as the product does
    # (the same text selection as scorer.text.text_of)
    docs = text_sample(articles.filter(pl.col("outlet").is_in(ev.outlets)))
    index = {o: i for i, o in enumerate(ev.outlets)}
    doc_group = np.array([index[o] for o in docs["outlet"].to_list()], dtype=np.int64)
    counts = text_counts(docs, bp, representations)
    vectors = body_vectors(docs, bp)
    rows = outlet_rows(feats, ev.outlets, [*features, *CLAIM_CUES])
    per_article_cues = cues.join(articles.select("article_id", "outlet"), on="article_id").select(
        "article_id", "outlet", "cited_outlets"
    )
    data = Data(
        ev, rows, features, per_article_cues, counts, doc_group, docs["article_id"].to_list(), vectors, list(CLAIM_CUES)
    )
    return data, feats


def features_and_cues(articles: pl.DataFrame, bp: pl.LazyFrame) -> tuple[pl.DataFrame, list[str], pl.DataFrame]:
    """Per-article features joined with the punctuation cues, the model's feature columns, and the cues
    (with each article's cited outlets)."""
    from scorer.cues import PUNCTUATION, article_cues, citation_patterns
    from scorer.inputs import model_feature_columns

    t = time.time()
    feats = per_article_features(articles, bp)
    features = model_feature_columns(feats)
    cues = article_cues(
        articles.select("article_id", "text").lazy(), patterns=citation_patterns(citation_names())
    ).collect()
    feats = feats.join(cues.drop("cited_outlets"), on="article_id", how="left")
    features = [*features, *PUNCTUATION]
    log.info("features of %d articles in %.0f s", articles.height, time.time() - t)
    return feats, features, cues


def text_counts(docs: pl.DataFrame, bp: pl.LazyFrame, representations: Sequence[str]) -> dict[str, sp.csr_matrix]:
    """Hashed counts of `docs` in each representation; the body one without boilerplate lines."""
    from scorer.text import hashed_counts

    builders = text_builders()
    counts = {name: builders[name](docs) for name in representations if name != "word_body"}
    if "word_body" in representations:
        body = (docs["title"] + " \n " + kept_texts(docs, bp)).to_list()
        counts["word_body"] = hashed_counts(body, analyzer="word1")
    return counts


def body_vectors(docs: pl.DataFrame, bp: pl.LazyFrame) -> np.ndarray:
    """The static embedding of each doc's title + body without boilerplate lines, as the product's text layer reads
    it (scorer.text_layer.text_matrix)."""
    from features.embedding import load_static_embedding
    from scorer.text_layer import EMBED_WORDS

    t = time.time()
    body = (docs["title"] + " \n " + kept_texts(docs, bp)).to_list()
    vectors = load_static_embedding().embed(body, max_words=EMBED_WORDS)
    log.info("embedded %d articles in %.0f s", len(body), time.time() - t)
    return vectors


def text_builders() -> dict[str, Callable[[pl.DataFrame], sp.csr_matrix]]:
    from scorer.text import hashed_counts, text_of

    return {
        "word_title": lambda d: hashed_counts(text_of(d, "title"), analyzer="word"),
        "char_title": lambda d: hashed_counts(text_of(d, "title"), analyzer="char"),
        "word_lead": lambda d: hashed_counts(text_of(d, "title_lead"), analyzer="word"),
        "word_body": lambda d: hashed_counts((d["title"] + " \n " + d["text"]).to_list(), analyzer="word1"),
    }


def subset_data(data: Data, sub: pl.DataFrame) -> Data:
    """`data` restricted to the articles of `sub` (cue matrix recomputed, count rows selected)."""
    keep_ids = set(sub["article_id"].to_list())
    mask = np.array([a in keep_ids for a in data.article_ids])
    rows = outlet_rows(sub, data.ev.outlets, [*data.cue_features, *data.claim_features])
    return Data(
        ev=data.ev,
        rows=rows,
        cue_features=data.cue_features,
        cues=data.cues.filter(pl.col("article_id").is_in(list(keep_ids))),
        counts={k: v[np.flatnonzero(mask)] for k, v in data.counts.items()},
        doc_group=data.doc_group[mask],
        article_ids=[a for a, m in zip(data.article_ids, mask, strict=True) if m],
        vectors=None if data.vectors is None else data.vectors[mask],
        claim_features=data.claim_features,
    )


def restrict_outlets(data: Data, idx: np.ndarray) -> Data:
    """`data` for the outlets `idx` only (in that order): their rows, cues, articles and evaluation set."""
    from evaluation.data import subset_eval_set

    idx = np.asarray(idx, dtype=np.int64)
    names = [data.ev.outlets[i] for i in idx]
    remap = np.full(len(data.ev.outlets), -1, dtype=np.int64)
    remap[idx] = np.arange(len(idx))
    docs = np.flatnonzero(remap[data.doc_group] >= 0)
    return Data(
        ev=subset_eval_set(data.ev, idx),
        rows=data.rows[idx.tolist()],
        cue_features=data.cue_features,
        cues=data.cues.filter(pl.col("outlet").is_in(names)),
        counts={k: v[docs] for k, v in data.counts.items()},
        doc_group=remap[data.doc_group[docs]],
        article_ids=[data.article_ids[i] for i in docs],
        vectors=None if data.vectors is None else data.vectors[docs],
        claim_features=data.claim_features,
    )


def outlet_rows(feats: pl.DataFrame, outlets: Sequence[str], features: Sequence[str]) -> pl.DataFrame:
    """Per outlet (in `outlets` order): n_articles, shrunk means and `{f}__sd` of the per-article features."""
    from scorer.matrix import outlet_matrix

    matrix = outlet_matrix(
        feats.select("article_id", "outlet", *features), features=features, value=("shrunk_mean", "sd")
    )
    order = pl.DataFrame({"outlet": list(outlets)})
    return order.join(matrix, on="outlet", how="left", maintain_order="left").with_columns(
        pl.col("n_articles").fill_null(0)
    )
