from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jobs.terminal import REPLACEMENT, visible


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
