from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import jobs.engines.local
from features.corroboration import ARTICLE_SCHEMA, corroboration
from jobs.cli import cli
from jobs.stages.corroborate import corroborate

from ..conftest import LOCAL, write_jsonl

WIRE = (
    "The city council of Springfield voted on Tuesday to close the old harbour bridge for repairs after "
    "engineers found deep cracks in two of its steel supports, the mayor's office announced in a statement. "
    "Traffic will be diverted through the northern tunnel for at least six months while the work is done, "
    "and ferry services will run every fifteen minutes during peak hours to carry commuters across the river."
)
OTHER = (
    "A regional football club signed a new goalkeeper from abroad on a three year contract, the club said, "
    "after its previous keeper retired at the end of last season following a long career in the league."
)


def rec(i: int, host: str, text: str, day: str, title: str) -> dict[str, object]:
    return {"id": f"r{i}", "url": f"https://{host}/news/{i}", "title": title, "text": text, "published_at": day}


def story_rows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[object, ...]]:
    rows = con.execute(
        "SELECT a.source_id, s.story_id, s.n_corroborating_outlets, s.copy_of IS NOT NULL, s.is_first_report "
        "FROM story_articles s JOIN articles a USING (article_id)"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_wire_copies_count_once_and_ids_stay_stable(tmp_path: Path, con: duckdb.DuckDBPyConnection, load) -> None:
    title = "Springfield closes harbour bridge after cracks found"
    independent = (
        "Engineers discovered cracks in the harbour bridge supports, prompting Springfield's council "
        "to vote for a six month closure; commuters face detours via the northern tunnel and more ferries."
    )
    load(
        write_jsonl(
            tmp_path / "a.jsonl",
            [
                rec(1, "wire.example.com", WIRE, "2021-03-02T08:00:00Z", title),
                rec(2, "copier-one.com", WIRE, "2021-03-02T09:00:00Z", title),
                rec(3, "copier-two.com", WIRE + " Read more local news.", "2021-03-02T10:00:00Z", title),
                rec(
                    4,
                    "independent.org",
                    independent,
                    "2021-03-02T12:00:00Z",
                    "Harbour bridge shut for repairs in Springfield",
                ),
                rec(5, "sports.example.net", OTHER, "2021-03-02T11:00:00Z", "Club signs new goalkeeper"),
            ],
        )
    )
    first = corroborate(con, engine=LOCAL)
    assert first.new == 5
    rows = story_rows(con)
    story = rows["r1"][0]
    assert all(rows[k][0] == story for k in ("r2", "r3", "r4")) and rows["r5"][0] != story
    assert rows["r2"][2] and rows["r3"][2] and not rows["r1"][2] and not rows["r4"][2]  # copies of the origin
    # the origin and the independent report corroborate each other; the copies add nothing
    assert rows["r1"][1] == 1 and rows["r4"][1] == 1
    assert rows["r1"][3] is True and rows["r5"][1] == 0
    assert con.execute(
        "SELECT n_outlets, n_independent_outlets FROM stories WHERE story_id = ?", [story]
    ).fetchall() == [(4, 2)]

    assert corroborate(con, engine=LOCAL).new == 0  # nothing new: nothing rewritten
    load(
        write_jsonl(
            tmp_path / "b.jsonl",
            [
                rec(6, "late-paper.com", independent.replace("Engineers", "Inspectors"), "2021-03-03T09:00:00Z", title),
            ],
        )
    )
    later = corroborate(con, engine=LOCAL)
    assert later.new == 1
    assert later.reclustered == 1  # it resumes at the new article: the earlier ones keep their stories
    after = story_rows(con)
    assert after["r6"][0] == story and after["r1"][0] == story and after["r5"] == rows["r5"]  # ids stable
    assert later.articles_changed < 6  # only rows whose values changed are rewritten
    runs = con.execute("SELECT status FROM runs WHERE job = 'corroborate'").fetchall()
    assert runs == [("ok",)] * 3


def test_undated_article_is_matched_within_its_corpus(tmp_path: Path, con: duckdb.DuckDBPyConnection, load) -> None:
    title = "Springfield closes harbour bridge after cracks found"
    load(
        write_jsonl(
            tmp_path / "u.jsonl",
            [
                rec(1, "wire.example.com", WIRE, None, title),  # type: ignore[arg-type]
                rec(2, "other.example.com", WIRE, None, title),  # type: ignore[arg-type]
            ],
        )
    )
    corroborate(con, engine=LOCAL)
    undated = con.execute("SELECT count(*), count(DISTINCT story_id), bool_and(undated) FROM story_articles").fetchall()
    assert undated == [(2, 1, True)]


def test_cli_corroborate(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    path = write_jsonl(
        tmp_path / "a.jsonl", [rec(1, "a.com", WIRE, "2021-01-01", "T"), rec(2, "b.com", OTHER, "2021-01-01", "U")]
    )
    runner = CliRunner()
    runner.invoke(cli, ["ingest", str(path), "--db", str(db)], catch_exceptions=False)
    out = runner.invoke(cli, ["corroborate", "--db", str(db)], catch_exceptions=False)
    assert out.exit_code == 0 and "2 new or changed articles" in out.output


def test_aggregate_adds_corroboration_shares(tmp_path: Path, con: duckdb.DuckDBPyConnection, load) -> None:
    from datetime import date

    from jobs.stages.aggregate import aggregate
    from jobs.stages.featurize import featurize

    title = "Springfield closes harbour bridge after cracks found"
    load(
        write_jsonl(
            tmp_path / "a.jsonl",
            [
                rec(1, "wire.example.com", WIRE, "2021-03-02T08:00:00Z", title),
                rec(2, "copier-one.com", WIRE, "2021-03-02T09:00:00Z", title),
                rec(5, "sports.example.net", OTHER, "2021-03-02T11:00:00Z", "Club signs new goalkeeper"),
            ],
        )
    )
    featurize(con, engine=LOCAL)
    corroborate(con, engine=LOCAL)
    aggregate(con, as_of=date(2021, 3, 31), window_days=30, engine=LOCAL)
    rows = {
        (o, f): (m, n)
        for o, f, m, n in con.execute(
            "SELECT outlet, feature, mean, n FROM outlet_features WHERE feature IN "
            "('corroborated_share', 'exclusive_share', 'copy_share', 'first_report_share')"
        ).fetchall()
    }
    # a copy is no corroboration; the copier's article copies another outlet's
    assert rows[("example.com", "corroborated_share")] == (0.0, 1)
    assert rows[("copier-one.com", "copy_share")] == (1.0, 1)
    assert rows[("example.com", "first_report_share")] == (1.0, 1)
    assert rows[("example.net", "exclusive_share")] == (1.0, 1)


def test_first_run_streams_in_batches_and_equals_one_shot(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, load, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run in batches of 3 articles gives what `corroboration` of all the articles gives."""
    title = "Springfield closes harbour bridge after cracks found"
    texts = [WIRE, OTHER, WIRE[:300] + " Officials said more later.", OTHER + " The fans cheered."]
    records = [
        rec(i, f"outlet{i % 5}.com", texts[i % 4], f"2021-03-{1 + i // 3:02d}T{(i % 3) * 7:02d}:00:00Z", title)
        for i in range(30)
    ] + [rec(100 + i, f"undated{i}.com", texts[i % 2], None, title) for i in range(3)]  # type: ignore[arg-type]
    load(write_jsonl(tmp_path / "a.jsonl", records))
    monkeypatch.setattr(jobs.engines.local, "BATCH_ARTICLES", 3)
    summary = corroborate(con, engine=LOCAL)
    assert summary.new == summary.reclustered == 33
    got = con.sql(f"SELECT {', '.join(ARTICLE_SCHEMA)} FROM story_articles ORDER BY article_id").pl()  # noqa: S608
    articles = con.sql("SELECT article_id, outlet, published_at, source_file AS corpus, title, text FROM articles").pl()
    expected = corroboration(articles).articles
    assert_frame_equal(got, expected, check_dtypes=False)  # the table stores counts as INTEGER
    assert got.filter(pl.col("n_corroborating_outlets") > 0).height > 0  # stories across batches were found


def test_a_first_run_spills_beside_the_database_and_clears_what_a_killed_run_left(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, load
) -> None:
    stale = tmp_path / "t.spill" / "presstrust-corroborate-killed"
    stale.mkdir(parents=True)
    (stale / "b+000000_00000.parquet").write_bytes(b"left by a killed run")
    load(write_jsonl(tmp_path / "a.jsonl", [rec(1, "wire.example.com", WIRE, "2021-03-02T08:00:00Z", "Bridge")]))
    assert corroborate(con, engine=LOCAL).new == 1
    assert list((tmp_path / "t.spill").iterdir()) == []  # the stale folder and this run's own are gone
