"""Attribution, step 3: classification. A frame's source phrase is named, unnamed or no source.

The source phrase is classified by its head's class in presstrust_source_heads.tsv, its determiner and its
capitalisation (see that file's header). Document verbs count only with a document subject ("the study found",
"data show"); verbs that need content ("asked", "rejected", "charged") count only before "that", "whether", a
colon or a quote, or postposed.
"""

from __future__ import annotations

import polars as pl

from features._text import alternation, ascii_boundaries, masked, only_where
from features.attribution.cues import AttributionCues
from features.attribution.words import (
    DEFINITE,
    INDEFINITE,
    NAMED,
    POLL_WORDS,
    POSSESSIVE,
    TOKEN,
    UNNAMED,
    _lower_head,
)


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
    # regexes run only on the rows whose class or verb needs them (the others get empty inputs: `only_where`)
    frames = _head_columns(frames, cues).with_columns(*_phrase_context(), *_verb_context(cues))
    return frames.with_columns(_source(cues).alias("source"))


def _head_columns(frames: pl.LazyFrame, cues: AttributionCues) -> pl.LazyFrame:
    """The frames that have a head, with the head lower-cased (`_h`), its class (`_k`), whether it is capitalised
    or plural, whether the verb is one of cognition and whether the frame is a subject."""
    c = pl.col
    heads = dict(cues.heads)
    cognition = list(cues.cognition_verbs)
    return (
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


def _phrase_context() -> list[pl.Expr]:
    """What the source phrase says beyond its head: its determiner (`_det`), a capitalised modifier or a named
    origin after a document or data head, a poll in the sentence that the head's people answered."""
    c = pl.col
    k_col = c("_k")
    doc_like = k_col.is_in(["doc", "data"])
    needs_det = ~k_col.is_in(["pronoun", "skip", "self", "passive", "spokes", "org", "media"])
    return [
        only_where(needs_det, c("_region"), _determiner).fill_null("none").alias("_det"),
        # a capitalised word before the head that is not the sentence's first word ("a Pew survey")
        pl.when(doc_like)
        .then(
            masked(doc_like, c("_region")).str.contains(r"\s[A-Z]")
            | (masked(doc_like, c("_region")).str.contains(r"^[A-Z]") & ~c("_initial"))
        )
        .otherwise(False)
        .alias("_cap_mod"),
        # "data from the state", "a study by Harvard researchers", "a study published in JAMA"
        pl.when(doc_like)
        .then(
            masked(doc_like, c("_after")).str.contains(r"^,?\s*(?:from|by) (?:the\s|[A-Z])")
            | masked(doc_like, c("_after")).str.contains(
                r"^,?\s*(?:\S+\s+)?(?:from|by|in|of|at|for) (?:the\s+)?(?:\S+\s+){0,3}?[A-Z]"
            )
        )
        .otherwise(False)
        .alias("_named_after"),
        # only a collective or anonymous head can be a poll's respondents
        only_where(
            k_col.is_in(["collective", "anon", ""]) & c("_plural") & ~c("_cap_head"),
            c("sentence"),
            lambda sentence: sentence.str.to_lowercase().str.contains(ascii_boundaries(POLL_WORDS)),
        )
        .fill_null(False)
        .alias("_poll"),
    ]


def _verb_context(cues: AttributionCues) -> list[pl.Expr]:
    """What follows the verb: a content clause (or "as") for the verbs that need one, a topic after a verb of
    cognition ("worry about"), an infinitive or "that" after an agentless passive."""
    c = pl.col
    verb_col = c("_verb")
    return [
        only_where(
            verb_col.is_in(list(cues.needs_clause_verbs)) & c("_subject"),
            c("_right"),
            lambda right: right.str.contains(
                r"^,?\s*(?:that\b|whether\b|if\b|why\b|how\b|what\b|as\b|\"|“|:|—)|^\s+(?:\S+\s+){1,5}as\s"
                r"|^\s+(?:\S+\s+){1,4}to\s+(?:be|have|stop|end|suspend|halt|allow|block|drop|reject|approve|release|pay)\b"
            ),
        )
        .fill_null(False)
        .alias("_clause_after"),
        only_where(
            verb_col.is_in(list(cues.as_verbs)),
            c("_right"),
            lambda right: right.str.contains(r"^\s+(?:\S+\s+){1,5}as\s"),
        )
        .fill_null(False)
        .alias("_as_clause"),
        only_where(c("_cognition"), c("_right"), lambda right: right.str.contains(r"^\s+(?:about|of|over)\b"))
        .fill_null(False)
        .alias("_topic_after"),
        only_where(
            c("_kind") == "agentless",
            c("_right"),
            lambda right: right.str.contains(
                r"^\s+(?:[a-z]+ly\s+)?(?:to|that|as|likely|unlikely|killed|dead|missing|injured|wounded|arrested|detained)\b"
            ),
        )
        .fill_null(False)
        .alias("_agentless_right"),
    ]


def _by_class() -> pl.Expr:
    """Named / unnamed / null by the head's class, its determiner, capitalisation and number (the last decision)."""
    c = pl.col
    unnamed, named = pl.lit(UNNAMED), pl.lit(NAMED)
    none = pl.lit(None, dtype=pl.String)
    h, k, det, verb, plural, poll = c("_h"), c("_k"), c("_det"), c("_verb"), c("_plural"), c("_poll")
    cap_head, cap_mod, named_after, cog = c("_cap_head"), c("_cap_mod"), c("_named_after"), c("_cognition")
    present = verb.str.ends_with("s") & c("_subject")
    return (
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


def _source(cues: AttributionCues) -> pl.Expr:
    """Named / unnamed / null: the agentless passives, the frames that are no attribution (a verb without the
    content it needs, a document verb without a document, a noun-like verb form without a source), appositions,
    and then `_by_class`."""
    c = pl.col
    unnamed, named = pl.lit(UNNAMED), pl.lit(NAMED)
    none = pl.lit(None, dtype=pl.String)
    k, verb, cap_head, cog = c("_k"), c("_verb"), c("_cap_head"), c("_cognition")
    # a verb form that is also a noun needs a subject that is clearly a source ("his claims" is a noun)
    noun_like = verb.is_in(list(cues.noun_like)) & c("_subject")
    source_like = k.is_in(["pronoun", "anon", "collective", "spokes", "org", "doc", "data"]) | (
        (k == "") & cap_head & ~c("_initial")
    )
    needs_clause = (
        (verb.is_in(list(cues.needs_clause_verbs)) & c("_subject") & ~c("_clause_after"))
        | (verb.is_in(list(cues.as_verbs)) & ~c("_as_clause"))
        | (cog & c("_topic_after"))  # "think about", "worry about": a topic, not a content
    )
    document_only = verb.is_in(list(cues.document_verbs)) & ~k.is_in(["doc", "data", "media", "collective"])
    return (
        pl.when(c("_kind") == "agentless")
        .then(pl.when(verb.is_in(list(cues.epistemic_passives)) & c("_agentless_right")).then(unnamed).otherwise(none))
        .when(c("_kind").is_null() | c("_head").is_null() | needs_clause | document_only)
        .then(none)
        .when(c("_apposition"))
        .then(named)  # "Jane Roe, a former aide, said": the apposition describes a named person
        .when(noun_like & ~source_like)
        .then(none)
        .otherwise(_by_class())
    )
