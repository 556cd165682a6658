"""Attribution frames: who a sentence says said, wrote, found or believes something, and whether a reader can
identify that source (../shared/specs/attribution-and-speculation.md, section 1: named / unnamed / mixed).

How (vectorised; the frame work runs on the sentences that carry a cue only):
1. Cues: a finite reporting verb (GenderGapTracker quote verbs + Recasens report verbs, minus
   presstrust_speech_verb_exclusions, plus presstrust_cognition_verbs and the document verbs "found",
   "show"), "according to" and "citing", each occurrence with its offsets (`cue_spans`).
2. The source phrase of each cue (its frame):
   - `subject`: the words before the verb, back to a clause break, skipping auxiliaries and adverbs ("have
     also said"). Its head is the last word, or the source noun before a post-modifier ("a source in the
     ministry", "people familiar with the talks", "officials who ...").
   - `object`: the postposed speaker after a quote or comma ('"...," said a senior official'), the object of
     "according to" and "citing", and the agent of a passive ("was reported by the Herald").
   - `agentless`: a passive epistemic verb with no agent ("was said to", "are believed to", "is thought that").
   A verb after "to", "not", a modal or "did" has no source (refusals, no-comment, plans: none).
3. The source phrase is classified by its head's class in presstrust_source_heads.tsv, its determiner and its
   capitalisation (see that file's header): `named`, `unnamed` or no source. Document verbs count only with a
   document subject ("the study found", "data show"); verbs that need content ("asked", "rejected", "charged")
   count only before "that", "whether", a colon or a quote, or postposed.
4. Frame-less unnamed cues (presstrust_anonymity_patterns.tsv): anonymity meta-sentences, agentless epistemic
   passives ("it is believed", "is seen as"), "there were reports", and "reportedly" unless the same sentence
   names a source.
A sentence is a named attribution if any of its frames is named and an unnamed one if any frame or cue is
unnamed (both: mixed). The evidence span of an unnamed attribution is its source phrase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from features._text import CUE_SPAN_SCHEMA, alternation, ascii_boundaries, cue_spans, per_1k, share
from features.lexicons import Lexicons, inflect
from features.registry import feature

# A word of a source phrase: no space and no clause punctuation (quotes, commas, brackets stop a phrase).
TOKEN = r"[^\s,;:\"“”()\[\]{}!?]+"
# Auxiliaries and adverbs allowed between a subject and its verb ("officials have also privately said").
BETWEEN_SUBJECT_AND_VERB = (
    "have",
    "has",
    "had",
    "also",
    "privately",
    "publicly",
    "previously",
    "later",
    "separately",
    "reportedly",
    "repeatedly",
    "long",
    "now",
    "recently",
    "earlier",
    "already",
    "openly",
    "quietly",
    "then",
    "once",
    "often",
    "frequently",
    "again",
    "first",
    "initially",
    "originally",
    "subsequently",
    "further",
    "however",
    "too",
    "meanwhile",
    "instead",
    "still",
    "generally",
    "widely",
    "clearly",
    "explicitly",
    "flatly",
    "strongly",
    "bluntly",
    "angrily",
    "immediately",
    "quickly",
    "officially",
    "formally",
    "jointly",
    "simply",
    "largely",
    "mostly",
    "all",
    "both",
    "themselves",
    "himself",
    "herself",
    "itself",
    # modals: "critics might argue that" is still a view ascribed to critics ("would not say" stops at "not")
    "will",
    "would",
    "could",
    "might",
    "may",
    "can",
    "should",
    "always",
    "usually",
    "sometimes",
    "never",
    # adverbs of manner and stance
    "genuinely",
    "increasingly",
    "consistently",
    "correctly",
    "wrongly",
    "falsely",
    "rightly",
    "regularly",
    "routinely",
    "loudly",
    "firmly",
    "forcefully",
    "emphatically",
    "confidently",
    "reluctantly",
    "proudly",
    "candidly",
    "frankly",
    "bitterly",
    "sharply",
    "vehemently",
    "vigorously",
    "incorrectly",
    "mistakenly",
    "erroneously",
    "allegedly",
    "apparently",
    "seemingly",
    "personally",
    "likewise",
    "ultimately",
    "finally",
    "eventually",
    "actually",
    "really",
    "certainly",
    "probably",
    "possibly",
    "even",
    "similarly",
    "specifically",
    "roundly",
    "widely",
)
# Words that end a postposed or "according to" source phrase ("said a senior official who ...").
OBJECT_STOPS = (
    "who",
    "whom",
    "whose",
    "that",
    "which",
    "when",
    "where",
    "as",
    "after",
    "before",
    "because",
    "while",
    "although",
    "though",
    "and",
    "but",
    "or",
    "on",
    "in",
    "at",
    "from",
    "of",
    "for",
    "to",
    "with",
    "about",
    "over",
    "during",
    "since",
    "familiar",
    "close",
    "briefed",
    "involved",
    "near",
    "inside",
    "within",
    "told",
    "said",
    "says",
    "is",
    "was",
    "were",
    "are",
    "has",
    "have",
    "had",
    "will",
    "would",
    "can",
    "could",
    "may",
    "might",
    "this",
    "last",
    "next",
    "earlier",
    "yesterday",
    "today",
    "tonight",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
# Post-modifiers after a source noun in a preposed subject ("a source close to ...", "officials who ...").
POST_MODIFIERS = (
    "who",
    "that",
    "in",
    "at",
    "from",
    "inside",
    "within",
    "close to",
    "familiar with",
    "with knowledge of",
    "briefed on",
    "involved in",
    "of",
    "for",
    "near",
    "to",
    "on",
    "across",
    "around",
    "with",
    "among",
    "privy to",
    "speaking",
    "talking",
    "involved",
    "based",
    "working",
)
INDEFINITE = (
    "a",
    "an",
    "one",
    "another",
    "some",
    "many",
    "several",
    "few",
    "two",
    "three",
    "four",
    "five",
    "six",
    "multiple",
    "numerous",
    "various",
    "certain",
    "other",
    "most",
    "dozens",
    "hundreds",
    "thousands",
    "any",
    "no",
)
DEFINITE = ("the", "this", "that", "these", "those")
POSSESSIVE = ("his", "her", "its", "their", "our", "my", "your")
# Verbs that tell whom something was said to: their postposed object is the hearer, not the source.
HEARER_VERBS = ("told", "tells", "tell", "informed", "informs", "assured", "assures", "reminded", "reminds")
# Verbs that attribute only with a document or data subject ("the study found"; "officials found" is acting).
DOCUMENT_VERB_LEMMAS = ("find", "show", "project")
# Lemmas that report content only before a clause, a colon or a quote, or postposed ("officials asked
# whether ..." but not "officials asked for help"; "prosecutors charged that ..." but not "charged him").
NEEDS_CLAUSE_LEMMAS = (
    "ask",
    "charge",
    "question",
    "request",
    "reject",
    "dismiss",
    "protest",
    "repeat",
    "recall",
    "observe",
    "express",
    "highlight",
    "underline",
    "underscore",
    "cite",
    "quote",
    "answer",
    "respond",
    "reply",
    "agree",
    "disagree",
    "hint",
    "comment",
    "advise",
    "alert",
    "inform",
    "notify",
    "remind",
    "complain",
    "boast",
    "testify",
    "wonder",
    "doubt",
    "describe",
)
# Verb forms that are also common nouns ("his claims", "media reports", "a similar report", "fake news claims"):
# they count only with a subject that is a name, a pronoun or a source noun (not a media word).
NOUN_LIKE_LEMMAS = (
    "claim",
    "demand",
    "tweet",
    "report",
    "comment",
    "note",
    "state",
    "point",
    "hope",
    "fear",
    "doubt",
    "question",
    "answer",
    "estimate",
    "charge",
    "request",
    "remark",
    "warn",
    "concern",
    "forecast",
    "project",
    "protest",
    "promise",
    "quote",
    "reply",
    "guess",
    "boast",
    "alert",
    "worry",
    "find",
    "show",
    "cite",
    "stress",
    "comment",
    "signal",
    "feel",
    "suspect",
)
# Past participles only: they never head an active frame ("a story written by ...").
PARTICIPLES = ("written", "sworn", "shown", "known", "spoken", "foretold", "forecasted")
# Verbs of perceiving that attribute a view only as "X see(s) Y as Z" ("critics view the waivers as a ploy").
AS_VERBS = ("see", "sees", "saw", "view", "views", "viewed", "regard", "regards", "regarded")
# Phrasal reporting verbs the lexicons lack ("lawmakers called for an inquiry").
PHRASAL_VERBS = ("called for", "calls for", "call for", "pointed to", "points to", "point to")
# Lemmas that never attribute content here ("officials refused to comment" is a no-comment sentence).
NEVER_LEMMAS = ("refuse", "spoke")
# Passive epistemic verbs: "was said to", "are believed to", "is thought that", "has been described as".
EPISTEMIC_PASSIVES = (
    "said",
    "believed",
    "thought",
    "reported",
    "rumoured",
    "rumored",
    "alleged",
    "understood",
    "considered",
    "described",
    "estimated",
    "suspected",
    "feared",
    "claimed",
    "speculated",
    "suggested",
    "known",
    "presumed",
    "announced",
    "predicted",
    "acknowledged",
    "warned",
    "advised",
    "projected",
)
# Verbs of believing/feeling: with a pronoun subject they narrate a motive or the writer's view (none).
COGNITION_LEMMAS = (
    "believe",
    "think",
    "feel",
    "fear",
    "hope",
    "worry",
    "expect",
    "suspect",
    "doubt",
    "wonder",
    "guess",
    "suppose",
    "surmise",
    "realize",
    "realise",
    "find",
)
# A source head that can take a post-modifier: its class (presstrust_source_heads.tsv) is one of these.
NOUN_CLASSES = ("anon", "collective", "spokes", "org", "doc", "data", "media")
POLL_WORDS = r"\b(?:poll|polls|polled|polling|survey|surveys|surveyed)\b"

NAMED, UNNAMED = "named", "unnamed"
LEFT_WINDOW = 100  # characters before a verb searched for its subject (8 words plus a long apposition)
REGION_CUT = (
    r"^.*(?:^|\s)(?:while|and|but|that|which|who|when|where|as|because|although|though|if|since|after|before|so|or|"
    r"then|meaning|said|says|say|told|in|at|on|for|to|by|with|from|about|is|was|are|were|has|have|had)\s"
)
RIGHT_WINDOW = 100  # characters after it searched for a postposed speaker, "by X", or a "that" clause
FRAMES_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    **CUE_SPAN_SCHEMA,  # cue = the source phrase (or the frame-less cue), offsets into the article text
    "frame": pl.String,  # subject, object, agentless, or the presstrust_anonymity_patterns.tsv row group
    "head": pl.String,  # the head word of the source phrase, lower-cased (null for frame-less cues)
    "source": pl.String,  # named or unnamed
}
SOURCE_SPAN = pl.Struct({"cue_start": pl.Int64, "cue_end": pl.Int64})
SENTENCE_ATTRIBUTION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "named_attribution": pl.Boolean,
    "unnamed_attribution": pl.Boolean,
    # the unnamed source phrases of the sentence's frames, offsets into the article text (for the evidence);
    # null for a sentence without a reporting-verb cue
    "unnamed_sources": pl.List(SOURCE_SPAN),
}
UNNAMED_SPANS_SCHEMA = dict(CUE_SPAN_SCHEMA)
ARTICLE_ATTRIBUTION_SCHEMA = {
    "article_id": pl.String,
    "attributions_n": pl.Int64,
    "named_attributions_n": pl.Int64,
    "unnamed_attributions_n": pl.Int64,
    "unnamed_source_share": pl.Float64,
    "unnamed_sources_per_1k_words": pl.Float64,
}


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


def _forms(lemmas: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for lemma in lemmas:
        out |= inflect(lemma)
    return out


def _finite(verbs: set[str]) -> set[str]:
    """Verb forms without the -ing participle ("officials responding to" is not an attribution)."""
    return {v for v in verbs if not v.endswith("ing")}


def attribution_cues(lexicons: Lexicons) -> AttributionCues:
    """Build the attribution regexes and word lists from the lexicons (pure: no I/O)."""
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
    for p in lexicons.anonymity_patterns:
        regex = ascii_boundaries(p.regex.replace("<noun>", alternation(nouns)))
        (reportedly if p.kind == "reportedly" else groups.setdefault(p.group, [])).append(f"(?:{regex})")
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
    )


def _len(expr: pl.Expr) -> pl.Expr:
    return expr.str.len_chars().cast(pl.Int64)


def _lower_head(head: pl.Expr) -> pl.Expr:
    """The head word lower-cased, without a possessive 's, quotes or a final full stop."""
    return head.str.to_lowercase().str.replace(r"(?:['’]s|['’])$", "").str.strip_chars(".\"“”‘’'()")


def _determiner(region: pl.Expr) -> pl.Expr:
    """indef / def / poss / none: the last determiner within the three words before the head."""
    dets = region.str.to_lowercase().str.extract(
        rf"(?:^|\s)({alternation((*INDEFINITE, *DEFINITE, *POSSESSIVE))[3:-1]}|\S+['’]s)\s(?:{TOKEN}\s){{0,3}}$", 1
    )
    return (
        pl.when(dets.is_in(list(INDEFINITE)))
        .then(pl.lit("indef"))
        .when(dets.is_in(list(DEFINITE)))
        .then(pl.lit("def"))
        .when(dets.is_not_null())
        .then(pl.lit("poss"))
        .otherwise(pl.lit("none"))
    )


def _classify(frames: pl.LazyFrame, cues: AttributionCues) -> pl.LazyFrame:
    """Add `source` (named / unnamed / null) to frame rows with _kind, _head, _region, _after, _initial, _verb, _right.

    Every intermediate value is a column computed once (a `when` chain re-evaluates shared sub-expressions).
    """
    c = pl.col
    heads = dict(cues.heads)
    cognition, unnamed, named = list(cues.cognition_verbs), pl.lit(UNNAMED), pl.lit(NAMED)
    none = pl.lit(None, dtype=pl.String)
    frames = (
        frames.filter(c("_kind").is_not_null() & c("_head").is_not_null())
        .with_columns(
            _lower_head(c("_head")).alias("_h"),
            c("_head").str.contains(r"^[\"“‘'(]*[A-Z]").alias("_cap_head"),
            c("_verb").is_in(cognition).alias("_cognition"),
            (c("_kind") == "subject").alias("_subject"),
        )
        .with_columns(
            c("_h").replace_strict(heads, default="", return_dtype=pl.String).alias("_k"),
            c("_h").str.contains(r"[^s'’]s$").alias("_plural"),
        )
    )
    # regexes run only on the rows whose class or verb needs them (the others get null inputs)
    k_col, verb_col = c("_k"), c("_verb")
    doc_like = k_col.is_in(["doc", "data"])
    needs_det = ~k_col.is_in(["pronoun", "skip", "self", "passive", "spokes", "org", "media"])
    frames = frames.with_columns(
        _determiner(pl.when(needs_det).then(c("_region"))).fill_null("none").alias("_det"),
        # a capitalised word before the head that is not the sentence's first word ("a Pew survey")
        pl.when(doc_like)
        .then(c("_region").str.contains(r"\s[A-Z]") | (c("_region").str.contains(r"^[A-Z]") & ~c("_initial")))
        .otherwise(False)
        .alias("_cap_mod"),
        # "data from the state", "a study by Harvard researchers", "a study published in JAMA"
        pl.when(doc_like)
        .then(
            c("_after").str.contains(r"^,?\s*(?:from|by) (?:the\s|[A-Z])")
            | c("_after").str.contains(r"^,?\s*(?:\S+\s+)?(?:from|by|in|of|at|for) (?:the\s+)?(?:\S+\s+){0,3}?[A-Z]")
        )
        .otherwise(False)
        .alias("_named_after"),
        # only a collective or anonymous head can be a poll's respondents
        pl.when(k_col.is_in(["collective", "anon", ""]) & c("_plural") & ~c("_cap_head"))
        .then(c("sentence"))
        .str.to_lowercase()  # after the `when`: only the rows that need it
        .str.contains(ascii_boundaries(POLL_WORDS))
        .fill_null(False)
        .alias("_poll"),
        pl.when(verb_col.is_in(list(cues.needs_clause_verbs)) & c("_subject"))
        .then(c("_right"))
        .str.contains(
            r"^,?\s*(?:that\b|whether\b|if\b|why\b|how\b|what\b|as\b|\"|“|:|—)|^\s+(?:\S+\s+){1,5}as\s"
            r"|^\s+(?:\S+\s+){1,4}to\s+(?:be|have|stop|end|suspend|halt|allow|block|drop|reject|approve|release|pay)\b"
        )
        .fill_null(False)
        .alias("_clause_after"),
        pl.when(verb_col.is_in(list(cues.as_verbs)))
        .then(c("_right"))
        .str.contains(r"^\s+(?:\S+\s+){1,5}as\s")
        .fill_null(False)
        .alias("_as_clause"),
        pl.when(c("_cognition"))
        .then(c("_right"))
        .str.contains(r"^\s+(?:about|of|over)\b")
        .fill_null(False)
        .alias("_topic_after"),
        pl.when(c("_kind") == "agentless")
        .then(c("_right"))
        .str.contains(
            r"^\s+(?:[a-z]+ly\s+)?(?:to|that|as|likely|unlikely|killed|dead|missing|injured|wounded|arrested|detained)\b"
        )
        .fill_null(False)
        .alias("_agentless_right"),
    )
    h, k, det, verb, plural, poll = c("_h"), c("_k"), c("_det"), c("_verb"), c("_plural"), c("_poll")
    cap_head, cap_mod, named_after, cog = c("_cap_head"), c("_cap_mod"), c("_named_after"), c("_cognition")
    present = verb.str.ends_with("s") & c("_subject")
    # a verb form that is also a noun needs a subject that is clearly a source ("his claims" is a noun)
    noun_like = verb.is_in(list(cues.noun_like)) & c("_subject")
    source_like = k.is_in(["pronoun", "anon", "collective", "spokes", "org", "doc", "data"]) | (
        (k == "") & cap_head & ~c("_initial")
    )
    by_class = (
        pl.when(k.is_in(["skip", "self", "passive"]))
        .then(none)
        .when(k == "pronoun")
        .then(pl.when(cog).then(none).otherwise(named))
        .when((h == "one") & (c("_after") == ""))
        .then(none)  # "one wonders": the generic pronoun
        .when((h == "people") & (det == "none") & cog)
        .then(none)  # "people think ...": a generalisation in the writer's voice
        .when(poll & (k.is_in(["collective", "anon"]) | ((k == "") & plural)))
        .then(named)  # respondents of a poll named in the sentence are the poll
        .when((det == "indef") & plural & k.is_in(["", "collective"]))
        .then(unnamed)  # "several Justices suggested", "two Reuters reporters"
        .when((k == "") & cap_head)
        .then(named)
        .when(k.is_in(["spokes", "org"]))
        .then(named)
        .when(k == "anon")
        .then(pl.when((h == "source") & (det == "def") & present).then(named).otherwise(unnamed))
        .when(k == "collective")
        .then(pl.when(det == "def").then(named).otherwise(unnamed))  # "the researchers say": resolves
        .when(k == "doc")
        .then(pl.when(det.is_in(["def", "poss"]) | cap_mod | named_after).then(named).otherwise(unnamed))
        .when(k == "data")
        .then(pl.when((det == "poss") | cap_mod | named_after).then(named).otherwise(unnamed))
        .when(k == "media")
        .then(unnamed)
        .when(cog)
        .then(none)  # "the finale felt rushed": a believer must be a known source noun, a name or a pronoun
        .when(det == "indef")
        .then(unnamed)
        .when(det.is_in(["def", "poss"]))
        .then(named)
        .when(plural)
        .then(unnamed)
        .otherwise(named)
    )
    needs_clause = (
        (verb.is_in(list(cues.needs_clause_verbs)) & c("_subject") & ~c("_clause_after"))
        | (verb.is_in(list(cues.as_verbs)) & ~c("_as_clause"))
        | (cog & c("_topic_after"))  # "think about", "worry about": a topic, not a content
    )
    document_only = verb.is_in(list(cues.document_verbs)) & ~k.is_in(["doc", "data", "media", "collective"])
    source = (
        pl.when(c("_kind") == "agentless")
        .then(pl.when(verb.is_in(list(cues.epistemic_passives)) & c("_agentless_right")).then(unnamed).otherwise(none))
        .when(c("_kind").is_null() | c("_head").is_null() | needs_clause | document_only)
        .then(none)
        .when(c("_apposition"))
        .then(named)  # "Jane Roe, a former aide, said": the apposition describes a named person
        .when(noun_like & ~source_like)
        .then(none)
        .otherwise(by_class)
    )
    return frames.with_columns(source.alias("source"))


def _verb_frames(sentences: pl.LazyFrame, cues: AttributionCues, *, n_stages: int | None = None) -> pl.LazyFrame:
    """One row per reporting-verb cue with its source phrase, classified (rows without a source dropped)."""
    keys = ["article_id", "sentence_no"]
    c = pl.col
    candidates = sentences.filter(c("sentence_lower").str.contains(cues.frame_cue))
    spans = cue_spans(
        candidates,
        text="sentence_lower",
        regex=cues.frame_cue,
        keys=keys,
        carry=["start", "end", "sentence"],
    )
    s, cs, ce = c("sentence"), c("cue_start"), c("cue_end")
    between = alternation(BETWEEN_SUBJECT_AND_VERB)
    heads = dict(cues.heads)
    left_raw, left, right, verb = c("_left_raw"), c("_left"), c("_right"), c("_verb")
    window = c("_window")  # the subject lies within the last words before the verb: short end-anchored regexes
    post_regex = rf"(?:^|\s)(?P<h>{TOKEN})(?P<t>,? (?:{alternation(POST_MODIFIERS)[3:-1]})(?: {TOKEN}){{1,8}})$"
    post_test = post_regex.replace("(?P<h>", "(?:").replace("(?P<t>", "(?:")
    stops = alternation(OBJECT_STOPS)[3:-1]
    stages: list[list[pl.Expr]] = [
        [
            (cs - LEFT_WINDOW).clip(lower_bound=0).alias("_window"),
            # a progressive cue "are demanding" is the verb "demanding" after a skipped "are"
            pl.when(c("cue").str.contains(" ", literal=True))
            .then(c("cue").str.replace(r"^(?:am|is|are|was|were|been|be) (?:\S+ )??(\S+(?: for| to)?)$", "$1"))
            .otherwise(c("cue"))
            .alias("_verb"),
        ],
        [
            s.str.slice(window, cs - window).alias("_left_window"),
            s.str.slice(ce, RIGHT_WINDOW).alias("_right"),
        ],
        [
            # a window that starts inside a word drops that word ("...is shifting" must not become "s shifting")
            pl.when(window > 0)
            .then(_len(c("_left_window")) - _len(c("_left_window").str.replace(r"^\S*\s?", "")))
            .otherwise(0)
            .alias("_trim"),
        ],
        [
            c("_left_window").str.slice(c("_trim")).alias("_left_raw"),
            (window + c("_trim")).alias("_window"),
        ],
        [
            left_raw.str.replace(rf"(?:[ ,]+{between})*[ ,]*$", "").alias("_left"),
            left_raw.str.strip_chars_end(" ,").alias("_left_nopunct"),
            verb.is_in(["according to", "citing"]).alias("_is_object_verb"),
            # (regexes run only on the rows that can match: the others are null)
            pl.when(left_raw.str.ends_with(", "))
            .then(left_raw)
            .str.contains(
                r"(?:^|\s)[A-Z][\w.'’-]*,\s+(?:a|an|the|who|whose|former|senior|chief|now)\s[^,\"“”]{0,100},\s*$"
            )
            .fill_null(False)
            .alias("_apposition"),
            (
                # "higher-than-expected", "add-on": a verb glued to a hyphen is part of a compound word
                left_raw.str.ends_with("-")
                | right.str.starts_with("-")
                # "suspected of", "accused of": a participle describing a person, not a report
                | (
                    verb.is_in(["suspected", "accused", "convicted", "charged", "cleared"])
                    & right.str.starts_with(" of ")
                )
                # "someone can have, say, depression": "say" as "for example"
                | ((verb == "say") & left_raw.str.ends_with(", ") & right.str.starts_with(","))
                # "is supposed to": expectation or obligation, not a report
                | ((verb == "supposed") & right.str.starts_with(" to "))
            ).alias("_no_frame"),
            # "can only be described as", "must be acknowledged": a modal passive is not a report
            pl.when(left_raw.str.ends_with("be ") | left_raw.str.ends_with("been "))
            .then(left_raw)
            .str.contains(r"(?:can|could|must|should|will|would|may|might|to)\s+(?:\w+\s+)?be\s*$")
            .fill_null(False)
            .alias("_modal_passive"),
            pl.when(right.str.starts_with(" by "))
            .then(~right.str.contains(r"^\s+by\s+\S+ing\b"))
            .otherwise(False)
            .alias("_by_follows"),
            left_raw.str.strip_chars_end(" ")
            .str.slice(-1)
            .is_in([",", '"', "”", "’", "'", "—", "–", ":"])
            .alias("_after_punct"),
            left_raw.str.ends_with(" ").alias("_after_space"),
        ],
        [
            left.str.extract(f"({TOKEN})$", 1).alias("_plain"),
            # captures are slow: extract them only where the same regex without captures matches
            pl.when(left.str.contains(post_test)).then(left).str.extract_groups(post_regex).alias("_post"),
        ],
        [
            _lower_head(c("_plain")).replace_strict(heads, default="", return_dtype=pl.String).alias("_plain_class"),
            c("_post").struct.field("h").alias("_post_h"),
            c("_post").struct.field("t").alias("_post_t"),
        ],
        [
            _lower_head(c("_post_h")).replace_strict(heads, default="", return_dtype=pl.String).alias("_post_class"),
            (c("_plain_class") == "passive").alias("_passive"),
        ],
        [
            # a post-modified source noun, unless the verb follows a function word ("to analyze and report")
            (
                c("_post_class").is_in(list(NOUN_CLASSES))
                & ((c("_plain_class") != "skip") | c("_post_t").str.starts_with(","))  # ", who ... ,"
            ).alias("_use_post"),
            (
                (
                    c("_passive")
                    | c("_plain").is_null()
                    | verb.str.ends_with("ed")
                    | verb.is_in(["thought", "found", "told"])
                )
                & ~verb.is_in(list(cues.needs_clause_verbs))
                & c("_by_follows")
            ).alias("_by_agent"),
        ],
        [
            pl.when(c("_use_post")).then(c("_post_t")).otherwise(pl.lit("")).alias("_subj_tail"),
            pl.when(c("_use_post")).then(c("_post_h")).otherwise(c("_plain")).alias("_subj_head"),
            pl.when(c("_by_agent")).then(right.str.replace(r"^\s+by", "")).otherwise(right).alias("_obj_src"),
        ],
        [
            (_len(left) - _len(c("_subj_tail")) - _len(c("_subj_head"))).alias("_subj_head_start"),
            # only a cue that can take an object (according to, citing, "by X", after a quote or comma) has one
            pl.when(c("_is_object_verb") | c("_by_follows") | c("_after_punct"))
            .then(c("_obj_src"))
            .str.extract(rf"^\s*((?:{TOKEN} ){{0,7}}{TOKEN})", 1)
            .str.replace(r"\.$", "")
            .alias("_chunk"),
            (_len(right) - _len(c("_obj_src").str.strip_chars_start())).alias("_obj_offset"),
        ],
        [
            left.str.slice(0, c("_subj_head_start")).alias("_before_head"),
            c("_chunk").str.replace(rf"\s(?:{stops}|\S+ing)(?:\s.*)?$", "").alias("_core"),
            # a postposed speaker: the verb follows a quote or comma directly and precedes its subject
            (
                c("_after_punct")
                & (left == c("_left_nopunct"))
                & ~verb.is_in(list(cues.hearer_verbs))
                & ~verb.is_in(list(cues.cognition_verbs))
                & ~c("_is_object_verb")
                & ~c("_use_post")  # "The official, who works on this, said": a subject with a relative clause
                & c("_chunk").str.contains(
                    r"^(?:[A-Z]|(?:a|an|the|one|another|two|three|some|several|many|his|her|their|its|our|senior|"
                    r"top|local|state|federal|police|officials?|sources?|analysts|experts|critics|people|residents|"
                    r"witnesses)\b)"
                )
            ).alias("_postposed"),
        ],
        [
            c("_before_head").str.extract(rf"((?:{TOKEN} ){{0,4}})$", 1).fill_null("").alias("_subj_region"),
            c("_core").str.extract(f"({TOKEN})$", 1).alias("_obj_head"),
            pl.when(c("_no_frame"))
            .then(pl.lit(None, dtype=pl.String))
            .when(c("_is_object_verb") | c("_by_agent") | c("_postposed"))
            .then(pl.lit("object"))
            .when(c("_passive") & ~c("_modal_passive"))
            .then(pl.lit("agentless"))
            .when(c("_plain").is_not_null() & (c("_after_space") | c("_apposition")))
            .then(pl.lit("subject"))
            .alias("_kind"),
        ],
        [
            pl.when(c("_kind") == "object").then(c("_obj_head")).otherwise(c("_subj_head")).alias("_head"),
            pl.when(c("_kind") == "object")
            .then(c("_core").str.slice(0, _len(c("_core")) - _len(c("_obj_head"))))
            .otherwise(c("_subj_region"))
            .alias("_region"),
            pl.when(c("_kind") == "object")
            .then(c("_chunk").str.slice(_len(c("_core"))))
            .otherwise(c("_subj_tail"))
            .alias("_after"),
            (
                (c("_kind") == "subject")
                & (window == 0)
                & c("_before_head")
                .str.slice(0, _len(c("_before_head")) - _len(c("_subj_region")))
                .str.contains(r"^[\s\"“‘'(\[«—–-]*$")
            ).alias("_initial"),
            # the source phrase's offsets inside the sentence
            pl.when(c("_kind") == "object")
            .then(ce + c("_obj_offset"))
            .when(c("_kind") == "agentless")
            .then(cs)
            .otherwise(window + c("_subj_head_start") - _len(c("_subj_region").str.replace(REGION_CUT, "")))
            .alias("_src_start"),
            pl.when(c("_kind") == "object")
            .then(ce + c("_obj_offset") + _len(c("_core")))
            .when(c("_kind") == "agentless")
            .then(ce)
            .otherwise(window + _len(left))
            .alias("_src_end"),
        ],
    ]
    frames = spans
    for stage in stages[:n_stages]:
        frames = frames.with_columns(*stage)
    if n_stages is not None:  # profiling: the frame rows after the first n stages
        return frames
    # Fast path: most cues are "he said" or "Smith said" (a pronoun, or a capitalised singular word that is not
    # the sentence's first, right before a plain reporting verb): named, and no evidence span is needed.
    split = next(i for i, stage in enumerate(stages) if any("_use_post" in str(e) for e in stage)) + 1
    mid = spans
    for stage in stages[:split]:
        mid = mid.with_columns(*stage)
    mid = mid.cache()
    plain = c("_plain")
    special = cues.needs_clause_verbs | cues.cognition_verbs | cues.document_verbs | cues.as_verbs | cues.noun_like
    fast = (
        ~c("_no_frame")
        & ~c("_is_object_verb")
        & ~c("_by_agent")
        & ~c("_passive")
        & ~c("_use_post")
        & ~c("_apposition")
        & c("_after_space")
        & ~verb.is_in(list(special))
        & (
            (c("_plain_class") == "pronoun")
            | (
                (c("_plain_class") == "")
                & plain.str.contains(r"^[A-Z]")
                & ~plain.str.contains(r"s$")
                & (_len(left) > _len(plain))  # not the sentence's first word
            )
        )
    ).fill_null(False)
    columns = [*keys, "start", "end", "sentence", "_src_start", "_src_end", "_kind", "_head", "source"]
    named_fast = mid.filter(fast).select(
        *keys,
        "start",
        "end",
        "sentence",
        (window + _len(left) - _len(plain)).alias("_src_start"),
        (window + _len(left)).alias("_src_end"),
        pl.lit("subject").alias("_kind"),
        plain.alias("_head"),
        pl.lit(NAMED).alias("source"),
    )
    # no source at all: the verb follows a function word, a negation, a modal or "I"/"we" ("to say", "did not
    # say", "I think"), and nothing makes it an object frame
    no_source = (
        c("_plain_class").is_in(["skip", "self"])
        & ~c("_is_object_verb")
        & ~c("_by_agent")
        & ~c("_use_post")
        & ~c("_after_punct")
    ).fill_null(False)
    rest = mid.filter(~fast & ~no_source)
    for stage in stages[split:]:
        rest = rest.with_columns(*stage)
    # a verb inside the source phrase of an earlier "according to" / "citing" ("according to local reports")
    inside = c("_left_raw").str.contains(r"(?:according to|citing)(?: [^\s,.;:!?\"“”]+){0,4} $")
    classified = (
        _classify(rest.with_columns(inside.alias("_inside")), cues)
        .filter(c("source").is_not_null() & ~c("_inside"))
        .select(columns)
    )
    return pl.concat([named_fast, classified])


def _pattern_frames(sentences: pl.LazyFrame, cues: AttributionCues, *, regex: str, frame: str) -> pl.LazyFrame:
    """One row per match of a frame-less unnamed cue regex (the match is the span)."""
    keys = ["article_id", "sentence_no"]
    return cue_spans(
        sentences.filter(pl.col("sentence_lower").str.contains(regex)),
        text="sentence_lower",
        regex=regex,
        keys=keys,
        carry=["start", "end", "sentence"],
    ).with_columns(
        pl.col("cue_start").alias("_src_start"),
        pl.col("cue_end").alias("_src_end"),
        pl.lit(frame).alias("_kind"),
        pl.lit(None, dtype=pl.String).alias("_head"),
        pl.lit(UNNAMED).alias("source"),
    )


def _output(frames: pl.LazyFrame) -> pl.LazyFrame:
    src_start, src_end = pl.col("_src_start"), pl.col("_src_end")
    return frames.select(
        "article_id",
        "sentence_no",
        pl.col("start").alias("sentence_start"),
        pl.col("end").alias("sentence_end"),
        "sentence",
        pl.col("sentence").str.slice(src_start, src_end - src_start).alias("cue"),
        (pl.col("start") + src_start).alias("cue_start"),
        (pl.col("start") + src_end).alias("cue_end"),
        pl.col("_kind").alias("frame"),
        _lower_head(pl.col("_head")).alias("head"),
        "source",
    )


@feature(version="2", output_schema=FRAMES_SCHEMA)
def attribution_frames(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """One row per attribution frame or frame-less unnamed cue: source phrase, offsets, head, named/unnamed."""
    keys = ["article_id", "sentence_no"]
    verb = _output(_verb_frames(sentences, cues)).cache()
    patterns = [_output(_pattern_frames(sentences, cues, regex=r, frame="pattern")) for r in cues.unnamed]
    # "reportedly", "media reports say": unnamed unless the same sentence names a source
    reportedly = _output(_pattern_frames(sentences, cues, regex=cues.reportedly, frame="reportedly")).join(
        verb.filter(pl.col("source") == NAMED).select(keys).unique(), on=keys, how="anti"
    )
    return pl.concat([verb, *patterns, reportedly])


@feature(version="2", output_schema=SENTENCE_ATTRIBUTION_SCHEMA, adds_columns=True)
def sentence_attribution(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """Add per-sentence booleans `named_attribution` and `unnamed_attribution` (both: a mixed attribution)."""
    keys = ["article_id", "sentence_no"]
    unnamed = pl.col("source") == UNNAMED
    # the input is read twice (the verb frames and the join back): compute it once
    sentences = sentences.cache()
    per_sentence = (
        _output(_verb_frames(sentences, cues))
        .group_by(keys)
        .agg(
            (pl.col("source") == NAMED).any().alias("named_attribution"),
            unnamed.any().alias("_unnamed_frame"),
            pl.struct("cue_start", "cue_end").filter(unnamed).alias("unnamed_sources"),
        )
    )
    low = pl.col("sentence_lower")
    # frame-less cues need no span here (unnamed_source_spans finds them in the few unnamed sentences)
    pattern = pl.any_horizontal([low.str.contains(r) for r in cues.unnamed])
    reportedly = low.str.contains(cues.reportedly) & ~pl.col("named_attribution")
    return (
        sentences.join(per_sentence, on=keys, how="left", maintain_order="left")
        .with_columns(
            pl.col("named_attribution", "_unnamed_frame").fill_null(False),
        )
        .with_columns((pl.col("_unnamed_frame") | pattern | reportedly).alias("unnamed_attribution"))
        .select(*sentences.collect_schema().names(), *SENTENCE_ATTRIBUTION_SCHEMA)
    )


@feature(version="2", output_schema=UNNAMED_SPANS_SCHEMA)
def unnamed_source_spans(sentences: pl.LazyFrame, *, cues: AttributionCues) -> pl.LazyFrame:
    """One row per unnamed source phrase or cue (overlaps within a sentence dropped), with offsets into the text."""
    keys = ["article_id", "sentence_no"]
    flagged = sentences.filter(pl.col("unnamed_attribution")).cache()
    frames = (
        flagged.select(*keys, "start", "end", "sentence", pl.col("unnamed_sources").alias("_span"))
        .explode("_span")
        .filter(pl.col("_span").is_not_null())
        .select(
            *keys,
            pl.col("start").alias("sentence_start"),
            pl.col("end").alias("sentence_end"),
            "sentence",
            pl.col("_span").struct.field("cue_start"),
            pl.col("_span").struct.field("cue_end"),
        )
    )
    columns = [*keys, "sentence_start", "sentence_end", "sentence", "cue_start", "cue_end"]
    patterns = [_output(_pattern_frames(flagged, cues, regex=r, frame="pattern")).select(columns) for r in cues.unnamed]
    reportedly = _output(
        _pattern_frames(flagged.filter(~pl.col("named_attribution")), cues, regex=cues.reportedly, frame="reportedly")
    ).select(columns)
    spans = (
        pl.concat([frames, *patterns, reportedly])
        .unique([*keys, "cue_start", "cue_end"], maintain_order=True)
        .sort(*keys, "cue_start", pl.col("cue_end"), descending=[False, False, False, True])
    )
    earlier_end = pl.col("cue_end").cum_max().shift(1).over(keys)
    relative = pl.col("cue_start") - pl.col("sentence_start")
    return spans.filter(earlier_end.is_null() | (pl.col("cue_start") >= earlier_end)).select(
        *keys,
        "sentence_start",
        "sentence_end",
        "sentence",
        pl.col("sentence").str.slice(relative, pl.col("cue_end") - pl.col("cue_start")).alias("cue"),
        "cue_start",
        "cue_end",
    )


@feature(version="1", output_schema=ARTICLE_ATTRIBUTION_SCHEMA)
def article_attribution(sentences: pl.LazyFrame, *, unnamed_spans: pl.LazyFrame, sizes: pl.LazyFrame) -> pl.LazyFrame:
    """Per article: attributed sentences (either, named, unnamed), unnamed share, unnamed cues per 1k words."""
    named, unnamed = pl.col("named_attribution"), pl.col("unnamed_attribution")
    per_article = sentences.group_by("article_id").agg(
        (named | unnamed).sum().cast(pl.Int64).alias("attributions_n"),
        named.sum().cast(pl.Int64).alias("named_attributions_n"),
        unnamed.sum().cast(pl.Int64).alias("unnamed_attributions_n"),
    )
    cues = unnamed_spans.group_by("article_id").agg(pl.len().cast(pl.Int64).alias("_unnamed_cues"))
    counts = ["attributions_n", "named_attributions_n", "unnamed_attributions_n"]
    return (
        sizes.join(per_article, on="article_id", how="left", maintain_order="left")
        .join(cues, on="article_id", how="left", maintain_order="left")
        .with_columns(pl.col(*counts, "_unnamed_cues").fill_null(0))
        .select(
            "article_id",
            *counts,
            share(pl.col("unnamed_attributions_n"), pl.col("attributions_n")).alias("unnamed_source_share"),
            per_1k(pl.col("_unnamed_cues"), pl.col("words_n")).alias("unnamed_sources_per_1k_words"),
        )
    )
