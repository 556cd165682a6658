"""Attribution, step 1: cue compilation. The lexicons and word lists become the regexes and word sets of
`AttributionCues`.

A cue is a finite reporting verb (GenderGapTracker quote verbs + Recasens report verbs, minus
presstrust_speech_verb_exclusions, plus presstrust_cognition_verbs and the document verbs "found", "show"),
"according to" or "citing"; the frame-less unnamed cues (presstrust_anonymity_patterns.tsv) are compiled here too,
one regex per pattern group. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from features._text import alternation, ascii_boundaries
from features.attribution.words import (
    AS_VERBS,
    COGNITION_LEMMAS,
    DOCUMENT_VERB_LEMMAS,
    EPISTEMIC_PASSIVES,
    HEARER_VERBS,
    NEEDS_CLAUSE_LEMMAS,
    NEVER_LEMMAS,
    NOUN_LIKE_LEMMAS,
    PARTICIPLES,
    PHRASAL_VERBS,
)
from features.detector_models import LinearModel
from features.lexicons import Lexicons, inflect


@dataclass(frozen=True)
class AttributionCues:
    """The compiled regexes and word lists (Rust regex syntax, ASCII word boundaries) the attribution features take."""

    frame_cue: str  # on the lower-cased sentence: reporting verbs, "according to", "citing"
    unnamed: tuple[str, ...]  # on the lower-cased sentence: frame-less unnamed cues, one regex per group
    reportedly: str  # the frame-less cues that a named source in the same sentence overrides
    heads: Mapping[str, str]  # source head word -> class (presstrust_source_heads.tsv)
    hearer_verbs: frozenset[str]
    document_verbs: frozenset[str]
    needs_clause_verbs: frozenset[str]
    cognition_verbs: frozenset[str]
    epistemic_passives: frozenset[str]
    noun_like: frozenset[str]
    as_verbs: frozenset[str] = frozenset(AS_VERBS)
    according_to: str = r"(?-u:\b)according to(?-u:\b)"
    # every frame-less cue (both kinds) as one regex, and each pattern's name with its anchored regex (in file
    # order: a match is named by the first pattern that matches it whole)
    frameless: str = "(?:$.^)"
    pattern_names: tuple[tuple[str, str], ...] = ()
    reportedly_names: frozenset[str] = frozenset()
    # the learned decision on the candidates (features.detector_models); None: the rules decide
    model: LinearModel | None = None


def _forms(lemmas: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for lemma in lemmas:
        out |= inflect(lemma)
    return out


def _finite(verbs: set[str]) -> set[str]:
    """Verb forms without the -ing participle ("officials responding to" is not an attribution)."""
    return {v for v in verbs if not v.endswith("ing")}


def attribution_cues(lexicons: Lexicons, *, use_model: bool = True) -> AttributionCues:
    """Build the attribution regexes and word lists from the lexicons (pure: no I/O). `use_model=False`: the
    rules decide (the candidates of the learned decision are the same)."""
    heads = dict(lexicons.source_heads)
    document = _finite(_forms(DOCUMENT_VERB_LEMMAS))
    verbs = (_finite(set(lexicons.speech_verbs) | set(lexicons.thinking_verbs)) | document) - _forms(NEVER_LEMMAS)
    verbs -= set(PARTICIPLES)
    verbs |= set(AS_VERBS) | set(PHRASAL_VERBS)
    # progressive forms after a form of "be" ("protesters are demanding", "have been calling for")
    progressive = {v for v in (*lexicons.speech_verbs, *_forms(COGNITION_LEMMAS)) if v.endswith("ing")}
    progressive = (progressive - _forms(NEVER_LEMMAS)) | {"calling for", "pointing to"}
    be = r"(?:am|is|are|was|were|been|be) (?:also |now |still |increasingly |openly |publicly )?"
    progressive_cue = be + alternation(progressive)
    nouns = [w for w, c in heads.items() if c in ("anon", "collective")]
    groups: dict[str, list[str]] = {}
    reportedly: list[str] = []
    names: list[tuple[str, str]] = []
    for p in lexicons.anonymity_patterns:
        regex = ascii_boundaries(p.regex.replace("<noun>", alternation(nouns)))
        (reportedly if p.kind == "reportedly" else groups.setdefault(p.group, [])).append(f"(?:{regex})")
        names.append((p.name, f"^(?:{regex})$"))
    return AttributionCues(
        frame_cue=ascii_boundaries(rf"\b(?:according to|citing|{progressive_cue}|{alternation(verbs)[3:-1]})\b"),
        unnamed=tuple("|".join(g) for g in groups.values()),
        reportedly="|".join(reportedly) or "(?:$.^)",
        heads=heads,
        hearer_verbs=frozenset(HEARER_VERBS),
        document_verbs=frozenset(document),
        needs_clause_verbs=frozenset(_forms(NEEDS_CLAUSE_LEMMAS)),
        cognition_verbs=frozenset(_forms(COGNITION_LEMMAS)),
        epistemic_passives=frozenset(EPISTEMIC_PASSIVES),
        noun_like=frozenset(
            _forms(NOUN_LIKE_LEMMAS) - {v for v in _forms(NOUN_LIKE_LEMMAS) if v.endswith(("ed", "ing"))}
        ),
        frameless="|".join([*(r for g in groups.values() for r in g), *reportedly]) or "(?:$.^)",
        pattern_names=tuple(names),
        reportedly_names=frozenset(p.name for p in lexicons.anonymity_patterns if p.kind == "reportedly"),
        model=lexicons.models.get("unnamed_source") if use_model else None,
    )
