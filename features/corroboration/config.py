"""Corroboration, schemas and configuration: the declared output tables and the thresholds and knobs.

The defaults were tuned on PAC pairs mixed into AllSides (see ``docs/corroboration.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

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
