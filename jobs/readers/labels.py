"""Outlet reliability labels as INPUT: a CSV/TSV/Parquet file keyed by domain, never hard-wired.

A label file has a `domain` column plus either a continuous score or an ordinal grade:

- a score column (`--score-column`; by default `score`, else `pc1`, the column of the shipped Lin et al.
  2023 file) with values in `score_range` (default 0..1), mapped linearly to `label_score` in [0, 1];
- or a grade column (`grade`, else `reporting` (MBFC), else `fact` (Baly et al.)), mapped to a score with
  `GRADE_SCORES` below.

Domains are canonicalised exactly like articles (`OutletResolver.resolve_host`), so `www.foxnews.com`,
`https://foxnews.com/x` and an aliased host all become one outlet. Several domains that become one outlet
(e.g. `bloomberg.com` and `bloombergview.com`) are AVERAGED and logged (warning, with the domains merged).

Grade mapping (documented, fixed; see docs/evaluation.md): the points lie inside the collapsed grade
bins of `GRADE_THRESHOLDS`, so `label_grade` of a grade file is the collapsed grade itself. For
orientation, the median Lin et al. pc1 of the domains MBFC 2026 rates very-high / high / mostly-factual /
mixed / low / very-low is 0.91 / 0.72 / 0.71 / 0.46 / 0.24 / 0.23 (5,901 domains in both files):
MBFC's "mostly-factual" sits with "high" on Lin's scale, but the project collapses it with "mixed".

| grade (MBFC) | score | collapsed |   | grade (Baly et al.) | score | collapsed |
|---|---|---|---|---|---|---|
| very-high | 0.90 | high | | high | 0.80 | high |
| high | 0.75 | high | | mixed | 0.45 | mixed |
| mostly-factual | 0.55 | mixed | | low | 0.20 | low |
| mixed | 0.45 | mixed | | | | |
| low | 0.20 | low | | | | |
| very-low | 0.10 | low | | | | |

Collapsed grade of a score: high >= 0.60, mixed >= 0.30, low below (`scorer.grades.grade_of`): rounded from
the thresholds (0.28, 0.62) that maximise the macro-F1 of Lin's pc1 against MBFC 2026's collapsed grades over
the 5,771 domains both rate uniquely (0.72; 0.69 with the rounded thresholds).

MBFC and Baly label files are for evaluation only and are never shipped (their ratings are MBFC's content).

A file that cannot be read as a label table (not UTF-8, a row with more or fewer fields than the header, an
unclosed quote, no domain or value column, a value that is not a number or not a known grade, a score out of
range) raises `LabelFileError`: one line naming the file and, where it applies, the line (CSV/TSV, counted from
1 with the header and `#` lines) or row (Parquet). Rows without a value are skipped with one warning that counts
them and names their lines; `LabelCounts` reconciles every data row: used + without a value + rating a path +
without a usable domain.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from jobs.readers.label_files import LINE, LabelFileError, lines_text, read_label_table, unit_of
from jobs.readers.label_files import domain_column as domain_column_of
from jobs.readers.outlets import OutletResolver
from scorer.grades import grade_of

log = logging.getLogger(__name__)

LABEL_SCHEMA: dict[str, pl.DataType] = {
    "outlet": pl.String(),
    "label_score": pl.Float64(),
    "label_grade": pl.String(),
}

GRADE_SCORES: dict[str, float] = {
    # MBFC factual-reporting grades
    "very-high": 0.90,
    "high": 0.75,
    "mostly-factual": 0.55,
    "mixed": 0.45,
    "low": 0.20,
    "very-low": 0.10,
}
"""MBFC-style grade -> label_score. Baly et al. use low/mixed/high: see BALY_GRADE_SCORES."""

BALY_GRADE_SCORES: dict[str, float] = {"high": 0.80, "mixed": 0.45, "low": 0.20}

GRADE_COLLAPSE: dict[str, str] = {
    "very-high": "high",
    "high": "high",
    "mostly-factual": "mixed",
    "mixed": "mixed",
    "low": "low",
    "very-low": "low",
}
"""MBFC six grades -> high / mixed / low (very-high+high, mostly-factual+mixed, low+very-low)."""

SCORE_COLUMNS = ("score", "pc1")
GRADE_COLUMNS = ("grade", "reporting", "fact")


def normalise_grade(grade: pl.Expr) -> pl.Expr:
    """Grade text lower-cased, trimmed, with spaces and underscores as hyphens ("Mostly Factual" -> mostly-factual)."""
    return grade.cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all(r"[\s_]+", "-")


@dataclass(frozen=True)
class LabelCounts:
    """Where every data row of a label file went: rows = used + no_value + sections + no_domain."""

    rows: int  # data rows read (not the header, `#` lines or blank lines)
    used: int  # rows with a domain and a value, averaged into `outlets`
    no_value: int  # rows without a score (or grade): skipped, with a warning naming their lines
    sections: int  # rows rating a path (a section or an account), left out
    no_domain: int  # rows whose domain is empty or not a host
    outlets: int  # outlets labelled

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _count(n: int, adjective: str) -> str:
    """'1 non-numeric value', '3 values'."""
    return f"{n} {adjective + ' ' if adjective else ''}value{'s' if n != 1 else ''}"


def _pick(
    path: str | Path, columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str
) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise LabelFileError(path, f"no {what} column {wanted!r} (columns: {_shown(columns)})")
        return wanted
    return next((c for c in candidates if c in columns), None)


def _shown(columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c != LINE]


def load_labels(
    path: str | Path,
    *,
    resolver: OutletResolver,
    score_column: str | None = None,
    grade_column: str | None = None,
    domain_column: str | None = None,
    score_range: tuple[float, float] = (0.0, 1.0),
    grade_scores: dict[str, float] | None = None,
) -> pl.DataFrame:
    """Labels per canonical outlet: `outlet`, `label_score` in [0, 1], `label_grade` (high / mixed / low).

    The score column wins over a grade column when both exist and neither is named. Rows without a value are
    skipped (one warning naming their lines), rows without a resolvable domain dropped (logged). `grade_scores`
    overrides the grade mapping (default: `GRADE_SCORES`, or `BALY_GRADE_SCORES` for a `fact` column). Raises
    LabelFileError (a ValueError) on a file it cannot read, a missing column, a value that is not a number, an
    unknown grade, or a score outside `score_range`. `load_labels_counted` also says where every row went.
    """
    options = {"score_column": score_column, "grade_column": grade_column, "domain_column": domain_column}
    labels, _ = load_labels_counted(
        path, resolver=resolver, score_range=score_range, grade_scores=grade_scores, **options
    )
    return labels


def load_labels_counted(
    path: str | Path,
    *,
    resolver: OutletResolver,
    score_column: str | None = None,
    grade_column: str | None = None,
    domain_column: str | None = None,
    score_range: tuple[float, float] = (0.0, 1.0),
    grade_scores: dict[str, float] | None = None,
) -> tuple[pl.DataFrame, LabelCounts]:
    """`load_labels` and the `LabelCounts` of the file (rows = used + no_value + sections + no_domain)."""
    raw = read_label_table(path)
    valued = label_values(raw, path, score_column, grade_column, domain_column, score_range, grade_scores)
    hosts = _hosts_only(valued, path)
    merged, no_domain = _per_outlet(hosts, path, resolver)
    out = merged.select(
        "outlet",
        pl.col("label_score").clip(0.0, 1.0),
        grade_of(pl.col("label_score")).alias("label_grade"),
    ).sort("outlet")
    counts = LabelCounts(
        rows=raw.height,
        used=hosts.height - no_domain,
        no_value=raw.height - valued.height,
        sections=valued.height - hosts.height,
        no_domain=no_domain,
        outlets=out.height,
    )
    return out.cast(LABEL_SCHEMA), counts  # type: ignore[arg-type]


def check_label_file(path: str | Path) -> None:
    """Read the file as `load_labels` does with its default columns, without resolving domains: LabelFileError
    (one line, with the line number) when it cannot be used. Commands call it before any work starts."""
    label_values(read_label_table(path), path)


def label_values(
    raw: pl.DataFrame,
    path: str | Path,
    score_column: str | None = None,
    grade_column: str | None = None,
    domain_column: str | None = None,
    score_range: tuple[float, float] = (0.0, 1.0),
    grade_scores: dict[str, float] | None = None,
) -> pl.DataFrame:
    """domain, label_score, LINE of the rows that have a value (the others skipped with one warning)."""
    domain = _pick(path, raw.columns, domain_column, (), "domain") or domain_column_of(raw, path)
    score_col = _pick(path, raw.columns, score_column, SCORE_COLUMNS, "score") if grade_column is None else None
    grade_col = None if score_col else _pick(path, raw.columns, grade_column, GRADE_COLUMNS, "grade")
    if score_col is not None:
        valued = _scores(raw, path, domain, score_col, score_range)
    elif grade_col is not None:
        mapping = grade_scores or (BALY_GRADE_SCORES if grade_col == "fact" else GRADE_SCORES)
        valued = _graded(raw, path, domain, grade_col, mapping)
        log.debug("labels %s: grades mapped with %s", path, "BALY_GRADE_SCORES" if grade_col == "fact" else "GRADES")
    else:
        raise LabelFileError(
            path,
            f"expected a score column {SCORE_COLUMNS} or a grade column {GRADE_COLUMNS} (columns: "
            f"{_shown(raw.columns)})",
        )
    skipped = raw.join(valued.select(LINE), on=LINE, how="anti")[LINE].sort().to_list()
    if skipped:
        what = "score" if score_col is not None else "grade"
        log.warning(
            "labels %s: %d label rows without a %s skipped (%s %s)",
            path,
            len(skipped),
            what,
            f"{unit_of(path)}s" if len(skipped) > 1 else unit_of(path),
            lines_text(skipped),
        )
    return valued


def _first_line(path: str | Path, bad: pl.DataFrame, message: str) -> LabelFileError:
    """The error for the bad rows `bad` (sorted by LINE): at the first one's line, naming the others'."""
    lines = bad[LINE].to_list()
    more = f" ({unit_of(path)}s {lines_text(lines)})" if len(lines) > 1 else ""
    return LabelFileError(path, message + more, lines[0])


def _scores(
    raw: pl.DataFrame, path: str | Path, domain: str, score_col: str, score_range: tuple[float, float]
) -> pl.DataFrame:
    """domain, label_score, LINE from a score column, mapped linearly from `score_range` to [0, 1]."""
    lo, hi = score_range
    if not hi > lo:
        raise ValueError(f"score_range must be (low, high) with high > low, got {score_range}")
    text = pl.col(score_col).str.strip_chars()
    values = raw.select(
        pl.col(domain).alias("domain"), text.cast(pl.Float64, strict=False).alias("value"), text.alias("_raw"), LINE
    ).filter(pl.col("_raw").str.len_chars() > 0)  # null or blank: no score (skipped, counted by the caller)
    bad = values.filter(pl.col("value").is_null() | ~pl.col("value").is_finite()).sort(LINE)
    if bad.height:
        example = bad["_raw"][0]
        raise _first_line(path, bad, f"{_count(bad.height, 'non-numeric')} in {score_col!r}: {example!r}")
    out_of_range = values.filter((pl.col("value") < lo) | (pl.col("value") > hi)).sort(LINE)
    if out_of_range.height:
        example = out_of_range["value"][0]
        raise _first_line(
            path, out_of_range, f"{_count(out_of_range.height, '')} in {score_col!r} outside {score_range}: {example}"
        )
    return values.select("domain", ((pl.col("value") - lo) / (hi - lo)).alias("label_score"), LINE)


def _graded(
    raw: pl.DataFrame, path: str | Path, domain: str, grade_col: str, mapping: dict[str, float]
) -> pl.DataFrame:
    """domain, label_score, LINE from a grade column, through `mapping` (every grade must be known)."""
    grades = raw.select(pl.col(domain).alias("domain"), normalise_grade(pl.col(grade_col)).alias("grade"), LINE).filter(
        pl.col("grade").is_not_null() & (pl.col("grade") != "")
    )
    unknown = grades.filter(~pl.col("grade").is_in(list(mapping))).sort(LINE)
    if unknown.height:
        names = sorted(set(unknown["grade"].to_list()))
        raise _first_line(path, unknown, f"unknown grades in {grade_col!r}: {names} (known: {sorted(mapping)})")
    score = pl.col("grade").replace_strict(mapping, return_dtype=pl.Float64)
    return grades.select("domain", score.alias("label_score"), LINE)


def _hosts_only(scored: pl.DataFrame, path: str | Path) -> pl.DataFrame:
    """The rows that rate a host. A row keyed by a path (twitter.com/someone, newyorker.com/humor) rates a section
    or an account, not the outlet: presstrust scores hosts, so such rows are left out rather than averaged into
    the host."""
    has_path = pl.col("domain").str.replace(r"^[A-Za-z][A-Za-z0-9+.-]*://", "").str.contains(r"^[^/]*/+[^/?#\s]")
    sections = scored.filter(has_path.fill_null(False)).height
    if sections:
        log.info("labels %s: %d rows rating a path (a section or account, not an outlet) left out", path, sections)
    return scored.filter(~has_path.fill_null(False))


def _per_outlet(scored: pl.DataFrame, path: str | Path, resolver: OutletResolver) -> tuple[pl.DataFrame, int]:
    """(outlet, label_score; the rows without a usable domain): domains canonicalised like articles; several rows
    of one outlet averaged (logged)."""
    resolved = scored.with_columns(
        pl.col("domain")
        .map_elements(lambda d: resolver.resolve_host(d) if d else None, return_dtype=pl.String, skip_nulls=True)
        .alias("outlet")
    )
    unresolved = resolved.filter(pl.col("outlet").is_null()).height
    if unresolved:
        log.warning("labels %s: %d rows without a usable domain dropped", path, unresolved)
    merged = (
        resolved.filter(pl.col("outlet").is_not_null())
        .group_by("outlet")
        .agg(
            pl.col("label_score").mean(),
            pl.col("domain").unique().sort().alias("domains"),
            pl.len().alias("rows"),
        )
    )
    dupes = merged.filter(pl.col("rows") > 1).sort("outlet")  # sorted: the same warning text every time
    if dupes.height:
        examples = "; ".join(f"{r['outlet']} <- {', '.join(r['domains'])}" for r in dupes.head(5).iter_rows(named=True))
        log.warning(
            "labels %s: %d outlets have several label rows after canonicalisation; their scores are averaged (e.g. %s)",
            path,
            dupes.height,
            examples,
        )
    return merged.select("outlet", "label_score"), unresolved
