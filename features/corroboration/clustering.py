"""Corroboration, story clustering: online centroid clustering of article vectors in time order.

An article joins the most similar story still joinable within the sliding time window (or opens one); the state
holds only the stories alive in the window, so memory and time per article do not grow with the number of days.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import polars as pl
import scipy.sparse as sp

from features.corroboration.config import CorroborationConfig


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


def _drop_short(X: sp.csr_matrix, config: CorroborationConfig) -> sp.csr_matrix:
    """Rows with fewer than min_terms terms emptied: they never join a story, nor are joined."""
    if config.min_terms <= 1 or X.shape[0] == 0:
        return X
    keep = (np.diff(X.indptr) >= config.min_terms).astype(np.float32)
    return sp.diags(keep).dot(X).tocsr()
