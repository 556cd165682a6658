"""The report's HTML: an index page and one page per outlet, self-contained and script-free under a strict CSP.

Every value from the database is escaped (article titles, sentences, URLs and outlet names are untrusted web
content); only http(s) URLs become links. Numbers have one format: scores, intervals, labels and points on
the 0-100 scale with one decimal.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from jobs.outputs.explain import DISAGREE_POINTS, OutletExplanation, evidence_kind
from jobs.outputs.report.charts import GRADE_STYLE, HIGH_AT, MIXED_AT, Publication
from scorer.inputs import FEATURE_DIRECTIONS

GENERATOR = '<meta name="generator" content="presstrust report">'
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
KINDS = {"unnamed_source": "unnamed sources", "speculation": "speculative sentences"}
STATUS = {
    "ok": "ok",
    "insufficient_data": "insufficient data: scored, but too few English articles to be graded",
    "unsupported_language": "unsupported language: most articles are not in English, so no score",
}
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:1040px;
margin:1.5em auto;padding:0 1em;color:#1f1f1f}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
h3{font-size:1em;margin:1.2em 0 .3em}
a{color:#0a58a8}nav{font-size:.9em}
.meta,.note,figcaption{color:#555;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.4em 0}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f6f6f6;font-weight:600;font-size:.9em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{overflow-wrap:anywhere}td.a{width:30%}.id{white-space:nowrap;width:1%}
tr.zero td{color:#999}tr.total td{font-weight:600;border-top:2px solid #bbb}
code{font-size:.85em;color:#444}mark{background:#ffe08a;padding:0 1px}
svg.chart{width:100%;height:auto;display:block}figure{margin:.6em 0}
.sw{display:inline-block;width:.7em;height:.7em;margin-right:.35em;border-radius:2px}
.bar{height:.8em;display:inline-block;vertical-align:middle}.pos{background:#0072B2}.neg{background:#D55E00}
.label{border:2px solid #1f1f1f;padding:.6em 1em;max-width:640px;margin:1em 0}
.label .big{font-size:2.6em;font-weight:700;line-height:1.1}.label .big small{font-size:.4em;color:#555}
.label dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.5em 0 0}
.label dt{color:#555}.label dd{margin:0}
.warn{font-weight:600}
"""


@dataclass
class Context:
    """What every page says about the publication it shows."""

    run_id: int
    published_at: str
    as_of: str
    window_days: int
    model_id: str
    label_file: str | None
    metrics: dict[str, float]
    n_outlets: int


def num(x: float | None) -> str:
    """A score, interval end or label on the 0-100 scale: one decimal (an en dash when missing)."""
    return "\u2013" if x is None else f"{x:.1f}"


def points(x: float) -> str:
    """Signed points, as `presstrust explain` prints them."""
    return f"{x:+.1f}"


def interval(low: float | None, high: float | None) -> str:
    return "\u2013" if low is None or high is None else f"{low:.1f}\u2013{high:.1f}"


def outlet_path(outlet: str) -> str:
    """The outlet's page, relative to the report folder: outlets/<domain>.html (a hash suffix when unsafe)."""
    safe = re.sub(r"[^a-z0-9.-]", "_", outlet.lower())[:100].strip(".") or "_"
    if safe != outlet:
        safe += "-" + hashlib.sha256(outlet.encode()).hexdigest()[:10]
    return f"outlets/{safe}.html"


def is_report(folder: Path) -> bool:
    """Whether `folder` holds a report this module wrote (its index carries GENERATOR)."""
    index = folder / "index.html"
    if not index.is_file():
        return False
    with index.open(encoding="utf-8", errors="replace") as f:
        return GENERATOR in f.read(4096)


def link(url: str | None, text: str) -> str:
    """Text linked to an http(s) URL (any other scheme stays plain text)."""
    if url and url.lower().startswith(("https://", "http://")):
        return f'<a href="{escape(url)}" rel="noopener noreferrer nofollow">{escape(text)}</a>'
    return escape(text)


def marked(sentence: str, cue: str | None) -> str:
    """The sentence with its cue highlighted (first occurrence), escaped."""
    at = sentence.find(cue) if cue else -1
    if cue is None or at < 0:
        return escape(sentence)
    end = at + len(cue)
    return f"{escape(sentence[:at])}<mark>{escape(cue)}</mark>{escape(sentence[end:])}"


def grade_cell(grade: str | None, confidence: str | None) -> str:
    if grade is None:
        return "\u2013"
    swatch = f'<span class="sw" style="background:{GRADE_STYLE[grade][0]}"></span>' if grade in GRADE_STYLE else ""
    return swatch + escape(grade) + (" (uncertain)" if confidence == "uncertain" else "")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _date(value: Any) -> str:
    return f"{value:%Y-%m-%d}" if isinstance(value, datetime) else "undated"


def _page(title: str, body: str, *, depth: int) -> str:
    home = "../" * depth + "index.html"
    nav = "" if depth == 0 else f'<nav><a href="{home}">\u2190 all outlets</a></nav>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
{GENERATOR}
<title>{escape(title)}</title>
<style>{CSS}</style></head>
<body>{nav}
{body}
<footer class="note"><p>presstrust: open, reproducible source-reliability scores. Scores are pointers to the
evidence, not verdicts. Feature definitions: docs/features.md; how good the scores are: docs/evaluation.md.</p>
</footer>
</body></html>
"""


def _publication(c: Context) -> str:
    return (
        f"Publication run {c.run_id}, published {escape(c.published_at[:19])} UTC: articles of the "
        f"{c.window_days} days to {escape(c.as_of)}, model <code>{escape(c.model_id)}</code>"
        + (f" fitted on <code>{escape(c.label_file)}</code>" if c.label_file else "")
        + "."
    )


def _metrics(m: dict[str, float]) -> str:
    """The model's held-out (outlet-grouped cross-validation) metrics, on the 0-100 scale where they are scores."""
    known = {
        "spearman_mean": lambda v: f"Spearman {v:.2f} against the labels",
        "mae_mean": lambda v: f"mean absolute error {100 * v:.1f} points",
        "interval_coverage": lambda v: f"~90% intervals covering {100 * v:.0f}% of held-out labels",
        "interval_median_width": lambda v: f"median interval width {100 * v:.1f} points",
        "outlets": lambda v: f"{v:.0f} labelled outlets",
    }
    parts = [fmt(m[k]) for k, fmt in known.items() if isinstance(m.get(k), int | float)]
    return "; ".join(parts)


@dataclass
class IndexCharts:
    """The index page's charts (None when there is nothing to draw) and how many outlets each shows."""

    distribution: str | None
    vs_label: str | None
    scored: int
    labelled: int
    out_of_fold: bool  # no labelled outlet's score came from a model fitted on its label

    @property
    def count(self) -> int:
        return (self.distribution is not None) + (self.vs_label is not None)


def index_page(
    c: Context, every: Sequence[dict[str, Any]], changes: dict[str, dict[str, Any]], charts: IndexCharts
) -> str:
    """The report's first page: what was published, the two charts and the table of outlets."""
    rows = []
    for r in every:
        change = changes.get(r["outlet"])
        moved = ""
        if change is not None and change["change"] is not None:
            moved = points(change["change"]) + ("*" if change["outside_previous_interval"] else "")
        label = None if r["label_score"] is None else 100 * r["label_score"]
        rows.append(
            f'<tr><td class="t"><a href="{escape(outlet_path(r["outlet"]))}">{escape(r["outlet"])}</a></td>'
            f'<td class="n">{num(r["score"])}</td><td class="n">{interval(r["score_low"], r["score_high"])}</td>'
            f"<td>{grade_cell(r['grade'], r.get('grade_confidence'))}</td>"
            f'<td>{escape(r["status"].replace("_", " "))}</td><td class="n">{r["n_articles"]}</td>'
            f'<td class="n">{num(label)}</td><td class="n">{moved}</td></tr>'
        )
    figures = []
    if charts.distribution is not None:
        figures.append(
            f"<h2>Score distribution</h2><figure>{charts.distribution}<figcaption>The {charts.scored} scored outlets "
            f"by score, coloured by grade (high at {HIGH_AT:.0f} and above, mixed from {MIXED_AT:.0f}, low below). "
            "Outlets with too few English articles are scored but not graded.</figcaption></figure>"
        )
    if charts.vs_label is not None:
        figures.append(
            f"<h2>Score against label</h2><figure>{charts.vs_label}<figcaption>The {charts.labelled} outlets with a "
            "label (the published rating the model was fitted on, 0-100). Grey bars are the score's ~90% interval; "
            "points on the dashed line agree with their label. "
            + (
                "No score here comes from a model fitted on its own label (training outlets are scored by the "
                "cross-fitted fold model fitted without it), so this is an out-of-sample comparison. "
                if charts.out_of_fold
                else "Scores published before cross-fitting (migration 0008) are in-sample for training outlets: "
                "the held-out numbers above are the honest ones. "
            )
            + "Each point links to its outlet's page.</figcaption></figure>"
        )
    metrics = _metrics(c.metrics)
    body = f"""<h1>presstrust reliability scores</h1>
<p class="meta">{_publication(c)}</p>
<p>{c.n_outlets} outlets. Scores are 0-100 (higher = more reliable) with ~90% intervals; the grade is the
score's band (high / mixed / low), <i>uncertain</i> when the interval reaches another band.
{f"Held-out quality of this model (outlet-grouped cross-validation): {escape(metrics)}." if metrics else ""}
Each outlet's page shows its score's factors, history and the sentences behind it.</p>
{"".join(figures)}
<h2>Outlets</h2>
<table><tr><th>outlet</th><th class="n">score</th><th class="n">~90% interval</th><th>grade</th><th>status</th>
<th class="n">articles</th><th class="n">label</th><th class="n">change</th></tr>
{"".join(rows)}</table>
<p class="note">change: points since the previous publication; * the new score lies outside the previous
interval. label: the outlet's published rating on the 0-100 scale, when it has one.</p>"""
    return _page(f"presstrust report {c.as_of}", body, depth=0)


def _label_box(c: Context, e: OutletExplanation) -> str:
    """The outlet's "label": score, interval, grade, status, articles, label and the two layers."""
    s = e.score
    items: list[tuple[str, str]] = []
    if s["score"] is None:
        big = '<div class="big">no score</div>'
    else:
        big = f'<div class="big">{num(s["score"])}<small> / 100</small></div>'
        items.append(("~90% interval", interval(s["score_low"], s["score_high"])))
        if s["grade"] is None:
            grade = "none: too few English articles to grade"
        else:
            confidence = {
                "uncertain": ", uncertain: the interval reaches another grade",
                "firm": ", firm: the whole interval lies in this grade",
            }
            grade = grade_cell(s["grade"], None) + confidence.get(s.get("grade_confidence") or "", "")
        items.append(("grade", grade))
    items.append(("status", escape(STATUS.get(s["status"], s["status"]))))
    english = "" if s.get("n_english") is None else f" ({s['n_english']} in English)"
    items.append(
        ("articles", f"{s['n_articles']}{english} in the {s['window_days']} days to {escape(str(s['as_of']))}")
    )
    if s["label_score"] is not None:
        source = f" ({escape(c.label_file)})" if c.label_file else ""
        fold = (
            "; scored out of fold: the model that scored it was fitted without this label"
            if s.get("cross_fitted")
            else ""
        )
        items.append(("label", f"{num(100 * s['label_score'])}{source}{fold}"))
    if s["score"] is not None and s.get("text_score") is not None:
        weight = s["text_weight"]
        layers = (
            f"text {num(s['text_score'])} (weight {weight:.2f}), cues {num(s['cue_score'])} (weight {1 - weight:.2f})"
        )
        gap = s["text_score"] - s["cue_score"]
        if abs(gap) >= DISAGREE_POINTS:
            higher, lower = ("text", "cue") if gap > 0 else ("cue", "text")
            layers += (
                f'<br><span class="warn">The layers disagree by {abs(gap):.1f} points</span>: the {higher} layer '
                f"rates this outlet higher than the {lower} layer."
            )
        items.append(("layers", layers))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items)
    return f'<section class="label">{big}<dl>{dl}</dl></section>'


def _factors(e: OutletExplanation) -> str:
    """Baseline + every factor's points = the published score (explain_outlet's numbers, rounded to 0.1)."""
    s = e.score
    top = max((abs(f["contribution"]) for f in e.factors), default=0.0) or 1.0
    rows = [
        f'<tr><td>baseline (an outlet at the training means)</td><td class="n"></td>'
        f'<td class="n">{num(s["baseline_score"] or 0.0)}</td><td></td></tr>'
    ]
    for f in e.factors:
        c = f["contribution"]
        value = "" if f["value"] is None else f"{f['value']:.3g}"
        bar = f'<span class="bar {"pos" if c >= 0 else "neg"}" style="width:{100 * abs(c) / top:.1f}%"></span>'
        zero = ' class="zero"' if round(c, 1) == 0 else ""
        rows.append(
            f'<tr{zero}><td>{escape(f["feature"])}</td><td class="n">{value}</td>'
            f'<td class="n">{points(c)}</td><td style="width:30%">{bar}</td></tr>'
        )
    rows.append(f'<tr class="total"><td>= score</td><td class="n"></td><td class="n">{num(e.total)}</td><td></td></tr>')
    weight = s["text_weight"]
    cue_note = f" Cue factors are scaled by the cue model's weight {1 - weight:.2f}." if weight is not None else ""
    return (
        '<table><tr><th>factor</th><th class="n">value</th><th class="n">points</th><th>points, to scale</th></tr>'
        + "".join(rows)
        + "</table>"
        + '<p class="note">Points are exact and add up (shown rounded to 0.1): the baseline plus every factor is '
        f"the published score; the same numbers as <code>presstrust explain {escape(s['outlet'])}</code>. Factors "
        f"are measured against an outlet at the training means.{cue_note}</p>"
    )


def _article_cells(r: dict[str, Any]) -> str:
    title = r.get("title") or r.get("url") or "(no title)"
    article_id = escape(str(r["article_id"]))
    return f'<td class="id"><code>{article_id}</code></td><td class="t a">{link(r.get("url"), title)}</td>'


def _evidence_detail(r: dict[str, Any]) -> str:
    if "sentence" in r:
        return marked(r["sentence"], r.get("cue"))
    if "points" in r:
        return f"this title alone: {points(r['points'])}"
    if "cites" in r:
        return escape(r["cites"])
    if r.get("value") is not None:
        return f"{r['value']:.3g}"
    return ""


def _evidence_heading(e: OutletExplanation, name: str, rows: list[dict[str, Any]]) -> tuple[str, str]:
    """What the articles behind a factor are, and the name of their detail column."""
    if "sentence" in rows[0]:
        return "the latest sentences", "sentence (cue marked)"
    if "points" in rows[0]:
        return "the titles that pulled it most this way", "points"
    if "cites" in rows[0]:
        return "the latest articles citing other outlets", "cites"
    c = next(f["contribution"] for f in e.factors if f["feature"] == name)
    most = (c < 0) == (FEATURE_DIRECTIONS.get(name, 0) < 0)  # as jobs.outputs.explain.explain_outlet chooses them
    return f"the articles with the {'most' if most else 'least'} of it", "value"


def _evidence(e: OutletExplanation) -> tuple[str, set[str]]:
    """The articles behind each factor that moved the score by a point or more; and the evidence kinds shown."""
    groups: list[tuple[list[str], list[dict[str, Any]], tuple[str, str]]] = []
    for name, rows in e.evidence.items():
        if not rows:
            continue
        heading = _evidence_heading(e, name, rows)
        same = next((g for g in groups if g[1] == rows and g[2] == heading), None)  # e.g. two factors of one kind
        if same is None:
            groups.append(([name], rows, heading))
        else:
            same[0].append(name)
    contribution = {f["feature"]: f["contribution"] for f in e.factors}
    parts = []
    for names, rows, (what, column) in groups:
        factors = " and ".join(f"{escape(n)} ({points(contribution[n])} points)" for n in names)
        body = "".join(f'<tr>{_article_cells(r)}<td class="t">{_evidence_detail(r)}</td></tr>' for r in rows)
        parts.append(
            f"<h3>Behind {factors}: {what}</h3><table><tr><th>article_id</th><th>article</th><th>{column}</th></tr>"
            f"{body}</table>"
        )
    shown = {k for names, rows, _ in groups if "sentence" in rows[0] for n in names if (k := evidence_kind(n))}
    if not parts:
        return '<p class="note">No factor moved this score by a point or more.</p>', shown
    return "".join(parts), shown


def _flagged(flagged: Sequence[dict[str, Any]], counts: Sequence[dict[str, Any]], shown: set[str]) -> str:
    """How many sentences of each kind the outlet's articles have, and the latest of the kinds not shown above."""
    if not counts:
        return '<p class="note">No unnamed sources or speculative sentences were found in its articles.</p>'
    summary = ", ".join(
        f"{c['n']} {escape(KINDS.get(c['kind'], c['kind']))} in {c['articles']} articles" for c in counts
    )
    parts = [f"<p>Across this outlet's articles in the database: {summary}. One sentence per article below.</p>"]
    for kind in sorted({r["kind"] for r in flagged} - shown, reverse=True):
        rows = [r for r in flagged if r["kind"] == kind]
        body = "".join(
            f'<tr>{_article_cells(r)}<td class="t">{marked(r["sentence"], r["cue"])}</td></tr>' for r in rows
        )
        parts.append(
            f"<h3>Latest {escape(KINDS.get(kind, kind))} (they moved the score by less than a point)</h3>"
            f"<table><tr><th>article_id</th><th>article</th><th>sentence (cue marked)</th></tr>{body}</table>"
        )
    return "".join(parts)


def _uncorroborated(e: OutletExplanation, stories: dict[str, Any] | None) -> str:
    if stories is None or not stories["originals"]:
        return '<p class="note">None of its articles is in a story yet (only copies, or not clustered).</p>'
    if not e.uncorroborated:
        n = stories["originals"]
        return f'<p class="note">All {n} of its stories were also covered by another independent outlet.</p>'
    total = (
        f"{stories['uncorroborated']} of its {stories['originals']} stories (copies left out) were covered by no "
        "other independent outlet. "
    )
    body = "".join(
        f'<tr><td class="n id">{_date(r["published_at"])}</td>{_article_cells(r)}</tr>' for r in e.uncorroborated
    )
    return (
        f"<p>{total}The latest{'' if len(e.uncorroborated) == 1 else f' {len(e.uncorroborated)}'}:</p>"
        f'<table><tr><th class="n">published</th><th>article_id</th><th>article</th></tr>{body}</table>'
    )


def _history_table(history: Sequence[Publication]) -> str:
    rows = "".join(
        f'<tr><td class="n">{escape(h.as_of)}</td><td class="n">{h.run_id}</td><td class="n">{num(h.score)}</td>'
        f'<td class="n">{interval(h.low, h.high)}</td></tr>'
        for h in reversed(history)
    )
    return (
        f"<details><summary>The {_plural(len(history), 'publication')} as a table</summary><table><tr>"
        '<th class="n">window to</th><th class="n">run</th><th class="n">score</th><th class="n">~90% interval</th>'
        f"</tr>{rows}</table></details>"
    )


def outlet_page(
    c: Context,
    e: OutletExplanation,
    *,
    history_chart: str | None,
    history: Sequence[Publication],
    flagged: Sequence[dict[str, Any]],
    flagged_counts: Sequence[dict[str, Any]],
    stories: dict[str, Any] | None,
) -> str:
    """One outlet: its label, score history, factors, evidence and uncorroborated stories."""
    outlet = e.score["outlet"]
    sections = [f"<h1>{escape(outlet)}</h1>", f'<p class="meta">{_publication(c)}</p>', _label_box(c, e)]
    if history_chart is not None:
        sections.append(
            f"<h2>Score history</h2><figure>{history_chart}<figcaption>The score and its ~90% interval in every "
            f"publication that scored this outlet ({len(history)}), on the grade bands.</figcaption></figure>"
            + _history_table(history)
        )
    if e.score["score"] is not None:
        evidence, shown = _evidence(e)
        sections += ["<h2>What makes up the score</h2>", _factors(e), "<h2>Evidence behind the factors</h2>", evidence]
        sections.append(
            '<p class="note">An article_id shows the whole article with its cues marked: '
            "<code>presstrust explain-article ID</code>.</p>"
        )
    else:
        shown = set()
    sections += [
        "<h2>Flagged sentences</h2>",
        _flagged(flagged, flagged_counts, shown),
        "<h2>Uncorroborated stories</h2>",
        _uncorroborated(e, stories),
    ]
    return _page(f"{outlet}: presstrust score", "\n".join(sections), depth=1)
