"""The claim cues of the evaluation's articles, computed in memory as the nightly's claims stage computes them.

Per article, the label-free claim shares of `features.claims.claim_units` (`scorer.inputs.CLAIM_CUES`): the share
of its unnamed-source claims no independent outlet confirms, and the share of its speculative claims one does.
Claims by `features.claims.article_claims` (with the evaluation's boilerplate table), stories and copies by
`features.corroboration.corroboration` over the same articles, matching by `features.claims.confirm_claims` with
the shipped owners. `low_rated_origin_claim_share` is left out: it reads the label file (which outlets are
low-rated), so under CV it would have to be recomputed per fold from the training labels, as `cited_rating` is;
and `cited_rating` already carries the rating of the outlets an outlet names as its source (docs/claims.md).
"""

from __future__ import annotations

import logging
import time

import polars as pl

from scorer.inputs import CLAIM_CUES

log = logging.getLogger("evaluation")


def claim_shares(articles: pl.DataFrame, boilerplate: pl.LazyFrame) -> pl.DataFrame:
    """article_id and the CLAIM_CUES shares (null where an article has no such claim) of every article."""
    from features.claims import article_claims, cited_outlets, claim_units, claim_vectors, confirm_claims, match_inputs
    from features.corroboration import corroboration
    from features.embedding import load_static_embedding
    from features.lexicons import load_lexicons
    from jobs.readers.outlets import citation_names, load_owners

    t = time.time()
    found = article_claims(
        articles.select("article_id", "outlet", "title", "text").lazy(),
        boilerplate=boilerplate,
        lexicons=load_lexicons(),
        cited=cited_outlets(citation_names()),
    ).collect()
    found = found.sort("article_id", "sentence_no")
    stories = corroboration(articles.select("article_id", "outlet", "title", "text", "published_at")).articles
    meta = stories.select(
        "article_id",
        "outlet",
        "published_at",
        "story_id",
        pl.col("copy_of").fill_null(pl.col("article_id")).alias("copy_root"),
    )
    inputs = match_inputs(found, meta, load_owners())
    confirmations = confirm_claims(inputs, claim_vectors(load_static_embedding(), found["sentence"]))
    claims = found.join(confirmations, on=["article_id", "sentence_no"], how="left").join(
        meta.select("article_id", "outlet"), on="article_id", how="left"
    )
    units = (
        claim_units(claims.with_columns(origin_outlet=pl.col("outlet")).lazy(), low_rated=())
        .collect()
        .select("article_id", *CLAIM_CUES)
    )
    log.info("claims of %d articles (%d claims) in %.0f s", articles.height, found.height, time.time() - t)
    return articles.select("article_id").join(units, on="article_id", how="left", maintain_order="left")
