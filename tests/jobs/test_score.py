from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from jobs.cli import cli

SAMPLE_ARGS = ["--as-of", "2020-12-31", "--window-days", "3650"]
STABLE_COLUMNS = "outlet, score, score_low, score_high, grade, status, n_articles, factors, label_score, model_id"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden end-to-end run: `presstrust nightly` on the embedded sample."""
    db = tmp_path_factory.mktemp("golden") / "sample.duckdb"
    result = CliRunner().invoke(cli, ["nightly", "--db", str(db), *SAMPLE_ARGS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return db


def test_golden_sample_publishes_every_outlet(sample_db: Path) -> None:
    con = duckdb.connect(str(sample_db), read_only=True)
    outlets = con.execute("SELECT count(DISTINCT outlet) FROM articles").fetchall()[0][0]
    latest = con.execute(f"SELECT {STABLE_COLUMNS} FROM latest_scores").fetchall()  # noqa: S608
    assert len(latest) == outlets == 96  # data/sample/PROVENANCE.md: 71 + 24 outlets, the seed's
    for outlet, score, low, high, grade, status, n, factors, _label, _model in latest:
        assert 0 <= low <= score <= high <= 100, outlet
        assert grade in ("high", "mixed", "low")
        assert status == ("ok" if n >= 20 else "insufficient_data")
        assert factors and all(set(f) == {"feature", "value", "contribution"} for f in factors)
    model = con.execute("SELECT training_outlets, cv_metrics, parameters FROM models").fetchall()
    assert len(model) == 1 and len(model[0][0]) >= 40
    assert {"spearman_mean", "mae_mean"} <= set(json.loads(model[0][1]))
    seed = con.execute("SELECT score, status FROM latest_scores WHERE outlet = 'unknown-origin.example'").fetchall()
    assert seed and seed[0][1] == "insufficient_data"  # one article: scored, but flagged


def test_second_run_does_not_refit_and_publishes_again(sample_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(sample_db.read_bytes())
    result = CliRunner().invoke(cli, ["nightly", "--db", str(db), *SAMPLE_ARGS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM models").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM publications").fetchall() == [(2,)]
    history = con.execute("SELECT count(DISTINCT run_id) FROM score_history").fetchall()
    assert history == [(2,)]
    changes = con.execute("SELECT count(*), count(*) FILTER (WHERE change <> 0) FROM score_changes").fetchall()
    assert changes == [(96, 0)]  # same inputs, same model: the same scores


def test_same_inputs_give_identical_scores(sample_db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    result = CliRunner().invoke(cli, ["nightly", "--db", str(other), *SAMPLE_ARGS], catch_exceptions=False)
    assert result.exit_code == 0
    query = f"SELECT {STABLE_COLUMNS} FROM latest_scores ORDER BY outlet"  # noqa: S608
    first = duckdb.connect(str(sample_db), read_only=True).execute(query).fetchall()
    second = duckdb.connect(str(other), read_only=True).execute(query).fetchall()
    names = [c.strip() for c in STABLE_COLUMNS.split(",")]
    differences = [
        (a[0], name, x, y)
        for a, b in zip(first, second, strict=True)
        for name, x, y in zip(names, a, b, strict=True)
        if x != y
    ]
    assert differences == []


def test_model_round_trips_from_the_database(sample_db: Path) -> None:
    from scorer.persist import model_from_dict

    con = duckdb.connect(str(sample_db), read_only=True)
    parameters = con.execute("SELECT parameters FROM models").fetchall()[0][0]
    model = model_from_dict(json.loads(parameters))
    assert model.is_linear and len(model.coef_) > 5


def test_score_without_model_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    result = CliRunner().invoke(cli, ["score", "--db", str(db), *SAMPLE_ARGS], catch_exceptions=False)
    assert result.exit_code == 1 and "no fitted model" in result.output


def test_cli_scores_and_runs(sample_db: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(cli, ["scores", "--db", str(sample_db)], catch_exceptions=False)
    assert table.exit_code == 0 and table.output.splitlines()[0].split()[:4] == [
        "outlet",
        "score",
        "score_low",
        "score_high",
    ]
    assert len(table.output.splitlines()) == 97  # a header and the 96 outlets
    one = runner.invoke(
        cli,
        ["scores", "--db", str(sample_db), "--outlet", "https://www.nytimes.com/x", "--format", "json"],
        catch_exceptions=False,
    )
    row = json.loads(one.output)
    assert row["outlet"] == "nytimes.com" and row["score_low"] <= row["score"] <= row["score_high"]
    csv_out = runner.invoke(cli, ["scores", "--db", str(sample_db), "--format", "csv"], catch_exceptions=False)
    assert csv_out.output.startswith("outlet,score,score_low,score_high,grade,status")
    runs = runner.invoke(
        cli, ["runs", "--db", str(sample_db), "--job", "nightly", "--format", "json"], catch_exceptions=False
    )
    nightly_runs = [json.loads(line) for line in runs.output.splitlines()]
    assert [r["status"] for r in nightly_runs][-1] == "ok"


def test_cli_explain_outlet(sample_db: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(
        cli, ["explain", "https://www.foxnews.com/politics/x", "--db", str(sample_db)], catch_exceptions=False
    )
    assert out.exit_code == 0, out.output
    assert out.output.startswith("foxnews.com: ") and "What moved the score" in out.output
    assert "Unnamed sources" in out.output or "Speculation" in out.output
    missing = runner.invoke(cli, ["explain", "no-such-outlet.example", "--db", str(sample_db)], catch_exceptions=False)
    assert missing.exit_code == 1 and "no published score" in missing.output


def test_research_doc_queries_run(sample_db: Path) -> None:
    import re

    from jobs.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "research.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert len(queries) == 5
    con = duckdb.connect(str(sample_db), read_only=True)
    for query in queries:
        assert con.execute(query).fetchall(), query  # every example returns rows on the sample


def test_export_writes_every_public_table(sample_db: Path, tmp_path: Path) -> None:
    import polars as pl

    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", "--db", str(sample_db), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    schema = json.loads((out / "schema.json").read_text())
    assert {"articles", "latest_scores", "outlet_features", "stories", "runs"} <= set(schema)
    for name, info in schema.items():
        assert pl.read_parquet(out / info["file"]).height == info["rows"], name
        assert all(c["description"] for c in info["columns"]), name
    assert (out / "SCHEMA.md").read_text().startswith("# presstrust database schema")
