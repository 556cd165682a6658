from __future__ import annotations

import duckdb
import polars as pl
import pytest
from rich.console import Console

from jobs.infra import paths
from jobs.outputs.explain import claims_summary, explain_article, render_article
from jobs.readers.outlets import OutletResolver
from jobs.stages.claims import claims
from jobs.stages.corroborate import corroborate
from jobs.stages.featurize import featurize
from jobs.stages.ingest import IngestOptions, ingest

from ..conftest import LOCAL

SEED = "seed-000-8c9f463cf267f3af"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """The embedded sample (with the founding seed article) ingested, featurized, corroborated and its claims found."""
    from jobs.store.connection import connect

    con = connect(tmp_path_factory.mktemp("sample") / "s.duckdb")
    ingest(con, [str(paths.SAMPLE_DIR)], options=IngestOptions(), resolver=OutletResolver.default(), engine=LOCAL)
    featurize(con, engine=LOCAL)
    corroborate(con, engine=LOCAL)
    claims(con, engine=LOCAL)
    return con


def test_the_seed_is_explained_by_its_origin_sourcing_and_confirmation(sample_db) -> None:
    explanation = explain_article(sample_db, SEED)
    lines = claims_summary(explanation)
    assert [o["outlet"] for o in explanation.origins] == ["ria.ru"]
    ria = explanation.origins[0]
    assert (ria["name"], ria["owner"]) == ("RIA Novosti", "Russian state")
    assert "ria.ru (RIA Novosti): owner Russian state" in lines[1]
    unnamed = [c for c in explanation.claims if c["unnamed"]]
    assert len(unnamed) >= 4 and any(c["source_phrase"] == "sources within the coalition" for c in unnamed)
    assert all(c["confirming_outlets_n"] == 0 for c in explanation.claims)
    assert lines[-1].startswith("Confirmed by no independent outlet in the corpus")
    console = Console(width=160, record=True)
    console.print(render_article(explanation, color=False))
    printed = console.export_text()
    assert "ria.ru (RIA Novosti): owner Russian state" in printed and "no independent outlet" in printed


def test_an_outlet_lists_its_unconfirmed_unnamed_source_claims_most_recent_first(sample_db) -> None:
    from jobs.outputs.explain import unconfirmed_unnamed_claims

    claims_rows = sample_db.sql(
        "SELECT a.outlet, a.published_at, c.article_id, c.sentence_no, c.unnamed, c.confirming_outlets_n "
        "FROM claims c JOIN article_meta a ON a.article_id = c.article_id"
    ).pl()
    unnamed = claims_rows.filter("unnamed")
    outlet = unnamed.group_by("outlet").len().sort("len", "outlet", descending=[True, False])["outlet"][0]
    mine = unnamed.filter(pl.col("outlet") == outlet)
    expected = (
        mine.filter(pl.col("confirming_outlets_n") == 0)
        .sort(["published_at", "article_id", "sentence_no"], descending=[True, False, False], nulls_last=True)
        .head(4)
    )
    found = unconfirmed_unnamed_claims(sample_db, outlet, limit=4)
    assert (found.unnamed, found.unconfirmed) == (mine.height, (mine["confirming_outlets_n"] == 0).sum())
    assert 0 < len(found.rows) <= 4
    assert [(r["article_id"], r["sentence_no"]) for r in found.rows] == list(
        zip(expected["article_id"], expected["sentence_no"], strict=True)
    )
    assert found == unconfirmed_unnamed_claims(sample_db, outlet, limit=4)  # deterministic


def test_the_seeds_outlet_shows_its_unconfirmed_unnamed_claims_with_their_sentences(sample_db) -> None:
    from jobs.outputs.explain import unconfirmed_table, unconfirmed_unnamed_claims

    outlet = sample_db.execute("SELECT outlet FROM article_meta WHERE source_id = ?", [SEED]).fetchall()[0][0]
    found = unconfirmed_unnamed_claims(sample_db, outlet, limit=10)
    assert found.unconfirmed == found.unnamed >= 4
    console = Console(width=200, record=True)
    console.print(unconfirmed_table(found))
    printed = console.export_text()
    assert "no independent outlet confirms" in printed and "sources within the coalition" in printed
    assert unconfirmed_unnamed_claims(sample_db, "no-such-outlet.example").rows == []


def test_an_article_without_claims_rows_says_so(sample_db) -> None:
    seed = "SELECT article_id FROM article_meta WHERE source_id = ?"
    sample_db.execute(f"DELETE FROM claims WHERE article_id = ({seed})", [SEED])  # noqa: S608 - a constant
    assert claims_summary(explain_article(sample_db, SEED))[0].startswith("No claims recorded")
