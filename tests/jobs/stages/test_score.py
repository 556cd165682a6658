from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.infra import paths

SAMPLE_ARGS = ["--as-of", "2020-12-31", "--window-days", "3650"]
STABLE_COLUMNS = "outlet, score, score_low, score_high, grade, status, n_articles, factors, label_score, model_id"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden end-to-end run: `presstrust nightly` on the embedded sample."""
    db = tmp_path_factory.mktemp("golden") / "sample.duckdb"
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(db), "--corpus", str(paths.SAMPLE_DIR), *SAMPLE_ARGS], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return db


def test_golden_sample_publishes_every_outlet(sample_db: Path) -> None:
    con = duckdb.connect(str(sample_db), read_only=True)
    outlets = con.execute("SELECT count(DISTINCT outlet) FROM articles").fetchall()[0][0]
    latest = con.execute(f"SELECT {STABLE_COLUMNS}, n_english FROM latest_scores").fetchall()  # noqa: S608
    assert len(latest) == outlets == 96  # jobs/data/sample/PROVENANCE.md: 71 + 24 outlets, the seed's
    statuses = set()
    for outlet, score, low, high, grade, status, n, factors, _label, _model, n_english in latest:
        statuses.add(status)
        if status == "unsupported_language":  # mostly non-English: no score, no grade
            assert score is None and grade is None and factors is None and 2 * n_english <= n, outlet
            continue
        assert 0 <= low <= score <= high <= 100, outlet
        assert factors and all(set(f) == {"feature", "value", "contribution"} for f in factors)
        if n_english >= 20:
            assert status == "ok" and grade in ("high", "mixed", "low"), outlet
        else:
            assert status == "insufficient_data" and grade is None, outlet  # no grade without data
    assert statuses == {"ok", "insufficient_data", "unsupported_language"}
    model = con.execute("SELECT training_outlets, cv_metrics, parameters, estimator FROM models").fetchall()
    assert len(model) == 1 and len(model[0][0]) >= 40 and model[0][3] == "two_layer"
    assert {"spearman_mean", "mae_mean", "interval_coverage"} <= set(json.loads(model[0][1]))
    seed = con.execute(
        "SELECT score, grade, status FROM latest_scores WHERE outlet = 'unknown-origin.example'"
    ).fetchall()
    assert seed and seed[0][1] is None and seed[0][2] == "insufficient_data"  # one undated article: no grade


def test_german_outlets_get_no_score(sample_db: Path) -> None:
    con = duckdb.connect(str(sample_db), read_only=True)
    rows = con.execute(
        "SELECT outlet, score, grade, status FROM latest_scores WHERE outlet IN "
        "('compact-online.de', 'kopp-report.de', 'politikstube.com') ORDER BY outlet"
    ).fetchall()
    assert [r[3] for r in rows] == ["unsupported_language"] * 3
    assert all(r[1] is None and r[2] is None for r in rows)


def test_every_grade_is_reachable_and_grades_follow_the_labels(sample_db: Path) -> None:
    con = duckdb.connect(str(sample_db), read_only=True)
    grades = {g for (g,) in con.execute("SELECT DISTINCT grade FROM latest_scores WHERE grade IS NOT NULL").fetchall()}
    assert grades == {"high", "mixed", "low"}  # low is reachable
    # out-of-fold scores: the labels of the outlets graded low are lower than those graded high
    mean_label = dict(
        con.execute(
            "SELECT grade, avg(label_score) FROM latest_scores WHERE cross_fitted AND grade IS NOT NULL GROUP BY grade"
        ).fetchall()
    )
    assert mean_label["low"] < mean_label["mixed"] < mean_label["high"]


@pytest.mark.xfail(
    strict=True,
    reason="issues 9 and 24 target not met on the sample: out of fold, theepochtimes.com (label 26) scores ~71 "
    "(high from 70); its text layer rates it 66, its cue layer (named sources, quotes, few title exclamations: the "
    "form of wire copy) ~83, both stretched by the calibration; what it reports and whom it cites is issue 25's",
)
def test_low_rated_outlets_are_not_graded_high(sample_db: Path) -> None:
    with duckdb.connect(str(sample_db), read_only=True) as con:  # closed although the assertion fails (xfail)
        wrong = con.execute("SELECT outlet FROM latest_scores WHERE label_score < 0.3 AND grade = 'high'").fetchall()
    assert wrong == []


def test_training_outlets_are_scored_out_of_fold(sample_db: Path) -> None:
    from scipy.stats import spearmanr

    from scorer.two_layer import PUBLISHED_WEIGHT, TwoLayerModel

    con = duckdb.connect(str(sample_db), read_only=True)
    training, parameters = con.execute("SELECT training_outlets, parameters FROM models").fetchall()[0]
    model = TwoLayerModel.from_dict(json.loads(parameters))
    assert len(model.folds) == 5 and sorted(model.fold_of) == sorted(training)
    assert model.weight == PUBLISHED_WEIGHT and all(f.weight == PUBLISHED_WEIGHT for f in model.folds)
    rows = con.execute("SELECT outlet, cross_fitted, score, label_score FROM latest_scores").fetchall()
    assert {o for o, cross, _, _ in rows if cross} == set(training)
    held_out = [(s, y) for _, cross, s, y in rows if cross]
    # held-out scores do not echo the labels (in-sample they matched to 0.1 points) ...
    assert sum(abs(s - 100 * y) < 1.0 for s, y in held_out) < len(held_out) / 4
    # ... but still rank them (0.60 measured on the sample)
    assert spearmanr([s for s, _ in held_out], [y for _, y in held_out]).statistic > 0.45
    # their text contributions are stored under the fold model that scored them
    stored = con.execute(
        "SELECT DISTINCT t.model_id FROM article_text_scores t JOIN articles a USING (article_id) "
        "WHERE a.outlet = 'infowars.com'"
    ).fetchall()
    assert stored == [
        (f"{con.execute('SELECT model_id FROM models').fetchall()[0][0]}/fold{model.fold_of['infowars.com']}",)
    ]


def test_a_training_outlets_score_does_not_depend_on_its_label(sample_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "relabelled.duckdb"
    db.write_bytes(sample_db.read_bytes())
    from jobs.infra import paths

    labels = tmp_path / "labels.csv"
    lines = paths.LABELS_FILE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    domain, score = header.index("domain"), header.index("pc1")
    changed = []
    for line in lines[1:]:
        cells = line.split(",")
        if cells[domain] == "infowars.com":
            cells[score] = "0.99"  # the outlet's own label, far from its original 0.05
        changed.append(",".join(cells))
    labels.write_text("\n".join([lines[0], *changed]) + "\n", encoding="utf-8")
    query = "SELECT outlet, score, model_id FROM latest_scores WHERE outlet = ? "
    before = duckdb.connect(str(db), read_only=True).execute(query, ["infowars.com"]).fetchall()
    for command in (["fit", "--labels", str(labels)], ["score"]):
        result = CliRunner().invoke(cli, [*command, "--db", str(db), *SAMPLE_ARGS], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    after = con.execute(query, ["infowars.com"]).fetchall()
    assert after[0][2] != before[0][2]  # a new model, fitted on the changed label ...
    assert after[0][1] == pytest.approx(before[0][1], abs=1e-6)  # ... scores infowars as before
    assert con.execute("SELECT label_score FROM latest_scores WHERE outlet = 'infowars.com'").fetchall() == [(0.99,)]


def test_factors_add_up_to_the_published_score(sample_db: Path) -> None:
    from jobs.outputs.explain import explain_outlet

    con = duckdb.connect(str(sample_db), read_only=True)
    outlets = con.execute("SELECT outlet, score FROM latest_scores WHERE score IS NOT NULL").fetchall()
    assert len(outlets) > 80
    for outlet, score in outlets:
        explanation = explain_outlet(con, outlet)
        # each published number is rounded to 1e-6: the sum of ~25 of them is within 2e-5 of the score
        assert explanation.total == pytest.approx(score, abs=2e-5), outlet


def test_explain_lists_the_seed_outlets_unconfirmed_unnamed_source_claims(sample_db: Path) -> None:
    from jobs.outputs.explain import explain_outlet

    result = CliRunner().invoke(cli, ["explain", "unknown-origin.example", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    assert "sourced to unnamed sources that no independent outlet confirms" in " ".join(result.output.split())
    con = duckdb.connect(str(sample_db), read_only=True)
    found = explain_outlet(con, "unknown-origin.example").unconfirmed
    assert found is not None and found.unconfirmed == found.unnamed >= 4 and len(found.rows) == 3
    assert all(r["sentence"] and r["source_phrase"] for r in found.rows)


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


def test_an_empty_window_is_one_line_not_a_traceback(sample_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(sample_db.read_bytes())
    args = ["score", "--db", str(db), "--as-of", "1990-01-01", "--window-days", "1", "--undated", "exclude"]
    args += ["--allow-shrink"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 4 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "presstrust score: no featurized articles in the 1 days to 1990-01-01: nothing to score"
    )


def test_same_inputs_give_identical_scores(sample_db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(other), "--corpus", str(paths.SAMPLE_DIR), *SAMPLE_ARGS], catch_exceptions=False
    )
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
    from scorer.two_layer import TwoLayerModel

    con = duckdb.connect(str(sample_db), read_only=True)
    model_id, parameters = con.execute("SELECT model_id, parameters FROM models").fetchall()[0]
    model = TwoLayerModel.from_dict(json.loads(parameters))
    assert model.cue.is_linear and len(model.cue.coef_) > 5 and model.text is not None
    assert 0.0 <= model.weight <= 1.0 and model.dumps() == parameters  # stored as data, read back exactly
    # the stored per-article text contributions are the model's
    article_id, stored, coords = con.execute(
        "SELECT article_id, contribution, coords FROM article_text_scores WHERE model_id = ? "
        "ORDER BY article_id LIMIT 1",
        [model_id],
    ).fetchall()[0]
    from jobs.stages.model_inputs import text_layer_texts
    from scorer.text_layer import text_matrix

    assert model.text.source == "body"  # the default: title + body without its boilerplate lines
    assert model.text.embedding_ is not None and model.text.has_coords  # both ridges, and the interval's axes
    text = text_layer_texts(con, [article_id], model.text.source)["title"].to_list()
    matrix = text_matrix(text, source=model.text.source)
    assert model.text.contributions(matrix)[0] == pytest.approx(stored, abs=1e-12)
    assert coords == pytest.approx(model.text.coords(matrix)[0].tolist(), abs=1e-5)  # type: ignore[index]


def test_score_without_model_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    result = CliRunner().invoke(cli, ["score", "--db", str(db), *SAMPLE_ARGS], catch_exceptions=False)
    assert result.exit_code == 1 and "no fitted model" in result.output


def test_cli_scores_and_runs(sample_db: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(cli, ["scores", "--db", str(sample_db)], catch_exceptions=False)
    lines = table.output.splitlines()
    assert table.exit_code == 0 and lines[0].split()[:5] == ["outlet", "score", "low", "high", "label"]
    footer = [i for i, line in enumerate(lines) if line.startswith("(--wide")]
    assert footer == [97] and lines[-1].endswith(")")  # a header, the 96 outlets, the columns left out (wrapped)
    assert max(len(line) for line in lines) <= 80
    wide = runner.invoke(cli, ["scores", "--db", str(sample_db), "--wide"], catch_exceptions=False).output
    assert len(wide.splitlines()) == 97 and wide.splitlines()[0].split()[-1] == "model_id"
    assert max(len(line) for line in wide.splitlines()) > 80
    one = runner.invoke(
        cli,
        ["scores", "--db", str(sample_db), "--outlet", "https://www.nytimes.com/x", "--format", "json"],
        catch_exceptions=False,
    )
    [row] = json.loads(one.output)  # JSON output is one array of objects
    assert row["outlet"] == "nytimes.com" and row["low"] <= row["score"] <= row["high"]
    assert 50 <= row["label"] <= 100  # labels on the scores' 0-100 scale (Lin et al. pc1 0.86 -> 85.9)
    csv_out = runner.invoke(cli, ["scores", "--db", str(sample_db), "--format", "csv"], catch_exceptions=False)
    assert csv_out.output.startswith("outlet,score,low,high,label,grade,status")
    runs = runner.invoke(
        cli, ["runs", "--db", str(sample_db), "--job", "nightly", "--format", "json"], catch_exceptions=False
    )
    nightly_runs = json.loads(runs.output)
    assert [r["status"] for r in nightly_runs][-1] == "ok"
    assert isinstance(nightly_runs[0]["counts"]["ingest"]["loaded"], int)  # counts nested once, not a JSON string
    runs_table = runner.invoke(cli, ["runs", "--db", str(sample_db)], catch_exceptions=False).output
    assert max(len(line) for line in runs_table.splitlines()) <= 80


def test_cli_explain_outlet(sample_db: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(
        cli, ["explain", "https://www.foxnews.com/politics/x", "--db", str(sample_db)], catch_exceptions=False
    )
    assert out.exit_code == 0, out.output
    assert out.output.startswith("foxnews.com: ") and "What moved the score" in out.output
    assert "baseline" in out.output and "= score" in out.output and "text layer" in out.output
    assert "Behind text layer" in out.output and "this title alone" in out.output
    wide = runner.invoke(cli, ["explain", "foxnews.com", "--db", str(sample_db)], env={"COLUMNS": "200"})
    assert wide.exit_code == 0 and "…" not in wide.output  # long URLs and sentences wrap, never cut
    with duckdb.connect(str(sample_db), read_only=True) as con:
        evidence_ids = {i for (i,) in con.execute("SELECT article_id FROM article_evidence").fetchall()}
    assert sum(i in out.output for i in evidence_ids) >= 3  # the articles behind the score, by article_id
    german = runner.invoke(cli, ["explain", "compact-online.de", "--db", str(sample_db)], catch_exceptions=False)
    assert german.exit_code == 0 and "no score (unsupported_language" in german.output
    missing = runner.invoke(cli, ["explain", "no-such-outlet.example", "--db", str(sample_db)], catch_exceptions=False)
    assert missing.exit_code == 1 and "no published score" in missing.output


def test_research_doc_queries_run(sample_db: Path) -> None:
    import re

    from jobs.infra.paths import PROJECT_ROOT

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


def test_nightly_min_articles_option_and_envvar(sample_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "min.duckdb"
    db.write_bytes(sample_db.read_bytes())
    result = CliRunner().invoke(
        cli, ["nightly", "--db", str(db), *SAMPLE_ARGS], env={"PRESSTRUST_MIN_ARTICLES": "26"}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    latest = con.execute("SELECT min_articles FROM models ORDER BY trained_at DESC LIMIT 1").fetchall()
    assert latest == [(26,)]  # a changed minimum refits
    rows = con.execute("SELECT n_english, status, grade FROM latest_scores WHERE status <> 'unsupported_language'")
    for n_english, status, grade in rows.fetchall():
        assert (status == "ok") == (n_english >= 26) and (grade is None) == (status != "ok")
