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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import polars as pl

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
DOMAIN_COLUMNS = ("domain", "source_url_normalized", "source_url")


def normalise_grade(grade: pl.Expr) -> pl.Expr:
    """Grade text lower-cased, trimmed, with spaces and underscores as hyphens ("Mostly Factual" -> mostly-factual)."""
    return grade.cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all(r"[\s_]+", "-")


def read_label_table(path: str | Path) -> pl.DataFrame:
    """A label file as strings: CSV (`,`), TSV (`.tsv`/`.tab`, tab) or Parquet; `#` lines and a BOM skipped."""
    path = Path(path)
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith(".parquet"):
        return pl.read_parquet(path).cast(pl.String)
    separator = "\t" if suffixes.endswith((".tsv", ".tab", ".tsv.gz")) else ","
    table = pl.read_csv(path, separator=separator, comment_prefix="#", infer_schema=False, quote_char='"')
    # a spreadsheet's UTF-8 byte-order mark sticks to the first column's name ("\ufeffdomain")
    return table.rename(lambda name: name.lstrip("\ufeff").strip())


def _pick(columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise ValueError(f"label file has no {what} column {wanted!r} (columns: {list(columns)})")
        return wanted
    return next((c for c in candidates if c in columns), None)


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

    The score column wins over a grade column when both exist and neither is named. Rows without a
    resolvable domain or without a value are dropped (logged). `grade_scores` overrides the grade mapping
    (default: `GRADE_SCORES`, or `BALY_GRADE_SCORES` for a `fact` column). Raises ValueError on a missing
    column, an unknown grade, or a score outside `score_range`.
    """
    raw = read_label_table(path)
    domain = _pick(raw.columns, domain_column, DOMAIN_COLUMNS, "domain")
    if domain is None:
        raise ValueError(f"{path}: expected a 'domain' column (columns: {raw.columns})")
    score_col = _pick(raw.columns, score_column, SCORE_COLUMNS, "score") if grade_column is None else None
    grade_col = None if score_col else _pick(raw.columns, grade_column, GRADE_COLUMNS, "grade")
    if score_col is not None:
        scored = _scores(raw, path, domain, score_col, score_range)
    elif grade_col is not None:
        mapping = grade_scores or (BALY_GRADE_SCORES if grade_col == "fact" else GRADE_SCORES)
        scored = _graded(raw, path, domain, grade_col, mapping)
        log.debug("labels %s: grades mapped with %s", path, "BALY_GRADE_SCORES" if grade_col == "fact" else "GRADES")
    else:
        raise ValueError(f"{path}: expected a score column {SCORE_COLUMNS} or a grade column {GRADE_COLUMNS}")
    merged = _per_outlet(_hosts_only(scored, path), path, resolver)
    out = merged.select(
        "outlet",
        pl.col("label_score").clip(0.0, 1.0),
        grade_of(pl.col("label_score")).alias("label_grade"),
    ).sort("outlet")
    return out.cast(LABEL_SCHEMA)  # type: ignore[arg-type]


def _scores(
    raw: pl.DataFrame, path: str | Path, domain: str, score_col: str, score_range: tuple[float, float]
) -> pl.DataFrame:
    """domain, label_score from a score column, mapped linearly from `score_range` to [0, 1]."""
    lo, hi = score_range
    if not hi > lo:
        raise ValueError(f"score_range must be (low, high) with high > low, got {score_range}")
    values = raw.select(
        pl.col(domain).alias("domain"),
        pl.col(score_col).str.strip_chars().cast(pl.Float64, strict=False).alias("value"),
        pl.col(score_col).alias("_raw"),
    )
    bad = values.filter(pl.col("value").is_null() & pl.col("_raw").str.strip_chars().str.len_chars().gt(0))
    if bad.height:
        raise ValueError(f"{path}: {bad.height} non-numeric {score_col!r} values, e.g. {bad['_raw'][0]!r}")
    values = values.filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
    out_of_range = values.filter((pl.col("value") < lo) | (pl.col("value") > hi))
    if out_of_range.height:
        raise ValueError(
            f"{path}: {out_of_range.height} {score_col!r} values outside {score_range}, e.g. {out_of_range['value'][0]}"
        )
    return values.select("domain", ((pl.col("value") - lo) / (hi - lo)).alias("label_score"))


def _graded(
    raw: pl.DataFrame, path: str | Path, domain: str, grade_col: str, mapping: dict[str, float]
) -> pl.DataFrame:
    """domain, label_score from a grade column, through `mapping` (every grade must be known)."""
    grades = raw.select(pl.col(domain).alias("domain"), normalise_grade(pl.col(grade_col)).alias("grade")).filter(
        pl.col("grade").is_not_null() & (pl.col("grade") != "")
    )
    unknown = sorted(set(grades["grade"].unique().to_list()) - set(mapping))
    if unknown:
        raise ValueError(f"{path}: unknown grades in {grade_col!r}: {unknown} (known: {sorted(mapping)})")
    score = pl.col("grade").replace_strict(mapping, return_dtype=pl.Float64)
    return grades.select("domain", score.alias("label_score"))


def _hosts_only(scored: pl.DataFrame, path: str | Path) -> pl.DataFrame:
    """The rows that rate a host. A row keyed by a path (twitter.com/someone, newyorker.com/humor) rates a section
    or an account, not the outlet: presstrust scores hosts, so such rows are left out rather than averaged into
    the host."""
    has_path = pl.col("domain").str.replace(r"^[A-Za-z][A-Za-z0-9+.-]*://", "").str.contains(r"^[^/]*/+[^/?#\s]")
    sections = scored.filter(has_path.fill_null(False)).height
    if sections:
        log.info("labels %s: %d rows rating a path (a section or account, not an outlet) left out", path, sections)
    return scored.filter(~has_path.fill_null(False))


def _per_outlet(scored: pl.DataFrame, path: str | Path, resolver: OutletResolver) -> pl.DataFrame:
    """outlet, label_score: domains canonicalised like articles; several rows of one outlet averaged (logged)."""
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
    return merged.select("outlet", "label_score")
