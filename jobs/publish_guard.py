"""The guard before publishing: a window that would shrink the published table a lot is refused.

A cron job whose feed died, or a mistyped `--as-of` (2099), would otherwise publish a handful of outlets in
place of the whole table, and `latest_scores` would silently lose the rest. A publication with fewer than
MIN_KEPT_SHARE of the previous publication's outlets is refused (exit 4) unless the operator passes
`--allow-shrink`; the refusal and the two counts are logged and recorded in the score run's error.
"""

from __future__ import annotations

import logging
import math

import duckdb

log = logging.getLogger(__name__)

MIN_KEPT_SHARE = 0.5  # docs/operations.md


class PublishRefused(RuntimeError):
    """Publishing would shrink latest_scores below MIN_KEPT_SHARE of the previous publication."""


def check_shrink(con: duckdb.DuckDBPyConnection, n_outlets: int, *, allow_shrink: bool) -> None:
    """Raise PublishRefused when n_outlets < MIN_KEPT_SHARE x the previous publication's (unless allowed)."""
    row = con.execute("SELECT n_outlets, as_of FROM publications ORDER BY published_at DESC, run_id DESC LIMIT 1")
    previous = row.fetchall()
    if not previous:
        return
    before, as_of = int(previous[0][0]), previous[0][1]
    needed = math.ceil(MIN_KEPT_SHARE * before)
    if n_outlets >= needed:
        return
    message = (
        f"refusing to publish {n_outlets} outlets where the previous publication (as of {as_of}) had {before}: "
        f"fewer than {MIN_KEPT_SHARE:.0%} would remain. Is the feed still arriving, and is --as-of right? "
        "Pass --allow-shrink to publish anyway"
    )
    if allow_shrink:
        log.warning("%s (--allow-shrink: publishing)", message.split(". Pass")[0])
        return
    raise PublishRefused(message)
