"""Explanations for people: an article with the evidence behind its features highlighted."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text

from jobs.infra import paths
from jobs.infra.terminal import visible
from jobs.readers.labels import load_labels
from jobs.readers.outlets import OutletResolver, citation_names, load_owners
from jobs.store.texts import read_texts
from scorer.inputs import FEATURE_DIRECTIONS

STYLES = {"unnamed_source": "bold red", "speculation": "bold yellow"}
TAGS = {"unnamed_source": "UNNAMED", "speculation": "SPECULATION"}


class NotFound(LookupError):
    """No such article (or outlet)."""


@dataclass
class ArticleExplanation:
    article: dict[str, Any]
    features: dict[str, Any] | None
    evidence: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    claims: list[dict[str, Any]] = field(default_factory=list)  # the claims table's rows, in sentence order
    origins: list[dict[str, Any]] = field(default_factory=list)  # each other outlet claims are traced to


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as dicts; text values with control characters made visible (jobs.infra.terminal), offsets unchanged."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [
        {n: visible(v, keep="\n\t") if isinstance(v, str) else v for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def explain_article(con: duckdb.DuckDBPyConnection, article_id: str) -> ArticleExplanation:
    """The article (by article_id, or by the corpus's own id), its features, evidence and removed lines."""
    found = _rows(
        con,
        "SELECT article_id, outlet, outlet_name, url, title, authors, published_at FROM article_meta "
        "WHERE article_id = ? OR source_id = ? ORDER BY article_id = ? DESC LIMIT 1",
        [article_id, article_id, article_id],
    )
    if not found:
        raise NotFound(f"no article with id {article_id!r} (article_id or the corpus's own id)")
    texts = read_texts(con, pl.Series([found[0]["article_id"]], dtype=pl.String), columns=()).get_column("text")
    text = visible(texts[0], keep="\n\t") if len(texts) and texts[0] is not None else None
    order = ("article_id", "outlet", "outlet_name", "url", "title", "text", "authors", "published_at")
    article = {k: text if k == "text" else found[0][k] for k in order}
    key = [article["article_id"]]
    features = _rows(con, "SELECT * FROM article_features WHERE article_id = ?", key)
    evidence = _rows(
        con,
        "SELECT kind, cue, cue_start, cue_end, sentence_start, sentence_end, sentence FROM article_evidence "
        "WHERE article_id = ? ORDER BY cue_start, kind",
        key,
    )
    removed = _rows(
        con,
        "SELECT line_start, line_end, line, reason FROM boilerplate_removed WHERE article_id = ? ORDER BY line_start",
        key,
    )
    claims = _rows(
        con,
        "SELECT sentence_no, kind, source, source_phrase, unnamed, speculative, cited_outlet, origin_outlet, origin, "
        "confirming_outlets_n, confirmed_by, sentence FROM claims WHERE article_id = ? ORDER BY sentence_no",
        key,
    )
    others = sorted({c["origin_outlet"] for c in claims if c["origin_outlet"] != article["outlet"]})
    explanation = ArticleExplanation(article, features[0] if features else None, evidence, removed, claims)
    explanation.origins = [origin_outlet(con, outlet) for outlet in others]
    return explanation


def origin_outlet(con: duckdb.DuckDBPyConnection, outlet: str) -> dict[str, Any]:
    """What is known of an outlet claims are traced to: its name, owner, label and published score (or None)."""
    names = {domain: name for name, domain in reversed(list(citation_names().items()))}
    labels = shipped_labels()
    label = labels.get(outlet)
    score = _rows(con, "SELECT score, grade FROM latest_scores WHERE outlet = ?", [outlet])
    return {
        "outlet": outlet,
        "name": names.get(outlet),
        "owner": load_owners().get(outlet),
        "label_score": label[0] if label else None,
        "label_grade": label[1] if label else None,
        "score": score[0]["score"] if score else None,
        "grade": score[0]["grade"] if score else None,
    }


@functools.cache
def shipped_labels() -> dict[str, tuple[float, str]]:
    """outlet -> (label_score, label_grade) of the shipped label file."""
    labels = load_labels(paths.LABELS_FILE, resolver=OutletResolver.default(labels=[paths.LABELS_FILE]))
    return {r["outlet"]: (r["label_score"], r["label_grade"]) for r in labels.iter_rows(named=True)}


def _marked_text(text: str, evidence: list[dict[str, Any]], *, color: bool) -> Text:
    """The article text with cue spans styled (color) or wrapped in [TAG: ...] markers (plain)."""
    if color:
        out = Text(text)
        for e in evidence:
            out.stylize("underline", e["sentence_start"], e["sentence_end"])
        for e in evidence:
            out.stylize(STYLES.get(e["kind"], "bold"), e["cue_start"], e["cue_end"])
        return out
    pieces, position = [], 0
    for e in sorted(evidence, key=lambda e: (e["cue_start"], e["cue_end"])):
        if e["cue_start"] < position:  # overlapping cue: already inside a marker
            continue
        pieces += [
            text[position : e["cue_start"]],
            f"[{TAGS.get(e['kind'], e['kind'])}: ",
            text[e["cue_start"] : e["cue_end"]],
            "]",
        ]
        position = e["cue_end"]
    pieces.append(text[position:])
    return Text("".join(pieces))


def render_article(explanation: ArticleExplanation, *, color: bool) -> Group:
    """A printable explanation; article content is always shown as text, never as markup."""
    a = explanation.article
    published = a["published_at"].strftime("%Y-%m-%d %H:%M") if isinstance(a["published_at"], datetime) else "undated"
    header = Text()
    header.append(a["title"] or "(no title)", style="bold")
    header.append(f"\n{a['outlet']}" + (f" ({a['outlet_name']})" if a["outlet_name"] else ""))
    header.append(f" | {published} | {', '.join(a['authors'] or []) or 'no byline'}")
    header.append(f"\n{a['url'] or 'no url'} | article_id {a['article_id']}\n")
    parts: list[Any] = [header]
    if explanation.features is None:
        parts.append(Text("Not featurized yet: run `presstrust featurize`.\n", style="italic"))
    else:
        f = explanation.features
        summary = Text(
            f"{f['words_n']} words, {f['sentences_n']} sentences; attributions {f['attributions_n']} "
            f"(named {f['named_attributions_n']}, unnamed {f['unnamed_attributions_n']}); "
            f"speculative sentences {f['speculative_sentences_n']}; "
            f"{len(explanation.removed)} boilerplate lines removed\n"
        )
        parts.append(summary)
    parts.append(_marked_text(a["text"], explanation.evidence, color=color))
    if explanation.evidence:
        table = Table("kind", "cue", "sentence", title="Evidence", show_lines=False, expand=False)
        for e in explanation.evidence:
            table.add_row(Text(e["kind"]), Text(e["cue"]), Text(e["sentence"]))
        parts.append(table)
    parts += _claims_parts(explanation)
    if explanation.removed:
        table = Table("reason", "removed line", title="Boilerplate removed before features were computed")
        for r in explanation.removed:
            table.add_row(Text(r["reason"]), Text(r["line"]))
        parts.append(table)
    return Group(*parts)


def origin_line(origin: dict[str, Any]) -> str:
    """One outlet claims are traced to, with what is known of it: 'ria.ru (RIA Novosti): owner Russian state; ...'."""
    name = f" ({origin['name']})" if origin["name"] else ""
    owner = f"owner {origin['owner']}" if origin["owner"] else "owner not in jobs/data/outlet_owners.csv"
    if origin["label_score"] is not None:
        label = f"label {origin['label_grade']} ({origin['label_score']:.2f})"
    else:
        label = "no rating in the label file"
    score = f"; published score {origin['score']:.0f} ({origin['grade']})" if origin["score"] is not None else ""
    return f"{origin['outlet']}{name}: {owner}; {label}{score}"


def claims_summary(explanation: ArticleExplanation) -> list[str]:
    """The article's claims in words: where they come from, how they are sourced, who confirms them."""
    claims = explanation.claims
    if not claims:
        return ["No claims recorded (run `presstrust claims`), or none found."]
    n = len(claims)
    unnamed = sum(1 for c in claims if c["unnamed"])
    speculative = sum(1 for c in claims if c["speculative"])
    confirmed = sum(1 for c in claims if c["confirming_outlets_n"] > 0)
    lines = [f"{n} claims: {unnamed} sourced to unnamed sources, {speculative} speculative."]
    for origin in explanation.origins:
        traced = sum(1 for c in claims if c["origin_outlet"] == origin["outlet"])
        lines.append(f"Origin of {traced} of {n} claims: {origin_line(origin)}.")
    if confirmed:
        lines.append(f"Confirmed by an independent outlet in the corpus: {confirmed} of {n} claims.")
    elif isinstance(explanation.article["published_at"], datetime):
        lines.append("Confirmed by no independent outlet in the corpus (within 3 days).")
    else:
        lines.append("Confirmed by no independent outlet in the corpus (undated: only its story's articles can).")
    return lines


def _claims_parts(explanation: ArticleExplanation) -> list[Any]:
    parts: list[Any] = [Text("\n".join(claims_summary(explanation)) + "\n", style="bold")]
    if explanation.claims:
        table = Table("#", "kind", "source", "speculative", "origin", "confirmed by", "sentence", title="Claims")
        for c in explanation.claims:
            source = f"{c['source']}: {c['source_phrase']}" if c["source"] else "-"
            confirmed = f"{c['confirming_outlets_n']} outlets" if c["confirming_outlets_n"] else "no independent outlet"
            table.add_row(
                str(c["sentence_no"]), Text(c["kind"]), Text(source), "yes" if c["speculative"] else "no",
                Text(c["origin_outlet"]), Text(confirmed), Text(c["sentence"]),
            )  # fmt: skip
        parts.append(table)
    return parts


@dataclass
class UnconfirmedClaims:
    """An outlet's unnamed-source claims that no independent outlet confirms: how many of how many, and a few."""

    unconfirmed: int
    unnamed: int  # its unnamed-source claims
    rows: list[
        dict[str, Any]
    ]  # the most recent few: published_at, article_id, url, sentence_no, source_phrase, sentence


def unconfirmed_unnamed_claims(con: duckdb.DuckDBPyConnection, outlet: str, *, limit: int = 3) -> UnconfirmedClaims:
    """The outlet's claims sourced to unnamed sources that no independent outlet confirms (the `claims` table):
    their count, the count of its unnamed-source claims, and the `limit` most recent (undated last; then by
    article and sentence, so the choice is deterministic)."""
    base = "FROM claims c JOIN article_meta a ON a.article_id = c.article_id WHERE a.outlet = $o AND c.unnamed"
    unconfirmed = "coalesce(c.confirming_outlets_n, 0) = 0"
    counts = con.execute(
        f"SELECT count(*) FILTER (WHERE {unconfirmed}), count(*) {base}",  # noqa: S608 - constant SQL pieces
        {"o": outlet},
    ).fetchall()[0]
    rows = _rows(
        con,
        "SELECT a.published_at, c.article_id, a.url, c.sentence_no, c.source_phrase, c.sentence "
        f"{base} AND {unconfirmed} "  # noqa: S608 - constant SQL pieces
        "ORDER BY a.published_at DESC NULLS LAST, c.article_id, c.sentence_no LIMIT $k",
        {"o": outlet, "k": limit},
    )
    return UnconfirmedClaims(int(counts[0]), int(counts[1]), rows)


@dataclass
class OutletExplanation:
    score: dict[str, Any]
    factors: list[dict[str, Any]]  # every factor, largest |points| first (as published)
    evidence: dict[str, list[dict[str, Any]]]  # factor name -> the articles / sentences behind it
    uncorroborated: list[dict[str, Any]]
    unconfirmed: UnconfirmedClaims | None = None  # its unnamed-source claims no independent outlet confirms

    @property
    def total(self) -> float:
        """baseline + every factor's points: equals the published score (to its 1e-6 rounding)."""
        return float(self.score["baseline_score"] or 0.0) + sum(f["contribution"] for f in self.factors)


MOVED = 1.0  # factors that moved the score by at least this many points get their evidence shown
EVIDENCE_KINDS = {"unnamed_source": ("unnamed_source", "any_unnamed"), "speculation": ("speculat", "hedges")}


def evidence_kind(feature: str) -> str | None:
    """The kind of evidence sentence (unnamed_source, speculation) behind a factor, or None."""
    for kind, prefixes in EVIDENCE_KINDS.items():
        if feature.startswith(prefixes):
            return kind
    return None


def _feature_column(con: duckdb.DuckDBPyConnection, feature: str) -> tuple[str, str] | None:
    """(table, column) holding the per-article value behind an outlet feature, when there is one."""
    for table in ("article_features", "article_cues"):
        columns = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [table]
            ).fetchall()
        }
        for candidate in (feature, feature.removesuffix("_share")):
            if candidate in columns and candidate not in ("article_id", "language", "feature_version"):
                return table, candidate
    return None


def explain_outlet(con: duckdb.DuckDBPyConnection, outlet: str, *, per_factor: int = 3) -> OutletExplanation:
    """An outlet's latest score, every factor, and the evidence behind the factors that moved it."""
    found = _rows(con, "SELECT * FROM latest_scores WHERE outlet = ?", [outlet])
    if not found:
        raise NotFound(f"no published score for outlet {outlet!r} (see `presstrust scores`)")
    score = found[0]
    factors = list(score.get("factors") or [])
    evidence: dict[str, list[dict[str, Any]]] = {}
    for f in factors:
        if abs(f["contribution"]) < MOVED:
            continue
        name = f["feature"]
        if name.startswith("text layer"):
            # what each title alone would give: this factor + weight x (its contribution - the outlet's mean)
            order = "ASC" if f["contribution"] < 0 else "DESC"
            evidence[name] = _rows(
                con,
                "WITH t AS (SELECT a.article_id, a.url, a.title, t.contribution FROM article_text_scores t "
                "JOIN article_meta a ON a.article_id = t.article_id WHERE a.outlet = $o "
                # a training outlet's contributions are stored under the fold model that scored it
                "AND (t.model_id = $m OR starts_with(t.model_id, $m || '/fold'))) "
                "SELECT article_id, url, title, round($f + 100 * $w * (contribution - avg(contribution) OVER ()), 1) "
                f"AS points FROM t ORDER BY contribution {order}, article_id LIMIT $k",  # noqa: S608 - ASC or DESC
                {
                    "m": score["model_id"],
                    "o": outlet,
                    "f": f["contribution"],
                    "w": score["text_weight"],
                    "k": per_factor,
                },
            )
            continue
        kind = evidence_kind(name)
        if kind is not None:
            evidence[name] = _rows(
                con,
                "SELECT a.article_id, a.url, a.title, e.cue, e.sentence FROM article_evidence e "
                "JOIN article_meta a ON a.article_id = e.article_id WHERE a.outlet = ? AND e.kind = ? "
                "ORDER BY a.published_at DESC NULLS LAST, a.article_id, e.cue_start LIMIT ?",
                [outlet, kind, per_factor],
            )
            continue
        if name == "cited_rating":
            evidence[name] = _rows(
                con,
                "SELECT a.article_id, a.url, a.title, array_to_string(c.cited_outlets, ', ') AS cites "
                "FROM article_cues c JOIN article_meta a ON a.article_id = c.article_id "
                "WHERE a.outlet = ? AND len(c.cited_outlets) > 0 ORDER BY a.published_at DESC NULLS LAST, "
                "a.article_id LIMIT ?",
                [outlet, per_factor],
            )
            continue
        where = _feature_column(con, name)
        direction = FEATURE_DIRECTIONS.get(name, 0)
        if where is not None and direction != 0:
            # the articles with the most of it when it counted against the outlet as a "-" cue or for it as a
            # "+" cue; the least of it otherwise
            most = (f["contribution"] < 0) == (direction < 0)
            table, column = where
            evidence[name] = _rows(
                con,
                f"SELECT a.article_id, a.url, a.title, x.{column} AS value FROM {table} x "  # noqa: S608 - catalog names
                f"JOIN article_meta a ON a.article_id = x.article_id WHERE a.outlet = ? AND x.{column} IS NOT NULL "
                + (f"AND x.{column} > 0 ORDER BY x.{column} DESC" if most else f"ORDER BY x.{column} ASC")
                + ", a.article_id LIMIT ?",
                [outlet, per_factor],
            )
    uncorroborated = _rows(
        con,
        "SELECT a.title, a.url, a.published_at, a.article_id, s.story_id, st.n_outlets FROM story_articles s "
        "JOIN article_meta a ON a.article_id = s.article_id JOIN stories st ON st.story_id = s.story_id "
        "WHERE s.outlet = ? AND s.n_corroborating_outlets = 0 AND s.copy_of IS NULL "
        "ORDER BY a.published_at DESC NULLS LAST, a.article_id LIMIT ?",
        [outlet, per_factor],
    )
    return OutletExplanation(
        score, factors, evidence, uncorroborated, unconfirmed_unnamed_claims(con, outlet, limit=per_factor)
    )


DISAGREE_POINTS = 15.0


def _folding(table: Table) -> Table:
    """A table whose long cells (URLs, sentences) wrap onto more lines instead of being cut with an ellipsis."""
    for column in table.columns:
        column.overflow = "fold"
    return table


def render_outlet(explanation: OutletExplanation) -> Group:
    """A printable explanation of an outlet's score; all article content is shown as text, never as markup."""
    s = explanation.score
    header = Text()
    header.append(f"{s['outlet']}: ", style="bold")
    if s["score"] is None:
        header.append(f"no score ({s['status']}: most of its {s['n_articles']} articles are not in English)")
    else:
        grade = s["grade"] or "none (too few English articles to grade)"
        if s["grade"] and s.get("grade_confidence") == "uncertain":
            grade += " (uncertain: the interval spans another grade)"
        header.append(f"{s['score']:.1f} ({s['score_low']:.1f}-{s['score_high']:.1f}, ~90%), grade {grade}, ")
        header.append(f"{s['status']}, {s['n_english']} English of {s['n_articles']} articles to {s['as_of']}")
    if s["label_score"] is not None:
        header.append(f"; label {100 * s['label_score']:.1f}")
        if s.get("cross_fitted"):
            header.append(" (scored out of fold: the model that scored it was fitted without this label)")
    parts: list[Any] = [header]
    if s["score"] is None:
        return Group(*parts)
    weight = s["text_weight"]
    layers = Text(
        f"\nTwo layers: text {s['text_score']:.1f} (weight {weight:.2f}), cues {s['cue_score']:.1f} "
        f"(weight {1 - weight:.2f})."
    )
    gap = s["text_score"] - s["cue_score"]
    if abs(gap) >= DISAGREE_POINTS:
        higher, lower = ("text", "cue") if gap > 0 else ("cue", "text")
        layers.append(
            f" They DISAGREE by {abs(gap):.1f} points: the {higher} layer rates this outlet higher than the "
            f"{lower} layer; the score is their weighted average.",
            style="bold",
        )
    parts.append(layers)
    factors = Table("factor", "value", "points", title="What moved the score (vs an outlet at the training means)")
    factors.add_row(Text("baseline (an outlet at the training means)"), "", f"{s['baseline_score']:.1f}")
    for f in explanation.factors:
        value = "" if f["value"] is None else f"{f['value']:.3g}"
        factors.add_row(Text(f["feature"]), value, f"{f['contribution']:+.1f}")
    factors.add_row(Text("= score", style="bold"), "", f"{explanation.total:.1f}")
    parts.append(factors)
    parts.append(
        Text(
            "Points are exact and add up (shown rounded to 0.1): baseline + every factor = the published score. "
            f"Cue factors are scaled by the cue model's weight {1 - weight:.2f}.\n"
        )
    )
    for name, rows in explanation.evidence.items():
        if not rows:
            continue
        points = next(f["contribution"] for f in explanation.factors if f["feature"] == name)
        table = _folding(Table("article_id", "url", "evidence", title=f"Behind {name} ({points:+.1f} points)"))
        for r in rows:
            detail = r.get("sentence") or r.get("title") or ""
            if "cites" in r:
                detail = f"{r['title']} | cites {r['cites']}"
            elif "points" in r:
                detail = f"{r['title']} | this title alone: {r['points']:+.1f} points"
            elif "value" in r and r["value"] is not None:
                detail = f"{r['title']} | {r['value']:.3g}"
            table.add_row(Text(str(r["article_id"])), Text(r["url"] or ""), Text(detail))
        parts.append(table)
    if explanation.uncorroborated:
        table = _folding(
            Table("published", "article_id", "title", "url", title="Stories no other independent outlet covered")
        )
        for r in explanation.uncorroborated:
            published = f"{r['published_at']:%Y-%m-%d}" if r["published_at"] else "undated"
            table.add_row(published, Text(str(r["article_id"])), Text(r["title"] or ""), Text(r["url"] or ""))
        parts.append(table)
    if explanation.unconfirmed is not None:
        parts.append(unconfirmed_table(explanation.unconfirmed))
    return Group(*parts)


def unconfirmed_table(claims: UnconfirmedClaims) -> Table | Text:
    """The outlet's unconfirmed unnamed-source claims, most recent first, with their sentences."""
    if not claims.unnamed:
        return Text("No claims sourced to unnamed sources recorded (run `presstrust claims`), or none found.")
    title = (
        f"Claims sourced to unnamed sources that no independent outlet confirms: {claims.unconfirmed} of "
        f"{claims.unnamed} (the most recent)"
    )
    table = _folding(Table("published", "article_id", "source", "sentence", title=title))
    for r in claims.rows:
        published = f"{r['published_at']:%Y-%m-%d}" if r["published_at"] else "undated"
        table.add_row(
            published,
            Text(f"{r['article_id']} #{r['sentence_no']}"),
            Text(r["source_phrase"] or ""),
            Text(r["sentence"] or ""),
        )
    return table
