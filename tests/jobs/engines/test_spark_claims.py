"""`claims --engine spark` against the local engine on the embedded sample (Spark local mode)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features.claims import cited_outlets
from features.lexicons import load_lexicons
from jobs.engines.spark import SparkEngine
from jobs.engines.spark import session as spark_session
from jobs.infra import paths
from jobs.readers.outlets import OutletResolver, citation_names
from jobs.stages.claims import claims
from jobs.stages.corroborate import corroborate
from jobs.stages.featurize import featurize
from jobs.stages.ingest import IngestOptions, ingest
from jobs.store.connection import connect

from ..conftest import LOCAL

_REASON = spark_session.spark_available()
needs_spark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")
MASTER = "local[2]"


@pytest.fixture(scope="module")
def corroborated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded sample ingested, featurized and corroborated (locally): what the claims stage reads."""
    db = tmp_path_factory.mktemp("claims") / "sample.duckdb"
    con = connect(db)
    ingest(con, [str(paths.SAMPLE_DIR)], options=IngestOptions(), resolver=OutletResolver.default(), engine=LOCAL)
    featurize(con, engine=LOCAL)
    corroborate(con, engine=LOCAL)
    con.close()
    return db


def _claims_tables(db: Path, folder: Path, engine: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    copy = folder / f"{engine.name}.duckdb"
    shutil.copy(db, copy)
    con = connect(copy)
    try:
        summary = claims(con, engine=engine)
        assert summary.extracted == 2462
        return tuple(  # type: ignore[return-value]
            con.sql(f"SELECT * EXCLUDE (run_id) FROM {t} ORDER BY ALL").pl()  # noqa: S608 - table names
            for t in ("claims", "claim_articles")
        )
    finally:
        con.close()


@pytest.mark.spark
@needs_spark
def test_spark_claims_stage_writes_the_local_claims(spark: Any, corroborated: Path, tmp_path: Path) -> None:
    """Bit for bit: extraction on Spark (a task per text file), then the same matching, give the same rows."""
    local = _claims_tables(corroborated, tmp_path, LOCAL)
    on_spark = _claims_tables(corroborated, tmp_path, SparkEngine(MASTER))
    assert local[0].height > 10_000 and local[0]["confirming_outlets_n"].sum() > 0
    for got, expected in zip(on_spark, local, strict=True):
        assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.spark
@needs_spark
def test_spark_claim_batches_cover_every_article_in_bounded_batches(spark: Any, corroborated: Path) -> None:
    con = duckdb.connect(str(corroborated), read_only=True)
    todo = con.sql("SELECT article_id, outlet FROM article_meta ORDER BY article_id").pl()
    boilerplate = con.sql("SELECT outlet, line_norm FROM outlet_boilerplate").pl()
    options = {"boilerplate": boilerplate, "lexicons": load_lexicons(), "cited": cited_outlets(citation_names())}
    local = pl.concat(list(LOCAL.claim_batches(con, todo, batch_size=5_000, **options)))
    batches = list(SparkEngine(MASTER).claim_batches(con, todo, batch_size=700, **options))
    assert len(batches) >= 2  # a batch holds whole task calls (a text file's streamed batch): not one for all
    got = pl.concat(batches)
    assert_frame_equal(got.sort("article_id", "sentence_no"), local.sort("article_id", "sentence_no"), check_exact=True)
