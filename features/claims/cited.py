"""Cited outlets: the outlet a sentence says a claim comes from ("first reported by RIA Novosti", "according to
Reuters", "citing the Times", "Reuters reported", "told CNN").

Outlet names come from the caller (name -> canonical domain; in the product the non-host rows of
jobs/data/outlet_aliases.csv). The cue words and the name are matched case-insensitively ("Ria Novosti" and
"RIA Novosti" are one outlet), but the name must start with a capital letter in the text, so that "according to
time records" does not cite Time. Names shorter than 3 characters or holding a dot are skipped (as in
scorer.cues.citation_patterns). The first citation in a sentence wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

_BEFORE = (
    r"(?:first reported by|reported by|according to|citing|cited by|told|a report (?:by|from|in)"
    r"|reports? (?:by|from|in))"
)
_AFTER = r"(?:first reported|reported|reports|said in a report|cited)"


@dataclass(frozen=True)
class CitedOutlets:
    """Compiled citation regexes and the lower-cased name -> domain map."""

    before: str  # group 1 = the name, after a cue phrase
    after: str  # group 1 = the name, before a reporting verb
    domains: Mapping[str, str]


def cited_outlets(names: Mapping[str, str]) -> CitedOutlets:
    """Build the citation regexes from outlet names (name -> domain). Pure: no I/O."""
    domains: dict[str, str] = {}
    for name, domain in names.items():
        name = " ".join(name.split())
        if len(name) >= 3 and "." not in name:
            domains.setdefault(name.lower(), domain)
    if not domains:
        never = r"(?:$.^)"
        return CitedOutlets(before=never, after=never, domains={})
    alternation = "|".join(re.escape(n) for n in sorted(domains, key=lambda n: (-len(n), n)))
    name = rf"((?:{alternation}))"
    return CitedOutlets(
        before=rf"(?i)\b{_BEFORE}\s+(?:the\s+)?{name}\b",
        after=rf"(?i)\b{name}(?:'s|’s)?\s+(?:has\s+|had\s+|also\s+)?{_AFTER}\b",
        domains=domains,
    )


def cited_outlet(sentence: pl.Expr, cues: CitedOutlets) -> pl.Expr:
    """The canonical domain of the outlet a sentence cites (null if none); the name must start upper-case."""
    before = sentence.str.extract(cues.before, 1)
    after = sentence.str.extract(cues.after, 1)
    name = pl.coalesce(before, after)
    capital = name.str.contains(r"^[A-Z]")
    lookup = name.str.to_lowercase().replace_strict(
        list(cues.domains), list(cues.domains.values()), default=None, return_dtype=pl.String
    )
    return pl.when(capital).then(lookup)


LINKS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "article_id": pl.String,
    "link_n": pl.Int64,  # the link's number in the page (the first link wins)
    "anchor_text": pl.String,
    "outlet": pl.String,  # canonical domain of the outlet the link points to
}


def linked_outlets(claims: pl.LazyFrame, links: pl.LazyFrame) -> pl.LazyFrame:
    """Claims (with article_id, sentence_no, sentence, cited_outlet) whose sentence names no outlet but holds the
    anchor text of a link to one (LINKS_SCHEMA rows) get that outlet as cited_outlet: the first such link of the
    page. A named citation wins. Pure: no I/O."""
    keys = ["article_id", "sentence_no"]
    names = claims.collect_schema().names()
    linked = (
        claims.filter(pl.col("cited_outlet").is_null())
        .select(*keys, "sentence")
        .join(links.select("article_id", "link_n", "anchor_text", "outlet"), on="article_id")
        .filter(
            (pl.col("anchor_text").str.len_chars() > 0)
            & pl.col("sentence").str.contains(pl.col("anchor_text"), literal=True)
        )
        .sort(*keys, "link_n")
        .group_by(keys, maintain_order=True)
        .agg(pl.col("outlet").first().alias("_linked"))
    )
    return (
        claims.join(linked, on=keys, how="left", maintain_order="left")
        .with_columns(pl.coalesce("cited_outlet", "_linked").alias("cited_outlet"))
        .select(names)
    )
