"""Story clustering and corroboration features for news outlets.

A reliable outlet's stories are confirmed by other, independent outlets; a low-reliability
outlet's are often exclusive, or copied from one origin.  This module

1. clusters articles into *stories* across outlets (online centroid clustering in time order
   over TF-IDF vectors of title + lead, within a sliding time window),
2. marks near-copies (binary word-5-gram shingle containment) as copies of their earliest
   version inside the story,
3. derives per-article, per-story and per-outlet corroboration features,
4. computes the time window that new articles can touch, so a job can re-cluster only that
   window (story ids are stable: ``'s_' + earliest article id``).
5. streams dated articles in time order (``StoryStream``), batch by batch, with the same result
   as one call and a state bounded by the stories still open in the window; the text model of a
   corpus too large for memory comes from document frequencies summed over batches.

Pure code: Polars, NumPy, SciPy (sparse) and scikit-learn's stop-word list; no I/O, no clock,
deterministic (output does not depend on input row order).  See ``docs/corroboration.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
import polars as pl
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = [
    "ARTICLE_SCHEMA",
    "STORY_SCHEMA",
    "OUTLET_SCHEMA",
    "CorroborationConfig",
    "DEFAULT_CONFIG",
    "TextModel",
    "CorroborationResult",
    "fit_text_model",
    "document_frequencies",
    "merge_frequencies",
    "text_model_from_frequencies",
    "StoryStream",
    "vectorize",
    "assign_stories",
    "story_table",
    "outlet_stats",
    "corroboration",
    "recluster_plan",
    "ReclusterPlan",
    "update_stories",
]

# --------------------------------------------------------------------------------------------
# Declared output schemas
# --------------------------------------------------------------------------------------------

ARTICLE_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "outlet": pl.String(),
    "published_at": pl.Datetime("us"),  # normalised: tz-aware input is converted to naive UTC
    "undated": pl.Boolean(),
    "story_id": pl.String(),
    "n_corroborating_outlets": pl.UInt32(),
    "is_first_report": pl.Boolean(),  # null for undated articles (order unknown)
    "copy_of": pl.String(),  # earliest version this article is a near-copy of, else null
}

STORY_SCHEMA: dict[str, pl.DataType] = {
    "story_id": pl.String(),
    "undated": pl.Boolean(),
    "first_published_at": pl.Datetime("us"),
    "last_published_at": pl.Datetime("us"),
    "n_articles": pl.UInt32(),
    "n_outlets": pl.UInt32(),
    "n_independent_outlets": pl.UInt32(),  # distinct outlets among non-copy articles
}

OUTLET_SCHEMA: dict[str, pl.DataType] = {
    "outlet": pl.String(),
    "articles_n": pl.UInt32(),
    "stories_n": pl.UInt32(),
    "corroborated_n": pl.UInt32(),
    "exclusive_n": pl.UInt32(),
    "dated_stories_n": pl.UInt32(),
    "first_report_n": pl.UInt32(),
    "copies_n": pl.UInt32(),
    "corroborated_share": pl.Float64(),  # corroborated_n / stories_n
    "exclusive_share": pl.Float64(),  # exclusive_n / stories_n
    "first_report_share": pl.Float64(),  # first_report_n / dated_stories_n
    "copy_share": pl.Float64(),  # copies_n / articles_n
}

_REQUIRED = ("article_id", "outlet", "published_at", "title", "text")
_TOKEN_RE = r"[\p{L}\p{N}]+"
_HASH_SEED = 7
_STOP_HASHES = pl.Series("stop", sorted(ENGLISH_STOP_WORDS), dtype=pl.String).hash(_HASH_SEED)
_PARALLEL_SLICES = 4
# characters sliced per wanted word before tokenising (news English averages ~6 per word with
# spaces and punctuation): the regex then scans ~1.3x the needed text, not the whole article
_CHARS_PER_WORD = 8


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorroborationConfig:
    """Thresholds and knobs.  Defaults were tuned on PAC pairs mixed into AllSides (see doc)."""

    window: timedelta = timedelta(days=2)
    """An article may join a story whose latest article is at most this much older."""
    max_story_span: timedelta | None = timedelta(days=7)
    """An article may not join a story whose first article is older than this (None: no cap).
    Bounds drift of long-running topics into one mega-story."""
    join_threshold: float = 0.025
    """Minimum cosine similarity between a dated article and a story centroid to join it."""
    undated_join_threshold: float = 0.05
    """The same for undated articles, matched on text alone (no time window: stricter)."""
    lead_words: int = 200
    """Words of the body used, after the title, for the story representation."""
    size_penalty: float = 0.03
    """Subtracted, times log2(story size), from the similarity to a story: big stories are
    harder to join, which keeps topic-of-the-week clusters from growing without bound."""
    bigrams: bool = True
    """Add bigrams of consecutive content words to the unigram terms."""
    min_terms: int = 5
    """Articles with fewer vocabulary terms (e.g. a one-line brief, or mostly words unknown to a
    frozen TextModel) stay alone: a vector of two generic words would match anything."""
    min_df: int = 2
    """Terms in fewer documents are dropped (they cannot link two articles)."""
    max_df: float = 1.0
    """Terms in more than this share of documents are dropped (1.0: none; IDF already gives
    them little weight, and on small batches a cut would drop a story's shared words)."""
    copy_candidate_cosine: float = 0.15
    """Only same-story pairs at least this similar (title + lead) are compared for copying."""
    copy_threshold: float = 0.5
    """Shingle containment |A & B| / min(|A|, |B|) at or above which the later article is a copy."""
    shingle_size: int = 5
    copy_max_words: int = 400
    """Only the first words of each body are shingled (copies share their beginning; footers
    and page boilerplate at the end are skipped)."""
    min_shingles: int = 10
    """Articles with fewer shingles are never marked as copies (too short to tell)."""
    block_size: int = 512
    """Articles per processing block (consecutive in time). Affects speed and memory only,
    not the result (up to float rounding)."""

    def __post_init__(self) -> None:
        if self.window < timedelta(0):
            raise ValueError("window must be >= 0")
        if not (0.0 < self.join_threshold <= 1.0 and 0.0 < self.undated_join_threshold <= 1.0):
            raise ValueError("join thresholds must be in (0, 1]")
        if not 0.0 < self.copy_threshold <= 1.0:
            raise ValueError("copy_threshold must be in (0, 1]")
        if self.lead_words < 0 or self.shingle_size < 1 or self.block_size < 1:
            raise ValueError("lead_words >= 0, shingle_size >= 1, block_size >= 1 required")


DEFAULT_CONFIG = CorroborationConfig()


@dataclass(frozen=True, eq=False)
class TextModel:
    """A frozen vocabulary with IDF weights: fit once and reuse it to keep vectors stable.

    Terms are stored as u64 hashes (Polars' hash, stable within one Polars version): keep a
    model in memory or refit it; do not persist it across Polars upgrades.
    """

    hashes: np.ndarray = field(repr=False)  # sorted u64 term hashes, column order
    idf: np.ndarray = field(repr=False)  # float32, one per column
    n_documents: int
    lead_words: int
    bigrams: bool

    @property
    def n_terms(self) -> int:
        return len(self.hashes)


class CorroborationResult(NamedTuple):
    articles: pl.DataFrame  # ARTICLE_SCHEMA
    stories: pl.DataFrame  # STORY_SCHEMA
    outlets: pl.DataFrame  # OUTLET_SCHEMA


# --------------------------------------------------------------------------------------------
# Input normalisation
# --------------------------------------------------------------------------------------------


def _prepare(articles: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Validate, normalise types and sort into processing order.

    Processing order: dated articles by (published_at, article_id), then undated ones by
    (corpus, article_id).  Column ``_i`` is the row position in that order.
    """
    df = articles.collect() if isinstance(articles, pl.LazyFrame) else articles
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"articles lack required columns: {missing}")
    ts = df.schema["published_at"]
    if ts == pl.Date:
        pub = pl.col("published_at").cast(pl.Datetime("us"))
    elif isinstance(ts, pl.Datetime):
        pub = pl.col("published_at")
        if ts.time_zone is not None:
            pub = pub.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        pub = pub.dt.cast_time_unit("us")
    elif ts == pl.Null:
        pub = pl.col("published_at").cast(pl.Datetime("us"))
    else:
        raise TypeError(f"published_at must be Datetime or Date, got {ts}")
    corpus = pl.col("corpus").cast(pl.String).fill_null("") if "corpus" in df.columns else pl.lit("", dtype=pl.String)
    out = df.select(
        pl.col("article_id").cast(pl.String),
        pl.col("outlet").cast(pl.String),
        pub.alias("published_at"),
        pl.col("title").cast(pl.String).fill_null(""),
        pl.col("text").cast(pl.String).fill_null(""),
        corpus.alias("corpus"),
    )
    if out["article_id"].null_count() or out["outlet"].null_count():
        raise ValueError("article_id and outlet must not be null")
    if out["article_id"].n_unique() != out.height:
        raise ValueError("article_id must be unique")
    out = out.with_columns(pl.col("published_at").is_null().alias("undated"))
    # dated: by (published_at, article_id); undated: by (corpus, article_id)
    group = pl.when(pl.col("undated")).then(pl.col("corpus")).otherwise(pl.lit(""))
    out = out.sort(
        [pl.col("undated"), pl.col("published_at"), group, pl.col("article_id")],
        nulls_last=True,
        maintain_order=True,
    )
    return out.with_row_index("_i")


# --------------------------------------------------------------------------------------------
# Text representation: TF-IDF over title + lead
# --------------------------------------------------------------------------------------------


def _collect_sliced(df: pl.DataFrame, query: Callable[[pl.LazyFrame], pl.LazyFrame]) -> pl.DataFrame:
    """Apply ``query`` to row slices of ``df`` collected in parallel, concatenated in order.

    One string expression runs on one core; slices let the regex tokenisers use all cores.
    """
    n = df.height
    k = _PARALLEL_SLICES if n >= 64 * _PARALLEL_SLICES else 1
    bounds = [n * j // k for j in range(k + 1)]
    src = df.lazy()
    parts = pl.collect_all([query(src.slice(bounds[j], bounds[j + 1] - bounds[j])) for j in range(k)])
    return pl.concat(parts)


def _term_hashes(df: pl.DataFrame, lead_words: int, bigrams: bool) -> tuple[np.ndarray, np.ndarray]:
    """(row, term hash) of the title + first ``lead_words`` body words of each row.

    Words are lower-cased runs of letters/digits, at least 2 bytes, minus English stop words,
    hashed to u64 (Polars' hash with a fixed seed: stable within a Polars version); with
    ``bigrams`` each pair of consecutive kept words is a term too.  The frame is tokenised in
    slices collected in parallel (one regex expression uses one core).
    """
    lead = pl.col("text").str.slice(0, lead_words * _CHARS_PER_WORD + 16).str.to_lowercase()
    lead = lead.str.extract_all(_TOKEN_RE).list.head(lead_words)
    title = pl.col("title").str.to_lowercase().str.extract_all(_TOKEN_RE)

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return (
            lf.select(pl.col("_i"), pl.concat_list(title, lead).alias("term"))
            .explode("term", empty_as_null=False, keep_nulls=False)
            .filter(pl.col("term").str.len_bytes() >= 2)
            .select("_i", pl.col("term").hash(_HASH_SEED).alias("h"))
            .filter(~pl.col("h").is_in(_STOP_HASHES.implode()))
        )

    toks = _collect_sliced(df.select("_i", "title", "text"), query)
    rows, h = toks["_i"].cast(pl.Int32).to_numpy(), toks["h"].to_numpy()
    if not bigrams or len(h) < 2:
        return rows, h
    # bigrams of consecutive kept terms (stop words skipped), hashed from the unigram hashes
    same = rows[1:] == rows[:-1]
    with np.errstate(over="ignore"):
        bh = h[:-1][same] * np.uint64(0x9E3779B97F4A7C15) + h[1:][same] + np.uint64(1)
    return np.concatenate([rows, rows[:-1][same]]), np.concatenate([h, bh])


def _count_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR of occurrence counts (duplicates summed, indices sorted)."""
    X = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape, dtype=np.float32)
    X.sum_duplicates()
    X.sort_indices()
    return X


def _weights(counts: sp.csr_matrix, idf: np.ndarray, extra_sq: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF x IDF, rows L2-normalised (empty rows stay empty).

    ``extra_sq`` adds, per row, the squared weights of the article's out-of-vocabulary terms:
    they cannot match anything but belong to the norm, so an article whose distinctive words
    are all unseen elsewhere is not reduced to (and inflated into) its few common words.
    """
    X = counts.copy()
    X.data = ((np.log(X.data) + 1.0) * idf[X.indices]).astype(np.float32)
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() + extra_sq
    inv = np.zeros_like(sq)
    np.divide(1.0, np.sqrt(sq), out=inv, where=sq > 0)
    X.data *= np.repeat(inv, np.diff(X.indptr)).astype(np.float32)
    return X


def _doc_freq(toks: pl.DataFrame) -> pl.DataFrame:
    """Per term hash ``h``, the number ``df`` (UInt32) of rows of a (_r, h) token frame holding it."""
    return toks.group_by("h").agg(pl.col("_r").n_unique().cast(pl.UInt32).alias("df"))


def _model(frequencies: pl.DataFrame, n: int, config: CorroborationConfig) -> TextModel:
    """Vocabulary (min_df/max_df) and smooth IDF from document frequencies over n documents."""
    max_df = max(config.min_df, math.floor(config.max_df * n))
    vocab = frequencies.filter((pl.col("df") >= config.min_df) & (pl.col("df") <= max_df)).sort("h")
    dfreq = vocab["df"].to_numpy()
    idf = (np.log((1.0 + n) / (1.0 + dfreq)) + 1.0).astype(np.float32)
    return TextModel(
        hashes=vocab["h"].to_numpy(),
        idf=idf,
        n_documents=n,
        lead_words=config.lead_words,
        bigrams=config.bigrams,
    )


def _fit_transform(df: pl.DataFrame, config: CorroborationConfig) -> tuple[TextModel, sp.csr_matrix]:
    """Fit the vocabulary/IDF on a prepared frame and vectorise it (one tokenisation pass)."""
    n = df.height
    rows, h = _term_hashes(df, config.lead_words, config.bigrams)
    toks = pl.DataFrame({"_r": rows, "h": h})
    model = _model(_doc_freq(toks), n, config)
    counts, extra_sq = _counts_in_vocab(toks, model, n)
    return model, _weights(counts, model.idf, extra_sq)


def document_frequencies(
    articles: pl.DataFrame | pl.LazyFrame, config: CorroborationConfig = DEFAULT_CONFIG
) -> pl.DataFrame:
    """Per term hash ``h`` (UInt64), the number ``df`` (UInt32) of ``articles`` holding it.

    Frequencies of disjoint batches add up (``merge_frequencies``): a corpus too large for
    memory, or split over workers, gets the model ``fit_text_model`` would fit on all of it
    from ``text_model_from_frequencies``.
    """
    df = _prepare(articles)
    rows, h = _term_hashes(df, config.lead_words, config.bigrams)
    return _doc_freq(pl.DataFrame({"_r": rows, "h": h}))


def merge_frequencies(parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Sum ``document_frequencies`` of disjoint batches of articles."""
    return pl.concat(list(parts)).group_by("h").agg(pl.col("df").sum().cast(pl.UInt32))


def text_model_from_frequencies(
    frequencies: pl.DataFrame, n_documents: int, config: CorroborationConfig = DEFAULT_CONFIG
) -> TextModel:
    """The ``TextModel`` of ``n_documents`` articles from their (merged) document frequencies."""
    return _model(frequencies.select(pl.col("h").cast(pl.UInt64), pl.col("df").cast(pl.UInt32)), n_documents, config)


def _counts_in_vocab(toks: pl.DataFrame, model: TextModel, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Term-count CSR over the model's vocabulary from a (_r, h) token frame, and per row the
    squared weight of its out-of-vocabulary terms (weighted as if seen in one document)."""
    V = len(model.hashes)
    cols = pl.DataFrame({"h": model.hashes, "col": np.arange(V, dtype=np.int32)})
    j = toks.join(cols, on="h", how="left")
    hit = j.filter(pl.col("col").is_not_null())
    idf_oov = math.log((1.0 + model.n_documents) / 2.0) + 1.0
    oov = (
        j.filter(pl.col("col").is_null())
        .group_by("_r", "h")
        .agg(pl.len().alias("tf"))
        .group_by("_r")
        .agg((((pl.col("tf").cast(pl.Float64).log() + 1.0) * idf_oov) ** 2).sum().alias("sq"))
    )
    extra_sq = np.zeros(n)
    extra_sq[oov["_r"].to_numpy()] = oov["sq"].to_numpy()
    counts = _count_matrix(hit["_r"].to_numpy(), hit["col"].to_numpy(), (n, max(V, 1)))
    return counts, extra_sq


def fit_text_model(articles: pl.DataFrame | pl.LazyFrame, config: CorroborationConfig = DEFAULT_CONFIG) -> TextModel:
    """Fit the vocabulary and (smooth) IDF weights on ``articles``.

    Reuse one model across runs (e.g. fitted on a reference period) to keep article vectors,
    hence story assignments, independent of what else is in a batch.
    """
    return _fit_transform(_prepare(articles), config)[0]


def vectorize(df: pl.DataFrame, model: TextModel) -> sp.csr_matrix:
    """L2-normalised sublinear TF-IDF rows (float32 CSR) of a frame with columns ``_i``
    (0..n-1), ``title``, ``text`` (row ``_i`` of the result is that article)."""
    n = df.height
    rows, h = _term_hashes(df, model.lead_words, model.bigrams)
    if len(model.hashes) == 0:
        return sp.csr_matrix((n, 1), dtype=np.float32)
    counts, extra_sq = _counts_in_vocab(pl.DataFrame({"_r": rows, "h": h}), model, n)
    return _weights(counts, model.idf, extra_sq)


# --------------------------------------------------------------------------------------------
# Online centroid clustering
# --------------------------------------------------------------------------------------------


def _blocks(n: int, block_size: int) -> list[tuple[int, int]]:
    """Contiguous [a, b) ranges of at most block_size rows covering 0..n."""
    return [(s, min(n, s + block_size)) for s in range(0, n, block_size)]


class _Clusters:
    """State of the online centroid clustering (see ``_cluster``): the clusters still joinable.

    Rows are added a block at a time, in processing order; ``expire(t)`` drops the clusters that
    no row at time >= t can join (and returns their roots), so the state holds only clusters
    alive in the window: its size does not grow with the number of days.
    """

    def __init__(
        self,
        n_terms: int,
        threshold: float,
        window: int | None,
        span: int | None,
        size_penalty: float = 0.0,
    ) -> None:
        self.threshold, self.window, self.span, self.size_penalty = threshold, window, span, size_penalty
        self.C = sp.csr_matrix((0, n_terms), dtype=np.float32)  # sums of member vectors
        self.norm2 = np.zeros(0)
        self.last_t = np.zeros(0, dtype=np.int64)
        self.first_t = np.zeros(0, dtype=np.int64)
        self.croot = np.zeros(0, dtype=np.int64)
        self.ccount = np.zeros(0, dtype=np.int64)

    def expire(self, t: int) -> np.ndarray:
        """Drop the clusters that no row at time >= t can join; return their roots."""
        keep = np.ones(len(self.croot), dtype=bool)
        if self.window is not None:
            keep &= self.last_t >= t - self.window
        if self.span is not None:
            keep &= self.first_t >= t - self.span
        if keep.all():
            return np.zeros(0, dtype=np.int64)
        gone = self.croot[~keep]
        self.C = self.C[np.flatnonzero(keep)]
        self.C.sort_indices()
        self.norm2, self.last_t, self.first_t, self.croot, self.ccount = (
            self.norm2[keep],
            self.last_t[keep],
            self.first_t[keep],
            self.croot[keep],
            self.ccount[keep],
        )
        return gone

    def add_block(self, Xb: sp.csr_matrix, times: np.ndarray, offset: int) -> np.ndarray:
        """Assign the rows of one block (row j has id offset + j); returns each row's root id."""
        threshold, window, span, size_penalty = self.threshold, self.window, self.span, self.size_penalty
        m = Xb.shape[0]
        V = Xb.shape[1]
        root = np.empty(m, dtype=np.int64)
        C = self.C
        n_act = C.shape[0]
        cap = n_act + m
        big = np.iinfo(np.int64).max
        # MT[k, j]: dot product of block row j with the sum of cluster k (kept up to date)
        MT = np.zeros((cap, m))
        if n_act:
            MT[:n_act] = (C @ Xb.T).toarray()
        P = (Xb @ Xb.T).toarray().astype(np.float64)
        nrm = np.zeros(cap)
        nrm[:n_act] = self.norm2
        inv = np.zeros(cap)  # 1 / ||cluster sum||
        np.divide(1.0, np.sqrt(self.norm2), out=inv[:n_act], where=self.norm2 > 0)
        lt = np.full(cap, big, dtype=np.int64)
        lt[:n_act] = self.last_t
        ft = np.full(cap, big, dtype=np.int64)
        ft[:n_act] = self.first_t
        rt = np.zeros(cap, dtype=np.int64)
        rt[:n_act] = self.croot
        cnt = np.zeros(cap, dtype=np.int64)  # members
        cnt[:n_act] = self.ccount
        pen = np.zeros(cap)  # size_penalty * log2(members)
        if size_penalty:
            pen[:n_act] = size_penalty * np.log2(np.maximum(self.ccount, 1))
        w = inv.copy()  # inv masked by eligibility at the current time
        member = np.empty(m, dtype=np.int64)
        k_tot = n_act
        t_prev = None
        for i in range(m):
            t = int(times[i])
            if t != t_prev:
                w[:k_tot] = inv[:k_tot]
                if window is not None:
                    w[:k_tot][lt[:k_tot] < t - window] = 0.0
                if span is not None:
                    w[:k_tot][ft[:k_tot] < t - span] = 0.0
                t_prev = t
            # rows are unit vectors once their out-of-vocabulary mass (distinct to each
            # article, so orthogonal to every other one) is counted: ||x||^2 = 1 if non-empty
            self_sim = 1.0 if P[i, i] > 0.0 else 0.0
            k = -1
            if self_sim > 0.0 and k_tot:
                sims = MT[:k_tot, i] * w[:k_tot] - pen[:k_tot]
                best = int(np.argmax(sims))
                if sims[best] >= threshold:
                    k = best
            if k >= 0:
                nrm[k] += 2.0 * MT[k, i] + self_sim
                MT[k, i:] += P[i, i:]
                lt[k] = t
            else:
                k = k_tot
                k_tot += 1
                MT[k, i:] = P[i, i:]
                nrm[k] = self_sim
                lt[k] = t
                ft[k] = t
                rt[k] = offset + i
            cnt[k] += 1
            if size_penalty:
                pen[k] = size_penalty * math.log2(cnt[k])
            inv[k] = 1.0 / math.sqrt(nrm[k]) if nrm[k] > 0.0 else 0.0
            w[k] = inv[k]
            member[i] = k
            root[i] = rt[k]
        # fold the block into the cluster sums
        A = sp.csr_matrix((np.ones(m, dtype=np.float32), (member, np.arange(m))), shape=(k_tot, m))
        S = (A @ Xb).tocsr()
        if n_act:
            C = sp.vstack([C, sp.csr_matrix((k_tot - n_act, V), dtype=np.float32)]).tocsr()
            C = (C + S).tocsr()
        else:
            C = S
        C.sort_indices()
        self.C = C
        self.norm2, self.last_t, self.first_t, self.croot = nrm[:k_tot], lt[:k_tot], ft[:k_tot], rt[:k_tot]
        self.ccount = cnt[:k_tot]
        return root


def _cluster(
    X: sp.csr_matrix,
    times: np.ndarray,
    threshold: float,
    window: int | None,
    span: int | None,
    block_size: int,
    size_penalty: float = 0.0,
) -> np.ndarray:
    """Assign each row (already in processing order) to a cluster; returns the row index of
    each row's cluster root (its first, i.e. earliest, member).

    Article i joins the eligible cluster with the highest cosine between x_i and the sum of the
    cluster's member vectors (ties: earliest cluster) if that cosine >= threshold, else opens
    a new cluster.  Eligible: last member at most ``window`` older and first member at most
    ``span`` older (times in integer microseconds; None = no limit).  Rows are handled in
    blocks of consecutive rows; within a block the dot products with cluster sums are updated
    exactly, so the result does not depend on the block boundaries (up to rounding).  Clusters
    that no later row can join are dropped at block starts, so memory and time per row are
    bounded by the clusters alive in the window, and total cost grows linearly with days.
    """
    n = X.shape[0]
    root = np.empty(n, dtype=np.int64)
    state = _Clusters(X.shape[1], threshold, window, span, size_penalty)
    for a, b in _blocks(n, block_size):
        if a and (window is not None or span is not None):
            state.expire(int(times[a]))
        root[a:b] = state.add_block(X[a:b], times[a:b], a)
    return root


def _cluster_frame(df: pl.DataFrame, X: sp.csr_matrix, config: CorroborationConfig) -> np.ndarray:
    """Root row index per row of a prepared frame; dated and undated parts separately."""
    n = df.height
    X = _drop_short(X, config)
    root = np.empty(n, dtype=np.int64)
    n_dated = int((~df["undated"]).sum())
    if n_dated:
        ts = df["published_at"][:n_dated]
        times = ts.dt.epoch("us").to_numpy().astype(np.int64)
        w = int(config.window / timedelta(microseconds=1))
        sp_ = None if config.max_story_span is None else int(config.max_story_span / timedelta(microseconds=1))
        root[:n_dated] = _cluster(
            X[:n_dated],
            times,
            config.join_threshold,
            w,
            sp_,
            config.block_size,
            config.size_penalty,
        )
    if n_dated < n:
        und = df[n_dated:]
        corp = und["corpus"].to_numpy()
        cuts = np.concatenate(([0], np.flatnonzero(corp[1:] != corp[:-1]) + 1, [len(corp)]))
        for a, b in zip(cuts[:-1], cuts[1:], strict=False):
            a, b = int(a), int(b)
            zeros = np.zeros(b - a, dtype=np.int64)
            r = _cluster(
                X[n_dated + a : n_dated + b],
                zeros,
                config.undated_join_threshold,
                None,
                None,
                config.block_size,
                config.size_penalty,
            )
            root[n_dated + a : n_dated + b] = r + n_dated + a
    return root


# --------------------------------------------------------------------------------------------
# Copy detection: binary word-shingle containment inside stories
# --------------------------------------------------------------------------------------------


def _shingle_sets(df: pl.DataFrame, config: CorroborationConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sets of word-k-gram shingle hashes of the first copy_max_words words of each row.

    Returns (row ids ascending, offsets, values): the set of row ids[j] is the sorted unique
    u64 array values[offsets[j]:offsets[j + 1]].
    """
    k = config.shingle_size
    words = (
        pl.col("text")
        .str.slice(0, config.copy_max_words * _CHARS_PER_WORD + 16)
        .str.to_lowercase()
        .str.extract_all(_TOKEN_RE)
        .list.head(config.copy_max_words)
    )

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return (
            lf.select(pl.col("_i").cast(pl.Int64), words.alias("w"))
            .explode("w", empty_as_null=False, keep_nulls=False)
            .select("_i", pl.col("w").hash(_HASH_SEED).alias("h"))
        )

    toks = _collect_sliced(df.select("_i", "text"), query)
    rows = toks["_i"].to_numpy()
    h = toks["h"].to_numpy()
    if len(h) < k:
        return np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.uint64)
    # polynomial combination of k consecutive word hashes (wrapping u64 arithmetic)
    base = np.uint64(1_000_003)
    sh = h[: len(h) - k + 1].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            sh = sh * base + h[j : len(h) - k + 1 + j]
    r = rows[: len(h) - k + 1]
    ok = r == rows[k - 1 :]
    sets = pl.DataFrame({"_i": r[ok], "sh": sh[ok]}).sort("_i", "sh")
    r, sh = sets["_i"].to_numpy(), sets["sh"].to_numpy()
    first = np.ones(len(sh), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (sh[1:] != sh[:-1])
    r, sh = r[first], sh[first]
    ids, starts = np.unique(r, return_index=True)
    offsets = np.append(starts, len(r)).astype(np.int64)
    return ids, offsets, sh


def _detect_copies(df: pl.DataFrame, root: np.ndarray, X: sp.csr_matrix, config: CorroborationConfig) -> np.ndarray:
    """Row index of the earliest version each row is a near-copy of (-1 if none).

    Candidates: pairs (a, b) of the same story from different outlets, a before b in
    processing order, whose title+lead cosine is >= copy_candidate_cosine (cheap filter: a
    copy shares its lead).  b copies a when the containment |S_a & S_b| / min(|S_a|, |S_b|)
    of their word-shingle sets is >= copy_threshold (both with >= min_shingles shingles).
    b's origin is the root of the earliest such a.  Same-outlet pairs are not examined: they
    never corroborate each other, so a copy link between them changes no count.
    """
    n = df.height
    copy_of = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return copy_of
    st = pl.DataFrame({"_i": np.arange(n, dtype=np.int64), "story": root, "outlet": df["outlet"]}).filter(
        pl.len().over("story") >= 2
    )
    pairs = (
        st.join(st, on="story", suffix="_b")
        .filter((pl.col("_i") < pl.col("_i_b")) & (pl.col("outlet") != pl.col("outlet_b")))
        .select("_i", "_i_b")
        .sort("_i_b", "_i")
    )
    if pairs.height == 0:
        return copy_of
    ia = pairs["_i"].to_numpy()
    ib = pairs["_i_b"].to_numpy()
    cos = np.zeros(len(ia), dtype=np.float32)
    step = 50_000  # bound the memory of the row gathers
    for s in range(0, len(ia), step):
        xa, xb = X[ia[s : s + step]], X[ib[s : s + step]]
        cos[s : s + step] = np.asarray(xa.multiply(xb).sum(axis=1)).ravel()
    keep = cos >= config.copy_candidate_cosine
    if not keep.any():
        return copy_of
    ia, ib = ia[keep], ib[keep]
    docs = np.unique(np.concatenate([ia, ib]))
    sub = df.select(pl.col("_i").cast(pl.Int64), "text").filter(pl.col("_i").is_in(pl.Series(docs).implode()))
    ids, offsets, values = _shingle_sets(sub, config)
    pos = np.full(n, -1, dtype=np.int64)
    pos[ids] = np.arange(len(ids))
    size = np.zeros(n, dtype=np.int64)
    size[ids] = np.diff(offsets)
    done = np.zeros(n, dtype=bool)
    for a_, b_ in zip(ia, ib, strict=True):  # sorted by (b, a): first hit is the earliest a
        if done[b_]:
            continue
        na, nb = size[a_], size[b_]
        if na < config.min_shingles or nb < config.min_shingles:
            continue
        sa = values[offsets[pos[a_]] : offsets[pos[a_] + 1]]
        sb = values[offsets[pos[b_]] : offsets[pos[b_] + 1]]
        inter = len(np.intersect1d(sa, sb, assume_unique=True))
        if inter >= config.copy_threshold * min(na, nb):
            # a precedes b, so a's own origin is already final
            copy_of[b_] = copy_of[a_] if copy_of[a_] >= 0 else a_
            done[b_] = True
    return copy_of


# --------------------------------------------------------------------------------------------
# Per-article features
# --------------------------------------------------------------------------------------------


def _summarize(base: pl.DataFrame) -> pl.DataFrame:
    """Per-article features from (article_id, outlet, published_at, undated, story_id, copy_of).

    n_corroborating_outlets: distinct outlets, other than the article's own, with a non-copy
    article in the story other than the article's origin (itself, or what it copies).
    """
    origin_outlet = base.select(pl.col("article_id").alias("copy_of"), pl.col("outlet").alias("_origin_outlet"))
    b = base.join(origin_outlet, on="copy_of", how="left")
    b = b.with_columns(
        pl.coalesce("copy_of", "article_id").alias("_root"),
        pl.coalesce("_origin_outlet", "outlet").alias("_root_outlet"),
    )
    originals = b.filter(pl.col("copy_of").is_null())
    per_so = originals.group_by("story_id", "outlet").agg(pl.len().alias("_n_orig"))
    n_indep = per_so.group_by("story_id").agg(pl.len().alias("_n_indep"))
    b = (
        b.join(n_indep, on="story_id", how="left")
        .join(per_so.rename({"_n_orig": "_own_orig"}), on=["story_id", "outlet"], how="left")
        .join(
            per_so.rename({"outlet": "_root_outlet", "_n_orig": "_root_orig"}),
            on=["story_id", "_root_outlet"],
            how="left",
        )
    )
    n_corr = (
        pl.col("_n_indep").fill_null(0).cast(pl.Int64)
        - (pl.col("_own_orig").fill_null(0) > 0).cast(pl.Int64)
        - ((pl.col("_root_outlet") != pl.col("outlet")) & (pl.col("_root_orig") == 1)).cast(pl.Int64)
    )
    first = (
        pl.when(pl.col("undated"))
        .then(None)
        .otherwise(pl.col("published_at") == pl.col("published_at").min().over("story_id"))
    )
    out = b.select(
        "article_id",
        "outlet",
        "published_at",
        "undated",
        "story_id",
        n_corr.clip(lower_bound=0).cast(pl.UInt32).alias("n_corroborating_outlets"),
        first.cast(pl.Boolean).alias("is_first_report"),
        "copy_of",
    )
    return out.sort("article_id").cast(ARTICLE_SCHEMA)  # type: ignore[arg-type]


def _base(df: pl.DataFrame, root: np.ndarray, copy_of: np.ndarray) -> pl.DataFrame:
    ids = df["article_id"]
    story_id = "s_" + ids.gather(root)
    cp = pl.Series("copy_of", copy_of)
    copy_ids = ids.gather(np.where(copy_of >= 0, copy_of, 0))
    return df.select("article_id", "outlet", "published_at", "undated").with_columns(
        story_id.alias("story_id"),
        pl.when(cp >= 0).then(copy_ids).otherwise(None).alias("copy_of"),
    )


def _run(df: pl.DataFrame, config: CorroborationConfig, text_model: TextModel | None) -> pl.DataFrame:
    """Story id and copy_of for a prepared frame (no features yet)."""
    if text_model is None:
        _, X = _fit_transform(df, config)
    else:
        X = vectorize(df, text_model)
    root = _cluster_frame(df, X, config)
    copy_of = _detect_copies(df, root, X, config)
    return _base(df, root, copy_of)


def assign_stories(
    articles: pl.DataFrame | pl.LazyFrame,
    config: CorroborationConfig = DEFAULT_CONFIG,
    text_model: TextModel | None = None,
) -> pl.DataFrame:
    """Cluster articles into stories and compute per-article features (``ARTICLE_SCHEMA``,
    sorted by article_id).  ``text_model`` defaults to one fitted on ``articles``."""
    df = _prepare(articles)
    return _summarize(_run(df, config, text_model))


# --------------------------------------------------------------------------------------------
# Streaming: dated articles batch by batch in time order, memory bounded by the open stories
# --------------------------------------------------------------------------------------------


def _drop_short(X: sp.csr_matrix, config: CorroborationConfig) -> sp.csr_matrix:
    """Rows with fewer than min_terms terms emptied: they never join a story, nor are joined."""
    if config.min_terms <= 1 or X.shape[0] == 0:
        return X
    keep = (np.diff(X.indptr) >= config.min_terms).astype(np.float32)
    return sp.diags(keep).dot(X).tocsr()


class StoryStream:
    """Stories of dated articles fed in time order, a batch at a time, with bounded memory.

    ``push`` takes the next batch (each article after every earlier one in processing order,
    i.e. by (published_at, article_id)) and returns the rows (``ARTICLE_SCHEMA``) of the
    stories that no later article can join any more; ``close`` returns the rest.  Together
    they equal ``assign_stories`` on all the batches at once with the same ``text_model`` and
    config: the same blocks of rows go through the same clustering, so the result does not
    depend on how the articles are split into batches.  The state holds the articles of open
    stories (latest article within ``window``, first within ``max_story_span`` of the newest
    block; texts cut to what copy detection reads) and fewer than ``block_size`` articles
    waiting for a block: memory is bounded by the window, not by the corpus.  Undated
    articles have no time order: cluster them with ``assign_stories``.  The model must be the
    same for every batch (fit it on the whole corpus with ``document_frequencies``).

    ``start``: the first article's position in the processing order of a longer stream (a multiple of
    ``block_size``, so the blocks are that stream's blocks): a part of a corpus can be clustered on its own
    with the row positions, hence blocks and float sums, of the whole-corpus stream (jobs/spark_engine.py).
    """

    def __init__(self, text_model: TextModel, config: CorroborationConfig = DEFAULT_CONFIG, *, start: int = 0) -> None:
        if start % config.block_size:
            raise ValueError(f"start ({start}) must be a multiple of block_size ({config.block_size})")
        us = timedelta(microseconds=1)
        span = None if config.max_story_span is None else config.max_story_span // us
        self._model, self._config = text_model, config
        self._clusters = _Clusters(
            max(text_model.n_terms, 1), config.join_threshold, config.window // us, span, config.size_penalty
        )
        self._n = start  # articles received (after `start`): the next one's position in processing order
        self._waiting: list[tuple[pl.DataFrame, sp.csr_matrix]] = []  # not yet in a block
        self._held: list[tuple[pl.DataFrame, sp.csr_matrix]] = []  # clustered, story still open
        self._closed: list[np.ndarray] = []  # roots of the stories closed since the last output
        self._last: tuple[datetime, str] | None = None
        self._done = False

    @property
    def held(self) -> pl.DataFrame:
        """Articles the state holds (article_id, published_at, waiting): open stories' and waiting ones."""
        parts = [f.select("article_id", "published_at", pl.lit(False).alias("waiting")) for f, _ in self._held]
        parts += [f.select("article_id", "published_at", pl.lit(True).alias("waiting")) for f, _ in self._waiting]
        schema: dict[str, pl.DataType] = {
            "article_id": pl.String(),
            "published_at": pl.Datetime("us"),
            "waiting": pl.Boolean(),
        }
        return pl.concat(parts) if parts else pl.DataFrame(schema=schema)

    def push(self, articles: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
        """Add the next batch; rows of the stories closed so far (``ARTICLE_SCHEMA``)."""
        if self._done:
            raise ValueError("the stream is closed")
        df = _prepare(articles)
        if df.height:
            if df["undated"].any():
                raise ValueError("StoryStream takes dated articles only: cluster undated ones with assign_stories")
            first = (df["published_at"][0], df["article_id"][0])
            if self._last is not None and first <= self._last:
                raise ValueError(
                    f"batches must follow each other in time: article {first[1]!r} ({first[0]}) is not after "
                    f"{self._last[1]!r} ({self._last[0]})"
                )
            self._last = (df["published_at"][-1], df["article_id"][-1])
            X = vectorize(df, self._model)
            cut = self._config.copy_max_words * _CHARS_PER_WORD + 16  # what _shingle_sets reads
            frame = df.select(
                (pl.col("_i").cast(pl.Int64) + self._n).alias("_g"),
                "article_id",
                "outlet",
                "published_at",
                "undated",
                pl.col("text").str.slice(0, cut),
            )
            self._n += df.height
            self._waiting.append((frame, X))
            self._cluster_waiting(final=False)
        return self._emit()

    def close(self) -> pl.DataFrame:
        """Cluster the articles still waiting and return the rows of every story left open."""
        if not self._done:
            self._cluster_waiting(final=True)
            self._closed.append(self._clusters.croot.copy())
            self._done = True
        return self._emit()

    def _cluster_waiting(self, *, final: bool) -> None:
        if not self._waiting:
            return
        frame = pl.concat([f for f, _ in self._waiting])
        X = sp.vstack([x for _, x in self._waiting]).tocsr() if len(self._waiting) > 1 else self._waiting[0][1]
        bs = self._config.block_size
        n = frame.height
        end = n if final else n // bs * bs
        if end == 0:
            self._waiting = [(frame, X)]
            return
        Xz = _drop_short(X[:end], self._config)
        times = frame["published_at"][:end].dt.epoch("us").to_numpy().astype(np.int64)
        g = frame["_g"].to_numpy()
        root = np.empty(end, dtype=np.int64)
        for a, b in _blocks(end, bs):
            if g[a]:
                self._closed.append(self._clusters.expire(int(times[a])))
            root[a:b] = self._clusters.add_block(Xz[a:b], times[a:b], int(g[a]))
        self._held.append((frame[:end].with_columns(pl.Series("_root", root)), X[:end]))
        self._waiting = [(frame[end:], X[end:])] if end < n else []

    def _emit(self) -> pl.DataFrame:
        roots = np.concatenate(self._closed) if self._closed else np.zeros(0, dtype=np.int64)
        self._closed = []
        if len(roots) == 0 or not self._held:
            return pl.DataFrame(schema=ARTICLE_SCHEMA)
        frame = pl.concat([f for f, _ in self._held])
        X = sp.vstack([x for _, x in self._held]).tocsr() if len(self._held) > 1 else self._held[0][1]
        done = np.isin(frame["_root"].to_numpy(), roots)
        keep = np.flatnonzero(~done)
        self._held = [(frame[keep], X[keep])] if len(keep) else []
        sub = frame.filter(pl.Series(done)).with_row_index("_i")
        Xs = X[np.flatnonzero(done)]
        root = np.searchsorted(sub["_g"].to_numpy(), sub["_root"].to_numpy())  # roots are members
        copy_of = _detect_copies(sub, root, Xs, self._config)
        return _summarize(_base(sub, root, copy_of))


# --------------------------------------------------------------------------------------------
# Per-story and per-outlet tables
# --------------------------------------------------------------------------------------------


def story_table(assignments: pl.DataFrame) -> pl.DataFrame:
    """Per-story table (``STORY_SCHEMA``, sorted by story_id) from ``assign_stories`` output."""
    out = (
        assignments.group_by("story_id")
        .agg(
            pl.col("undated").first(),
            pl.col("published_at").min().alias("first_published_at"),
            pl.col("published_at").max().alias("last_published_at"),
            pl.len().alias("n_articles"),
            pl.col("outlet").n_unique().alias("n_outlets"),
            pl.col("outlet").filter(pl.col("copy_of").is_null()).n_unique().alias("n_independent_outlets"),
        )
        .sort("story_id")
    )
    return out.cast(STORY_SCHEMA)  # type: ignore[arg-type]


def outlet_stats(assignments: pl.DataFrame) -> pl.DataFrame:
    """Per-outlet corroboration profile (``OUTLET_SCHEMA``, sorted by outlet).

    Over the outlet's stories (stories with >= 1 of its articles): corroborated = some article
    of it has >= 1 independent corroborating outlet; exclusive = no other outlet in the story
    at all; first report = one of its articles is among the story's earliest (dated stories
    only).  copies_n counts its articles that copy another outlet's article.  Zero
    denominators give null.
    """
    a = assignments
    story_outlets = a.group_by("story_id").agg(pl.col("outlet").n_unique().alias("_n_out"))
    origin = a.select(pl.col("article_id").alias("copy_of"), pl.col("outlet").alias("_o_out"))
    a = a.join(story_outlets, on="story_id", how="left").join(origin, on="copy_of", how="left")
    a = a.with_columns(
        (pl.col("copy_of").is_not_null() & (pl.col("_o_out") != pl.col("outlet"))).fill_null(False).alias("_copy")
    )
    per_story = a.group_by("outlet", "story_id").agg(
        (pl.col("n_corroborating_outlets").max() >= 1).alias("corr"),
        (pl.col("_n_out").first() == 1).alias("excl"),
        (~pl.col("undated").first()).alias("dated"),
        pl.col("is_first_report").any().alias("first"),
    )
    s = per_story.group_by("outlet").agg(
        pl.len().alias("stories_n"),
        pl.col("corr").sum().alias("corroborated_n"),
        pl.col("excl").sum().alias("exclusive_n"),
        pl.col("dated").sum().alias("dated_stories_n"),
        (pl.col("first") & pl.col("dated")).sum().alias("first_report_n"),
    )
    arts = a.group_by("outlet").agg(pl.len().alias("articles_n"), pl.col("_copy").sum().alias("copies_n"))

    def share(num: str, den: str) -> pl.Expr:
        return (
            pl.when(pl.col(den) > 0).then(pl.col(num).cast(pl.Float64) / pl.col(den).cast(pl.Float64)).otherwise(None)
        )

    out = arts.join(s, on="outlet", how="left").with_columns(
        share("corroborated_n", "stories_n").alias("corroborated_share"),
        share("exclusive_n", "stories_n").alias("exclusive_share"),
        share("first_report_n", "dated_stories_n").alias("first_report_share"),
        share("copies_n", "articles_n").alias("copy_share"),
    )
    return out.select(list(OUTLET_SCHEMA)).sort("outlet").cast(OUTLET_SCHEMA)  # type: ignore[arg-type]


def corroboration(
    articles: pl.DataFrame | pl.LazyFrame,
    config: CorroborationConfig = DEFAULT_CONFIG,
    text_model: TextModel | None = None,
) -> CorroborationResult:
    """Article, story and outlet tables in one call."""
    arts = assign_stories(articles, config, text_model)
    return CorroborationResult(arts, story_table(arts), outlet_stats(arts))


# --------------------------------------------------------------------------------------------
# Incremental support
# --------------------------------------------------------------------------------------------


class ReclusterPlan(NamedTuple):
    """What an update re-clusters (``recluster_plan``), as masks over the rows of ``_prepare(articles)``."""

    article_id: pl.Series  # the articles in processing order: the rows of the masks
    first: int  # position of the first new dated article in processing order (n_dated: none)
    redo: np.ndarray  # dated rows from ``first`` on, and the undated rows of corpora with new undated articles
    state: np.ndarray  # earlier dated rows of the stories still joinable at ``first``: the clustering's state
    story_id: pl.Series  # previous story_id per row (null for new rows)
    copy_of: pl.Series  # previous copy_of per row

    @property
    def texts(self) -> np.ndarray:
        """Rows whose texts the update reads."""
        return self.redo | self.state


def recluster_plan(
    articles: pl.DataFrame | pl.LazyFrame,
    previous: pl.DataFrame,
    new_ids: Iterable[str] | pl.Series,
    config: CorroborationConfig = DEFAULT_CONFIG,
) -> ReclusterPlan:
    """The rows an update must cluster again and the rows whose vectors rebuild the clustering's state.

    Stories are built online in processing order, so an article's story depends only on the articles
    before it: every article before the first new dated one keeps its story, and the clustering resumes
    there from the stories still joinable (last article within ``window``, first within ``max_story_span``),
    whose state is the sum of their earlier members' vectors. The cost follows the new articles and the
    window, not the corpus (unless a new article is old: everything after it is clustered again). Undated
    new articles make their corpus's undated articles be clustered again, as ``assign_stories`` does.
    ``articles`` needs no texts here.
    """
    return _plan(_prepare(articles), previous, new_ids, config)


def _plan(
    df: pl.DataFrame, previous: pl.DataFrame, new_ids: Iterable[str] | pl.Series, config: CorroborationConfig
) -> ReclusterPlan:
    """``recluster_plan`` of a frame already in processing order (``_prepare``)."""
    ids = pl.Series("article_id", list(new_ids), dtype=pl.String)
    new = df["article_id"].is_in(ids.implode()).to_numpy()
    undated = df["undated"].to_numpy()
    n_dated = int((~undated).sum())
    dated_new = np.flatnonzero(new[:n_dated])
    first = int(dated_new[0]) if len(dated_new) else n_dated
    corpora = df.filter(pl.Series(new & undated))["corpus"].unique()
    position = np.arange(df.height)
    redo = ((position >= first) & ~undated) | (undated & df["corpus"].is_in(corpora.implode()).to_numpy())
    prev = df.select("article_id").join(
        previous.select("article_id", "story_id", "copy_of"), on="article_id", how="left", maintain_order="left"
    )
    missing = int((~redo & ~new & prev["story_id"].is_null().to_numpy()).sum())
    if missing:
        raise ValueError(f"{missing} articles before the first new one are neither new nor in previous")
    state = np.zeros(df.height, dtype=bool)
    if first < n_dated:
        us = timedelta(microseconds=1)
        t0 = df["published_at"][first]
        earlier = df.head(first).select("published_at", prev["story_id"].head(first))
        alive = earlier.group_by("story_id").agg(
            pl.col("published_at").min().alias("first_t"), pl.col("published_at").max().alias("last_t")
        )
        ok = pl.col("last_t") >= t0 - config.window // us * us
        if config.max_story_span is not None:
            ok = ok & (pl.col("first_t") >= t0 - config.max_story_span // us * us)
        joinable = alive.filter(ok)["story_id"]
        state[:first] = prev["story_id"].head(first).is_in(joinable.implode()).to_numpy()
    return ReclusterPlan(df["article_id"], first, redo, state, prev["story_id"], prev["copy_of"])


def _resumed_state(
    Xz: sp.csr_matrix, story: np.ndarray, position: np.ndarray, times: np.ndarray, config: CorroborationConfig
) -> _Clusters:
    """The clustering's state rebuilt from the earlier members (rows of Xz) of the stories still joinable."""
    us = timedelta(microseconds=1)
    span = None if config.max_story_span is None else config.max_story_span // us
    state = _Clusters(Xz.shape[1], config.join_threshold, config.window // us, span, config.size_penalty)
    if Xz.shape[0] == 0:
        return state
    keys, member = np.unique(story, return_inverse=True)
    root = np.full(len(keys), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(root, member, position)  # a story's root is its first member
    order = np.argsort(root)  # clusters in creation order: ties go to the earliest
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    k = rank[member]
    n = len(keys)
    A = sp.csr_matrix((np.ones(len(k), dtype=np.float32), (k, np.arange(len(k)))), shape=(n, Xz.shape[0]))
    C = (A @ Xz).tocsr()
    C.sort_indices()
    self_sq = np.asarray(Xz.multiply(Xz).sum(axis=1)).ravel()
    nonempty = (np.diff(Xz.indptr) > 0).astype(np.float64)
    # ||sum||^2 over the members with each member's own norm counted as 1 (its out-of-vocabulary mass)
    norm2 = np.asarray(C.multiply(C).sum(axis=1)).ravel().astype(np.float64)
    norm2 += np.bincount(k, weights=nonempty - self_sq, minlength=n)
    first_t = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_t, k, times)
    last_t = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_t, k, times)
    state.C, state.norm2, state.first_t, state.last_t = C, norm2, first_t, last_t
    state.croot, state.ccount = root[order], np.bincount(k, minlength=n).astype(np.int64)
    return state


def update_stories(
    articles: pl.DataFrame | pl.LazyFrame,
    previous: pl.DataFrame,
    new_ids: Iterable[str] | pl.Series,
    config: CorroborationConfig = DEFAULT_CONFIG,
    text_model: TextModel | None = None,
    plan: ReclusterPlan | None = None,
) -> pl.DataFrame:
    """Cluster the new articles into ``previous`` (the ``assign_stories`` output for the others): ARTICLE_SCHEMA.

    Articles before the first new one keep their stories (``recluster_plan``); the clustering resumes from the
    stories still joinable there. Copies are detected again in the stories that changed. Texts are read only
    for ``recluster_plan(...).texts`` (others may be empty). With the ``text_model`` that produced ``previous``,
    the result equals ``assign_stories`` of all the articles (up to float rounding). Default model: fitted on
    ``articles``, as ``assign_stories`` does. ``plan``: the caller's ``recluster_plan`` of the same articles
    (it chose which texts to read), not computed again.
    """
    df = _prepare(articles)
    if plan is None:
        plan = _plan(df, previous, new_ids, config)
    elif not plan.article_id.equals(df["article_id"]):
        raise ValueError("plan was made for other articles than these")
    rows = np.flatnonzero(plan.texts)
    sub = df[rows].drop("_i").with_row_index("_i")
    model = text_model if text_model is not None else _fit_transform(df, config)[0]
    X = vectorize(sub, model)
    Xz = _drop_short(X, config)
    root = np.arange(df.height, dtype=np.int64)  # filled for the rows clustered again
    in_state = plan.state[rows]
    positions = rows[in_state]
    times = sub["published_at"].dt.epoch("us").fill_null(0).to_numpy().astype(np.int64)
    story_of = plan.story_id.gather(positions).to_numpy()
    clusters = _resumed_state(Xz[np.flatnonzero(in_state)], story_of, positions, times[in_state], config)
    redo = np.flatnonzero(plan.redo[rows])  # sub rows, in processing order: dated, then undated by corpus
    dated = redo[~sub["undated"].to_numpy()[redo]]
    for a, b in _blocks(len(dated), config.block_size):
        clusters.expire(int(times[dated[a]]))
        root[rows[dated[a:b]]] = clusters.add_block(Xz[dated[a:b]], times[dated[a:b]], plan.first + a)
    undated = redo[sub["undated"].to_numpy()[redo]]
    if len(undated):
        part = sub[undated].drop("_i").with_row_index("_i")
        local = _cluster_frame(part, X[undated], config)
        root[rows[undated]] = rows[undated][local]
    ids = df["article_id"]
    redone = pl.Series(plan.redo)
    story_id = pl.when(redone).then("s_" + ids.gather(root)).otherwise(plan.story_id)
    frame = df.select("article_id", "outlet", "published_at", "undated").with_columns(
        story_id.alias("story_id"), plan.copy_of.alias("copy_of")
    )
    # copies again in the stories that took a re-clustered article (their earlier members are in the state)
    changed = frame.filter(redone)["story_id"].unique()
    members = np.flatnonzero(frame["story_id"].is_in(changed.implode()).to_numpy())
    if len(members):
        local_of = np.full(df.height, -1, dtype=np.int64)
        local_of[rows] = np.arange(len(rows))
        j = local_of[members]
        part = sub[j].drop("_i").with_row_index("_i")
        story_key = frame["story_id"].gather(members).rank("dense").to_numpy()  # copies are looked for per story
        copy_of = _detect_copies(part, story_key, X[j], config)
        origin = ids.gather(members[np.maximum(copy_of, 0)]).zip_with(
            pl.Series(copy_of >= 0), pl.Series([None] * len(members), dtype=pl.String)
        )
        found = pl.Series("copy_of", [None] * df.height, dtype=pl.String).scatter(members, origin)
        frame = frame.with_columns(pl.when(redone).then(found).otherwise(pl.col("copy_of")).alias("copy_of"))
    return _summarize(frame)
