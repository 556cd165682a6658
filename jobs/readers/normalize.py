"""Vectorised clean-up and validation of a raw batch: canonical URLs, outlets, dates, text caps.

Records that cannot be loaded come back as rejects with every reason that applies; records loaded
with a fix carry the fix in `ingest_issues`. Userinfo (`user:password@`) is removed from the url and outlet
fields before anything else sees them, and counted; the rejects carry what was removed, so their raw copies can
be cleaned too (jobs/readers/prepare.py). A host that is an IP address never becomes an outlet
(`ip_address_host`); an internationalised host is one outlet in its Unicode and punycode forms
(jobs/readers/outlets.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import polars as pl

from jobs.readers.outlets import OutletResolver, domain_forms, is_ip_host, names_ip, strip_host_prefix
from jobs.readers.records import PAGE_COLUMNS, RAW_SCHEMA

# scheme://authority path ?query (#fragment dropped); browsers read a backslash as a slash in http(s) URLs
_URL = r"^([A-Za-z][A-Za-z0-9+.-]*):[/\\]{2}([^/\\?#]*)([^?#]*)(?:\?([^#]*))?"
_HIERARCHICAL = r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?[/\\]{2}"
_USERINFO = r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?[/\\]{2})([^/\\?#]*@)"  # up to the authority's last @
_BARE_HOST = (
    r"^(?:[^/\\?#\s]+@)?(?:[\p{L}\p{N}%][\p{L}\p{N}%._-]*\.(?:[\p{L}\p{N}%-]{2,}|\d+)|\[[0-9A-Fa-f:.]+\])\.?"
    r"(?::\d*)?(?:[/\\?#]|$)"
)
_BARE_USERINFO = r"^([^/\\?#\s]+@)"
_TRACKING = (
    r"^(?:utm_[A-Za-z_]*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|cmpid|ncid|ocid|smid|smtyp|"
    r"soc_src|soc_trk|taid|sr_share|icid|ito|mbid|rss|partner|CMP)(?:=|$)"
)
EARLIEST = datetime(1990, 1, 1)
_DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%a, %d %b %Y %H:%M:%S %z",
)
_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d %B %Y",
    "%B %d, %Y",
)

GOOD_COLUMNS = (
    "rn",
    "source_id",
    "url",
    "url_canonical",
    "outlet",
    "outlet_name",
    "title",
    "text",
    "authors",
    "published_at",
    "language",
    "crawled_at",
    "ingest_issues",
    "page_type",
    "page_type_reason",
    "links",
)


@dataclass(frozen=True)
class NormalizeOptions:
    resolver: OutletResolver
    now: datetime
    max_text_chars: int = 200_000


def _blank_to_null(name: str) -> pl.Expr:
    value = pl.col(name).str.replace_all("\x00", "", literal=True).str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value).alias(name)


def without_userinfo(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(the URL or host without its userinfo, the userinfo removed with its @, null when there was none): from
    `scheme://user:pass@host/...`, `//user@host` and a bare `user:pass@host/...`."""
    bare = ~value.str.contains(_HIERARCHICAL) & value.str.contains(_BARE_HOST)
    userinfo = pl.coalesce(value.str.extract(_USERINFO, 2), pl.when(bare).then(value.str.extract(_BARE_USERINFO, 1)))
    stripped = (
        pl.when(userinfo.is_null())
        .then(value)
        .when(bare)
        .then(value.str.replace(_BARE_USERINFO, ""))
        .otherwise(value.str.replace(_USERINFO, "${1}"))
    )
    return stripped, userinfo


def _host_key(host: str) -> tuple[str | None, bool]:
    """A URL's host as (its canonical ASCII form without www./m. prefixes, or None; whether it is an IP address)."""
    forms = domain_forms(host)
    return (strip_host_prefix(forms[0]), False) if forms else (None, is_ip_host(host))


def with_canonical_url(df: pl.DataFrame, url: str = "url") -> pl.DataFrame:
    """Add `_host` (the canonical host: ASCII, punycode for an internationalised name), `url_canonical` (null
    without an http(s) URL naming a domain) and `_url_ip` (the URL's host is an IP address). The canonical URL is
    https://, the host without www./m. prefixes, userinfo, port or trailing dot, the path without a trailing
    slash, the query without tracking parameters, no fragment. Each distinct host is mapped once."""
    col = pl.col(url)
    parts = (
        df.select(
            pl.when(col.str.contains(r"^[A-Za-z][A-Za-z0-9+.-]*:[/\\]{2}"))
            .then(col)
            .when(col.str.contains(r"^[/\\]{2}"))
            .then(pl.lit("http:") + col)
            .when(col.str.contains(_BARE_HOST))
            .then(pl.lit("http://") + col)
            .str.extract_groups(_URL)
            .struct.rename_fields(["scheme", "authority", "path", "query"])
            .struct.unnest()
        )
        .with_columns(pl.col("authority").str.replace(r"^.*@", ""))
        .with_columns(
            pl.col("scheme").str.to_lowercase(),
            host=pl.when(pl.col("authority").str.starts_with("["))
            .then(pl.col("authority").str.extract(r"^(\[[^\]]*\])", 1))
            .otherwise(pl.col("authority").str.extract(r"^([^:]*)", 1)),
            path=pl.col("path").fill_null("").str.strip_chars_end("/"),
            query=pl.col("query")
            .fill_null("")
            .str.split("&")
            .list.eval(pl.element().filter((pl.element() != "") & ~pl.element().str.contains(_TRACKING)))
            .list.join("&"),
        )
    )
    hosts = parts.get_column("host").drop_nulls().unique().to_list()
    keys = [_host_key(h) for h in hosts]
    host_map = pl.DataFrame(
        {"host": hosts, "_key": [k for k, _ in keys], "_ip": [ip for _, ip in keys]},
        schema={"host": pl.String, "_key": pl.String, "_ip": pl.Boolean},
    )
    parts = parts.join(host_map, on="host", how="left", nulls_equal=False, maintain_order="left")
    ok = pl.col("scheme").is_in(["http", "https"]) & pl.col("_key").is_not_null()
    query = pl.when(pl.col("query") != "").then(pl.lit("?") + pl.col("query")).otherwise(pl.lit(""))
    canonical = parts.select(
        _host=pl.when(ok).then("_key"),
        url_canonical=pl.when(ok).then(pl.lit("https://") + pl.col("_key") + pl.col("path") + query),
        _url_ip=pl.col("_ip").fill_null(False),
    )
    return df.hstack(canonical)


def parse_published_at(value: pl.Expr) -> pl.Expr:
    """Parse date strings in the common formats (ISO 8601 with or without offset, RFC 2822, epoch) to naive UTC."""
    s = value.str.strip_chars().str.replace(r"(?:Z| ?UTC| ?GMT)$", "+00:00")
    aware = [
        s.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC").dt.replace_time_zone(None)
        for fmt in _DATE_FORMATS
    ]
    naive = [s.str.to_datetime(fmt, strict=False, time_unit="us") for fmt in _NAIVE_FORMATS]
    digits = pl.when(s.str.contains(r"^\d{9,13}(\.\d+)?$")).then(s.str.extract(r"^(\d+)").cast(pl.Int64))
    epoch = (
        pl.when(digits >= 100_000_000_000)
        .then(pl.from_epoch(digits, time_unit="ms"))
        .otherwise(pl.from_epoch(digits, time_unit="s"))
        .cast(pl.Datetime("us"))
    )
    return pl.coalesce([*aware, *naive, epoch])


# An outlet is a domain name: labels of letters, digits and inner hyphens (1-63 chars), at least two labels,
# at most 253 characters in all (RFC 1035 limits; an internationalised label in Unicode: letters, marks and
# digits). Anything else is rejected, not published as an outlet.
_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}_-]{0,61}[\p{L}\p{M}\p{N}])?"
VALID_OUTLET = rf"^{_LABEL}(?:\.{_LABEL})+$"
MAX_OUTLET_CHARS = 253


class Normalized(NamedTuple):
    good: pl.DataFrame  # GOOD_COLUMNS
    rejects: pl.DataFrame  # rn, reason, userinfo (what was removed from the record's fields: clean its raw copy too)
    userinfo_stripped: int  # records whose url or outlet field had userinfo removed


def normalize_batch(raw: pl.DataFrame, options: NormalizeOptions) -> Normalized:
    """Split a raw batch into rows to load (GOOD_COLUMNS order) and rejects with their reasons."""
    raw = raw.with_columns(pl.lit(None, pl.String()).alias(c) for c in PAGE_COLUMNS if c not in raw.columns)
    if "links" not in raw.columns:  # tabular input has no links
        raw = raw.with_columns(pl.lit(None, RAW_SCHEMA["links"]).alias("links"))
    df = with_canonical_url(_cleaned(raw))
    df = _with_outlets(df, options.resolver)
    df = _with_dates(df, latest=options.now + timedelta(days=1))
    outlet = pl.coalesce("_outlet_given", "_outlet_from_url")
    text_len = pl.col("text").str.len_chars()
    df = df.with_columns(
        outlet_final=outlet,
        outlet_name_final=pl.coalesce(
            "outlet_name", pl.when(~pl.col("outlet").str.contains(r"^\S+\.\S+$")).then("outlet")
        ),
        published_final=pl.when(pl.col("_in_range")).then(pl.col("_date")),
        text_final=pl.when(text_len > options.max_text_chars)
        .then(pl.col("text").str.slice(0, options.max_text_chars))
        .otherwise(pl.col("text")),
        ingest_issues=pl.concat_list(pl.col("issues"), _issues(text_len, options.max_text_chars).list.drop_nulls()),
        _reasons=_reasons(outlet, text_len).list.drop_nulls(),
    )
    rejected = pl.col("_reasons").list.len() > 0
    rejects = df.filter(rejected).select("rn", reason=pl.col("_reasons").list.join("; "), userinfo="_userinfo")
    good = df.filter(~rejected).select(
        "rn",
        "source_id",
        "url",
        "url_canonical",
        pl.col("outlet_final").alias("outlet"),
        pl.col("outlet_name_final").alias("outlet_name"),
        "title",
        pl.col("text_final").alias("text"),
        "authors",
        pl.col("published_final").alias("published_at"),
        "language",
        parse_published_at(pl.col("crawled_at")).alias("crawled_at"),  # kept as given when parseable, else null
        "ingest_issues",
        *PAGE_COLUMNS,
        "links",
    )
    stripped = df.select(pl.col("_userinfo").list.len().gt(0).sum()).item()
    return Normalized(good, rejects, int(stripped or 0))


def _cleaned(raw: pl.DataFrame) -> pl.DataFrame:
    """Blank strings as nulls, userinfo removed from the url and outlet fields (`_userinfo`: what was removed),
    NUL characters removed from the text (and noted), language in lower case."""
    blanked = raw.with_columns(*[_blank_to_null(c) for c in ("source_id", "url", "outlet", "outlet_name", "title")])
    url, url_userinfo = without_userinfo(pl.col("url"))
    outlet, outlet_userinfo = without_userinfo(pl.col("outlet"))
    return blanked.with_columns(
        url,
        outlet,
        pl.concat_list(url_userinfo, outlet_userinfo).list.drop_nulls().alias("_userinfo"),
        _blank_to_null("language").str.to_lowercase(),
        pl.col("text").str.replace_all("\x00", "", literal=True).str.strip_chars().alias("text"),
        pl.col("text").str.contains("\x00", literal=True).fill_null(False).alias("_had_nul"),
        pl.col("authors").fill_null([]),
    )


def _with_outlets(df: pl.DataFrame, resolver: OutletResolver) -> pl.DataFrame:
    """`_outlet_from_url` (the URL's host resolved), `_outlet_given` (the outlet field resolved) and `_outlet_ip`
    (the outlet field names an IP address), each distinct value resolved once."""
    hosts = df.get_column("_host").drop_nulls().unique().to_list()
    outlet_values = df.get_column("outlet").drop_nulls().unique().to_list()
    host_map = pl.DataFrame(
        {"_host": hosts, "_outlet_from_url": [resolver.resolve_host(h) for h in hosts]},
        schema={"_host": pl.String, "_outlet_from_url": pl.String},
    )
    given = [resolver.resolve(v) for v in outlet_values]
    outlet_map = pl.DataFrame(
        {
            "outlet": outlet_values,
            "_outlet_given": given,
            "_outlet_ip": [g is None and names_ip(v) for v, g in zip(outlet_values, given, strict=True)],
        },
        schema={"outlet": pl.String, "_outlet_given": pl.String, "_outlet_ip": pl.Boolean},
    )
    return (
        df.join(host_map, on="_host", how="left", nulls_equal=False)
        .join(outlet_map, on="outlet", how="left", nulls_equal=False)
        .with_columns(pl.col("_outlet_ip").fill_null(False))
    )


def _with_dates(df: pl.DataFrame, *, latest: datetime) -> pl.DataFrame:
    """`_date` (parsed published_at), `_raw_date` (as given, for the issue text) and `_in_range` (plausible)."""
    if df.schema["published_at"] == pl.String:
        parsed = parse_published_at(pl.col("published_at"))
        raw_date = pl.col("published_at")
    else:
        parsed = pl.col("published_at")
        raw_date = pl.col("published_at").cast(pl.String)
    return df.with_columns(_date=parsed, _raw_date=raw_date).with_columns(
        _in_range=(pl.col("_date") >= EARLIEST) & (pl.col("_date") <= latest)
    )


def _issue(condition: pl.Expr, label: pl.Expr | str) -> pl.Expr:
    label_expr = pl.lit(label) if isinstance(label, str) else label
    return pl.when(condition).then(label_expr)


def _unmapped_outlet() -> pl.Expr:
    """An outlet field was given but resolves to no outlet."""
    return pl.col("outlet").is_not_null() & pl.col("_outlet_given").is_null()


def _issues(text_len: pl.Expr, max_text_chars: int) -> pl.Expr:
    """The fixable problems of a record that loads (articles.ingest_issues), null where there is none."""
    return pl.concat_list(
        _issue(pl.col("url").is_not_null() & pl.col("url_canonical").is_null() & ~pl.col("_url_ip"), "invalid_url"),
        _issue(pl.col("_url_ip"), "ip_address_host"),
        _issue(
            _unmapped_outlet() & pl.col("_outlet_from_url").is_not_null(),
            pl.lit("outlet_unmapped_used_url:") + pl.col("outlet"),
        ),
        _issue(
            pl.col("_raw_date").is_not_null() & pl.col("_date").is_null(),
            pl.lit("unparseable_date:") + pl.col("_raw_date").str.slice(0, 40),
        ),
        _issue(
            pl.col("_date").is_not_null() & ~pl.col("_in_range"),
            pl.lit("date_out_of_range:") + pl.col("_raw_date").str.slice(0, 40),
        ),
        _issue(text_len > max_text_chars, pl.lit("text_truncated:") + text_len.cast(pl.String)),
        _issue(pl.col("_had_nul"), "nul_characters_removed"),
    )


def _reasons(outlet: pl.Expr, text_len: pl.Expr) -> pl.Expr:
    """Why a record cannot load (ingest_rejects.reason), null where it can."""
    return pl.concat_list(
        _issue(pl.col("text").is_null(), "missing_text"),
        _issue(pl.col("text").is_not_null() & (text_len == 0), "empty_text"),
        _issue(pl.col("outlet").is_null() & pl.col("url").is_null(), "missing_outlet_and_url"),
        _issue(
            _unmapped_outlet() & pl.col("_outlet_from_url").is_null() & ~pl.col("_outlet_ip"),
            pl.lit("unknown_outlet:") + pl.col("outlet").str.slice(0, 80),
        ),
        _issue(
            pl.col("outlet").is_null()
            & pl.col("url").is_not_null()
            & pl.col("_outlet_from_url").is_null()
            & ~pl.col("_url_ip"),
            "no_outlet_from_url",
        ),
        _issue(
            outlet.is_null() & (pl.col("_outlet_ip") | (pl.col("outlet").is_null() & pl.col("_url_ip"))),
            "ip_address_host",
        ),
        _issue(
            outlet.is_not_null() & ((outlet.str.len_chars() > MAX_OUTLET_CHARS) | ~outlet.str.contains(VALID_OUTLET)),
            pl.lit("invalid_outlet:") + outlet.str.slice(0, 80),
        ),
    )
