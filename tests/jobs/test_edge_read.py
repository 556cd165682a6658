"""The reading commands at their edges (issue 22, cases 8-12 and the smaller ones), each with real processes.

Rows streamed at flat memory (CSV, JSON); empty or bad SQL in one line (exit 2); an outlet with no score named
(exit 1); every reader on the published snapshot while a nightly holds the working database, `runs` showing that
nightly; formula cells escaped in `query`'s CSV as in `export`; a header with no rows; explanations wrapped at
80 columns; every column a table leaves out named; the README's examples and numbers as a new user sees them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.infra.exits import EXIT_PARTIAL, EXIT_USAGE
from jobs.infra.paths import PROJECT_ROOT

from .conftest import article, labelled_corpus, write_jsonl

pytestmark = pytest.mark.slow  # real presstrust processes

ARGS = ["--as-of", "2020-06-30", "--window-days", "90"]
HOSTILE = ['=HYPERLINK("http://example.invalid","x")', "+1+1", "-2+3", "@SUM(A1)"]


def presstrust(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one published nightly: six labelled outlets, and four nytimes.com titles that a spreadsheet
    would run as formulas."""
    tmp = tmp_path_factory.mktemp("read")
    db, corpus = tmp / "pt.duckdb", tmp / "corpus"
    labelled_corpus(corpus)
    write_jsonl(
        corpus / "hostile.jsonl",
        [
            article(900 + i, title=t, url=f"https://www.nytimes.com/2020/06/2{i}/formula", published_at="2020-06-20")
            for i, t in enumerate(HOSTILE)
        ],
    )
    result = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, "--quiet")
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with its schema and a published snapshot, and nothing in them."""
    db = tmp_path_factory.mktemp("empty") / "e.duckdb"
    assert presstrust("db", "migrate", "--db", str(db), "--quiet").returncode == 0
    assert presstrust("publish", "--db", str(db), "--quiet").returncode == 0
    return db


# --- case 8: rows streamed in Arrow batches, at flat memory -----------------------------------------------------


def peak_rss_mb(args: list[str], out: Path) -> float:
    """Run presstrust with stdout to `out`; the process's peak resident memory in MB (its own, from wait4)."""
    with out.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "jobs", *args], stdout=fh, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read() if proc.stderr else ""
    return usage.ru_maxrss / 1024


@pytest.mark.parametrize(("fmt", "small", "large"), [("csv", 200_000, 1_600_000), ("json", 100_000, 800_000)])
def test_query_streams_csv_and_json_at_flat_memory(
    empty: Path, tmp_path: Path, fmt: str, small: int, large: int
) -> None:
    peaks = {}
    for n in (small, large):
        args = [
            "query",
            "--db",
            str(empty),
            "--format",
            fmt,
            f"select range AS n, 'row ' || range AS s from range({n})",
        ]
        peaks[n] = peak_rss_mb(args, tmp_path / f"{n}.{fmt}")
    # eight times the rows: materialising them (the old fetchall) costs ~300 MB more per million rows; streaming
    # costs the same whatever the row count (measured: within a few MB)
    assert peaks[large] - peaks[small] < 60, peaks
    with (tmp_path / f"{large}.{fmt}").open(encoding="utf-8") as fh:
        if fmt == "csv":
            assert next(fh) == "n,s\n" and sum(1 for _ in fh) == large
        else:
            lines = fh.read().splitlines()
            assert lines[0] == "[" and lines[-1] == "]" and len(lines) == large + 2
            assert json.loads(lines[-2]) == {"n": large - 1, "s": f"row {large - 1}"}


def test_query_table_says_when_it_shows_only_the_first_rows(empty: Path) -> None:
    result = presstrust("query", "--db", str(empty), "select range AS n from range(5000)")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "n" and lines[1:3] == ["0", "1"]
    shown = [line for line in lines[1:] if line.isdigit()]
    assert 0 < len(shown) < 5000 and "--format csv or json" in lines[-1] and str(len(shown)) in lines[-1]


# --- case 9: empty or bad SQL: one line, a usage error ---------------------------------------------------------


@pytest.mark.parametrize("sql", ["", "   ", "\n\t", "selec 1", "select nope from latest_scores", "delete from runs"])
def test_empty_or_bad_sql_is_one_line_and_a_usage_error(empty: Path, sql: str) -> None:
    result = presstrust("query", "--db", str(empty), sql)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert len(errors(result)) == 1 and "Traceback" not in result.stderr and result.stdout == ""


# --- case 10: a filter that matches nothing ------------------------------------------------------------------


def test_scores_for_an_outlet_without_a_score_is_one_line_exit_1(published: Path) -> None:
    for fmt in ("table", "csv", "json"):
        result = presstrust("scores", "--db", str(published), "--outlet", "nosuch.com", "--format", fmt)
        assert result.returncode == EXIT_PARTIAL and result.stdout == "", (fmt, result.stderr)
        assert errors(result) == ["Error: no published score for outlet 'nosuch.com' (see `presstrust scores`)"]
    explain = presstrust("explain", "nosuch.com", "--db", str(published))  # as explain does
    assert explain.returncode == EXIT_PARTIAL and len(errors(explain)) == 1
    article_missing = presstrust("explain-article", "nosuch", "--db", str(published))
    assert article_missing.returncode == EXIT_PARTIAL and len(errors(article_missing)) == 1
    both = presstrust("scores", "--db", str(published), "--outlet", "nosuch.com", "--outlet", "npr.org")
    assert both.returncode == EXIT_PARTIAL and "npr.org" in both.stdout and "'nosuch.com'" in both.stderr
    typo = presstrust("runs", "--db", str(published), "--job", "nightlly")
    assert typo.returncode == EXIT_USAGE and "nightlly" in typo.stderr


def test_a_listing_that_matches_nothing_is_empty_not_an_error(empty: Path) -> None:
    none = presstrust("runs", "--db", str(empty), "--job", "fit", "--format", "json")
    assert none.returncode == 0 and json.loads(none.stdout) == [] and none.stderr == ""
    rows = presstrust("query", "--db", str(empty), "--format", "csv", "select outlet from latest_scores")
    assert rows.returncode == 0 and rows.stdout == "outlet\n"


# --- case 11: every reader reads the published snapshot while a nightly holds the working database --------------


READERS = [
    ["scores"],
    ["scores", "--outlet", "npr.org", "--format", "csv"],
    ["runs"],
    ["query", "select count(*) AS n from latest_scores"],
    ["explain", "npr.org"],
    ["explain-article", "npr.org-1", "--no-color"],
]


def test_readers_with_db_read_the_snapshot_during_a_nightly_and_runs_shows_it(published: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "more"
    corpus.mkdir()
    write_jsonl(corpus / "late.jsonl", [article(1, url="https://www.npr.org/2020/06/29/late")])
    nightly = subprocess.Popen(
        [sys.executable, "-m", "jobs", "nightly", "--db", str(published), "--corpus", str(corpus), *ARGS],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PRESSTRUST_FAILPOINT": "featurize.before_commit", "PRESSTRUST_FAILPOINT_SECONDS": "120"},
    )
    try:
        assert nightly.stderr is not None
        for line in nightly.stderr:
            if "failpoint featurize.before_commit reached" in line:
                break
        assert nightly.poll() is None, "the nightly ended before its failpoint"
        for _ in range(3):  # a reader looping through the nightly: every call succeeds
            for command in READERS:
                result = presstrust(*command, "--db", str(published))
                assert result.returncode == 0, (command, result.stderr)
        export = presstrust("export", "--db", str(published), "--out", str(tmp_path / "export"), "--format", "csv")
        assert export.returncode == 0, export.stderr
        runs = presstrust("runs", "--db", str(published), "--format", "json")
        first = json.loads(runs.stdout)[0]
        assert (first["job"], first["status"], first["run_id"]) == ("nightly", "running", None)
        assert first["counts"]["pid"] == nightly.pid
        table = presstrust("runs", "--db", str(published)).stdout.splitlines()
        assert table[1].split()[:3] == ["nightly", "running", first["started_at"].split()[0]]
        live = presstrust("runs", "--db", str(published), "--live")  # the working database: held by the nightly
        assert live.returncode == 3 and "in use" in live.stderr and len(errors(live)) == 1
    finally:
        nightly.send_signal(signal.SIGTERM)
        nightly.communicate(timeout=120)
    after = json.loads(presstrust("runs", "--db", str(published), "--format", "json").stdout)
    assert all(r["run_id"] is not None for r in after)  # no run in progress once it ended


# --- case 12: formula cells escaped in query's CSV, as in export; a flag for machines --------------------------


def test_query_csv_escapes_formula_cells_like_export(published: Path, tmp_path: Path) -> None:
    sql = "select title from articles where outlet = 'nytimes.com' and title not like 'Story%' order by title"
    escaped = presstrust("query", "--db", str(published), "--format", "csv", sql)
    titles = [row[0] for row in csv.reader(io.StringIO(escaped.stdout))][1:]
    assert sorted(titles) == sorted("'" + t for t in HOSTILE)
    exported = presstrust("export", "--db", str(published), "--format", "csv", "--out", str(tmp_path / "x"))
    assert exported.returncode == 0
    with (tmp_path / "x" / "articles.csv").open(encoding="utf-8", newline="") as fh:
        assert {r["title"] for r in csv.DictReader(fh)} >= set(titles)  # the same escaping, one function
    raw = presstrust("query", "--db", str(published), "--format", "csv", "--no-escape-formulas", sql)
    assert sorted(row[0] for row in list(csv.reader(io.StringIO(raw.stdout)))[1:]) == sorted(HOSTILE)
    raw_env = presstrust("query", "--db", str(published), "--format", "csv", sql, PRESSTRUST_ESCAPE_FORMULAS="0")
    assert raw_env.stdout == raw.stdout
    out = tmp_path / "y"
    unescaped = presstrust(
        "export", "--db", str(published), "--format", "csv", "--no-escape-formulas", "--out", str(out)
    )
    assert unescaped.returncode == 0
    with (out / "articles.csv").open(encoding="utf-8", newline="") as fh:
        assert {r["title"] for r in csv.DictReader(fh)} >= set(HOSTILE)
    as_json = json.loads(presstrust("query", "--db", str(published), "--format", "json", sql).stdout)
    assert sorted(r["title"] for r in as_json) == sorted(HOSTILE)  # JSON keeps every value exactly


# --- the smaller ones --------------------------------------------------------------------------------------------


def test_csv_with_nothing_published_still_has_its_header(empty: Path) -> None:
    result = presstrust("scores", "--db", str(empty), "--format", "csv")
    assert result.returncode == 0 and result.stdout.splitlines() == [
        "outlet,score,low,high,label,grade,status,grade_confidence,n_articles,n_english,text_score,cue_score,as_of,"
        "model_id"
    ]
    assert json.loads(presstrust("scores", "--db", str(empty), "--format", "json").stdout) == []


def test_explanations_wrap_at_80_columns(published: Path) -> None:
    for command in (["explain", "nytimes.com"], ["explain-article", "npr.org-1", "--no-color"]):
        result = presstrust(*command, "--db", str(published))
        assert result.returncode == 0, result.stderr
        assert max(len(line) for line in result.stdout.splitlines()) <= 80, command
    wide = presstrust("explain", "nytimes.com", "--db", str(published), COLUMNS="160")
    assert max(len(line) for line in wide.stdout.splitlines()) > 80  # the terminal's width, when it says one


def test_a_table_names_every_column_it_leaves_out(empty: Path) -> None:
    names = [f"a_rather_long_column_name_{i:02d}" for i in range(12)]
    sql = "select " + ", ".join(f"{i} AS {name}" for i, name in enumerate(names))
    result = presstrust("query", "--db", str(empty), sql)
    assert result.returncode == 0 and max(len(line) for line in result.stdout.splitlines()) <= 80
    shown = result.stdout.splitlines()[0].split()
    footer = " ".join(line for line in result.stdout.splitlines() if not line[0].isdigit() and line.split() != shown)
    assert "--wide" in footer and all(name in footer for name in names if name not in shown), result.stdout
    assert "…" not in footer


# --- the README, as a new user runs it after `make run` -----------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make run`: the nightly on the embedded sample, with the Makefile's window."""
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    as_of = re.search(r"^AS_OF \?= (\S+)", makefile, re.M)
    days = re.search(r"^WINDOW_DAYS \?= (\S+)", makefile, re.M)
    assert as_of and days
    db = tmp_path_factory.mktemp("sample") / "presstrust.duckdb"
    corpus = str(PROJECT_ROOT / "jobs" / "data" / "sample")
    args = ["nightly", "--db", str(db), "--corpus", corpus, "--as-of", as_of[1], "--window-days", days[1], "--quiet"]
    result = presstrust(*args)
    assert result.returncode == 0, result.stderr
    return db


def readme_commands() -> list[list[str]]:
    """The reading commands of the README's quick start (`.venv/bin/presstrust ...`), as argument lists."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for match in re.finditer(r'^\.venv/bin/presstrust (\w[\w-]*)(?: ("[^"]*"|[\w.-]+))?', text, re.M):
        command, argument = match[1], match[2]
        if command in ("scores", "explain", "explain-article", "runs", "query"):
            commands.append([command] + ([" ".join(argument.strip('"').split())] if argument else []))
    return commands


def test_readme_examples_run_and_show_what_the_readme_says(sample: Path) -> None:
    commands = readme_commands()
    assert {c[0] for c in commands} >= {"scores", "explain", "explain-article", "runs", "query"}
    outputs = {}
    for command in commands:
        result = presstrust(*command, "--db", str(sample))
        assert result.returncode == 0 and result.stdout.strip(), (command, result.stderr)
        outputs[command[0]] = result.stdout
    article_id = next(c[1] for c in commands if c[0] == "explain-article")
    assert article_id in outputs["explain"]  # an id the command before it prints
    assert f"article_id {article_id}" in " ".join(outputs["explain-article"].split())  # wrapped at 80 columns


def test_readme_quotes_the_evaluation_docs_numbers() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    summary = (PROJECT_ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8").split("## Summary", 1)[1]
    for metric, row in (("Spearman", "| Spearman vs Lin"), ("macro-F1", "| macro-F1 vs MBFC")):
        quoted = re.search(metric + r" (\d\.\d\d(?: ± \d\.\d\d)?)", readme)
        assert quoted, metric
        measured = next(line for line in summary.splitlines() if line.startswith(row))
        assert f"**{quoted[1]}" in measured, (metric, quoted[1], measured)
