"""Corroboration, text representation: TF-IDF over title + lead.

Words are hashed to u64 terms (unigrams, and bigrams of consecutive content words); a ``TextModel`` is a frozen
vocabulary with IDF weights, fitted on a frame or built from document frequencies summed over batches (a corpus
too large for memory, or split over workers). Vectors are L2-normalised sublinear TF-IDF rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from features.corroboration.config import DEFAULT_CONFIG, CorroborationConfig
from features.corroboration.prepare import _prepare

_TOKEN_RE = r"[\p{L}\p{N}]+"
_HASH_SEED = 7
_STOP_HASHES = pl.Series("stop", sorted(ENGLISH_STOP_WORDS), dtype=pl.String).hash(_HASH_SEED)
_PARALLEL_SLICES = 4
# characters sliced per wanted word before tokenising (news English averages ~6 per word with
# spaces and punctuation): the regex then scans ~1.3x the needed text, not the whole article
_CHARS_PER_WORD = 8


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


def text_chars(config: CorroborationConfig) -> int:
    """Characters of a text that clustering reads (what the tokenisers read, and more): all a job need read of
    an article's text to cluster it."""
    return max(config.lead_words, config.copy_max_words) * _CHARS_PER_WORD + 16


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
