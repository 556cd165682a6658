"""Extra training outlets from other label sets, mapped onto the target scale by a fitted monotone map.

Lin et al.'s pc1 stays the target. MBFC 2026 (factual reporting, six levels; credibility, three) and Baly et al.
(EMNLP 2018, ACL 2020: factuality low / mixed / high) rate outlets on ordinal scales. For each source, a
monotone map from its levels onto pc1 is fitted on the outlets that have both a level and a TRAINING label
(`fit_level_map`: isotonic regression of pc1 on the level's rank, so a level's value is the mean pc1 of its
outlets, pooled with a neighbour where the means are out of order; a level no training outlet has gets the
linear interpolation between its neighbours, or the nearest end). An unlabelled outlet's mapped label is the
mean over the sources that rate it (`mapped_labels`). In cross-validation everything here runs inside each
training fold: the maps never see a test outlet's label (`fold_extras`).

The ordinal files are research data (MBFC's content): used in evaluation only, never shipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from jobs.readers.labels import _hosts_only
from jobs.readers.outlets import OutletResolver

log = logging.getLogger("evaluation")


@dataclass(frozen=True)
class OrdinalSource:
    """One ordinal label set: its file (under the shared data folder), the column and its levels, lowest first."""

    name: str
    path: Path
    column: str
    levels: tuple[str, ...]


ORDINAL_SOURCES: tuple[OrdinalSource, ...] = (
    OrdinalSource(
        "MBFC 2026 factual reporting",
        Path("labels") / "mbfc_2026.csv",
        "reporting",
        ("very-low", "low", "mixed", "mostly-factual", "high", "very-high"),
    ),
    OrdinalSource(
        "MBFC 2026 credibility",
        Path("labels") / "mbfc_2026.csv",
        "credibility",
        ("low-credibility", "medium-credibility", "high-credibility"),
    ),
    OrdinalSource(
        "Baly et al. 2018 factuality", Path("labels") / "baly_emnlp18_corpus.tsv", "fact", ("low", "mixed", "high")
    ),
    OrdinalSource(
        "Baly et al. 2020 factuality", Path("labels") / "baly_acl2020_corpus.tsv", "fact", ("low", "mixed", "high")
    ),
)
"""The ordinal sources mapped onto the target scale (their labels are MBFC's: evaluation only)."""

DOMAIN_COLUMNS = ("domain", "source_url_normalized")


def load_levels(path: Path, source: OrdinalSource, resolver: OutletResolver) -> pl.DataFrame:
    """`outlet`, `rank` (0 = the lowest level) of `source` in `path`; rows with another value (null, n/a) or
    keyed by a path left out; several domains of one outlet get their median rank."""
    sep = "\t" if path.suffix == ".tsv" else ","
    raw = pl.read_csv(path, separator=sep, infer_schema_length=0)
    domain = next(c for c in DOMAIN_COLUMNS if c in raw.columns)
    ranks = {level: float(i) for i, level in enumerate(source.levels)}
    values = raw.select(
        pl.col(domain).alias("domain"),
        pl.col(source.column).str.strip_chars().str.to_lowercase().replace_strict(ranks, default=None).alias("rank"),
    ).drop_nulls()
    values = _hosts_only(values, path)  # a row keyed by a path rates a section or an account, not the outlet
    hosts = {d: resolver.resolve_host(d) for d in values["domain"].unique().to_list()}
    return (
        values.with_columns(
            pl.col("domain").replace_strict(hosts, default=None, return_dtype=pl.String).alias("outlet")
        )
        .drop_nulls("outlet")
        .group_by("outlet")
        .agg(pl.col("rank").median())
        .sort("outlet")
    )


def load_sources(data: Path, resolver: OutletResolver) -> dict[str, pl.DataFrame]:
    """Every ORDINAL_SOURCES file that exists under `data`: source name -> load_levels."""
    out = {}
    for source in ORDINAL_SOURCES:
        if (data / source.path).exists():
            out[source.name] = load_levels(data / source.path, source, resolver)
    return out


def fit_level_map(ranks: np.ndarray, y: np.ndarray, n_levels: int) -> np.ndarray:
    """The mapped value of each level 0..n_levels-1: isotonic (non-decreasing) regression of `y` on `ranks`,
    evaluated at every level; levels without outlets interpolated between their neighbours (clipped at the
    ends). An empty fit maps every level to NaN."""
    from sklearn.isotonic import IsotonicRegression

    ranks, y = np.asarray(ranks, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(ranks) & np.isfinite(y)
    if not ok.any():
        return np.full(n_levels, np.nan)
    iso = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(ranks[ok], y[ok])
    return np.asarray(iso.predict(np.arange(n_levels, dtype=float)), dtype=float)


def apply_level_map(level_map: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Mapped values of (possibly fractional, a median of several domains) ranks: linear between levels."""
    return np.interp(np.asarray(ranks, dtype=float), np.arange(len(level_map)), level_map)


def fitted_maps(
    sources: Mapping[str, pl.DataFrame], labels: Mapping[str, float], *, min_overlap: int = 5
) -> dict[str, np.ndarray]:
    """Each source's level map fitted on the outlets of `labels` (outlet -> target label) it also rates;
    sources with fewer than `min_overlap` such outlets are left out."""
    levels = {s.name: len(s.levels) for s in ORDINAL_SOURCES}
    train = pl.DataFrame(
        {"outlet": list(labels), "y": list(labels.values())}, schema={"outlet": pl.String, "y": pl.Float64}
    )
    out = {}
    for name, table in sources.items():
        both = table.join(train, on="outlet", how="inner")
        if both.height >= min_overlap:
            out[name] = fit_level_map(both["rank"].to_numpy(), both["y"].to_numpy(), levels[name])
    return out


def mapped_labels(
    sources: Mapping[str, pl.DataFrame], maps: Mapping[str, np.ndarray], outlets: Sequence[str]
) -> np.ndarray:
    """Per outlet of `outlets`: the mean mapped label over the sources (with a fitted map) that rate it; NaN
    where none does."""
    total, count = np.zeros(len(outlets)), np.zeros(len(outlets))
    index = {o: i for i, o in enumerate(outlets)}
    for name, level_map in maps.items():
        rated = sources[name].filter(pl.col("outlet").is_in(list(outlets)))
        if not rated.height:
            continue
        idx = np.array([index[o] for o in rated["outlet"].to_list()])
        total[idx] += apply_level_map(level_map, rated["rank"].to_numpy())
        count[idx] += 1
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def fold_extras(
    sources: Mapping[str, pl.DataFrame],
    fit_labels: Mapping[str, float],
    extras: Sequence[str],
    *,
    exclude: Sequence[str] = (),
) -> np.ndarray:
    """The extra outlets' labels for one training fold: maps fitted on `fit_labels` without the outlets of
    `exclude` (the fold's test outlets: the maps never see their labels), applied to `extras`."""
    held_out = set(exclude)
    train = {o: v for o, v in fit_labels.items() if o not in held_out}
    return mapped_labels(sources, fitted_maps(sources, train), extras)


def extra_outlets(
    sources: Mapping[str, pl.DataFrame], per_outlet: pl.DataFrame, labelled: Sequence[str], *, min_articles: int
) -> pl.DataFrame:
    """Outlets with >= `min_articles` English articles (`per_outlet`: outlet, n, main_corpus), no target label
    and a level in at least one source: outlet, n, main_corpus and one boolean column per source."""
    rated: set[str] = set()
    for table in sources.values():
        rated.update(table["outlet"].to_list())
    out = per_outlet.filter(
        (pl.col("n") >= min_articles) & ~pl.col("outlet").is_in(list(labelled)) & pl.col("outlet").is_in(list(rated))
    ).sort("outlet")
    return out.with_columns(
        pl.col("outlet").is_in(table["outlet"].to_list()).alias(name) for name, table in sources.items()
    )
