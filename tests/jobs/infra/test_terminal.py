from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.infra.terminal import REPLACEMENT, visible


def test_escape_sequences_become_visible_one_for_one() -> None:
    hostile = "Title\x1b[2J\x1b]0;owned\x07\x1b]8;;http://x\x1b\\link\x9b31m\u202eevil\nnext\tcol"
    out = visible(hostile, keep="\n\t")
    assert len(out) == len(hostile)  # offsets into the text stay right
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert out.startswith("Title\u241b[2J\u241b]0;owned\u2407")
    assert "\n" in out and "\t" in out
    assert visible("a\nb") == "a\u240ab"  # single-line contexts keep nothing
    assert visible("\x7f\x85") == "\u2421" + REPLACEMENT


@given(st.text())
def test_output_has_no_control_characters_and_keeps_length(text: str) -> None:
    out = visible(text)
    assert len(out) == len(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in out)


def test_progress_shows_rows_of_total_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from jobs.infra.terminal import advance, progress

    out = io.StringIO()
    with progress("featurize", console=Console(file=out, force_terminal=True, width=100)):
        advance(1_500, 3_000)
    assert "featurize" in out.getvalue() and "1500/3000" in out.getvalue() and "articles" in out.getvalue()
    advance(1, 2)  # outside a stage: nothing to update, no error


def test_every_long_stage_reports_progress_on_a_terminal_and_none_off_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from click.testing import CliRunner
    from rich.console import Console

    from jobs.cli import cli
    from jobs.infra import terminal

    from ..conftest import labelled_corpus

    corpus = labelled_corpus(tmp_path / "corpus")  # 120 articles of 6 outlets
    args = ["--corpus", str(corpus), "--as-of", "2020-06-30", "--window-days", "90"]
    off = CliRunner().invoke(cli, ["nightly", "--db", str(tmp_path / "off.duckdb"), *args], catch_exceptions=False)
    assert off.exit_code == 0 and "120/120" not in off.stderr and "━" not in off.stderr  # not a TTY: silent

    screen = io.StringIO()
    monkeypatch.setattr(terminal, "progress_shown", lambda: True)  # as if stderr were a terminal
    monkeypatch.setattr(terminal, "Console", lambda **kw: Console(file=screen, force_terminal=True, width=120))
    on = CliRunner().invoke(cli, ["nightly", "--db", str(tmp_path / "on.duckdb"), *args], catch_exceptions=False)
    assert on.exit_code == 0
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # without colours and cursor moves
    for stage, done in [("ingest", "120/120"), ("featurize", "120/120"), ("corroborate", "120/120")]:
        assert re.search(rf"{stage}\b.*?{done}", shown, flags=re.S), stage  # rows of total, not files
    assert re.search(r"fit\b.*?10/10 cross-validation folds", shown, flags=re.S)
    assert re.search(r"score\b.*?120 articles' (cues|text scores)", shown, flags=re.S)
