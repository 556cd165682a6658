"""The report's charts: matplotlib (Agg, no pyplot state) rendered to deterministic inline SVG.

Deterministic: a fixed `svg.hashsalt` per chart (so the ids of two charts on one page differ), no date or
creator in the metadata, text kept as text (`svg.fonttype` none) and never parsed as mathtext.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.artist import Artist  # noqa: E402 - after choosing the backend
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, MaxNLocator, MultipleLocator  # noqa: E402
from matplotlib.typing import RcKeyType  # noqa: E402

from scorer.grades import SCORE_THRESHOLDS  # noqa: E402

MIXED_AT, HIGH_AT = (100 * t for t in SCORE_THRESHOLDS)
"""Published grades: high at >= HIGH_AT, mixed at >= MIXED_AT, low below (0-100 score scale)."""

# Okabe-Ito colours (distinguishable with colour-blindness) and one marker shape per grade (and in grey print)
GRADE_STYLE: dict[str | None, tuple[str, str, str]] = {
    "high": ("#0072B2", "o", "high"),
    "mixed": ("#E69F00", "s", "mixed"),
    "low": ("#D55E00", "^", "low"),
    None: ("#7f7f7f", "D", "no grade (few articles)"),
}
BAND_ALPHA = 0.12
GRADE_ORDER: tuple[str | None, ...] = ("high", "mixed", "low", None)
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, rendered with the page's fonts
    "text.parse_math": False,  # outlet names are data: never mathtext
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
}
_G_ID = re.compile(r'<g id="[^"]*">')


@dataclass(frozen=True)
class Point:
    """One outlet on the score-vs-label chart (all on the 0-100 scale)."""

    outlet: str
    label: float
    score: float
    low: float
    high: float
    grade: str | None
    href: str


@dataclass(frozen=True)
class Publication:
    """One outlet's score in one publication (0-100; score None when it was not scored)."""

    run_id: int
    as_of: str
    score: float | None
    low: float | None
    high: float | None


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=72)


def to_svg(fig: Figure, *, name: str, title: str) -> str:
    """The figure as an inline <svg> element (no XML prolog, responsive width, ids unique to `name`)."""
    buf = io.StringIO()
    rc: dict[RcKeyType, Any] = {**STYLE, "svg.hashsalt": f"presstrust-{name}"}
    with matplotlib.rc_context(rc):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.S)
    svg = _G_ID.sub("<g>", svg)  # matplotlib's group ids (figure_1, axes_1, ...) repeat in every chart
    svg = re.sub(
        r'<svg ([^>]*?)width="[^"]*" height="[^"]*"',
        lambda m: f'<svg class="chart" role="img" aria-label="{escape(title)}" {m.group(1)}',
        svg,
        count=1,
    )
    return svg.strip()


def _legend(ax: Axes, handles: list[Artist], labels: list[str], *, title: str | None = None) -> None:
    """The legend right of the axes, top-aligned."""
    ax.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(1.02, 1.0), alignment="left")


def _grade_bands(ax: Axes) -> None:
    """Light background bands for the three grades along the (vertical) score axis."""
    for grade, lo, hi in (("low", 0.0, MIXED_AT), ("mixed", MIXED_AT, HIGH_AT), ("high", HIGH_AT, 100.0)):
        ax.axhspan(lo, hi, color=GRADE_STYLE[grade][0], alpha=BAND_ALPHA, lw=0, zorder=0)


def score_distribution(scores: Sequence[tuple[float, str | None]]) -> str:
    """Histogram of the published scores in 5-point bins, stacked by grade, with the grade thresholds."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(8.6, 3.4)
        ax = fig.add_axes((0.07, 0.15, 0.66, 0.78))
        groups = [g for g in GRADE_ORDER if any(grade == g for _, grade in scores)]
        data = [[s for s, grade in scores if grade == g] for g in groups]
        ax.hist(
            data,
            bins=range(0, 105, 5),
            stacked=True,
            color=[GRADE_STYLE[g][0] for g in groups],
            label=[f"{GRADE_STYLE[g][2]}: {len(d)}" for g, d in zip(groups, data, strict=True)],
            edgecolor="white",
            linewidth=0.6,
        )
        for at in (MIXED_AT, HIGH_AT):
            ax.axvline(at, color="#444", ls=":", lw=1)
        ax.set_xlim(0, 100)
        ax.xaxis.set_major_locator(MultipleLocator(10))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("score (0-100, higher = more reliable), bins of 5 points")
        ax.set_ylabel("outlets")
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="#444", ls=":", lw=1))
        labels.append(f"grade thresholds ({MIXED_AT:.0f}, {HIGH_AT:.0f})")
        _legend(ax, handles, labels, title=f"grade ({len(scores)} scored outlets)")
        return to_svg(fig, name="distribution", title="Score distribution of the latest publication")


def score_vs_label(points: Sequence[Point], *, annotate: int = 8, apart: float = 10.0) -> str:
    """Score against label with ~90% intervals, grade markers, the agreement diagonal and the grade thresholds.

    Every point links to its outlet's page; of the outlets at least `apart` points from the diagonal, the
    `annotate` farthest are named.
    """
    with matplotlib.rc_context(STYLE):
        fig = _figure(8.6, 5.9)
        ax = fig.add_axes((0.08, 0.09, 0.58, 0.86))
        ax.plot([0, 100], [0, 100], color="#888", ls="--", lw=1, zorder=1)
        for at in (MIXED_AT, HIGH_AT):
            ax.axhline(at, color="#444", ls=":", lw=1, zorder=1)
        ax.errorbar(
            [p.label for p in points],
            [p.score for p in points],
            yerr=[[p.score - p.low for p in points], [p.high - p.score for p in points]],
            fmt="none",
            ecolor="#b3b3b3",
            elinewidth=0.8,
            zorder=2,
        )
        handles: list[Artist] = []
        labels: list[str] = []
        for g in GRADE_ORDER:
            mine = [p for p in points if p.grade == g]
            if not mine:
                continue
            colour, marker, name = GRADE_STYLE[g]
            marks = ax.scatter(
                [p.label for p in mine],
                [p.score for p in mine],
                c=colour,
                marker=marker,
                s=30,
                edgecolors="white",
                linewidths=0.5,
                zorder=3,
                clip_on=False,  # a point at 0 or 100 is drawn whole
            )
            marks.set_urls([p.href for p in mine])
            handles.append(marks)
            labels.append(f"{name}: {len(mine)}")
        far = [p for p in points if abs(p.score - p.label) >= apart]
        far = sorted(far, key=lambda p: (-abs(p.score - p.label), p.outlet))[:annotate]
        _name_points(ax, fig, far, points)
        handles += [
            Line2D([], [], color="#b3b3b3", lw=0.8, marker="|", markersize=8),
            Line2D([], [], color="#888", ls="--", lw=1),
            Line2D([], [], color="#444", ls=":", lw=1),
        ]
        labels += ["~90% interval of the score", "score = label", f"grade thresholds ({MIXED_AT:.0f}, {HIGH_AT:.0f})"]
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_aspect("equal")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MultipleLocator(10))
        ax.set_xlabel("label (published rating, 0-100)")
        ax.set_ylabel("score (0-100)")
        _legend(ax, handles, labels, title=f"grade of the score ({len(points)} labelled outlets)")
        if far:
            ax.text(
                1.03,
                0.02,
                f"named: the outlets farthest from\nscore = label ({apart:.0f}+ points)",
                transform=ax.transAxes,
                fontsize=7.5,
                color="#555",
                va="bottom",
            )
        return to_svg(fig, name="score-vs-label", title="Score against label for the labelled outlets")


def _name_points(ax: Axes, fig: Figure, named: Sequence[Point], every: Sequence[Point]) -> None:
    """Name the points, each beside its marker where it covers no marker and no name placed before (else not)."""
    ax.apply_aspect()
    to_px = ax.transData.transform
    size, scale = 7.5, fig.dpi / 72  # font size in points; pixels per point
    r = 3 * scale  # a marker's half-width
    placed = [(x - r, y - r, x + r, y + r) for x, y in (to_px((p.label, p.score)) for p in every)]
    left, bottom, right, top = ax.bbox.extents
    for p in named:
        x, y = to_px((p.label, p.score))
        w, h = 0.65 * size * len(p.outlet) * scale, 1.25 * size * scale
        for dx, dy in ((4, 3), (4, -3 - h / scale), (-4 - w / scale, 3), (-4 - w / scale, -3 - h / scale)):
            box = (x + dx * scale, y + dy * scale, x + dx * scale + w, y + dy * scale + h)
            inside = box[0] >= left and box[2] <= right and box[1] >= bottom and box[3] <= top
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                placed.append(box)
                ax.annotate(
                    p.outlet,
                    (p.label, p.score),
                    xytext=(dx, dy),
                    textcoords="offset points",
                    fontsize=size,
                    color="#333",
                    va="bottom",
                    ha="left",
                    zorder=4,
                )
                break


def score_history(history: Sequence[Publication], *, label: float | None, outlet: str) -> str:
    """An outlet's score and ~90% interval over the publications, on the grade bands, with its label."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(8.6, 3.2)
        ax = fig.add_axes((0.07, 0.2, 0.64, 0.74))
        _grade_bands(ax)
        xs = list(range(len(history)))
        nan = float("nan")
        scores = [nan if h.score is None else h.score for h in history]
        lows = [nan if h.low is None else h.low for h in history]
        highs = [nan if h.high is None else h.high for h in history]
        if len(history) > 1:
            ax.fill_between(xs, lows, highs, color="#555", alpha=0.18, lw=0, zorder=2)
            interval_handle: Artist = Patch(color="#555", alpha=0.18)
        else:
            ax.errorbar(
                xs,
                scores,
                yerr=[
                    [s - lo for s, lo in zip(scores, lows, strict=True)],
                    [hi - s for s, hi in zip(scores, highs, strict=True)],
                ],
                fmt="none",
                ecolor="#555",
                capsize=4,
                lw=1.2,
                zorder=2,
            )
            interval_handle = Line2D([], [], color="#555", lw=1.2, marker="_", markersize=8)
        marker = "o" if len(history) <= 60 else None  # a year of nightly publications: a line
        ax.plot(xs, scores, color="#1f1f1f", marker=marker, markersize=5, lw=1.5, zorder=3, clip_on=False)
        handles: list[Artist] = [Line2D([], [], color="#1f1f1f", marker=marker, lw=1.5), interval_handle]
        labels = ["score", "~90% interval"]
        if label is not None:
            ax.axhline(label, color="#7a1fa2", ls="--", lw=1.2, zorder=2)
            handles.append(Line2D([], [], color="#7a1fa2", ls="--", lw=1.2))
            labels.append(f"label {label:.1f}")
        for g in ("high", "mixed", "low"):
            handles.append(Patch(color=GRADE_STYLE[g][0], alpha=BAND_ALPHA))
        labels += [f"high: {HIGH_AT:.0f}-100", f"mixed: {MIXED_AT:.0f}-{HIGH_AT:.0f}", f"low: 0-{MIXED_AT:.0f}"]
        ax.set_ylim(0, 100)
        ax.yaxis.set_major_locator(MultipleLocator(20))
        ax.set_xlim(-0.6, max(len(history) - 0.4, 0.6))
        step = max(1, -(-len(history) // 6))  # at most 6 tick labels, so that dates never overlap
        ticks = xs[::step]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.set_xticklabels([f"{history[i].as_of}\nrun {history[i].run_id}" for i in ticks])
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("publication (last day of its article window; run)")
        ax.set_ylabel("score (0-100)")
        _legend(ax, handles, labels)
        return to_svg(fig, name=f"history-{outlet}", title=f"Score history of {outlet}")
