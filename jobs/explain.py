"""Explanations for people: an article with the evidence behind its features highlighted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
from rich.console import Group
from rich.table import Table
from rich.text import Text

from jobs.terminal import visible

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


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts; text values with control characters made visible (jobs.terminal), offsets unchanged."""
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
        "SELECT article_id, outlet, outlet_name, url, title, text, authors, published_at FROM articles "
        "WHERE article_id = ? OR source_id = ? ORDER BY article_id = ? DESC LIMIT 1",
        [article_id, article_id, article_id],
    )
    if not found:
        raise NotFound(f"no article with id {article_id!r} (article_id or the corpus's own id)")
    article = found[0]
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
    return ArticleExplanation(article, features[0] if features else None, evidence, removed)


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
    if explanation.removed:
        table = Table("reason", "removed line", title="Boilerplate removed before features were computed")
        for r in explanation.removed:
            table.add_row(Text(r["reason"]), Text(r["line"]))
        parts.append(table)
    return Group(*parts)


@dataclass
class OutletExplanation:
    score: dict[str, Any]
    evidence: list[dict[str, Any]]
    uncorroborated: list[dict[str, Any]]


def explain_outlet(con: duckdb.DuckDBPyConnection, outlet: str, *, per_kind: int = 5) -> OutletExplanation:
    """An outlet's latest score and factors, its most recent evidence sentences and uncorroborated stories."""
    found = _rows(con, "SELECT * FROM latest_scores WHERE outlet = ?", [outlet])
    if not found:
        raise NotFound(f"no published score for outlet {outlet!r} (see `presstrust scores`)")
    score = found[0]
    evidence = _rows(
        con,
        "SELECT kind, cue, sentence, title, url, published_at, article_id FROM ("
        "  SELECT e.kind, e.cue, e.sentence, a.title, a.url, a.published_at, a.article_id, row_number() OVER ("
        "    PARTITION BY e.kind ORDER BY a.published_at DESC NULLS LAST, a.article_id, e.cue_start) AS k"
        "  FROM article_evidence e JOIN articles a ON a.article_id = e.article_id WHERE a.outlet = ?"
        ") WHERE k <= ? ORDER BY kind DESC, k",
        [outlet, per_kind],
    )
    uncorroborated = _rows(
        con,
        "SELECT a.title, a.url, a.published_at, s.story_id, st.n_outlets FROM story_articles s "
        "JOIN articles a ON a.article_id = s.article_id JOIN stories st ON st.story_id = s.story_id "
        "WHERE s.outlet = ? AND s.n_corroborating_outlets = 0 AND s.copy_of IS NULL "
        "ORDER BY a.published_at DESC NULLS LAST, a.article_id LIMIT ?",
        [outlet, per_kind],
    )
    return OutletExplanation(score, evidence, uncorroborated)


def render_outlet(explanation: OutletExplanation) -> Group:
    """A printable explanation of an outlet's score; all article content is shown as text, never as markup."""
    s = explanation.score
    header = Text()
    header.append(f"{s['outlet']}: ", style="bold")
    header.append(f"{s['score']:.1f} ({s['score_low']:.1f}-{s['score_high']:.1f}, ~90%), grade {s['grade']}, ")
    header.append(f"{s['status']}, {s['n_articles']} articles to {s['as_of']}")
    if s["label_score"] is not None:
        header.append(f"; label {100 * s['label_score']:.1f}")
    parts: list[Any] = [header]
    factors = Table("feature", "value", "points", title="What moved the score (vs an outlet at the training means)")
    for f in s["factors"] or []:
        value = "" if f["value"] is None else f"{f['value']:.3g}"
        factors.add_row(Text(f["feature"]), value, f"{f['contribution']:+.1f}")
    parts.append(factors)
    for kind, title in (("unnamed_source", "Unnamed sources (most recent)"), ("speculation", "Speculation")):
        rows = [e for e in explanation.evidence if e["kind"] == kind]
        if rows:
            table = Table("cue", "sentence", "article", title=title)
            for e in rows:
                table.add_row(Text(e["cue"]), Text(e["sentence"]), Text(e["url"] or e["title"] or e["article_id"]))
            parts.append(table)
    if explanation.uncorroborated:
        table = Table("published", "title", "url", title="Stories no other independent outlet covered")
        for r in explanation.uncorroborated:
            published = f"{r['published_at']:%Y-%m-%d}" if r["published_at"] else "undated"
            table.add_row(published, Text(r["title"] or ""), Text(r["url"] or ""))
        parts.append(table)
    return Group(*parts)
