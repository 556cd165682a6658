"""`presstrust report`: one self-contained HTML file (inline SVG plots, no scripts, no network).

Article text is untrusted web content: every title, outlet name and sentence goes through html.escape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

import duckdb

WIDTH, HEIGHT, PAD = 640, 260, 40
GRADE_COLOURS = {"high": "#2b8a3e", "mixed": "#e67700", "low": "#c92a2a"}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _svg(title: str, body: str) -> str:
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff" stroke="#ddd"/>{body}</svg>'
        f"<figcaption>{escape(title)}</figcaption></figure>"
    )


def histogram(scores: list[float], title: str) -> str:
    """Scores 0-100 in ten bins of 10 points."""
    counts = [0] * 10
    for s in scores:
        counts[min(int(s // 10), 9)] += 1
    top = max(counts) or 1
    bar_w = (WIDTH - 2 * PAD) / 10
    parts = []
    for i, c in enumerate(counts):
        h = (HEIGHT - 2 * PAD) * c / top
        x, y = PAD + i * bar_w, HEIGHT - PAD - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="#4c6ef5">'
            f"<title>{i * 10}-{i * 10 + 10}: {c}</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" text-anchor="middle">{i * 10}</text>'
        )
    return _svg(title, "".join(parts))


def scatter(points: list[tuple[float, float, str, str]], title: str) -> str:
    """(label 0-100, score 0-100, outlet, grade) with the diagonal."""
    span = HEIGHT - 2 * PAD
    x0 = PAD

    def px(v: float) -> float:
        return x0 + span * v / 100

    def py(v: float) -> float:
        return HEIGHT - PAD - span * v / 100

    parts = [
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(100)}" y2="{py(100)}" stroke="#aaa" stroke-dasharray="4"/>',
        f'<text x="{px(50)}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle">label (0-100)</text>',
        f'<text x="{px(100) + 8}" y="{py(50)}" font-size="11">score</text>',
    ]
    for label, score, outlet, grade in points:
        parts.append(
            f'<circle class="point" cx="{px(label):.1f}" cy="{py(score):.1f}" r="3.5" '
            f'fill="{GRADE_COLOURS.get(grade, "#555")}"><title>{escape(outlet)}: score {score:.1f}, '
            f"label {label:.1f}</title></circle>"
        )
    return _svg(title, "".join(parts))


def bars(items: list[tuple[str, float]], title: str, unit: str) -> str:
    """Horizontal bars for signed values (e.g. score changes), labelled."""
    if not items:
        return _svg(title, f'<text x="{PAD}" y="{HEIGHT / 2}" font-size="13">Nothing to show yet.</text>')
    top = max(abs(v) for _, v in items) or 1.0
    row_h = (HEIGHT - 2 * PAD) / len(items)
    mid = WIDTH / 2 + 60
    scale = (WIDTH - mid - 20) / top
    parts = [f'<line x1="{mid}" y1="{PAD - 5}" x2="{mid}" y2="{HEIGHT - PAD + 5}" stroke="#999"/>']
    for i, (name, value) in enumerate(items):
        y = PAD + i * row_h
        w = abs(value) * scale
        x = mid if value >= 0 else mid - w
        colour = "#2b8a3e" if value >= 0 else "#c92a2a"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y + 2:.1f}" width="{w:.1f}" height="{row_h - 4:.1f}" '
            f'fill="{colour}"><title>{escape(name)}: {value:+.2f} {escape(unit)}</title></rect>'
        )
        parts.append(f'<text x="{PAD - 30}" y="{y + row_h / 2 + 4:.1f}" font-size="11">{escape(name[:40])}</text>')
    return _svg(title, "".join(parts))


def _score_row(r: dict[str, Any]) -> str:
    label = "" if r["label_score"] is None else f"{100 * r['label_score']:.1f}"
    grade = escape(r["grade"] or "")
    if r.get("grade_confidence") == "uncertain":
        grade += " (uncertain)"
    score = "" if r["score"] is None else f"{r['score']:.1f}"
    interval = "" if r["score"] is None else f"{r['score_low']:.1f}-{r['score_high']:.1f}"
    return (
        f"<tr><td>{escape(r['outlet'])}</td><td>{score}</td>"
        f'<td>{interval}</td><td class="{escape(r["grade"] or "")}">{grade}</td>'
        f"<td>{escape(r['status'])}</td><td>{r['n_articles']}</td><td>{label}</td></tr>"
    )


@dataclass
class Report:
    html: str
    outlets: int
    plots: int


def build_report(con: duckdb.DuckDBPyConnection) -> Report:
    """The latest publication as one HTML page: plots, the score table and the evidence behind low scores."""
    every = _rows(con, "SELECT * FROM latest_scores ORDER BY score DESC NULLS LAST, outlet")
    latest = [r for r in every if r["score"] is not None]  # unsupported_language outlets have no score
    if not every:
        raise LookupError("nothing published yet: run `presstrust nightly` (or fit and score) first")
    first = every[0]
    model = _rows(
        con, "SELECT model_id, cv_metrics, label_file, trained_at FROM models WHERE model_id = ?", [first["model_id"]]
    )
    metrics = json.loads(model[0]["cv_metrics"]) if model else {}
    changes = _rows(con, "SELECT outlet, change FROM score_changes ORDER BY abs(change) DESC, outlet LIMIT 10")
    importance: dict[str, float] = {}
    for row in latest:
        for f in row["factors"] or []:
            importance[f["feature"]] = importance.get(f["feature"], 0.0) + abs(f["contribution"]) / len(latest)
    top_features = sorted(importance.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    low = [r["outlet"] for r in sorted(latest, key=lambda r: (r["score"], r["outlet"]))[:5]]
    evidence = _rows(
        con,
        "SELECT outlet, kind, cue, sentence, title, url FROM ("
        "  SELECT a.outlet, e.kind, e.cue, e.sentence, a.title, a.url, row_number() OVER ("
        "    PARTITION BY a.outlet, e.kind ORDER BY a.published_at DESC NULLS LAST, a.article_id, e.cue_start) AS k"
        "  FROM article_evidence e JOIN articles a ON a.article_id = e.article_id WHERE list_contains(?, a.outlet)"
        ") WHERE k <= 2 ORDER BY outlet, kind DESC, k",
        [low],
    )
    plots = [
        histogram([r["score"] for r in latest], "Score distribution (all outlets of the latest publication)"),
        scatter(
            [
                (100 * r["label_score"], r["score"], r["outlet"], r["grade"])
                for r in latest
                if r["label_score"] is not None
            ],
            "Score against label, labelled outlets (dashed: agreement)",
        ),
        bars([(r["outlet"], r["change"]) for r in changes], "Largest changes since the previous publication", "points"),
        bars(top_features, "Feature importance: mean |contribution| to the score, in points", "points"),
    ]
    rows_html = "".join(_score_row(r) for r in every)
    evidence_html = "".join(
        f"<li><b>{escape(e['outlet'])}</b> ({escape(e['kind'])}: <mark>{escape(e['cue'])}</mark>) "
        f"{escape(e['sentence'])} <cite>{escape(e['title'] or '')}</cite> "
        f"<code>{escape(e['url'] or '')}</code></li>"
        for e in evidence
    )
    metric_text = ", ".join(f"{escape(k)} {v:.3g}" for k, v in sorted(metrics.items()))
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>presstrust report {escape(str(first["as_of"]))}</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}}
.high{{color:#2b8a3e}}.mixed{{color:#e67700}}.low{{color:#c92a2a}}figure{{margin:1em 0}}</style></head>
<body><h1>presstrust reliability scores</h1>
<p>Publication run {first["run_id"]} at {escape(str(first["published_at"]))}: {len(every)} outlets, articles of
the {first["window_days"]} days to {escape(str(first["as_of"]))}; model {escape(first["model_id"])}
(outlet-grouped cross-validation: {metric_text}). Scores are 0-100 (higher = more reliable) with ~90% intervals;
treat them as pointers to the evidence below, not verdicts (docs/evaluation.md).</p>
{"".join(plots)}
<h2>Scores</h2><table><tr><th>outlet</th><th>score</th><th>~90% interval</th><th>grade</th><th>status</th>
<th>articles</th><th>label</th></tr>{rows_html}</table>
<h2>Evidence behind the lowest scores</h2><ul>{evidence_html}</ul>
</body></html>
"""
    return Report(html, len(every), len(plots))
