"""Boilerplate lines: lines an outlet repeats across its articles, generic template lines, and the split of
article text into kept and removed lines with character offsets into the original text.

Measured on the AllSides corpus: without this a text model learns page templates (the Washington Times
footer is in 99% of its 2,985 articles, Politico's "Story continued below" in 91% of 2,525).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from features._text import ascii_boundaries
from features.lexicons import CuePattern
from features.registry import feature

REPEATED_LINES_SCHEMA = {
    "outlet": pl.String,
    "line_norm": pl.String,
    "n_articles": pl.Int64,
    "share": pl.Float64,
}
LINES_SCHEMA = {
    "article_id": pl.String,
    "line_no": pl.Int64,
    "start": pl.Int64,
    "end": pl.Int64,
    "line": pl.String,
    "reason": pl.String,
}
KEPT_LINES_SCHEMA = {k: v for k, v in LINES_SCHEMA.items() if k != "reason"}
REMOVED_LINES_SCHEMA = {
    "article_id": pl.String,
    "start": pl.Int64,
    "end": pl.Int64,
    "line": pl.String,
    "reason": pl.String,
}

OUTLET_REPEATED = "outlet_repeated"
TITLE = "title"


def normalise_line(line: pl.Expr) -> pl.Expr:
    """The line stripped, lower-cased, with every run of digits replaced by "0" (so footers match across years)."""
    return line.str.strip_chars().str.to_lowercase().str.replace_all(r"[0-9]+", "0")


def _all_lines(articles: pl.LazyFrame, *, columns: Sequence[str] = ()) -> pl.LazyFrame:
    """Every non-blank line with `line_no`, `start`, `end` (character offsets of the raw line in `text`).

    Without list.eval (3x the CPU): the lines of an article tile its text, each with its "\\n", so a line's start
    is the running length of all lines so far minus the running length of the texts before its article, and
    its number is its row number minus the lines of the articles before it.
    """
    text = pl.col("text").fill_null("")
    n_lines = pl.col("line").list.len().cast(pl.Int64)
    text_len = text.str.len_chars().cast(pl.Int64) + 1  # = the sum of its lines' lengths + 1 each
    line_len = pl.col("line").str.len_chars().cast(pl.Int64) + 1
    return (
        articles.select(
            "article_id",
            *columns,
            text.str.split("\n").alias("line"),
            (text_len.cum_sum() - text_len).alias("_text_before"),
        )
        .with_columns((n_lines.cum_sum() - n_lines).alias("_lines_before"))
        .explode("line")
        .select(
            "article_id",
            *columns,
            "line",
            (line_len.cum_sum() - line_len - pl.col("_text_before")).alias("start"),
            (pl.int_range(pl.len(), dtype=pl.Int64) - pl.col("_lines_before")).alias("line_no"),
        )
        .filter(pl.col("line").str.contains(r"\S"))
        .with_columns((pl.col("start") + pl.col("line").str.len_chars().cast(pl.Int64)).alias("end"))
    )


@feature(version="1", output_schema=REPEATED_LINES_SCHEMA)
def repeated_lines(
    articles: pl.LazyFrame, *, min_articles: int = 5, min_share: float = 0.01, max_line_chars: int = 300
) -> pl.LazyFrame:
    """Lines an outlet repeats: normalised line in >= min_articles and >= min_share of the outlet's articles."""
    per_outlet = articles.group_by("outlet").agg(pl.col("article_id").n_unique().alias("_outlet_n"))
    return (
        _all_lines(articles, columns=["outlet"])
        .filter(pl.col("line").str.len_chars() <= max_line_chars)
        .select("outlet", "article_id", normalise_line(pl.col("line")).alias("line_norm"))
        .group_by("outlet", "line_norm")
        .agg(pl.col("article_id").n_unique().cast(pl.Int64).alias("n_articles"))
        .join(per_outlet, on="outlet")
        .with_columns((pl.col("n_articles") / pl.col("_outlet_n")).alias("share"))
        .filter((pl.col("n_articles") >= min_articles) & (pl.col("share") >= min_share))
        .select(list(REPEATED_LINES_SCHEMA))
        .sort("outlet", "n_articles", "line_norm", descending=[False, True, False])
    )


def matches_any(text: pl.Expr, patterns: Sequence[CuePattern]) -> pl.Expr:
    """True where any pattern matches. Anchored patterns (`^...`) share one regex; the others run one
    expression each: one big alternation of unanchored patterns with bounded repeats was 17x slower
    (its lazy DFA thrashes), and separate expressions run in parallel."""
    anchored = [p for p in patterns if p.regex.startswith("^")]
    others = [p for p in patterns if not p.regex.startswith("^")]
    tests = [text.str.contains(ascii_boundaries(p.regex)) for p in others]
    if anchored:
        tests.append(text.str.contains("|".join(f"(?:{ascii_boundaries(p.regex)})" for p in anchored)))
    return pl.any_horizontal(tests) if tests else pl.lit(False)


@feature(version="1", output_schema=LINES_SCHEMA)
def mark_lines(
    articles: pl.LazyFrame,
    *,
    boilerplate: pl.LazyFrame,
    patterns: Sequence[CuePattern],
    max_line_chars: int = 300,
) -> pl.LazyFrame:
    """Split articles into non-blank lines with character offsets and mark boilerplate lines (reason, else null)."""
    title_norm = pl.col("_title_norm")
    # a row index instead of (article_id, line_no): the reasons are put beside the lines, not joined to them
    lines = _all_lines(
        articles.with_columns(normalise_line(pl.col("title")).alias("_title_norm")), columns=["outlet", "_title_norm"]
    ).with_row_index("_lid")
    # Only short lines can be boilerplate: normalise and test those only (most text is in long paragraphs).
    short = (
        lines.filter(pl.col("line").str.len_chars() <= max_line_chars)
        .select("_lid", "outlet", "_title_norm", normalise_line(pl.col("line")).alias("line_norm"))
        .join(
            boilerplate.select("outlet", "line_norm", pl.lit(True).alias("_repeated")).unique(["outlet", "line_norm"]),
            on=["outlet", "line_norm"],
            how="left",
        )
        .with_columns(matches_any(pl.col("line_norm"), patterns).alias("_generic"))
    )
    removed = short.filter(
        pl.col("_generic") | pl.col("_repeated").fill_null(False) | (pl.col("line_norm") == title_norm)
    ).select(
        "_lid",
        pl.when(pl.col("_generic"))
        .then(
            pl.coalesce(
                [
                    pl.when(pl.col("line_norm").str.contains(ascii_boundaries(p.regex))).then(pl.lit(p.name))
                    for p in patterns
                ]
            )
        )
        .when(pl.col("line_norm") == title_norm)
        .then(pl.lit(TITLE))
        .otherwise(pl.lit(OUTLET_REPEATED))
        .alias("reason"),
    )
    reasons = lines.select("_lid").join(removed, on="_lid", how="left", maintain_order="left").select("reason")
    return pl.concat([lines, reasons], how="horizontal").select(list(LINES_SCHEMA))


@dataclass(frozen=True)
class LineSplit:
    """Kept lines (the input to sentence splitting) and removed boilerplate lines (for inspection)."""

    kept: pl.LazyFrame
    removed: pl.LazyFrame


def split_lines(lines: pl.LazyFrame) -> LineSplit:
    """Split the output of `mark_lines` into kept lines and removed lines (article_id, start, end, line, reason)."""
    return LineSplit(
        kept=lines.filter(pl.col("reason").is_null()).select(list(KEPT_LINES_SCHEMA)),
        removed=lines.filter(pl.col("reason").is_not_null()).select(list(REMOVED_LINES_SCHEMA)),
    )
