"""Attribution, step 2: frame finding. Each cue's source phrase (its frame), and the frame-less unnamed cues.

- `subject`: the words before the verb, back to a clause break, skipping auxiliaries and adverbs ("have also
  said"). Its head is the last word, or the source noun before a post-modifier ("a source in the ministry",
  "people familiar with the talks", "officials who ...").
- `object`: the postposed speaker after a quote or comma ('"...," said a senior official'), the object of
  "according to" and "citing", and the agent of a passive ("was reported by the Herald").
- `agentless`: a passive epistemic verb with no agent ("was said to", "are believed to", "is thought that").
A verb after "to", "not", a modal or "did" has no source (refusals, no-comment, plans: none). The frames are
classified (`features.attribution.classify`) before they leave `_verb_frames`. `_pattern_frames` gives the
frame-less unnamed cues (step 4 of the package docstring): one row per match, the match is the span.
"""

from __future__ import annotations

import polars as pl

from features._text import alternation, contains_gated, cue_spans, masked, only_where
from features.attribution.classify import _classify
from features.attribution.cues import AttributionCues
from features.attribution.words import (
    BETWEEN_SUBJECT_AND_VERB,
    LEFT_WINDOW,
    NAMED,
    NOUN_CLASSES,
    OBJECT_STOPS,
    POST_MODIFIERS,
    REGION_CUT,
    RIGHT_WINDOW,
    TOKEN,
    UNNAMED,
    _len,
    _lower_head,
)


def _verb_frames(
    sentences: pl.LazyFrame,
    cues: AttributionCues,
    *,
    keys: tuple[str, ...] = ("article_id", "sentence_no"),
    n_stages: int | None = None,
    decide: bool = True,
) -> pl.LazyFrame:
    """One row per reporting-verb cue with its source phrase, classified (rows without a source dropped).

    `keys` identify a sentence (the rows keep them): the article's keys, or a row index of `sentences`.
    `decide=False`: the candidates of the learned decision with their features (`_frame_candidates`), undecided
    (the fast path's plain named frames are no candidates).
    """
    c = pl.col
    spans = cue_spans(
        sentences,
        text="sentence_lower",
        regex=cues.frame_cue,
        keys=keys,
        carry=["start", "end", "sentence"],
    )
    # the stages the fast path reads (up to the choice of a post-modified subject), then the others
    before = [*_window_stages(), _context_stage(), *_candidate_stages(cues)]
    stages = [*before, *_phrase_stages(cues), *_kind_stages()]
    if n_stages is not None:  # profiling: the frame rows after the first n stages
        return _with_stages(spans, stages[:n_stages])
    # Fast path: most cues are "he said" or "Smith said" (a pronoun, or a capitalised singular word that is not
    # the sentence's first, right before a plain reporting verb): named, and no evidence span is needed.
    mid = _with_stages(spans, before).cache()
    fast = _fast_named(cues)
    left, plain, window = c("_left"), c("_plain"), c("_window")
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
    rest = _with_stages(mid.filter(~fast & ~_no_source()), stages[len(before) :])
    # a verb inside the source phrase of an earlier "according to" / "citing" ("according to local reports")
    inside = c("_left_raw").str.contains(r"(?:according to|citing)(?: [^\s,.;:!?\"“”]+){0,4} $")
    candidates = _with_previous(
        _frame_candidates(_classify(rest.with_columns(inside.alias("_inside")), cues)), sentences, keys
    )
    if not decide:  # the training data of the learned decision: every candidate with its features
        return candidates
    decided = candidates.with_columns(_decision(cues).alias("source")).filter(c("source").is_not_null())
    return pl.concat([named_fast, decided.select(columns)])


def _frame_candidates(classified: pl.LazyFrame) -> pl.LazyFrame:
    """The classified frames that may be sources (recall first): every frame the rules call a source, and the
    frames they reject whose head is a source noun or that are agentless; with the learned decision's features
    (`VERB_FEATURES`). Wider (every frame) was worse: outlet-grouped CV recall at precision .90 fell .69 -> .66."""
    c = pl.col
    k = pl.when(c("_k") == "").then(pl.lit("other")).otherwise(c("_k"))
    rule = c("source").fill_null("none")
    flag = {
        "plural": c("_plural"),
        "cap": c("_cap_head"),
        "cognition": c("_cognition"),
        "initial": c("_initial"),
        "poll": c("_poll"),
        "doc_named": c("_cap_mod") | c("_named_after"),
        "apposition": c("_apposition"),
        "clause": c("_clause_after"),
        "topic": c("_topic_after"),
        "agentless_right": c("_agentless_right"),
    }
    return (
        classified.filter(
            ~c("_inside")
            & (
                c("source").is_not_null()
                | c("_k").is_in(["anon", "collective", "data", "doc", "media"])
                | (c("_kind") == "agentless")
            )
        )
        .with_columns(k.alias("f_class"))
        .with_columns(
            c("_kind").alias("f_kind"),
            rule.alias("f_rule"),
            c("_det").alias("f_det"),
            (c("f_class") + "|" + c("_det")).alias("f_class_det"),
            (c("f_class") + "|" + c("_kind")).alias("f_class_kind"),
            (rule + "|" + c("f_class")).alias("f_rule_class"),
            c("_verb").str.to_lowercase().alias("f_verb"),
            c("_h").alias("f_head"),
            c("_h").alias("f_head_emb"),  # the head's static-embedding score, folded into a per-word table
            c("sentence").str.contains(r"[\"“”]").cast(pl.String).alias("f_quote"),
            *(e.fill_null(False).cast(pl.String).alias(f"f_{name}") for name, e in flag.items()),
        )
    )


# the previous sentence mentions a study or its people, or reports speech ("the researchers", "the data", "they"
# resolve to what it introduced)
_PREV_DOC = r"\b(?:study|studies|survey|poll|report|researchers|scientists|authors|paper|analysis)\b"
_PREV_SAID = r"\b(?:said|says|told|according to)\b"


def _with_previous(candidates: pl.LazyFrame, sentences: pl.LazyFrame, keys: tuple[str, ...]) -> pl.LazyFrame:
    """The candidates with context from the previous sentence of their article (spec: it may resolve who a
    definite description or pronoun is): whether the head word occurs in it, whether it mentions a study or its
    people, whether it reports speech; "" when there is none. Joined on the candidate rows only (few)."""
    c = pl.col
    if keys == ("_rid",):  # a row index of `sentences` (one article's sentences in order)
        own = sentences.select("_rid", c("article_id").alias("_own_article"))
        prev = sentences.select(
            (c("_rid") + 1).alias("_rid"), c("article_id").alias("_prev_article"), c("sentence_lower").alias("_prev")
        )
        joined = candidates.join(own, on="_rid", how="left", maintain_order="left").join(
            prev, on="_rid", how="left", maintain_order="left"
        )
        text = pl.when(c("_own_article") == c("_prev_article")).then(c("_prev")).otherwise(pl.lit(""))
    else:
        prev = sentences.select(
            "article_id", (c("sentence_no") + 1).alias("sentence_no"), c("sentence_lower").alias("_prev")
        )
        joined = candidates.join(prev, on=["article_id", "sentence_no"], how="left", maintain_order="left")
        text = c("_prev").fill_null("")
    words = pl.lit(" ") + text.str.replace_all(r"[^a-z0-9']+", " ") + pl.lit(" ")
    head_in = words.str.contains(pl.lit(" ") + c("_h").fill_null("") + pl.lit(" "), literal=True)
    return (
        joined.with_columns(
            (head_in & (c("_h").fill_null("").str.len_chars() > 1)).cast(pl.String).alias("f_head_prev"),
            text.str.contains(_PREV_DOC).cast(pl.String).alias("f_prev_doc"),
            text.str.contains(_PREV_SAID).cast(pl.String).alias("f_prev_said"),
        )
        .with_columns(
            (c("f_head_prev") + "|" + c("f_class")).alias("f_head_prev_class"),
            (c("f_prev_doc") + "|" + c("f_class")).alias("f_prev_doc_class"),
        )
        .drop("_own_article", "_prev_article", "_prev", strict=False)
    )


def _decision(cues: AttributionCues) -> pl.Expr:
    """named / unnamed / null of a candidate: unnamed when the learned decision accepts it, else the rules' named
    (no model: the rules' decision)."""
    c = pl.col
    if cues.model is None:
        return c("source")
    return (
        pl.when(cues.model.accepts(VERB_FEATURES))
        .then(pl.lit(UNNAMED))
        .when(c("source") == NAMED)
        .then(pl.lit(NAMED))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _with_stages(frame: pl.LazyFrame, stages: list[list[pl.Expr]]) -> pl.LazyFrame:
    """`frame` with the columns of each stage added in turn (a stage reads only the columns of earlier ones)."""
    for stage in stages:
        frame = frame.with_columns(*stage)
    return frame


def _window_stages() -> list[list[pl.Expr]]:
    """Stages 1-4: the verb of the cue, and the text windows before (`_left_raw`) and after (`_right`) it."""
    c = pl.col
    s, cs, ce = c("sentence"), c("cue_start"), c("cue_end")
    window = c("_window")  # the subject lies within the last words before the verb: short end-anchored regexes
    progressive = c("cue").str.contains(" ", literal=True)
    return [
        [
            (cs - LEFT_WINDOW).clip(lower_bound=0).alias("_window"),
            # a progressive cue "are demanding" is the verb "demanding" after a skipped "are"
            pl.when(progressive)
            .then(
                masked(progressive, c("cue")).str.replace(
                    r"^(?:am|is|are|was|were|been|be) (?:\S+ )??(\S+(?: for| to)?)$", "$1"
                )
            )
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
            .then(_len(c("_left_window")) - _len(masked(window > 0, c("_left_window")).str.replace(r"^\S*\s?", "")))
            .otherwise(0)
            .alias("_trim"),
        ],
        [
            c("_left_window").str.slice(c("_trim")).alias("_left_raw"),
            (window + c("_trim")).alias("_window"),
        ],
    ]


def _context_stage() -> list[pl.Expr]:
    """Stage 5: what surrounds the verb: the subject text without auxiliaries and adverbs, punctuation before the
    verb, an apposition, uses that are no frame, a modal passive, a "by" agent after it."""
    c = pl.col
    left_raw, right, verb = c("_left_raw"), c("_right"), c("_verb")
    between = alternation(BETWEEN_SUBJECT_AND_VERB)
    by_follows = right.str.starts_with(" by ")
    return [
        left_raw.str.replace(rf"(?:[ ,]+{between})*[ ,]*$", "").alias("_left"),
        left_raw.str.strip_chars_end(" ,").alias("_left_nopunct"),
        verb.is_in(["according to", "citing"]).alias("_is_object_verb"),
        # (regexes run only on the rows that can match: the others are empty, `only_where`)
        only_where(
            left_raw.str.ends_with(", "),
            left_raw,
            lambda text: text.str.contains(
                r"(?:^|\s)[A-Z][\w.'’-]*,\s+(?:a|an|the|who|whose|former|senior|chief|now)\s[^,\"“”]{0,100},\s*$"
            ),
        )
        .fill_null(False)
        .alias("_apposition"),
        (
            # "higher-than-expected", "add-on": a verb glued to a hyphen is part of a compound word
            left_raw.str.ends_with("-")
            | right.str.starts_with("-")
            # "suspected of", "accused of": a participle describing a person, not a report
            | (verb.is_in(["suspected", "accused", "convicted", "charged", "cleared"]) & right.str.starts_with(" of "))
            # "someone can have, say, depression": "say" as "for example"
            | ((verb == "say") & left_raw.str.ends_with(", ") & right.str.starts_with(","))
            # "is supposed to": expectation or obligation, not a report
            | ((verb == "supposed") & right.str.starts_with(" to "))
        ).alias("_no_frame"),
        # "can only be described as", "must be acknowledged": a modal passive is not a report
        only_where(
            left_raw.str.ends_with("be ") | left_raw.str.ends_with("been "),
            left_raw,
            lambda text: text.str.contains(r"(?:can|could|must|should|will|would|may|might|to)\s+(?:\w+\s+)?be\s*$"),
        )
        .fill_null(False)
        .alias("_modal_passive"),
        pl.when(by_follows)
        .then(~masked(by_follows, right).str.contains(r"^\s+by\s+\S+ing\b"))
        .otherwise(False)
        .alias("_by_follows"),
        left_raw.str.strip_chars_end(" ")
        .str.slice(-1)
        .is_in([",", '"', "”", "’", "'", "—", "–", ":"])
        .alias("_after_punct"),
        left_raw.str.ends_with(" ").alias("_after_space"),
    ]


def _candidate_stages(cues: AttributionCues) -> list[list[pl.Expr]]:
    """Stages 6-9: the source candidates (the plain subject's last word, a source noun with a post-modifier, a
    "by" agent), their head classes, and which of them is used."""
    c = pl.col
    left, verb = c("_left"), c("_verb")
    heads = dict(cues.heads)
    post_regex = rf"(?:^|\s)(?P<h>{TOKEN})(?P<t>,? (?:{alternation(POST_MODIFIERS)[3:-1]})(?: {TOKEN}){{1,8}})$"
    post_test = post_regex.replace("(?P<h>", "(?:").replace("(?P<t>", "(?:")
    return [
        [
            left.str.extract(f"({TOKEN})$", 1).alias("_plain"),
            # captures are slow: extract them only where the same regex without captures matches
            only_where(left.str.contains(post_test), left, lambda text: text.str.extract_groups(post_regex)).alias(
                "_post"
            ),
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
    ]


def _phrase_stages(cues: AttributionCues) -> list[list[pl.Expr]]:
    """Stages 10-12: the text of the subject and of the object (the words after the verb, cut at a stop word), and
    whether the object is a postposed speaker."""
    c = pl.col
    left, right, verb = c("_left"), c("_right"), c("_verb")
    stops = alternation(OBJECT_STOPS)[3:-1]
    return [
        [
            pl.when(c("_use_post")).then(c("_post_t")).otherwise(pl.lit("")).alias("_subj_tail"),
            pl.when(c("_use_post")).then(c("_post_h")).otherwise(c("_plain")).alias("_subj_head"),
            pl.when(c("_by_agent"))
            .then(masked(c("_by_agent"), right).str.replace(r"^\s+by", ""))
            .otherwise(right)
            .alias("_obj_src"),
        ],
        [
            (_len(left) - _len(c("_subj_tail")) - _len(c("_subj_head"))).alias("_subj_head_start"),
            # only a cue that can take an object (according to, citing, "by X", after a quote or comma) has one
            only_where(
                c("_is_object_verb") | c("_by_follows") | c("_after_punct"),
                c("_obj_src"),
                lambda text: text.str.extract(rf"^\s*((?:{TOKEN} ){{0,7}}{TOKEN})", 1).str.replace(r"\.$", ""),
            ).alias("_chunk"),
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
    ]


def _kind_stages() -> list[list[pl.Expr]]:
    """Stages 13-14: the frame's kind (subject, object, agentless or none), and its source phrase: head, the words
    before the head (`_region`) and after it (`_after`), and its offsets inside the sentence."""
    c = pl.col
    cs, ce, left, window = c("cue_start"), c("cue_end"), c("_left"), c("_window")
    return [
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


def _fast_named(cues: AttributionCues) -> pl.Expr:
    """A cue of the fast path: a pronoun, or a capitalised singular word that is not the sentence's first, right
    before a plain reporting verb (no object, agent, passive, post-modifier or apposition): named."""
    c = pl.col
    left, verb, plain = c("_left"), c("_verb"), c("_plain")
    special = cues.needs_clause_verbs | cues.cognition_verbs | cues.document_verbs | cues.as_verbs | cues.noun_like
    return (
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


def _no_source() -> pl.Expr:
    """No source at all: the verb follows a function word, a negation, a modal or "I"/"we" ("to say", "did not
    say", "I think"), and nothing makes it an object frame."""
    c = pl.col
    return (
        c("_plain_class").is_in(["skip", "self"])
        & ~c("_is_object_verb")
        & ~c("_by_agent")
        & ~c("_use_post")
        & ~c("_after_punct")
    ).fill_null(False)


# the features of a frame-less candidate, and of a verb frame (the f_ columns of `_frame_candidates`)
PATTERN_FEATURES = ("kind", "named", "quote", "first", "before", "kind_before")
VERB_FEATURES = (
    *("kind", "rule", "class", "det", "class_det", "class_kind", "rule_class", "verb", "head", "quote"),
    *("plural", "cap", "cognition", "initial", "poll", "doc_named", "apposition", "clause", "topic"),
    "agentless_right",
    *("head_emb", "head_prev", "prev_doc", "prev_said", "head_prev_class", "prev_doc_class"),
)


def _pattern_candidates(
    sentences: pl.LazyFrame, cues: AttributionCues, *, named: pl.LazyFrame, keys: tuple[str, ...]
) -> pl.LazyFrame:
    """One row per match of a frame-less unnamed cue of either kind (the match is the span), with the learned
    decision's features: f_kind = the pattern's name, f_named = whether the sentence has a named frame (`named`:
    the keys of those sentences), f_quote; undecided."""
    c = pl.col
    low = c("sentence_lower")
    # a contains filter first (the "reportedly" rows behind a literal search): cheaper than cue_spans on every
    # sentence (0.4 s more CPU on 388,000 sentences)
    hit = pl.any_horizontal([low.str.contains(r) for r in cues.unnamed]) | contains_gated(low, cues.reportedly)
    spans = cue_spans(
        sentences.filter(hit),
        text="sentence_lower",
        regex=cues.frameless,
        keys=list(keys),
        carry=["start", "end", "sentence", "sentence_lower"],
    )
    name = pl.lit(None, dtype=pl.String)
    for pattern, regex in reversed(cues.pattern_names):
        name = pl.when(c("cue").str.contains(regex)).then(pl.lit(pattern)).otherwise(name)
    return (
        spans.join(named.with_columns(pl.lit(True).alias("_named")), on=list(keys), how="left")
        .with_columns(
            name.fill_null("other").alias("f_kind"),
            c("_named").fill_null(False).cast(pl.String).alias("f_named"),
            c("sentence").str.contains(r"[\"“”]").cast(pl.String).alias("f_quote"),
            # the match's first word ("debate among ..." is a topic, "consensus among ..." a view) and the word
            # before it ("would be viewed as" is a hypothetical, "is widely viewed as" a report)
            c("cue").str.to_lowercase().str.extract(r"^([a-z']+)", 1).fill_null("").alias("f_first"),
            c("sentence_lower")
            .str.slice(
                (c("cue_start") - 20).clip(lower_bound=0), c("cue_start") - (c("cue_start") - 20).clip(lower_bound=0)
            )
            .str.extract(r"([a-z']+)\W*$", 1)
            .fill_null("^")
            .alias("f_before"),
            c("cue_start").alias("_src_start"),
            c("cue_end").alias("_src_end"),
            pl.lit(None, dtype=pl.String).alias("_head"),
        )
        .with_columns((c("f_kind") + "|" + c("f_before")).alias("f_kind_before"))
        .drop("_named")
    )


def _pattern_accepted(cues: AttributionCues) -> pl.Expr:
    """Whether a frame-less candidate counts: the learned decision, or (no model) the rules: a `cue` pattern
    always, a `reportedly` one unless the sentence names a source."""
    c = pl.col
    if cues.model is None:
        return ~c("f_kind").is_in(list(cues.reportedly_names)) | (c("f_named") == "false")
    return cues.model.accepts(PATTERN_FEATURES)


def _pattern_frames(sentences: pl.LazyFrame, cues: AttributionCues, *, regex: str, frame: str) -> pl.LazyFrame:
    """One row per match of a frame-less unnamed cue regex (the match is the span)."""
    keys = ["article_id", "sentence_no"]
    return cue_spans(
        sentences,
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
