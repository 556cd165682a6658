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

Layout, one module per step: ``config`` (schemas and configuration), ``prepare`` (input normalisation),
``text_model`` (TF-IDF over title + lead), ``clustering`` (online centroid clustering), ``copies`` (copy
detection), ``articles`` (per-article features), ``stream`` (``StoryStream``), ``tables`` (per-story and
per-outlet tables), ``incremental`` (re-clustering support). This package re-exports the public names.
"""

from __future__ import annotations

from features.corroboration.articles import assign_stories
from features.corroboration.config import (
    ARTICLE_SCHEMA,
    DEFAULT_CONFIG,
    OUTLET_SCHEMA,
    STORY_SCHEMA,
    CorroborationConfig,
)
from features.corroboration.incremental import ReclusterPlan, recluster_plan, update_stories
from features.corroboration.stream import StoryStream
from features.corroboration.tables import CorroborationResult, corroboration, outlet_stats, story_table
from features.corroboration.text_model import (
    TextModel,
    document_frequencies,
    fit_text_model,
    merge_frequencies,
    text_chars,
    text_model_from_frequencies,
    vectorize,
)

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
    "text_chars",
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
