from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from jobs.engines import get_engine
from jobs.engines.base import Engine
from jobs.readers.outlets import OutletResolver
from jobs.stages.ingest import IngestOptions, IngestSummary, ingest
from jobs.store.connection import connect

LOCAL: Engine = get_engine("local")
"""The local engine, for tests that call stages directly."""


@pytest.fixture(scope="session")
def resolver() -> OutletResolver:
    return OutletResolver.default()


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(tmp_path / "t.duckdb")
    yield connection
    connection.close()


@pytest.fixture
def load(con: duckdb.DuckDBPyConnection, resolver: OutletResolver):
    def run(*inputs: Path | str, **options: object) -> IngestSummary:
        return ingest(con, [str(i) for i in inputs], options=IngestOptions(**options), resolver=resolver, engine=LOCAL)  # type: ignore[arg-type]

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


LABELLED_OUTLETS = ("nytimes.com", "foxnews.com", "breitbart.com", "reuters.com", "infowars.com", "npr.org")
_SUBJECTS = ("The council", "The minister", "A senior official", "Critics", "The company", "Sources")
_VERBS = ("said", "announced", "could announce", "reportedly said", "may confirm", "told reporters")
_TOPICS = ("the budget", "the bridge repairs", "a new school", "the election", "the water supply", "tax rates")


def labelled_corpus(folder: Path, *, per_outlet: int = 20) -> Path:
    """A small deterministic corpus: six outlets with Lin labels, varied sentences, dated June 2020."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for o, outlet in enumerate(LABELLED_OUTLETS):
        for i in range(per_outlet):
            k = o * per_outlet + i
            sentences = [
                f"{_SUBJECTS[(k + j) % 6]} {_VERBS[(k * 7 + j * (o + 1)) % 6]} that {_TOPICS[(k + 2 * j) % 6]} "
                f"would change by {k + j} percent."
                for j in range(3 + (k % 4))
            ]
            records.append(
                {
                    "id": f"{outlet}-{i}",
                    "url": f"https://www.{outlet}/2020/06/story-{i}",
                    "title": f"Story {i} about {_TOPICS[k % 6]}" + ("?" if (k + o) % 5 == 0 else ""),
                    "text": " ".join(sentences),
                    "published_at": f"2020-06-{1 + i % 28:02d}T{o + 6:02d}:00:00Z",
                    "authors": ["A Writer"] if (k + o) % 3 else [],
                }
            )
    return write_jsonl(folder / "labelled.jsonl", records)
