"""The canonical input record every reader produces: fields, column synonyms, raw batches and their rejects.

Each reader (jobs/readers/files.py, jobs/readers/warc.py) yields `RawBatch`es: a Polars frame in the canonical
input fields (strings, authors as a list) plus the records it could not even parse (`PreReject`). Columns are
found by name (`SYNONYMS`) unless `--map field=column` says otherwise, so real corpora load without
pre-processing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

FIELDS = ("id", "url", "outlet", "outlet_name", "title", "text", "authors", "published_at", "language", "crawled_at")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id", "source_id", "doc_id", "_id", "uuid", "guid"),
    "url": ("url", "link", "article_url", "source_url", "href"),
    "outlet": ("outlet_domain", "source_domain", "domain", "site", "outlet", "source", "publisher"),
    "outlet_name": ("outlet_name", "source_name", "publisher_name", "outlet", "source", "publisher", "publication"),
    "title": ("title", "headline"),
    "text": ("text", "maintext", "body", "content", "full_text", "article_text", "article"),
    "authors": ("authors", "author", "byline", "creator"),
    "published_at": (
        "published_at",
        "date_publish",
        "date_published",
        "published",
        "publish_date",
        "pub_date",
        "pubdate",
        "date",
        "datetime",
        "timestamp",
    ),
    "language": ("language", "lang"),
    "crawled_at": ("crawled_at", "date_download", "crawl_date", "crawled", "fetched_at", "downloaded_at"),
}

RAW_SCHEMA: dict[str, pl.DataType] = {
    "rn": pl.Int64(),
    "source_id": pl.String(),
    "url": pl.String(),
    "outlet": pl.String(),
    "outlet_name": pl.String(),
    "title": pl.String(),
    "text": pl.String(),
    "authors": pl.List(pl.String()),
    "published_at": pl.String(),
    "language": pl.String(),
    "crawled_at": pl.String(),
    "issues": pl.List(pl.String()),
    "page_type": pl.String(),  # web pages only (jobs/readers/pages.py): article or live_blog
    "page_type_reason": pl.String(),
    # web pages only (jobs/readers/warc.py): the main text's outbound links
    "links": pl.List(pl.Struct({"url": pl.String(), "host": pl.String(), "anchor_text": pl.String()})),
}
PAGE_COLUMNS = ("page_type", "page_type_reason")  # absent from the frames of tabular readers: null there

MAX_RAW_CHARS = 1_000_000
AUTHOR_SPLIT = r"\s*(?:[,;]|\band\b)\s*"


class ReadError(Exception):
    """A file cannot be read at all (corrupt, truncated, wrong format); nothing of it is loaded."""


class MappingError(ValueError):
    """--map names an unknown field or a column the file does not have."""


@dataclass(frozen=True)
class PreReject:
    rn: int
    reason: str
    raw: str


@dataclass
class RawBatch:
    frame: pl.DataFrame  # RAW_SCHEMA, except published_at may be Datetime for typed Parquet columns
    rejects: list[PreReject] = field(default_factory=list)
    raw_of: Callable[[Sequence[int]], dict[int, str]] = lambda rns: {}
    error: str | None = None  # the file broke off here: the records before are kept, the file is reported
    skipped: dict[str, int] = field(default_factory=dict)  # records read but not articles, by reason (revisit)
    tallies: dict[str, int] = field(default_factory=dict)  # how records were read (body:dechunked, ...), by name

    @property
    def n_records(self) -> int:
        return self.frame.height + len(self.rejects) + sum(self.skipped.values())


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """Parse --map 'field=column' items."""
    mapping = {}
    for item in items:
        name, sep, column = item.partition("=")
        name = name.strip()
        if not sep or not column.strip():
            raise MappingError(f"--map expects field=column, got {item!r}")
        if name not in FIELDS:
            raise MappingError(f"--map: unknown field {name!r}; fields are {', '.join(FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def resolve_mapping(columns: Sequence[str], overrides: Mapping[str, str], *, strict: bool = True) -> dict[str, str]:
    """Canonical field -> source column, by --map first, then by the first unused synonym.

    strict: a --map column the file lacks is an error (tabular files); JSON records may simply lack a key.
    """
    by_lower: dict[str, str] = {}
    for column in columns:
        by_lower.setdefault(column.lower(), column)
    mapping: dict[str, str] = {}
    for name, column in overrides.items():
        if strict and column not in columns:
            raise MappingError(f"--map {name}={column}: no column {column!r} (columns: {', '.join(columns)})")
        mapping[name] = column
    used = set(mapping.values())
    for name in FIELDS:
        if name in mapping:
            continue
        for synonym in SYNONYMS[name]:
            found = by_lower.get(synonym)
            if found is not None and found not in used:
                mapping[name] = found
                used.add(found)
                break
    return mapping


def safe_text(value: str) -> tuple[str, bool]:
    """Return the string with lone surrogates replaced by U+FFFD, and whether any were."""
    try:
        value.encode("utf-8")
        return value, False
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value), True


def cap_raw(raw: str) -> str:
    raw, _ = safe_text(raw)
    if len(raw) > MAX_RAW_CHARS:
        return raw[:MAX_RAW_CHARS] + f"...[truncated from {len(raw)} characters]"
    return raw


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return None if isinstance(value, float) and not math.isfinite(value) else str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def canonical_record(obj: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
    """One parsed record (JSON object or CSV row) in the canonical fields, or a reject reason."""
    out: dict[str, Any] = {}
    issues: list[str] = []
    for name in FIELDS:
        value = obj.get(mapping[name]) if name in mapping else None
        if name == "text":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = "\n".join(value)
            elif value is not None and not isinstance(value, str):
                return {}, f"text_not_a_string:{type(value).__name__}"
        if name == "authors":
            if isinstance(value, list):
                names = [n for n in (_scalar(v) for v in value) if n]
            elif isinstance(value, str):
                names = re.split(AUTHOR_SPLIT, value)
            else:
                names = [s] if (s := _scalar(value)) else []
            cleaned = []
            for n in (n.strip() for n in names):
                if not n:
                    continue
                n, bad = safe_text(n)
                if bad:
                    issues.append("invalid_unicode_replaced:authors")
                cleaned.append(n)
            out["authors"] = cleaned
            continue
        text = _scalar(value)
        if text is not None:
            text, bad = safe_text(text)
            if bad:
                issues.append(f"invalid_unicode_replaced:{name}")
        out["source_id" if name == "id" else name] = text
    out["issues"] = issues
    return out, None


def records_frame(records: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=RAW_SCHEMA)


def raw_lookup(raws: dict[int, str]) -> Callable[[Sequence[int]], dict[int, str]]:
    return lambda rns: {rn: cap_raw(raws[rn]) for rn in rns if rn in raws}


# scheme://userinfo@ anywhere in a text (also JSON-escaped: `https:\/\/`, `\u0040`): the userinfo ends at the
# authority's last @, before any / \ ? # whitespace or quote
_TEXT_USERINFO = re.compile(
    r"((?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:(?:\\?[/\\]){2})[^/\\?#\s\"'<>]*(?:@|\\u0040)", re.IGNORECASE
)


def scrub_userinfo(raw: str, removed: Sequence[str] = ()) -> str:
    """A raw record without userinfo: every `scheme://user:pass@` becomes `scheme://`, and each string of `removed`
    (what normalisation took from the record's fields, as written or JSON-escaped) is deleted."""
    for userinfo in removed:
        for form in {userinfo, json.dumps(userinfo)[1:-1], json.dumps(userinfo, ensure_ascii=False)[1:-1]}:
            raw = raw.replace(form, "")
    return _TEXT_USERINFO.sub(r"\1", raw) if "@" in raw or "\\u0040" in raw else raw
