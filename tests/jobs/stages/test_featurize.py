from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import jobs.stages.featurize as featurize_module
from jobs.cli import cli
from jobs.infra import paths
from jobs.outputs.explain import explain_article, render_article
from jobs.stages.aggregate import aggregate
from jobs.stages.featurize import featurize

from ..conftest import LOCAL, article, write_jsonl

SEED = json.loads((paths.SAMPLE_DIR / "seed.jsonl").read_text(encoding="utf-8"))
FOOTER = "Copyright 2020 The Example Times LLC. Click here for reprint permission."
TEMPLATE = "Sign up for our daily briefing and follow us everywhere you read news today"
TOPICS = ["harbour", "railway", "school", "hospital", "bridge", "library"]


def corpus(tmp_path: Path) -> Path:
    records = [
        {**SEED, "published_at": "2020-06-01"},
        *[
            article(
                i,
                text=f"Officials said on Monday that the {TOPICS[i - 1]} plan would go ahead.\n{TEMPLATE}\n{FOOTER}",
                published_at=f"2020-06-{i + 1:02d}",
            )
            for i in range(1, 7)
        ],
        article(
            20,
            url="https://other.example.org/a",
            text="The minister said the budget rose 3.5% in May.",
            published_at=None,
        ),
    ]
    return write_jsonl(tmp_path / "c.jsonl", records)


def test_featurize_is_incremental_and_keeps_evidence(tmp_path: Path, con: duckdb.DuckDBPyConnection, load) -> None:
    load(corpus(tmp_path))
    first = featurize(con, engine=LOCAL)
    assert (first.todo, first.computed) == (8, 8)
    assert con.execute("SELECT count(*) FROM article_features").fetchall() == [(8,)]
    seed_id = con.execute("SELECT article_id FROM articles WHERE source_id = ?", [SEED["id"]]).fetchall()[0][0]
    cues = {
        c
        for (c,) in con.execute(
            "SELECT lower(cue) FROM article_evidence WHERE article_id = ? AND kind = 'unnamed_source'", [seed_id]
        ).fetchall()
    }
    assert {"sources within the coalition", "officials"} <= cues  # the source phrases
    text = con.execute("SELECT text FROM articles WHERE article_id = ?", [seed_id]).fetchall()[0][0]
    for start, end, cue in con.execute(
        "SELECT cue_start, cue_end, cue FROM article_evidence WHERE article_id = ?", [seed_id]
    ).fetchall():
        assert text[start:end] == cue  # offsets point into articles.text
    # the outlet's repeated template lines are removed and kept for inspection
    removed = con.execute("SELECT DISTINCT reason FROM boilerplate_removed").fetchall()
    assert ("outlet_repeated",) in removed or len(removed) > 0
    assert con.execute("SELECT count(*) FROM boilerplate_removed WHERE line = ?", [TEMPLATE]).fetchall()[0][0] == 6

    assert featurize(con, engine=LOCAL).todo == 0  # nothing new
    load(write_jsonl(tmp_path / "v2.jsonl", [article(3, text="A corrected text, it is believed.")]))
    again = featurize(con, engine=LOCAL)
    assert (again.todo, again.computed) == (1, 1)
    runs = con.execute("SELECT job, status FROM runs WHERE job = 'featurize'").fetchall()
    assert runs == [("featurize", "ok")] * 3


def test_feature_version_change_recomputes_all(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, load, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(corpus(tmp_path))
    featurize(con, engine=LOCAL)
    monkeypatch.setattr(featurize_module, "feature_version", lambda lexicons: "changed")
    assert featurize(con, engine=LOCAL).todo == 8
    assert con.execute("SELECT DISTINCT feature_version FROM article_features").fetchall() == [("changed",)]


def test_aggregate_window_and_partition(tmp_path: Path, con: duckdb.DuckDBPyConnection, load) -> None:
    load(corpus(tmp_path))
    featurize(con, engine=LOCAL)
    summary = aggregate(con, as_of=date(2020, 6, 4), window_days=3, engine=LOCAL)
    windows = dict(con.execute("SELECT outlet, n_articles FROM outlet_windows").fetchall())
    # June 2-4: example-news articles 1-3 (published 06-02..06-04); the undated one is included
    assert windows == {"example-news.com": 3, "example.org": 1}
    assert summary.outlets == 2
    languages = con.execute("SELECT outlet, n_english, main_language FROM outlet_windows ORDER BY 1").fetchall()
    assert languages == [("example-news.com", 3, "en"), ("example.org", 1, "en")]
    aggregate(con, as_of=date(2020, 6, 4), window_days=3, engine=LOCAL)  # a rerun replaces its partition
    aggregate(con, as_of=date(2020, 6, 4), window_days=3, undated="exclude", engine=LOCAL)
    per_partition = con.execute(
        "SELECT undated, count(DISTINCT outlet) FROM outlet_windows GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert per_partition == [("exclude", 1), ("include", 2)]
    share = con.execute(
        "SELECT mean, n FROM outlet_features WHERE outlet = 'example-news.com' "
        "AND feature = 'any_unnamed_source_share' "
        "AND undated = 'include'"
    ).fetchall()
    assert share == [(1.0, 3)]  # "Officials said" in each of the three


def test_explain_article_plain_marks_evidence(tmp_path: Path, con: duckdb.DuckDBPyConnection, load) -> None:
    from rich.console import Console

    load(corpus(tmp_path))
    featurize(con, engine=LOCAL)
    explanation = explain_article(con, SEED["id"])
    console = Console(width=200, no_color=True, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_article(explanation, color=False))
    text = console.export_text()
    assert "[UNNAMED: sources within the coalition]" in text
    assert "[SPECULATION: reportedly]" in text


def test_cli_featurize_aggregate_explain(tmp_path: Path, load) -> None:
    db = tmp_path / "cli.duckdb"
    runner = CliRunner()
    runner.invoke(cli, ["ingest", str(corpus(tmp_path)), "--db", str(db)], catch_exceptions=False)
    out = runner.invoke(cli, ["featurize", "--db", str(db)], catch_exceptions=False)
    assert out.exit_code == 0 and "8 of 8 articles" in out.output
    out = runner.invoke(
        cli, ["aggregate", "--db", str(db), "--as-of", "2020-06-30", "--window-days", "30"], catch_exceptions=False
    )
    assert out.exit_code == 0 and "3 outlets, 8 articles" in out.output
    out = runner.invoke(
        cli, ["explain-article", SEED["id"], "--live", "--db", str(db), "--no-color"], catch_exceptions=False
    )
    assert out.exit_code == 0 and "[UNNAMED: officials]" in " ".join(out.output.split())  # wrapped at 80 columns
    missing = runner.invoke(cli, ["explain-article", "nope", "--live", "--db", str(db)], catch_exceptions=False)
    assert missing.exit_code == 1 and "no article with id 'nope'" in missing.output
