from __future__ import annotations

import duckdb
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
    claims(con)
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


def test_an_article_without_claims_rows_says_so(sample_db) -> None:
    seed = "SELECT article_id FROM article_meta WHERE source_id = ?"
    sample_db.execute(f"DELETE FROM claims WHERE article_id = ({seed})", [SEED])  # noqa: S608 - a constant
    assert claims_summary(explain_article(sample_db, SEED))[0].startswith("No claims recorded")
