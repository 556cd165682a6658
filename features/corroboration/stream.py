"""Corroboration, streaming: dated articles batch by batch in time order, memory bounded by the open stories
(``StoryStream``), with the result of one ``assign_stories`` call on all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import scipy.sparse as sp

from features.corroboration.articles import _base, _summarize
from features.corroboration.clustering import _blocks, _Clusters, _drop_short
from features.corroboration.config import ARTICLE_SCHEMA, DEFAULT_CONFIG, CorroborationConfig
from features.corroboration.copies import _detect_copies
from features.corroboration.prepare import _prepare
from features.corroboration.text_model import _CHARS_PER_WORD, TextModel, vectorize


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
    with the row positions, hence blocks and float sums, of the whole-corpus stream (jobs/engines/spark/corroborate.py).
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
