from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from jobs import paths
from jobs.db import connect
from jobs.ingest import IngestOptions, IngestSummary, ingest
from jobs.outlets import OutletResolver


@pytest.fixture(scope="session")
def resolver() -> OutletResolver:
    return OutletResolver.from_files(
        aliases=paths.ALIASES_FILE, labels=[paths.LABELS_FILE], platforms=paths.PLATFORMS_FILE
    )


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(tmp_path / "t.duckdb")
    yield connection
    connection.close()


@pytest.fixture
def load(con: duckdb.DuckDBPyConnection, resolver: OutletResolver):
    def run(*inputs: Path | str, **options: object) -> IngestSummary:
        return ingest(con, [str(i) for i in inputs], options=IngestOptions(**options), resolver=resolver)  # type: ignore[arg-type]

    return run


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def article(i: int, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"a{i}",
        "url": f"https://www.example-news.com/story/{i}",
        "title": f"Story {i}",
        "text": f"Body of story {i}. It has two sentences.",
        "published_at": "2020-05-01T12:00:00Z",
        "authors": ["Jane Doe"],
    }
    base.update(fields)
    return base


def reconciles(summary: IngestSummary) -> bool:
    c = summary.counts
    return c["records_read"] == c["loaded"] + c["updated"] + c["duplicates"] + c["rejected"]
