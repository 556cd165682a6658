from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from jobs.cli import cli

from .conftest import labelled_corpus

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published database whose article titles are hostile HTML, and its report."""
    tmp = tmp_path_factory.mktemp("report")
    db = tmp / "r.duckdb"
    labelled_corpus(tmp / "corpus")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["nightly", "--db", str(db), "--corpus", str(tmp / "corpus"), "--as-of", "2020-06-30", "--window-days", "90"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db))
    con.execute("UPDATE article_meta SET title = ?", [HOSTILE])  # articles is a view (migration 0009)
    con.close()
    out = tmp / "report.html"
    result = runner.invoke(cli, ["report", "--db", str(db), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0 and "4 plots" in result.output
    return out


def test_report_is_self_contained_and_escaped(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert html.count("<svg") == 4 and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch


def test_report_without_publication_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["report", "--db", str(tmp_path / "e.duckdb"), "--out", str(tmp_path / "r.html")], catch_exceptions=False
    )
    assert result.exit_code == 1


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_report_renders_in_headless_chromium(report_file: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    profile = [f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, *profile, "--dump-dom", report_file.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count("<svg") == 4  # the browser parsed four plots
    assert dom.count('class="point"') >= 6 and dom.count('class="bar"') >= 10  # with their marks
    assert "<script" not in dom  # the hostile title did not become an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # it is shown as text
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, *profile, f"--screenshot={shot}", "--window-size=1000,1400", report_file.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
