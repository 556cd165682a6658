"""The one clock: UTC, naive (DuckDB TIMESTAMP columns hold UTC). Pure code (features, scorer) never reads it."""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> datetime:
    """The current UTC time as a naive datetime (DuckDB TIMESTAMP columns hold UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)
