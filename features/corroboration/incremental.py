"""Corroboration, incremental support: what an update must cluster again (``recluster_plan``), and the new
articles clustered into the previous stories from the clustering's state rebuilt there (``update_stories``).

Story ids are stable (``'s_' + earliest article id``), so a job can re-cluster only the window new articles touch.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import NamedTuple

import numpy as np
import polars as pl
import scipy.sparse as sp

from features.corroboration.articles import _summarize
from features.corroboration.clustering import _blocks, _cluster_frame, _Clusters, _drop_short
from features.corroboration.config import DEFAULT_CONFIG, CorroborationConfig
from features.corroboration.copies import _detect_copies
from features.corroboration.prepare import _prepare
from features.corroboration.text_model import TextModel, _fit_transform, vectorize


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
