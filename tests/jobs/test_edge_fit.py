"""Issue 22, fitting and labels, each with the CLI as a real process: few labelled outlets (case 1), label files
that cannot be read (case 7), label rows without a score, and the floor a model must reach to be published."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from jobs.infra.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE

from .conftest import LABELLED_OUTLETS, article, labelled_corpus, write_jsonl

pytestmark = pytest.mark.slow  # real presstrust processes

ARGS = ["--as-of", "2020-06-30", "--window-days", "90"]
WEAK_ALLOWED = {"PRESSTRUST_ALLOW_WEAK_MODEL": "1"}  # for a test about something else: the toy corpora are weak
LATEST = "SELECT outlet, score, score_low, score_high, grade, run_id FROM latest_scores ORDER BY outlet"


def presstrust(
    *args: str, drop: tuple[str, ...] = ("PRESSTRUST_ALLOW_WEAK_MODEL",), **env: str
) -> subprocess.CompletedProcess[str]:
    """The CLI as a process, without the test session's PRESSTRUST_ALLOW_WEAK_MODEL (tests/conftest.py)."""
    environment = {k: v for k, v in os.environ.items() if k not in drop} | env
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], capture_output=True, text=True, env=environment, timeout=300
    )


def corpus_of(folder: Path, outlets: int) -> Path:
    """labelled_corpus with only its first `outlets` outlets (20 English articles each)."""
    path = labelled_corpus(folder)
    keep = LABELLED_OUTLETS[:outlets]
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    write_jsonl(path, [r for r in records if r["url"].split("/")[2].removeprefix("www.") in keep])
    return folder


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def runs(db: Path, job: str) -> list[tuple[str, dict[str, object], str | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT status, counts, error FROM runs WHERE job = ? ORDER BY run_id", [job]).fetchall()
    return [(status, json.loads(counts) if counts else {}, error) for status, counts, error in rows]


# case 1: 3 or 4 labelled outlets fit (leave-one-outlet-out); below 3, one line naming the minimum, exit 2


@pytest.mark.parametrize("outlets", [3, 4])
def test_three_or_four_labelled_outlets_fit_leave_one_outlet_out_and_publish_intervals(
    tmp_path: Path, outlets: int
) -> None:
    db = tmp_path / "few.duckdb"
    corpus = corpus_of(tmp_path / "corpus", outlets)
    result = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, **WEAK_ALLOWED)
    assert result.returncode == EXIT_OK, result.stderr
    assert "Traceback" not in result.stderr
    ((status, fit_counts, _),) = runs(db, "fit")
    assert status == "ok" and fit_counts["cv_folds"] == outlets and fit_counts["training_outlets"] == outlets
    # fewer than 9 training outlets: no finite 90% conformal quantile; said, and the intervals span the scale
    assert any("conformal quantile" in str(w) for w in fit_counts["warnings"])  # type: ignore[union-attr]
    with duckdb.connect(str(db.with_suffix(".snapshot.duckdb")), read_only=True) as con:
        published = con.execute("SELECT score, score_low, score_high, cross_fitted FROM latest_scores").fetchall()
        fold_scores = con.execute(
            "SELECT count(DISTINCT model_id) FROM article_text_scores WHERE model_id LIKE '%/fold%'"
        ).fetchall()
    assert len(published) == outlets
    assert all(low == 0.0 and high == 100.0 and low <= score <= high for score, low, high, _ in published)
    # every training outlet is scored out of fold, by one of the `outlets` fold models (leave-one-outlet-out)
    assert all(cross_fitted for *_, cross_fitted in published) and fold_scores == [(outlets,)]
    again = presstrust("fit", "--db", str(db), *ARGS)  # the fit command too (it exited 2)
    assert again.returncode == EXIT_OK, again.stderr
    assert "leave-one-outlet-out CV" in again.stdout


@pytest.mark.parametrize("command", ["nightly", "fit"])
def test_below_three_labelled_outlets_is_refused_in_one_line_naming_the_minimum(tmp_path: Path, command: str) -> None:
    db = tmp_path / "two.duckdb"
    corpus = corpus_of(tmp_path / "corpus", 2)
    if command == "fit":
        assert presstrust("ingest", "--db", str(db), str(corpus)).returncode == EXIT_OK
        assert presstrust("featurize", "--db", str(db)).returncode == EXIT_OK
        result = presstrust("fit", "--db", str(db), *ARGS)
    else:
        result = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr
    last = error_lines(result)[-1]
    assert last.startswith(f"presstrust {command}: ")
    assert "2 labelled outlets" in last and "at least 3" in last
    lines = [line for line in error_lines(result) if line.startswith("presstrust")]
    assert lines == [last]  # one error line (the log lines before it are the stages' INFO lines)
    ((status, _, error),) = runs(db, "fit")
    assert status == "failed" and error is not None and "at least 3" in error
    assert not db.with_suffix(".snapshot.duckdb").exists()  # nothing published


# case 7: a label file that cannot be read is one line naming the file (and the line), exit 2, never a traceback

MALFORMED: dict[str, tuple[str, bytes, str]] = {
    # name: (file name, content, what the error line says besides the file name)
    "ragged row": ("ragged.csv", b"domain,score\nnpr.org,0.9\nfoxnews.com,0.3,extra\n", "line 3"),
    "short row": ("short.csv", b"domain,score\nnpr.org,0.9\nfoxnews.com\n", "line 3"),
    "not UTF-8": ("latin1.csv", "domain,score\nnpr.org,0.9\nbücher.de,0.5\n".encode("latin-1"), "line 3"),
    "no domain column": ("nodomain.csv", b"site,score\nnpr.org,0.9\n", "'domain'"),
    "no score column": ("noscore.csv", b"domain,rating\nnpr.org,0.9\n", "score column"),
    "non-numeric score": ("words.csv", b"domain,score\nnpr.org,0.9\ncnn.com,high\n", "line 3"),
    "score out of range": ("range.csv", b"domain,score\n# a comment\nnpr.org,90\n", "line 3"),
    "unclosed quote": ("quote.csv", b'domain,score\nnpr.org,"0.9\ncnn.com,0.6\n', "line 2"),
    "empty file": ("empty.csv", b"", "empty"),
    "unknown grade": ("grades.tsv", b"domain\tgrade\nnpr.org\thigh\ncnn.com\tsatire\n", "line 3"),
    "not Parquet": ("junk.parquet", b"PAR1 but not really", "Parquet"),
}


# every case through fit; nightly and score share its check
READ_BY = [("fit", case) for case in MALFORMED] + [
    (c, k) for c in ("nightly", "score") for k in ("ragged row", "not UTF-8")
]


@pytest.mark.parametrize(("command", "case"), READ_BY, ids=[f"{c}-{k}" for c, k in READ_BY])
def test_a_label_file_that_cannot_be_read_is_one_line_naming_file_and_line(
    tmp_path: Path, command: str, case: str
) -> None:
    name, content, said = MALFORMED[case]
    labels = tmp_path / name
    labels.write_bytes(content)
    db = tmp_path / "labels.duckdb"
    corpus = write_jsonl(tmp_path / "one.jsonl", [article(1)])
    extra = ["--corpus", str(corpus)] if command == "nightly" else []
    result = presstrust(command, "--db", str(db), "--labels", str(labels), *extra, *ARGS)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"presstrust {command}: ") and name in lines[0] and said in lines[0], lines
    assert not db.exists()  # refused before anything ran


def test_a_label_file_error_stays_json_under_log_format_json(tmp_path: Path) -> None:
    labels = tmp_path / "ragged.csv"
    labels.write_text("domain,score\nnpr.org,0.9,1\n", encoding="utf-8")
    result = presstrust("fit", "--db", str(tmp_path / "j.duckdb"), "--labels", str(labels), "--log-format", "json")
    assert result.returncode == EXIT_USAGE
    (line,) = error_lines(result)
    assert "ragged.csv line 2" in json.loads(line)["message"]


# smaller: label rows without a score are skipped with one counted warning, and the counts reconcile


def test_label_rows_without_a_score_are_counted_in_one_warning_and_reconcile(tmp_path: Path) -> None:
    db = tmp_path / "counted.duckdb"
    corpus = labelled_corpus(tmp_path / "corpus").parent
    scores = {"nytimes.com": 0.86, "foxnews.com": 0.53, "breitbart.com": 0.3, "reuters.com": 1.0}
    rows = [f"{o},{s}" for o, s in scores.items()]
    rows += ["infowars.com,", "npr.org,  ", "twitter.com/someone,0.4", "not a domain,0.5", "# a comment,", ",0.7"]
    labels = tmp_path / "labels.csv"
    labels.write_text("domain,score\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = presstrust(
        "nightly", "--db", str(db), "--corpus", str(corpus), "--labels", str(labels), *ARGS, **WEAK_ALLOWED
    )
    assert result.returncode == EXIT_OK, result.stderr
    warned = [line for line in result.stderr.splitlines() if "without a score" in line]
    assert len(warned) == 1, warned  # read by fit and by score: warned once
    assert "2 label rows without a score skipped (lines 6, 7)" in warned[0]
    ((_, fit_counts, _),) = runs(db, "fit")
    counts = fit_counts["labels"]
    assert isinstance(counts, dict)
    assert counts == {"rows": 9, "used": 4, "no_value": 2, "sections": 1, "no_domain": 2, "outlets": 4}
    assert counts["rows"] == counts["used"] + counts["no_value"] + counts["sections"] + counts["no_domain"]
    assert fit_counts["training_outlets"] == 4


# smaller: a model whose CV Spearman is below the floor is not published without --allow-weak-model


def test_a_weak_model_is_not_published_without_allow_weak_model(tmp_path: Path) -> None:
    db, snapshot = tmp_path / "weak.duckdb", tmp_path / "weak.snapshot.duckdb"
    corpus = labelled_corpus(tmp_path / "corpus").parent  # six outlets whose wording carries no signal
    nightly = ("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS)

    refused = presstrust(*nightly)
    assert refused.returncode == EXIT_FAILED, refused.stderr
    (line,) = [line for line in error_lines(refused) if line.startswith("presstrust")]
    assert "CV Spearman of" in line and "below the floor 0.20" in line and "--allow-weak-model" in line
    assert "Traceback" not in refused.stderr
    ((status, _, error),) = runs(db, "nightly")
    assert status == "failed" and error is not None and "below the floor 0.20" in error
    assert not snapshot.exists()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM outlet_scores").fetchall() == [(0,)]
        cv = con.execute("SELECT (cv_metrics->>'$.spearman_mean')::DOUBLE FROM models").fetchall()[0][0]
    assert f"{cv:.2f}" in line

    allowed = presstrust(*nightly, PRESSTRUST_ALLOW_WEAK_MODEL="1")  # the envvar, as cron would set it
    assert allowed.returncode == EXIT_OK, allowed.stderr
    assert any("published anyway (--allow-weak-model)" in x for x in allowed.stderr.splitlines())
    with duckdb.connect(str(snapshot), read_only=True) as con:
        before = con.execute(LATEST).fetchall()
    assert len(before) == len(LABELLED_OUTLETS)
    snapshot_bytes = snapshot.read_bytes()

    write_jsonl(corpus / "new.jsonl", [article(1, url="https://www.nytimes.com/2020/06/29/late")])
    again = presstrust(*nightly)  # the same weak model, no flag: refused again, the published tables unchanged
    assert again.returncode == EXIT_FAILED, again.stderr
    assert snapshot.read_bytes() == snapshot_bytes
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(LATEST).fetchall() == before
    assert [status for status, _, _ in runs(db, "nightly")] == ["failed", "ok", "failed"]

    lowered = presstrust(*nightly, PRESSTRUST_MIN_CV_SPEARMAN="-1")
    assert lowered.returncode == EXIT_OK, lowered.stderr


def test_score_command_keeps_the_floor(tmp_path: Path) -> None:
    db = tmp_path / "score.duckdb"
    corpus = labelled_corpus(tmp_path / "corpus").parent
    first = presstrust("nightly", "--db", str(db), "--corpus", str(corpus), *ARGS, **WEAK_ALLOWED)
    assert first.returncode == EXIT_OK, first.stderr
    refused = presstrust("score", "--db", str(db), *ARGS)
    assert refused.returncode == EXIT_FAILED
    (line,) = error_lines(refused)
    assert line.startswith("presstrust score: ") and "below the floor 0.20" in line
    assert presstrust("score", "--db", str(db), "--allow-weak-model", *ARGS).returncode == EXIT_OK


def test_a_bare_nightly_scores_the_sample_over_its_own_window_and_publishes(tmp_path: Path) -> None:
    result = presstrust(
        "nightly", PRESSTRUST_DATA_DIR=str(tmp_path), drop=("PRESSTRUST_ALLOW_WEAK_MODEL", "PRESSTRUST_DB")
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert "--as-of 2020-12-31 --window-days 3650" in result.stderr
    db = tmp_path / "presstrust.duckdb"
    ((_, fit_counts, _),) = runs(db, "fit")
    assert float(fit_counts["spearman_mean"]) >= 0.2  # type: ignore[arg-type]
    with duckdb.connect(str(tmp_path / "presstrust.snapshot.duckdb"), read_only=True) as con:
        windows = con.execute("SELECT DISTINCT as_of, window_days FROM latest_scores").fetchall()
    assert [(str(a), w) for a, w in windows] == [("2020-12-31", 3650)]


def test_option_defaults_agree_with_the_stage() -> None:
    from jobs.cli.options import MIN_CV_SPEARMAN
    from jobs.stages.fit import DEFAULT_MIN_CV_SPEARMAN

    assert MIN_CV_SPEARMAN == DEFAULT_MIN_CV_SPEARMAN
