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
from collections.abc import Sequence
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


def confirm_claims(claims: pl.DataFrame, vectors: np.ndarray, config: MatchConfig | None = None) -> pl.DataFrame:
    """Per claim (CONFIRMATION_SCHEMA, in the input's article_id, sentence_no order): independent confirmations.

    `claims` has MATCH_INPUT columns (owner, story_id, copy_root nullable); `vectors` one l2-normalised row per
    claim, in the same order."""
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
    by = np.full(n, None, dtype=object)
    for a, cand in enumerate(candidates):
        if not cand:
            continue
        cands = np.array(sorted(cand))
        rows = np.concatenate([np.arange(arts.starts[c], arts.ends[c]) for c in cands])
        owner_article = np.repeat(cands, arts.ends[cands] - arts.starts[cands])
        own = slice(arts.starts[a], arts.ends[a])
        sims = vectors[own] @ vectors[rows].T
        top = np.argmax(sims, axis=1)
        best[own] = sims[np.arange(sims.shape[0]), top]
        hit = sims >= config.threshold
        outlets = arts.outlet[owner_article]
        count[own] = [len(set(outlets[h].tolist())) for h in hit]
        matched = hit[np.arange(sims.shape[0]), top]
        by[own] = np.where(matched, arts.ids[owner_article[top]], None)
    return pl.DataFrame(
        {
            "article_id": claims["article_id"],
            "sentence_no": claims["sentence_no"],
            "confirming_outlets_n": pl.Series(count, dtype=pl.UInt32),
            "best_cosine": pl.Series(best, dtype=pl.Float32).fill_nan(None),
            "confirmed_by": pl.Series(by.tolist(), dtype=pl.String),
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
