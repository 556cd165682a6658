"""Independent confirmation of claims: a claim is confirmed when a claim sentence of an article of another,
independent outlet says the same thing (cosine of their static-embedding vectors >= `threshold`) within
`window_days` of it.

Independent: another outlet, another owner (the caller's outlet -> owner map; an outlet missing from it is its
own owner), and not a copy (the two articles' copy roots differ: an article copied from another, as
features.corroboration marks it, is the same report). Candidates: the article's story-mates (the story
clusters), then its `neighbours` nearest articles of the window by article vector (the l2-normalised mean of its
claim vectors), so a claim the story clustering split off is still found. Undated articles only have their
story-mates. Both directions count: an earlier or a later report confirms.

Pure NumPy; deterministic (candidates sorted; ties of the nearest articles broken by position in article_id order).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl

from features.embedding import StaticEmbedding

MATCH_INPUT = ("article_id", "sentence_no", "outlet", "owner", "published_at", "story_id", "copy_root")
CONFIRMATION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "article_id": pl.String,
    "sentence_no": pl.Int64,
    "confirming_outlets_n": pl.UInt32,  # independent outlets with a matching claim in the window
    "best_cosine": pl.Float32,  # highest cosine with an independent candidate's claim (null: no candidate)
    "confirmed_by": pl.String,  # article_id of that best-matching claim when it matches, else null
}
_US_PER_DAY = 86_400_000_000
CENTRE_FILE = "centre.txt"
CENTRE_SHA256 = "cfdb0d868cf057497bc9fcf4ccc7054805dc7e9fcd3ad052a141ca85fc9fe990"


@dataclass(frozen=True)
class MatchConfig:
    """Matching parameters; `threshold` was tuned on the tuning part of the claim pairs (docs/claims.md)."""

    threshold: float = 0.66
    window_days: float = 3.0
    neighbours: int = 10
    block: int = 512  # articles per window product
    product_cap: int = 4_000_000  # claim pairs per matching product (float32: ~16 MB, its masks ~4 MB each)


@dataclass(frozen=True)
class _Articles:
    ids: np.ndarray  # article_id, sorted
    starts: np.ndarray  # first claim row of each article (claims sorted by article_id, sentence_no)
    ends: np.ndarray
    outlet: np.ndarray  # integer codes
    owner: np.ndarray
    root: np.ndarray
    story: np.ndarray  # -1 when none
    time: np.ndarray  # microseconds since the epoch, as float; nan when undated
    vectors: np.ndarray  # l2-normalised mean of the article's claim vectors


def _codes(series: pl.Series) -> np.ndarray:
    return series.cast(pl.String).fill_null("\x00none").rank("dense").cast(pl.Int64).to_numpy()


def _articles(claims: pl.DataFrame, vectors: np.ndarray) -> _Articles:
    first = (
        claims.with_row_index("_row")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("_row").first().alias("start"), pl.len().alias("n"), *(pl.col(c).first() for c in MATCH_INPUT[2:]))
    )
    starts = first["start"].to_numpy().astype(np.int64)
    ends = starts + first["n"].to_numpy().astype(np.int64)
    sums = np.add.reduceat(vectors, starts, axis=0) if len(starts) else np.zeros((0, vectors.shape[1]), np.float32)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    time = first["published_at"].cast(pl.Datetime("us")).cast(pl.Int64).cast(pl.Float64).to_numpy()
    story = first["story_id"]
    return _Articles(
        ids=first["article_id"].to_numpy(),
        starts=starts,
        ends=ends,
        outlet=_codes(first["outlet"]),
        owner=_codes(first["owner"].fill_null(first["outlet"])),
        root=_codes(first["copy_root"].fill_null(first["article_id"])),
        story=np.where(story.is_null().to_numpy(), -1, _codes(story)),
        time=time.astype(np.float64),
        vectors=(sums / np.where(norms > 0, norms, 1.0)).astype(np.float32),
    )


def _independent(arts: _Articles, a: int, others: np.ndarray) -> np.ndarray:
    return (
        (arts.outlet[others] != arts.outlet[a])
        & (arts.owner[others] != arts.owner[a])
        & (arts.root[others] != arts.root[a])
    )


def _window_candidates(arts: _Articles, config: MatchConfig) -> list[set[int]]:
    """Per article: the `neighbours` nearest independent articles within the window (dated articles only)."""
    out: list[set[int]] = [set() for _ in arts.ids]
    dated = np.flatnonzero(~np.isnan(arts.time))
    order = dated[np.argsort(arts.time[dated], kind="stable")]
    times = arts.time[order]
    span = config.window_days * _US_PER_DAY
    for lo in range(0, len(order), config.block):
        block = order[lo : lo + config.block]
        first = int(np.searchsorted(times, times[lo] - span, side="left"))
        last = int(np.searchsorted(times, times[min(lo + config.block, len(order)) - 1] + span, side="right"))
        window = order[first:last]
        sims = arts.vectors[block] @ arts.vectors[window].T
        for i, a in enumerate(block):
            ok = _independent(arts, a, window) & (np.abs(arts.time[window] - arts.time[a]) <= span)
            if not ok.any():
                continue
            cols = np.flatnonzero(ok)
            k = min(config.neighbours, len(cols))
            best = cols[np.argsort(-sims[i, cols], kind="stable")[:k]]
            out[a].update(int(x) for x in window[best])
    return out


def _story_candidates(arts: _Articles, config: MatchConfig, out: list[set[int]]) -> None:
    span = config.window_days * _US_PER_DAY
    members: dict[int, list[int]] = {}
    for a, s in enumerate(arts.story):
        if s >= 0:
            members.setdefault(int(s), []).append(a)
    for group in members.values():
        mates = np.array(group)
        for a in group:
            ok = _independent(arts, a, mates)
            if not np.isnan(arts.time[a]):
                dt = np.abs(arts.time[mates] - arts.time[a])
                ok &= ~(dt > span)  # an undated mate is kept (nan compares false)
            out[a].update(int(x) for x in mates[ok])


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float32 (n,): the cosine of each row of `a` with the same row of `b` (l2-normalised), summed in float64 and
    rounded, so each value depends only on its two vectors (a float32 BLAS product rounds differently with the
    product's shape and thread count)."""
    return (a.astype(np.float64) * b.astype(np.float64)).sum(axis=1).astype(np.float32)


# Bound on |float32 BLAS dot - exact| for unit vectors of the embedding's dimension (384 * 2**-24 ~ 2.3e-5), with room.
_SCREEN = 1e-3


def _claim_rows(arts: _Articles, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The claim rows of `members` (article positions) in their order, and the position in `members` of each."""
    sizes = arts.ends[members] - arts.starts[members]
    local = np.repeat(np.arange(len(members)), sizes)
    offsets = np.arange(len(local)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return arts.starts[members][local] + offsets, local


def _blocks(arts: _Articles, candidates: list[set[int]], cap: int) -> list[np.ndarray]:
    """Articles with candidates, by time (then position), in blocks whose product (the block's claims times the
    claims of its candidates' union) stays under `cap` entries and under twice the products of its articles alone
    (an article alone may exceed the cap)."""
    todo = np.array([a for a, c in enumerate(candidates) if c], dtype=np.int64)
    todo = todo[np.lexsort((todo, np.nan_to_num(arts.time[todo], nan=np.inf)))]
    sizes = arts.ends - arts.starts
    out: list[np.ndarray] = []
    block: list[int] = []
    union: set[int] = set()
    rows = cols = exact = 0
    for a in todo.tolist():
        own = int(sizes[a]) * int(sizes[list(candidates[a])].sum())
        grown_cols = cols + int(sizes[list(candidates[a] - union)].sum())
        product = (rows + int(sizes[a])) * grown_cols
        if block and (product > cap or product > 2 * (exact + own)):
            out.append(np.array(block))
            block, union, rows, exact = [], set(), 0, 0
            grown_cols = int(sizes[list(candidates[a])].sum())
        block.append(a)
        union |= candidates[a]
        cols, rows, exact = grown_cols, rows + int(sizes[a]), exact + own
    if block:
        out.append(np.array(block))
    return out


def _match_block(
    arts: _Articles, vectors: np.ndarray, block: np.ndarray, candidates: list[set[int]], threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the claims of `block`: their rows, confirming outlets, best cosine and the best-matching article (or -1),
    by one product against the claims of the block's candidates, masked to each article's own candidates."""
    union = np.array(sorted(set().union(*(candidates[a] for a in block.tolist()))), dtype=np.int64)
    allowed = np.zeros((len(block), len(union)), dtype=bool)
    for i, a in enumerate(block.tolist()):
        allowed[i, np.searchsorted(union, sorted(candidates[a]))] = True
    rows, row_art = _claim_rows(arts, block)
    cols, col_art = _claim_rows(arts, union)
    sims = vectors[rows] @ vectors[cols].T
    sims[~allowed[row_art][:, col_art]] = -np.inf
    # float32 screens; `cosines` decides every pair that may be a row's best or straddle the threshold
    near = (sims >= sims.max(axis=1, keepdims=True) - _SCREEN) | (np.abs(sims - threshold) < _SCREEN)
    r, c = np.nonzero(near & np.isfinite(sims))
    sims[r, c] = cosines(vectors[rows[r]], vectors[cols[c]])
    top = np.argmax(sims, axis=1)
    best = sims[np.arange(len(rows)), top]
    hit = sims >= threshold
    outlets, outlet_col = np.unique(arts.outlet[union[col_art]], return_inverse=True)
    by_outlet = np.zeros((len(cols), len(outlets)), dtype=np.float32)
    by_outlet[np.arange(len(cols)), outlet_col] = 1.0
    count = ((hit.astype(np.float32) @ by_outlet) > 0).sum(axis=1)
    by = np.where(hit[np.arange(len(rows)), top], union[col_art[top]], -1)
    return rows, count, best, by


def match_inputs(claims: pl.DataFrame, meta: pl.DataFrame, owners: Mapping[str, str]) -> pl.DataFrame:
    """The input of `confirm_claims`: each claim's (article_id, sentence_no) with its article's `meta` (outlet,
    published_at, story_id, copy_root) and its outlet's `owner` (null when the ownership data names none)."""
    return (
        claims.select("article_id", "sentence_no")
        .join(meta, on="article_id", how="left", maintain_order="left")
        .with_columns(pl.col("outlet").replace_strict(owners, default=None, return_dtype=pl.String).alias("owner"))
    )


def confirm_claims(claims: pl.DataFrame, vectors: np.ndarray, config: MatchConfig | None = None) -> pl.DataFrame:
    """Per claim (CONFIRMATION_SCHEMA, in the input's article_id, sentence_no order): independent confirmations.

    `claims` has MATCH_INPUT columns (owner, story_id, copy_root nullable); `vectors` one l2-normalised row per
    claim, in the same order. Articles are matched a block at a time (`config.product_cap`), with the same
    result whatever the blocks."""
    config = config or MatchConfig()
    claims = claims.select(MATCH_INPUT).with_row_index("_in")
    order = claims.sort("article_id", "sentence_no")["_in"].to_numpy()
    claims, vectors = claims[order], np.asarray(vectors, dtype=np.float32)[order]
    arts = _articles(claims.drop("_in"), vectors)
    candidates = _window_candidates(arts, config)
    _story_candidates(arts, config, candidates)
    n = claims.height
    count = np.zeros(n, np.uint32)
    best = np.full(n, np.nan, np.float32)
    by = np.full(n, -1, np.int64)
    for block in _blocks(arts, candidates, config.product_cap):
        rows, count[rows], best[rows], by[rows] = _match_block(arts, vectors, block, candidates, config.threshold)
    confirmed_by = arts.ids[np.maximum(by, 0)].astype(object)
    confirmed_by[by < 0] = None
    return pl.DataFrame(
        {
            "article_id": claims["article_id"],
            "sentence_no": claims["sentence_no"],
            "confirming_outlets_n": pl.Series(count, dtype=pl.UInt32),
            "best_cosine": pl.Series(best, dtype=pl.Float32).fill_nan(None),
            "confirmed_by": pl.Series(confirmed_by.tolist(), dtype=pl.String),
        },
        schema=CONFIRMATION_SCHEMA,
    )


@functools.cache
def load_claim_centre() -> np.ndarray:
    """The mean claim-sentence vector (features/data/claims/centre.txt, built by evaluation/claim_centre.py)."""
    text = resources.files("features").joinpath("data", "claims", CENTRE_FILE).read_text(encoding="utf-8")
    if hashlib.sha256(text.encode()).hexdigest() != CENTRE_SHA256:
        raise ValueError(f"features/data/claims/{CENTRE_FILE} does not match its checksum")
    return np.array([float(v) for v in text.split()], dtype=np.float32)


def claim_vectors(
    embedding: StaticEmbedding, sentences: Sequence[str] | pl.Series, centre: np.ndarray | None = None
) -> np.ndarray:
    """(n, dim) float32: each claim sentence's static-embedding vector (no word limit) minus the mean claim vector
    `centre` (default: load_claim_centre()), l2-normalised; an empty sentence gives a zero row.

    Uncentred, any two news sentences have cosine ~0.9 (one common direction dominates mean-pooled vectors)."""
    texts = sentences.to_list() if isinstance(sentences, pl.Series) else list(sentences)
    raw = embedding.embed(texts, max_words=None)
    empty = ~raw.any(axis=1)
    out = raw - (load_claim_centre() if centre is None else centre)
    out[empty] = 0.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out
