"""Corroboration, copy detection: binary word-shingle containment inside stories.

A near-copy (word-5-gram shingle containment) is marked as a copy of its earliest version inside the story.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from features.corroboration.config import CorroborationConfig
from features.corroboration.text_model import _CHARS_PER_WORD, _HASH_SEED, _TOKEN_RE, _collect_sliced


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
