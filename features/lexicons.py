"""Lexicon files (data with provenance, see features/data/lexicons/MANIFEST.md) loaded into plain Python values.

`read_lexicon` and `read_table` (and `features.detector_models.model_bytes`, the learned detector decisions loaded
with the lexicons) are the only functions in `features` that read files. Everything else
here is pure: the `Lexicons` dataclass holds the lists as loaded and derives the cue sets the feature
functions take (speech verbs with their inflections, the hedge cues, the certainty weights).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from features.detector_models import LinearModel, model_bytes, model_from_json

# package data (features/data/lexicons/), found through importlib.resources so an installed wheel has it too
LEXICON_DIR = Path(str(resources.files("features").joinpath("data", "lexicons")))

FILES = {
    "quote_verbs": "gendergaptracker_quote_verbs.txt",
    "report_verbs": "recasens2013_report_verbs.txt",
    "hedges_hyland": "recasens2013_hedges_hyland2005.txt",
    "hedges_words": "words_hedges.txt",
    "weasels_words": "words_weasels.txt",
    "bias_lexicon": "recasens2013_bias_lexicon_npov.txt",
    "modality_weights": "pattern_epistemic_modality_weights.tsv",
    "speech_verb_exclusions": "presstrust_speech_verb_exclusions.txt",
    "cognition_verbs": "presstrust_cognition_verbs.txt",
    "hedge_exclusions": "presstrust_hedge_exclusions.txt",
    "source_heads": "presstrust_source_heads.tsv",
    "anonymity_patterns": "presstrust_anonymity_patterns.tsv",
    "speculation_cues": "presstrust_speculation_cues.tsv",
    "boilerplate_patterns": "presstrust_boilerplate_patterns.tsv",
    "abbreviations": "presstrust_abbreviations.tsv",
    "sentence_starters": "presstrust_sentence_starters.txt",
    "first_second_person": "presstrust_first_second_person.txt",
    "superlative_exclusions": "presstrust_superlative_exclusions.txt",
    "function_words": "presstrust_function_words.tsv",
}


def parse_lexicon(text: str) -> list[str]:
    """Entries of a one-entry-per-line lexicon: stripped lines, without `#` comment lines and blank lines."""
    return [s for s in (line.strip() for line in text.splitlines()) if s and not s.startswith("#")]


def read_lexicon(path: str | Path) -> list[str]:
    """Read a one-entry-per-line lexicon file, skipping `#` lines and blank lines."""
    return parse_lexicon(Path(path).read_text(encoding="utf-8"))


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of a tab-separated table whose first non-comment line is the header (comments: `#` lines)."""
    lines = [line.rstrip("\r") for line in text.splitlines()]
    lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    header = lines[0].split("\t")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise ValueError(f"row {number}: {len(cells)} cells, header has {len(header)}: {line!r}")
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Read a tab-separated lexicon table (header row first, `#` comment lines and blank lines skipped)."""
    return parse_table(Path(path).read_text(encoding="utf-8"))


# English verb morphology for the inflections the lexicons lack (Recasens' report verbs are lemmas).
_IRREGULAR = {
    "say": ("said",),
    "tell": ("told",),
    "speak": ("spoke", "spoken"),
    "write": ("wrote", "written"),
    "think": ("thought",),
    "hear": ("heard",),
    "swear": ("swore", "sworn"),
    "teach": ("taught",),
    "see": ("saw", "seen"),
    "show": ("shown",),
    "feel": ("felt",),
    "find": ("found",),
    "read": (),
    "forget": ("forgot", "forgotten"),
    "foretell": ("foretold",),
    "mean": ("meant",),
    "sing": ("sang", "sung"),
    "forbid": ("forbade", "forbidden"),
    "spread": (),
    "retell": ("retold",),
    "mislead": ("misled",),
}


def inflect(lemma: str) -> set[str]:
    """The lemma and its -s, -ed and -ing forms by regular English rules, plus known irregular forms."""
    lemma = lemma.strip().lower()
    if " " in lemma:  # phrasal ("point out"): inflect the head verb
        head, rest = lemma.split(" ", 1)
        return {f"{form} {rest}" for form in inflect(head)}
    forms = {lemma}
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.add(lemma + "es")
    elif lemma.endswith("y") and lemma[-2:-1] not in "aeiou":
        forms.add(lemma[:-1] + "ies")
    else:
        forms.add(lemma + "s")
    if lemma in _IRREGULAR:
        forms.update(_IRREGULAR[lemma])
    elif lemma.endswith("e"):
        forms.add(lemma + "d")
    elif lemma.endswith("y") and lemma[-2:-1] not in "aeiou":
        forms.add(lemma[:-1] + "ied")
    else:
        forms.add(lemma + "ed")
    if lemma.endswith("ie"):
        forms.add(lemma[:-2] + "ying")
    elif lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")):
        forms.add(lemma[:-1] + "ing")
    else:
        forms.add(lemma + "ing")
    return forms


@dataclass(frozen=True)
class CuePattern:
    """One row of a presstrust pattern table: a named regex with its kind/sign/text and why it is there."""

    name: str
    regex: str
    why: str = ""
    kind: str = ""
    weight_cue: str = ""
    text: str = ""
    sign: str = ""
    group: str = ""


@dataclass(frozen=True)
class Lexicons:
    """Every cue list presstrust uses, as plain Python values, plus derived cue sets."""

    quote_verbs: tuple[str, ...]
    report_verbs: tuple[str, ...]
    hedges_hyland: tuple[str, ...]
    hedges_words: tuple[str, ...]
    weasels_words: tuple[str, ...]
    bias_lexicon: tuple[str, ...]
    modality_weights: Mapping[str, float]
    modal_verbs: frozenset[str]
    speech_verb_exclusions: frozenset[str]
    cognition_verbs: tuple[str, ...]
    hedge_exclusions: frozenset[str]
    source_heads: Mapping[str, str]
    anonymity_patterns: tuple[CuePattern, ...]
    speculation_cues: tuple[CuePattern, ...]
    boilerplate_patterns: tuple[CuePattern, ...]
    abbreviations: Mapping[str, str]
    sentence_starters: frozenset[str]
    first_second_person: tuple[str, ...]
    superlative_exclusions: frozenset[str]
    function_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fingerprint: str = field(default="")
    # the learned detector decisions (features.detector_models), by name; empty: the rules decide
    models: Mapping[str, LinearModel] = field(default_factory=dict)

    @property
    def speech_verbs(self) -> tuple[str, ...]:
        """Quote verbs (inflected) + report verbs (inflected here), minus every form of an excluded lemma."""
        excluded: set[str] = set()
        for lemma in self.speech_verb_exclusions:
            excluded |= inflect(lemma)
        verbs = {v.lower() for v in self.quote_verbs}
        for lemma in self.report_verbs:
            verbs |= inflect(lemma)
        return tuple(sorted(verbs - excluded))

    @property
    def thinking_verbs(self) -> tuple[str, ...]:
        """presstrust_cognition_verbs.txt lemmas with their inflections ("believe", "believes", "believed", ...)."""
        forms: set[str] = set()
        for lemma in self.cognition_verbs:
            forms |= inflect(lemma)
        return tuple(sorted(forms))

    @property
    def hedge_cues(self) -> tuple[str, ...]:
        """The three hedge lexicons, lower-cased and merged, minus presstrust_hedge_exclusions.txt."""
        merged = {h.lower() for h in (*self.hedges_hyland, *self.hedges_words, *self.weasels_words)}
        return tuple(sorted(merged - self.hedge_exclusions))

    def certainty(self, cue: str) -> float | None:
        """pattern's certainty weight (-1 doubt .. +1 certain) of a cue, by exact cue then by its first word."""
        cue = cue.lower()
        if cue in self.modality_weights:
            return self.modality_weights[cue]
        first = cue.split(" ", 1)[0]
        return self.modality_weights.get(first)


def _patterns(rows: Iterable[Mapping[str, str]]) -> tuple[CuePattern, ...]:
    return tuple(
        CuePattern(
            name=r["name"],
            regex=r["regex"],
            why=r.get("why", ""),
            kind=r.get("kind", ""),
            weight_cue=r.get("weight_cue", ""),
            text=r.get("text", ""),
            sign=r.get("sign", ""),
            group=r.get("group", ""),
        )
        for r in rows
    )


def modality_weights_from_rows(rows: Iterable[Mapping[str, str]]) -> dict[str, float]:
    """Cue -> certainty weight; a cue listed under several POS groups gets the mean of its weights."""
    sums: dict[str, list[float]] = {}
    for r in rows:
        for cue in r["cue"].split(","):  # pattern's typo fuses "ill-defined, inadequate" into one entry
            cue = cue.strip().lower()
            if cue:
                sums.setdefault(cue, []).append(float(r["weight"]))
    return {cue: sum(ws) / len(ws) for cue, ws in sums.items()}


def load_lexicons(directory: str | Path | None = None) -> Lexicons:
    """Load every lexicon presstrust uses from `directory` (default: the shipped features/data/lexicons)."""
    base = Path(directory) if directory is not None else LEXICON_DIR
    digest = hashlib.sha256()
    texts: dict[str, str] = {}
    for key, name in sorted(FILES.items()):
        raw = (base / name).read_bytes()
        digest.update(name.encode() + b"\0" + raw + b"\0")
        texts[key] = raw.decode("utf-8")
    models = model_bytes()
    for name, raw in sorted(models.items()):
        digest.update(f"model:{name}".encode() + b"\0" + raw + b"\0")
    lists = {k: parse_lexicon(v) for k, v in texts.items() if FILES[k].endswith(".txt")}
    tables = {k: parse_table(v) for k, v in texts.items() if FILES[k].endswith(".tsv")}
    return Lexicons(
        quote_verbs=tuple(lists["quote_verbs"]),
        report_verbs=tuple(lists["report_verbs"]),
        hedges_hyland=tuple(lists["hedges_hyland"]),
        hedges_words=tuple(lists["hedges_words"]),
        weasels_words=tuple(lists["weasels_words"]),
        bias_lexicon=tuple(lists["bias_lexicon"]),
        modality_weights=modality_weights_from_rows(tables["modality_weights"]),
        modal_verbs=frozenset(r["cue"].lower() for r in tables["modality_weights"] if r["group"] == "MD"),
        speech_verb_exclusions=frozenset(v.lower() for v in lists["speech_verb_exclusions"]),
        cognition_verbs=tuple(lists["cognition_verbs"]),
        hedge_exclusions=frozenset(v.lower() for v in lists["hedge_exclusions"]),
        source_heads={r["word"].lower(): r["class"] for r in tables["source_heads"]},
        anonymity_patterns=_patterns(tables["anonymity_patterns"]),
        speculation_cues=_patterns(tables["speculation_cues"]),
        boilerplate_patterns=_patterns({"name": r["reason"], **r} for r in tables["boilerplate_patterns"]),
        abbreviations={r["abbreviation"].lower(): r["kind"] for r in tables["abbreviations"]},
        sentence_starters=frozenset(w.lower() for w in lists["sentence_starters"]),
        first_second_person=tuple(lists["first_second_person"]),
        superlative_exclusions=frozenset(w.lower() for w in lists["superlative_exclusions"]),
        function_words={r["language"]: tuple(r["words"].split()) for r in tables["function_words"]},
        fingerprint=digest.hexdigest()[:16],
        models={name: model_from_json(raw.decode("utf-8")) for name, raw in models.items()},
    )
