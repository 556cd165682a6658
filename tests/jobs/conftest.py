from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
    return c["records_read"] == c["loaded"] + c["updated"] + c["duplicates"] + c["skipped"] + c["rejected"]


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


PUBLISHED_ARGS = ["--as-of", "2020-06-30", "--window-days", "90"]


@pytest.fixture(scope="session")
def published_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A database with one nightly published by a real process (six labelled outlets, `labelled_corpus`) and its
    corpus, built once per test process; tests that change it work on a copy (`copy_published`)."""
    base = tmp_path_factory.mktemp("published-once")
    db, corpus = base / "p.duckdb", base / "corpus"
    labelled_corpus(corpus)
    command = [sys.executable, "-m", "jobs", "nightly", "--db", str(db), "--corpus", str(corpus), *PUBLISHED_ARGS]
    first = subprocess.run([*command, "--quiet"], capture_output=True, text=True, env=os.environ.copy(), timeout=900)
    assert first.returncode == 0, first.stderr
    return db, corpus


def copy_published(published_once: tuple[Path, Path], dest: Path) -> tuple[Path, Path]:
    """A copy of the published database (with its snapshot and texts) and its corpus plus one new article."""
    db, corpus = published_once
    dest.mkdir(parents=True, exist_ok=True)
    for path in db.parent.iterdir():
        if path.name.startswith(db.stem) and not path.name.endswith(".lock"):
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, dest / path.name)
    shutil.copytree(corpus, dest / "corpus")
    write_jsonl(dest / "corpus" / "new.jsonl", [article(1, url="https://www.nytimes.com/2020/06/29/late")])
    return dest / db.name, dest / "corpus"
