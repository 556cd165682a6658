from __future__ import annotations

import json
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.infra import paths

from ..conftest import article, write_jsonl


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("command", [(), *all_commands(cli)], ids=lambda c: " ".join(c) or "presstrust")
def test_every_command_has_help_with_example_and_the_logging_options(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Example:" in result.output
    if command and not isinstance(cli.commands.get(command[0]), click.Group) or len(command) > 1:
        for option in ("--quiet", "--verbose", "--log-format [text|json]"):
            assert option in result.output, (command, option)


def documented_invocations() -> list[tuple[str, str, str]]:
    """(file, command, option) for every `presstrust COMMAND ... --option` in the README and docs/."""
    import re

    found = []
    for path in [paths.PROJECT_ROOT / "README.md", *sorted((paths.PROJECT_ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")
        for match in re.finditer(r"presstrust ((?:db )?[a-z][a-z-]*)([^`\n|>;)]*)", text):
            command = match.group(1)
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", match.group(2)):
                found.append((path.name, command, option))
    return found


def test_docs_mention_only_options_that_exist() -> None:
    invocations = documented_invocations()
    assert len(invocations) > 20  # the parser finds the docs' commands
    for name, command, option in invocations:
        group, *rest = command.split()
        found = cli.commands.get(group)
        if found is None:
            continue  # a word after "presstrust" in prose ("presstrust for researchers")
        if rest:
            assert isinstance(found, click.Group)
            found = found.commands[rest[0]]
        known = {o for p in found.params for o in [*p.opts, *p.secondary_opts]} | {"--help"}
        assert option in known, f"{name}: presstrust {command} has no {option}"


def test_quiet_json_logs_end_with_one_summary_line(tmp_path: Path) -> None:
    db = tmp_path / "q.duckdb"
    good = write_jsonl(tmp_path / "good.jsonl", [article(1), article(2)])
    runner = CliRunner()
    args = ["--db", str(db), "--quiet", "--log-format", "json"]
    for command in (["ingest", str(good)], ["featurize"], ["corroborate"], ["db", "migrate"]):
        result = runner.invoke(cli, [*command, *args], catch_exceptions=False)
        assert result.exit_code == 0 and result.stdout == "", command
        [line] = result.stderr.splitlines()
        summary = json.loads(line)
        assert summary["event"] == "summary" and summary["message"], command
    ingested = json.loads(runner.invoke(cli, ["ingest", str(good), "--force", *args]).stderr)
    assert ingested["counts"]["duplicates"] == 2 and ingested["message"].startswith("ingest run")
    text = runner.invoke(cli, ["featurize", "--db", str(db), "--quiet"], catch_exceptions=False)
    assert text.stdout == "" and text.stderr == ""  # text mode under --quiet: nothing on success
    verbose = runner.invoke(cli, ["ingest", str(good), "--force", "--db", str(db), "--verbose"], catch_exceptions=False)
    assert " DEBUG " in verbose.stderr


def test_tables_fit_80_columns_and_json_is_one_array(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobs.cli import reading
    from jobs.outputs import tables

    row = {"text": "y" * 60} | {f"column_{i}": f"value {i} " + "x" * (5 * i) for i in range(10)} | {"n": 7}
    rows = [row] * 3
    memory = duckdb.connect()
    names = list(row)
    select = ", ".join(f"${k + 1} AS {name}" for k, name in enumerate(names)) + " FROM range(3)"
    monkeypatch.setattr(tables, "recent_runs", lambda *args: memory.sql(f"SELECT {select}", params=list(row.values())))
    monkeypatch.setattr(reading, "open_reader", lambda *args, **kwargs: duckdb.connect())
    runner = CliRunner()
    table = runner.invoke(cli, ["runs", "--db", str(tmp_path / "x.duckdb")], catch_exceptions=False).output
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 80 and len(lines) == 6  # header, 3 rows, the left-out columns
    assert lines[0].split()[:2] == ["text", "column_0"] and "--wide" in lines[-2] and "n" not in lines[0].split()
    left_out = " ".join(lines[4:])  # every left-out column is named, over as many lines as it takes
    assert left_out.startswith("(--wide shows 9 more columns:") and all(n in left_out for n in names[3:])
    assert all(line.startswith("y" * 39 + "…") for line in lines[1:4])  # values over 40 characters are cut
    wide = runner.invoke(cli, ["runs", "--db", str(tmp_path / "x.duckdb"), "--wide"], catch_exceptions=False).output
    assert wide.splitlines()[0].split()[-1] == "n" and "…" not in wide and len(wide.splitlines()) == 4
    as_json = runner.invoke(cli, ["runs", "--db", str(tmp_path / "x.duckdb"), "--format", "json"]).output
    assert json.loads(as_json) == rows
    monkeypatch.setattr(tables, "latest_scores", lambda *args: memory.sql("SELECT 1 AS outlet WHERE false"))
    monkeypatch.setattr(tables, "missing_outlets", lambda *args: [])
    assert json.loads(runner.invoke(cli, ["scores", "--format", "json"]).output) == []


def test_ingest_summary_line_and_exit_codes(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    good = write_jsonl(tmp_path / "good.jsonl", [article(1), article(2)])
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(good), "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "read 2 = loaded 2 + updated 0 + duplicates 0 + rejected 0" in result.output
    quiet = runner.invoke(cli, ["ingest", str(good), "--db", str(db), "--quiet"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.output == ""
    missing = runner.invoke(cli, ["ingest", str(tmp_path / "nope.jsonl"), "--db", str(db)], catch_exceptions=False)
    assert missing.exit_code == 2 and "nope.jsonl: no such file" in missing.output  # a usage error: nothing runs


def test_ingest_env_db_and_bad_map(tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    good = write_jsonl(tmp_path / "good.jsonl", [article(1)])
    runner = CliRunner(env={"PRESSTRUST_DB": str(db)})
    assert runner.invoke(cli, ["ingest", str(good)], catch_exceptions=False).exit_code == 0
    assert db.exists()
    bad = runner.invoke(cli, ["ingest", str(good), "--map", "nonsense=x"], catch_exceptions=False)
    assert bad.exit_code == 2 and "unknown field" in bad.output
    # JSON records may lack a mapped key: the field is null, and the record is rejected with the reason;
    # a file whose every record is rejected makes the exit code 1
    unmapped = runner.invoke(cli, ["ingest", str(good), "--map", "text=nope", "--force"], catch_exceptions=False)
    assert unmapped.exit_code == 1 and "rejected 1" in unmapped.output
    assert "1 with every record rejected" in unmapped.output
    # a tabular file without the mapped column fails as a whole, with a clear error
    table = tmp_path / "t.csv"
    table.write_text("url,text\nhttps://a.com/1,x\n", encoding="utf-8")
    failed = runner.invoke(cli, ["ingest", str(table), "--map", "text=nope"], catch_exceptions=False)
    assert failed.exit_code == 1
    con = duckdb.connect(str(db), read_only=True)
    error = con.execute("SELECT error FROM ingest_files WHERE status = 'failed'").fetchall()[0][0]
    assert "t.csv" in error and "no column 'nope'" in error


def test_migrate_list_reads_only(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    runner = CliRunner()
    listed = runner.invoke(cli, ["db", "migrate", "--list", "--db", str(db)], catch_exceptions=False)
    assert "0001_foundation  pending" in listed.output and not db.exists()
    runner.invoke(cli, ["db", "migrate", "--db", str(db)], catch_exceptions=False)
    before = db.stat().st_mtime_ns
    listed = runner.invoke(cli, ["db", "migrate", "--list", "--db", str(db)], catch_exceptions=False)
    assert "0001_foundation  applied" in listed.output
    assert db.stat().st_mtime_ns == before


def test_golden_sample_end_to_end(tmp_path: Path) -> None:
    """The shipped sample loads completely, covers >= 40 labelled outlets, and reloads as pure duplicates."""
    db = tmp_path / "sample.duckdb"
    runner = CliRunner()
    n = 2462  # 1,992 AllSides + 469 extra_2010_2021 articles + the seed article (jobs/data/sample/PROVENANCE.md)
    first = runner.invoke(cli, ["ingest", str(paths.SAMPLE_DIR), "--db", str(db)], catch_exceptions=False)
    assert f"read {n} = loaded {n} + updated 0 + duplicates 0 + rejected 0" in first.output
    again = runner.invoke(cli, ["ingest", str(paths.SAMPLE_DIR), "--db", str(db), "--force"], catch_exceptions=False)
    assert f"read {n} = loaded 0 + updated 0 + duplicates {n} + rejected 0" in again.output
    con = duckdb.connect(str(db), read_only=True)
    labelled = con.execute(
        "SELECT count(*) FROM (SELECT outlet, count(*) AS n FROM articles GROUP BY outlet) a "
        "JOIN read_csv(?) l ON l.domain = a.outlet WHERE a.n >= 20",
        [str(paths.LABELS_FILE)],
    ).fetchall()[0][0]
    assert labelled >= 40
    seed = con.execute("SELECT title FROM articles WHERE source_id = 'seed-000-8c9f463cf267f3af'").fetchall()
    assert seed and seed[0][0].startswith("UK PM Confirms Coalition")
    runs = con.execute("SELECT job, status, counts FROM runs ORDER BY run_id").fetchall()
    assert [(j, s) for j, s, _ in runs] == [("ingest", "ok"), ("ingest", "ok")]
    assert json.loads(runs[0][2])["loaded"] == n
    languages = dict(con.execute("SELECT language, count(*) FROM articles GROUP BY 1").fetchall())
    assert languages == {"en": 469 - 60, "de": 60, None: 1993}  # the extra corpus gives codes, AllSides none


def test_shared_corpora_load_out_of_the_box(tmp_path: Path, shared_data: Path) -> None:
    db = tmp_path / "shared.duckdb"
    corpora = shared_data / "corpora"
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(corpora / "allsides_2012_2020.parquet"),
            str(corpora / "pac_story_pairs.jsonl.gz"),
            "--db",
            str(db),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    rejects = dict(con.execute("SELECT reason, count(*) FROM ingest_rejects GROUP BY reason").fetchall())
    # only the two AllSides placeholder "outlets" in PAC cannot be mapped to a domain
    assert sum(rejects.values()) <= 2, rejects
    n_pac = con.execute("SELECT count(*) FROM articles WHERE source_id LIKE 'STORY_%'").fetchall()[0][0]
    assert n_pac >= 302
    assert con.execute("SELECT count(DISTINCT outlet) FROM articles").fetchall()[0][0] > 300


def test_sample_copies_the_embedded_corpus_out(tmp_path: Path) -> None:
    runner = CliRunner()
    dest = tmp_path / "sample"
    result = runner.invoke(cli, ["sample", str(dest)], catch_exceptions=False)
    assert result.exit_code == 0 and f"copied the sample (4 files) to {dest}" in result.output
    assert (dest / "seed.jsonl").read_bytes() == (paths.SAMPLE_DIR / "seed.jsonl").read_bytes()
    assert "PROVENANCE.md" in {p.name for p in dest.iterdir()}  # the provenance travels with the data
    again = runner.invoke(cli, ["sample", str(dest)], catch_exceptions=False)
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(cli, ["sample", str(dest), "--force"], catch_exceptions=False).exit_code == 0


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    """`presstrust scores | head`: the reader stops early; presstrust exits 0 without an error line."""
    import subprocess
    import sys

    db = tmp_path / "p.duckdb"
    good = write_jsonl(tmp_path / "good.jsonl", [article(1)])
    assert CliRunner().invoke(cli, ["ingest", str(good), "--db", str(db)], catch_exceptions=False).exit_code == 0
    reader = subprocess.Popen(
        [sys.executable, "-m", "jobs", "runs", "--live", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # the reader is gone before presstrust writes
    assert reader.wait(timeout=600) == 0
    assert reader.stderr.read() == b""
