from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from features.lexicons import FILES, LEXICON_DIR, inflect, load_lexicons, parse_lexicon, parse_table, read_lexicon


def test_read_lexicon_skips_comments_and_blank_lines(tmp_path: Path):
    path = tmp_path / "x.txt"
    path.write_text("# header\n#####\n\nabout\n  likely  \n\n# trailing comment\nin my view\n", encoding="utf-8")
    assert read_lexicon(path) == ["about", "likely", "in my view"]


def test_nela_pitfall_hyland_header_is_not_an_entry():
    hedges = read_lexicon(LEXICON_DIR / "recasens2013_hedges_hyland2005.txt")
    assert "about" in hedges and all(not h.startswith("#") and h for h in hedges)
    assert "# List of hedges" not in hedges and "" not in hedges


lines = st.lists(
    st.one_of(
        st.just(""),
        st.just("   "),
        st.text(alphabet="#abc ", max_size=8).map(lambda s: "#" + s),
        st.text(alphabet="abcxyz '-", min_size=1, max_size=12),
    ),
    max_size=30,
)


@given(lines)
def test_parse_lexicon_keeps_exactly_the_non_comment_lines_in_order(raw: list[str]):
    entries = parse_lexicon("\n".join(raw))
    expected = [s.strip() for s in raw if s.strip() and not s.strip().startswith("#")]
    assert entries == expected
    assert all(e and not e.startswith("#") and e == e.strip() for e in entries)


@given(
    st.lists(
        st.tuples(st.text(alphabet="abc", min_size=1, max_size=5), st.text(alphabet="xyz.", max_size=5)), max_size=10
    )
)
def test_parse_table_round_trips_rows(rows: list[tuple[str, str]]):
    text = "# comment\nname\tvalue\n" + "".join(f"{a}\t{b}\n" for a, b in rows)
    assert parse_table(text) == [{"name": a, "value": b} for a, b in rows]


def test_inflect_regular_and_irregular():
    assert {"emphasize", "emphasizes", "emphasized", "emphasizing"} <= inflect("emphasize")
    assert {"say", "says", "said", "saying"} <= inflect("say")
    assert {"deny", "denies", "denied", "denying"} <= inflect("deny")
    assert {"point out", "pointed out"} <= inflect("point out")


def test_every_lexicon_file_is_shipped_with_provenance():
    manifest = (LEXICON_DIR / "MANIFEST.md").read_text(encoding="utf-8")
    for name in FILES.values():
        assert (LEXICON_DIR / name).is_file(), name
        if not name.startswith("presstrust_"):
            assert name in manifest, f"{name} has no provenance row in MANIFEST.md"
        else:
            header = (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines()[0]
            assert header.startswith("# presstrust's own"), name
    assert (LEXICON_DIR / "licenses").is_dir()


def test_loaded_lexicons_are_clean_and_derived_sets_make_sense():
    lex = load_lexicons()
    for values in (lex.quote_verbs, lex.report_verbs, lex.hedges_hyland, lex.bias_lexicon, lex.hedge_cues):
        assert values and all(v and not v.startswith("#") for v in values)
    verbs = set(lex.speech_verbs)
    assert {"said", "told", "emphasized", "indicated", "argue", "warned"} <= verbs
    assert not {"sold", "continue", "released", "accept"} & verbs
    hedges = set(lex.hedge_cues)
    assert {"possibly", "likely", "reportedly", "might", "could", "may"} <= hedges
    assert not {"about", "around", "always", "can", "will", "should"} & hedges
    assert lex.certainty("might") == -0.25 and lex.certainty("reportedly") == -0.25
    assert lex.certainty("no such cue") is None
    assert "ill-defined" in lex.modality_weights and "inadequate" in lex.modality_weights
    assert {"could", "might", "may", "would"} <= lex.modal_verbs
    assert len(lex.fingerprint) == 16


def test_presstrust_exclusions_refer_to_real_lexicon_entries():
    lex = load_lexicons()
    merged = {h.lower() for h in (*lex.hedges_hyland, *lex.hedges_words, *lex.weasels_words)}
    assert lex.hedge_exclusions <= merged
    lemmas = {v.lower() for v in lex.report_verbs} | {v.lower() for v in lex.quote_verbs}
    for lemma in lex.speech_verb_exclusions:
        assert inflect(lemma) & lemmas, lemma


def test_every_pattern_compiles_in_polars():
    from features.attribution import attribution_cues
    from features.boilerplate import matches_any
    from features.signals import signal_cues
    from features.speculation import speculation_cues

    lex = load_lexicons()
    att, spec, sig = attribution_cues(lex), speculation_cues(lex), signal_cues(lex)
    regexes = [
        att.frame_cue,
        *att.unnamed,
        att.reportedly,
        spec.regex,
        spec.exclusion,
        *(r for r, _ in spec.own),
        sig.bias_words,
        sig.first_second_person,
    ]
    frame = pl.DataFrame({"s": ["Officials said it could rain, according to reports."]})
    frame.select([pl.col("s").str.contains(r).alias(f"r{i}") for i, r in enumerate(regexes)])
    frame.select(matches_any(pl.col("s"), lex.boilerplate_patterns))
    for r in regexes:  # Python's re accepts the same syntax minus (?-u:...); a cheap sanity check
        assert "<say>" not in r and "<noun>" not in r and "<think>" not in r, r
        re.compile(r.replace("(?-u:\\b)", "\\b"))
