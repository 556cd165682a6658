"""WARC files (Common Crawl News, a crawler's own): every HTTP response with an HTML article becomes a record.

Reading with FastWARC, main-text extraction with Resiliparse (both chosen by measurement: docs/research.md,
`python -m bench.warc_compare`). Title, publication date, authors and language come from the page's own
metadata (JSON-LD, <meta>, <time>, <html lang>, a byline), in that order of trust; the language falls back to
Resiliparse's offline detector. Nothing is fetched from the network.

Records are the WARC's `response` records; `request`, `warcinfo`, `metadata` and other records are not
articles and are not counted. A response that is not an article is rejected with its reason (non_html,
http_status:404, not_an_article:..., undecodable_body, truncated_record) and, instead of its body, a JSON
summary of its headers. Each record's number is its byte offset in the WARC file (as in a CDX index).
A file whose compressed stream breaks off keeps the records read before the break, and the break is reported.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding
from resiliparse.parse.html import DocumentNode, HTMLTree
from resiliparse.parse.lang import detect_fast

from jobs.readers.outlets import normalize_host, registered_domain
from jobs.readers.pages import (
    LISTING,
    LIVE_POSTS,
    OTHER,
    Shape,
    best_published,
    body_run,
    clean_authors,
    clean_title,
    count_words,
    declared_date,
    page_type,
    prose_share,
    strip_boilerplate,
    url_date,
    visible_date,
)
from jobs.readers.records import PreReject, RawBatch, ReadError, raw_lookup, records_frame, scrub_userinfo

MIN_WORDS = 80  # fewer words of main text: a photo page, a stub, a paywall teaser
MAX_BODY_BYTES = 5_000_000  # larger HTML bodies are not news articles (and would cost memory)
LANG_MAX_RANK = 1200  # Resiliparse: ranks above this are "usually false results"
_ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
                  "blogposting", "report", "backgroundnewsarticle", "reviewnewsarticle", "liveblogposting"}  # fmt: skip
_DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "pub_date",
    "publication_date",
    "article_date_original",
    "parsely-pub-date",
    "cxenseparse:recs:publishtime",
    "og:published_time",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "date",
)
_AUTHOR_META = ("author", "article:author", "dc.creator", "sailthru.author", "byl", "parsely-author")
_TITLE_META = ("og:title", "twitter:title", "headline")
_BYLINE = re.compile(r"^\s*(?:by|von)\s+(.{2,200}?)\s*$", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bund\b|&)\s*")


@dataclass
class Extracted:
    title: str | None = None
    text: str = ""
    published_at: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    declared_article: bool = False  # JSON-LD @type or og:type says it is an article
    link_share: float = 0.0  # share of the page's words inside <a> elements (0 when not needed to decide)
    words: int = 0
    page_type: str = OTHER  # article, listing, live_blog or other (jobs/readers/pages.py)
    page_type_reason: str = "empty"  # the structural fact that decided it
    links: list[dict[str, str]] = field(default_factory=list)  # outbound links of the main text (_outbound_links)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _json_ld(doc: DocumentNode) -> list[dict[str, Any]]:
    """The page's JSON-LD objects (flattening lists and @graph), skipping scripts that do not parse."""
    found: list[dict[str, Any]] = []
    for script in doc.query_selector_all('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack and len(found) < 50:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                found.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
    return found


def _ld_types(obj: Mapping[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for v in value[:20] for n in _ld_names(v)]
    return []


def _meta(doc: DocumentNode) -> dict[str, str]:
    """<meta name|property|itemprop=... content=...>, keys lower-cased; the first occurrence wins."""
    out: dict[str, str] = {}
    for node in doc.query_selector_all("meta[content]"):
        key = node.getattr("property") or node.getattr("name") or node.getattr("itemprop") or ""
        content = node.getattr("content")
        if key and content:
            out.setdefault(key.strip().lower(), content)
    return out


def _split_authors(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name.startswith(("http://", "https://", "/")):
            continue  # article:author is often a profile URL
        match = _BYLINE.match(name)
        for part in _AUTHOR_SPLIT.split(match.group(1) if match else name):
            part = " ".join(part.split())
            if part and len(part) <= 100 and part not in out:
                out.append(part)
    return out


def _byline(doc: DocumentNode) -> list[str]:
    for selector in ('[class*="byline"]', '[class*="author"]', '[rel="author"]', '[itemprop="author"]'):
        for node in doc.query_selector_all(selector)[:3]:
            text = _clean(node.text)
            if text and len(text) <= 200:
                match = _BYLINE.match(text)
                return _split_authors([match.group(1) if match else text])
    return []


def _language(doc: DocumentNode, meta: Mapping[str, str], header: str | None, text: str) -> str | None:
    html = doc.query_selector("html")
    for declared in (
        html.getattr("lang") if html is not None else None,
        meta.get("content-language"),
        meta.get("og:locale"),
        header,
    ):
        code = (declared or "").strip().replace("_", "-").split("-")[0].split(",")[0].strip().lower()
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    if text:
        code, rank = detect_fast(text[:2000])
        if rank <= LANG_MAX_RANK:
            return code
    return None


def _link_share(tree: HTMLTree) -> float:
    """Share of the page's words that sit inside <a> elements: the page's text with and without its links
    (two linear passes in C, whatever the markup)."""
    options: dict[str, Any] = {"main_content": False, "alt_texts": False, "list_bullets": False}
    total = count_words(extract_plain_text(tree, **options))
    if not total:
        return 0.0
    unlinked = count_words(extract_plain_text(tree, skip_elements=["a"], **options))
    return max(0.0, (total - unlinked) / total)


MAX_LINKS = 200  # outbound links kept per article (a page of more is a link list, not prose that cites)


@lru_cache(maxsize=4096)
def _link_host(name: str) -> str | None:
    """normalize_host, remembered: a page links to the same few hosts many times."""
    return normalize_host(name)


def link_target(href: str) -> tuple[str, str] | None:
    """(the URL without userinfo, query or fragment, its host as an outlet key) of an absolute or
    protocol-relative http(s) link to a domain; None otherwise (relative, mailto:, javascript:, an IP address)."""
    href = href.strip()
    if href.startswith("//"):
        href = "https:" + href
    try:
        parts = urlsplit(href)
        port = parts.port
    except ValueError:
        return None
    name = parts.hostname  # lower case, without userinfo and port
    if parts.scheme.lower() not in ("http", "https") or not name:
        return None
    host = _link_host(name)
    if host is None:
        return None
    authority = name + (f":{port}" if port is not None else "")
    return f"{parts.scheme.lower()}://{authority}{parts.path}", host


# An <a> element with an href, and its inner HTML (up to 1,000 characters). Read from the HTML text, not the DOM:
# iterating Resiliparse's node collection costs time quadratic in its size (5 s for the 45 real pages of
# tests/fixtures/warc, against 0.3 s for everything else the reader does to them).
_ANCHOR = re.compile(
    r"<a\s[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))[^>]*>(.{0,1000}?)</a\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]*>")


def _outbound_links(html: str, text: str, url: str | None) -> list[dict[str, str]]:
    """The links of the main text to another site (registered domain) than the page's own: target URL (no
    userinfo, query or fragment), host, anchor text; in page order, each (URL, anchor) once. A link is in the main
    text when its whole anchor text is (the claims stage finds its sentence by it)."""
    own = normalize_host(url or "")
    own_site = registered_domain(own) if own else None
    flat = " ".join(text.split())
    links: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    sites: dict[str, str] = {}
    for match in _ANCHOR.finditer(html):
        href = unescape(next(h for h in match.groups()[:3] if h is not None))
        if not href.lstrip().lower().startswith(("http", "//")):
            continue  # relative, mailto:, javascript:, a fragment: most of a page's links
        target = link_target(href)
        if target is None:
            continue
        target_url, host = target
        if host not in sites:
            sites[host] = registered_domain(host)
        anchor = scrub_userinfo(" ".join(unescape(_TAG.sub(" ", match.group(4))).split()))
        if sites[host] == own_site or not anchor or anchor not in flat or (target_url, anchor) in seen:
            continue
        seen.add((target_url, anchor))
        links.append({"url": target_url, "host": host, "anchor_text": anchor})
        if len(links) >= MAX_LINKS:
            break
    return links


_LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage", "qapage", "discussionforumposting"}
_HEADLINE_LINKS = "h2 a, h3 a, h4 a, a h2, a h3, a h4"
_PAGING = 'a[rel="next"], link[rel="next"], [class*="pagination"], [class*="pager"]'
_POST_BLOCKS = 'article, li, div[class*="post"], div[class*="entry"], div[class*="update"], div[class*="event"]'


def _title(doc: DocumentNode, tree: HTMLTree, article_ld: list[dict[str, Any]], meta: Mapping[str, str]) -> str | None:
    title = None
    for obj in article_ld:
        title = title or _clean(obj.get("headline") if isinstance(obj.get("headline"), str) else None)
    for key in _TITLE_META:
        title = title or _clean(meta.get(key))
    h1 = doc.query_selector("h1")
    heading = _clean(h1.text if h1 is not None else None)
    page_title = _clean(tree.title)
    if heading and page_title and len(heading.split()) <= 2 and heading not in page_title:
        heading = None  # a section header ("Blogs") above the article, not its headline
    return title or heading or page_title


_PUBLISHED_TIME = 'time[itemprop="datePublished"], time[pubdate]'


def _time_element(doc: DocumentNode) -> str | None:
    """The datetime of the page's publication <time> (itemprop=datePublished or pubdate), else of its first one
    that is not a modification time; only a machine-readable one (a display string in the attribute, "jueves, 09
    enero 2014", is often the day the page was served, in its header)."""
    node = doc.query_selector(_PUBLISHED_TIME)
    if node is None:
        node = next(
            (t for t in doc.query_selector_all("time[datetime]")[:5] if t.getattr("itemprop") != "dateModified"), None
        )
    value = _clean(node.getattr("datetime")) if node is not None else None
    return value if value and re.match(r"\d{4}-\d{2}-\d{2}", value) else None


@dataclass(frozen=True)
class _Context:
    """What dates are read against: the main text, the URL, the page's language, the crawl time."""

    text: str
    url: str | None
    language: str | None
    crawled: str | None


def _published(
    doc: DocumentNode, article_ld: list[dict[str, Any]], meta: Mapping[str, str], page: _Context
) -> str | None:
    """JSON-LD, then <meta>, then <time datetime>, a date-only value giving way to one with the time of the same
    day, values that are not ISO 8601 read as written dates; else the first plausible date written near the top of
    the text (from 1990, not after the crawl), in any of several languages; else the date of the URL's path.
    English pages write 08/01/2014 month first."""
    month_first = page.language == "en"
    declared: list[str | None] = []
    for obj in article_ld:
        value = obj.get("datePublished")
        declared.append(_clean(value) if isinstance(value, str) else None)
    declared += [_clean(meta.get(key)) for key in _DATE_META]
    declared.append(_time_element(doc))
    return (
        best_published(declared_date(value, month_first=month_first) for value in declared)
        or visible_date(page.text[:600], month_first=month_first, not_after=page.crawled)
        or url_date(page.url, not_after=page.crawled)
    )


def _site_names(ld: list[dict[str, Any]], meta: Mapping[str, str], url: str | None) -> list[str]:
    """The site's and publisher's names (og:site_name, JSON-LD publisher and WebSite names, the host)."""
    names = [meta.get(key) or "" for key in ("og:site_name", "application-name", "publisher", "dc.publisher")]
    for obj in ld:
        names += _ld_names(obj.get("publisher"))
        if "website" in _ld_types(obj) or "organization" in _ld_types(obj) or "newsmediaorganization" in _ld_types(obj):
            names += _ld_names(obj)
    if url:
        host = url.split("/")[2] if "://" in url else ""
        names += [host, host.split(":")[0].removeprefix("www.")]
    return [n for n in names if n]


def _live_posts(ld: list[dict[str, Any]], doc: DocumentNode) -> list[str]:
    """A live blog's posts in time order: its JSON-LD liveBlogUpdate entries, else blocks of its markup that
    each hold one <time> and mostly their own text (not a teaser's link); empty for other pages."""
    for obj in ld:
        updates = obj.get("liveBlogUpdate") if "liveblogposting" in _ld_types(obj) else None
        if isinstance(updates, list) and updates:
            entries = sorted(
                (u for u in updates if isinstance(u, dict)), key=lambda u: str(u.get("datePublished") or "")
            )
            texts = [
                "\n".join(v for v in (u.get("headline"), u.get("articleBody")) if isinstance(v, str) and v.strip())
                for u in entries
            ]
            return [t for t in texts if t]
    if len(doc.query_selector_all("time")) < LIVE_POSTS:
        return []
    posts: list[tuple[str, str]] = []
    for node in doc.query_selector_all(_POST_BLOCKS):
        times = node.query_selector_all("time")
        text = _clean(node.text) or ""
        if len(times) != 1 or count_words(text) < 15:
            continue
        linked = sum(len(a.text or "") for a in node.query_selector_all("a"))
        if linked < 0.3 * len(text) and all(text not in p and p not in text for _, p in posts):
            posts.append((times[0].getattr("datetime") or "", text))
    if len(posts) >= LIVE_POSTS and all(when for when, _ in posts):
        posts.sort(key=lambda post: post[0])
    return [text for _, text in posts]


def _shape(
    doc: DocumentNode, tree: HTMLTree, ld: list[dict[str, Any]], declared: bool, text: str, words: int, posts: int
) -> Shape:
    headlines = doc.query_selector_all(_HEADLINE_LINKS)
    return Shape(
        headline_links=len(headlines),
        dated_items=len(doc.query_selector_all("time")),
        paging=doc.query_selector(_PAGING) is not None,
        live_posts=posts,
        declared_article=declared,
        declared_listing=any(_ld_types(o) & _LISTING_TYPES for o in ld),
        link_share=0.0 if declared or words < MIN_WORDS else _link_share(tree),
        prose_share=prose_share(text),
        body_run=body_run(text, (h.text or "" for h in headlines)),
    )


def extract_page(
    html: str, url: str | None = None, content_language: str | None = None, crawled: str | None = None
) -> Extracted:
    """Main text, metadata and page type of one HTML page (url: the site's host is a name to strip from titles
    and bylines, its path's date a last resort; crawled: the crawl time, after which no written date is the
    publication date)."""
    tree = HTMLTree.parse(html)
    doc = tree.document
    if doc is None:
        return Extracted()
    ld = _json_ld(doc)
    article_ld = [o for o in ld if _ld_types(o) & _ARTICLE_TYPES]
    meta = _meta(doc)
    sites = _site_names(ld, meta, url)
    text = extract_plain_text(
        tree, preserve_formatting=True, main_content=True, list_bullets=False, alt_texts=False, comments=False
    ).strip()
    posts = _live_posts(ld, doc)
    if len(posts) >= LIVE_POSTS:
        text = "\n\n".join(posts)  # the posts in order, not what main-content extraction kept of them
    text = strip_boilerplate(text)
    title = clean_title(_title(doc, tree, article_ld, meta), sites)
    authors = _split_authors([n for obj in article_ld for n in _ld_names(obj.get("author"))])
    for key in _AUTHOR_META:
        authors = authors or _split_authors([meta[key]] if key in meta else [])
    authors = clean_authors(authors or _byline(doc), sites)
    lines = text.split("\n")
    if title and lines and _clean(lines[0]) in (title, _clean(tree.title)):
        text = "\n".join(lines[1:]).strip()  # the headline is the title, not the body
    declared = bool(article_ld) or (meta.get("og:type") or "").lower() == "article"
    words = count_words(text)
    shape = _shape(doc, tree, ld, declared, text, words, len(posts))
    kind, why = page_type(shape)
    language = _language(doc, meta, content_language, text)
    return Extracted(
        title=title,
        text=text,
        published_at=_published(doc, article_ld, meta, _Context(text, url, language, crawled)),
        authors=authors,
        language=language,
        declared_article=declared,
        link_share=shape.link_share,
        words=words,
        page_type=kind,
        page_type_reason=why,
        links=_outbound_links(html, text, url),
    )


def not_an_article(page: Extracted) -> str | None:
    """Why a page is not an article (too little text, a listing), or None when it is one (or a live blog)."""
    if page.words < MIN_WORDS:
        return f"not_an_article:too_little_text:{page.words}_words"
    if page.page_type == LISTING:
        return f"not_an_article:listing:{page.page_type_reason}"
    return None


_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_DECODERS = {
    "gzip": lambda b: zlib.decompress(b, 47),  # gzip or zlib header
    "x-gzip": lambda b: zlib.decompress(b, 47),
    "deflate": lambda b: _inflate(b),
    "br": lambda b: _brotli(b),
    "identity": lambda b: b,
}


def _inflate(body: bytes) -> bytes:
    try:
        return zlib.decompress(body)
    except zlib.error:
        return zlib.decompress(body, -15)  # raw deflate, as some servers send it


def _brotli(body: bytes) -> bytes:
    import brotli  # a dependency of FastWARC

    try:
        result: bytes = brotli.decompress(body)
    except brotli.error as exc:  # not a ValueError: give it the type the caller handles
        raise ValueError(f"brotli: {exc}") from exc
    return result


_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")


def dechunk(body: bytes) -> bytes | None:
    """The body with its HTTP chunked transfer coding undone, or None when it is not chunked (a chunk-size line
    first, each chunk followed by its line end, a last chunk of size 0). Many crawlers store the payload already
    de-chunked but keep the `Transfer-Encoding: chunked` header: such a body is not touched."""
    out: list[bytes] = []
    pos = 0
    while True:
        match = _CHUNK_SIZE.match(body, pos)
        if match is None:
            return None
        size = int(match.group(1), 16)
        pos = match.end()
        if size == 0:
            return b"".join(out)  # trailers after the last chunk are HTTP headers, not body
        if pos + size > len(body):
            return None
        out.append(body[pos : pos + size])
        pos += size
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
        elif pos < len(body):
            return None


def _transfer_decoded(body: bytes, headers: Mapping[str, str | None], tallies: dict[str, int]) -> bytes:
    """The body without its chunked transfer coding, when it really has one; which way it went is tallied."""
    if "chunked" not in (headers.get("transfer-encoding") or "").lower():
        return body
    plain = dechunk(body)
    way = "body:dechunked" if plain is not None else "body:chunked_header_not_chunked"
    tallies[way] = tallies.get(way, 0) + 1
    return body if plain is None else plain


# Charset labels that old pages declare but Python's codecs do not know, and labels whose WHATWG decoder is a
# superset of the codec of the same name (browsers decode them so, and so did the pages' authors' tools)
_CHARSET_LABELS = {
    "x-sjis": "cp932", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "windows-31j": "cp932",
    "ms_kanji": "cp932", "x-euc-jp": "euc_jp",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254",
    "tis-620": "cp874", "x-mac-roman": "mac_roman", "unicode-1-1-utf-8": "utf-8", "big5": "big5hkscs",
    "win-1251": "cp1251", "cp-1251": "cp1251", "windows-1251": "cp1251",
}  # fmt: skip
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([\w.:-]{2,40})", re.IGNORECASE)


def _charset_label(label: str | None) -> str:
    label = (label or "").strip().strip("\"'").lower()
    return _CHARSET_LABELS.get(label, label)


def _meta_charset(body: bytes) -> str | None:
    """The charset a <meta charset> or <meta http-equiv content="...; charset=..."> declares near the top."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _decode_body(body: bytes, headers: Mapping[str, str | None]) -> str | None:
    """The HTML as text: content encodings undone (the transfer coding is undone before), then the declared,
    meta or detected charset."""
    for coding in reversed([c.strip().lower() for c in (headers.get("content-encoding") or "").split(",") if c]):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            return None
        body = decoder(body)
    tried: set[str] = set()
    for guess in (  # what the server declared, then what the page declares, then detection
        lambda: headers.get("charset"),
        lambda: _meta_charset(body),
        lambda: detect_encoding(body, from_html_meta=True),
        lambda: detect_encoding(body),
        lambda: "utf-8",
    ):
        charset = _charset_label(guess())
        if not charset or charset in tried:
            continue
        tried.add(charset)
        try:
            return body.decode(charset).removeprefix("\ufeff")
        except (UnicodeDecodeError, LookupError):
            continue
    return None


_HTML_MARKS = re.compile(r"<(?:html|!doctype\s+html|head|body|title|meta|div|p)[\s>]", re.IGNORECASE)


def _looks_like_html(text: str) -> bool:
    """A body without a Content-Type that is HTML: an HTML tag in its first 16 KB (pages often begin with long
    comments, scripts or a byte-order mark)."""
    return _HTML_MARKS.search(text[:16384]) is not None


def _summary(record: WarcRecord | ArcRecord, offset: int, status: int | None, mime: str | None, **extra: object) -> str:
    """What ingest_rejects keeps of a rejected record instead of its body: where it is and what it was."""
    headers = record.headers
    fields: dict[str, object] = {
        "warc_offset": offset,
        "warc_record_id": headers.get("WARC-Record-ID"),
        "target_uri": headers.get("WARC-Target-URI"),
        "warc_date": headers.get("WARC-Date"),
        "http_status": status,
        "content_type": mime,
        "content_length": record.content_length,
    }
    fields.update(extra)
    return json.dumps(fields, ensure_ascii=False)


def _http_headers(record: WarcRecord | ArcRecord) -> dict[str, str | None]:
    http = record.http_headers
    return {
        "charset": record.http_charset,
        "content-encoding": http.get("Content-Encoding"),
        "transfer-encoding": http.get("Transfer-Encoding"),
        "content-language": http.get("Content-Language"),
        "location": http.get("Location"),
    }


def _record(
    record: WarcRecord | ArcRecord, offset: int, tallies: dict[str, int]
) -> tuple[dict[str, Any] | None, PreReject | None, bool]:
    """One response record as (canonical record, None) or (None, reject); the flag is True when truncated."""
    status = record.http_headers.status_code if record.is_http else None
    mime = (record.http_content_type or "").split(";")[0].strip().lower() or None if record.is_http else None
    expected = record.content_length
    body = record.reader.read(MAX_BODY_BYTES + 1)
    size = len(body) + (record.reader.consume() if len(body) > MAX_BODY_BYTES else 0)
    headers = _http_headers(record) if record.is_http else {}

    def reject(reason: str, **extra: object) -> tuple[None, PreReject, bool]:
        raw = _summary(record, offset, status, mime, **extra)
        return None, PreReject(offset, reason, raw), reason == "truncated_record"

    if size < expected or record.headers.get("Content-Length") is None:  # cut in its body or in its headers
        return reject("truncated_record", bytes_read=size)
    if not record.is_http or status is None:
        return reject("not_an_http_response")
    if status != 200:
        return reject(f"http_status:{status}", location=headers.get("location"))
    if mime is not None and mime not in _HTML_TYPES:
        return reject(f"non_html:{mime}")
    if len(body) > MAX_BODY_BYTES:
        return reject("body_too_large", bytes_read=size)
    try:
        html = _decode_body(_transfer_decoded(body, headers, tallies), headers)
    except (zlib.error, OSError, ValueError) as exc:
        return reject(f"undecodable_body:{type(exc).__name__}")
    if html is None:
        return reject("undecodable_body")
    if mime is None and not _looks_like_html(html):
        return reject("non_html:unknown")
    try:
        page = extract_page(
            html,
            record.headers.get("WARC-Target-URI"),
            headers.get("content-language"),
            record.headers.get("WARC-Date"),
        )
    except Exception as exc:  # one page the parser chokes on must not fail a file of thousands
        return reject(f"extraction_failed:{type(exc).__name__}")
    reason = not_an_article(page)
    if reason:
        return reject(reason)
    return (
        {
            "rn": offset,
            "source_id": None,
            "url": record.headers.get("WARC-Target-URI"),
            "outlet": None,
            "outlet_name": None,
            "title": page.title,
            "text": page.text,
            "authors": page.authors,
            "published_at": page.published_at,
            "language": page.language,
            "crawled_at": record.headers.get("WARC-Date"),
            "issues": [],
            "page_type": page.page_type,
            "page_type_reason": page.page_type_reason,
            "links": page.links,
        },
        None,
        False,
    )


def _member_per_record(path: Path) -> bool:
    """Whether a .warc.gz has more than one gzip member (WARC tools write one per record, so each record has an
    offset of its own); a whole file gzipped as one stream has a single member and no record offsets."""
    inflate = zlib.decompressobj(31)
    with open(path, "rb") as stream:
        while not inflate.eof:
            chunk = stream.read(1 << 16)
            if not chunk:
                return False
            try:
                inflate.decompress(chunk, 1 << 16)
                while inflate.unconsumed_tail and not inflate.eof:
                    inflate.decompress(inflate.unconsumed_tail, 1 << 16)
            except zlib.error:
                return True  # broken: FastWARC reads what it can and reports it
        return bool(inflate.unused_data or stream.read(1))


class _CutTolerantGzip(io.RawIOBase):
    """A file gzipped as one stream (members one after another), decompressed up to where it breaks off (then
    `cut` is True) instead of failing: the records before the break are read, the record it cuts is reported."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed with this stream
        self._inflate = zlib.decompressobj(31)
        self._pending = b""
        self._pos = 0
        self.cut = False

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (whence, offset) not in ((io.SEEK_CUR, 0), (io.SEEK_SET, self._pos)):
            raise io.UnsupportedOperation("seek")
        return self._pos

    def _fill(self, size: int) -> None:
        while len(self._pending) < size and not self.cut:
            if self._inflate.eof:
                rest = self._inflate.unused_data
                self._inflate = zlib.decompressobj(31)
                chunk = rest or self._file.read(1 << 16)
                if not chunk:
                    return  # the end, after a whole member
            else:
                chunk = self._inflate.unconsumed_tail or self._file.read(1 << 16)
                if not chunk:
                    self.cut = True  # the stream stops inside a member
                    return
            try:
                self._pending += self._inflate.decompress(chunk, max(size, 1 << 16))
            except zlib.error:
                self.cut = True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        self._fill(len(view))
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self._pos += n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def _open_warc(path: Path) -> IO[bytes]:
    """The file; a .warc.gz gzipped as one stream is read decompressed, so record offsets are in the WARC data."""
    stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
    if stream.read(2) == b"\x1f\x8b" and not _member_per_record(path):
        stream.close()
        return io.BufferedReader(_CutTolerantGzip(path))
    stream.seek(0)
    return stream


def _unread_record(path: Path, after: int | None) -> int | None:
    """The offset of a record that starts after the last record read (`after`; None: none was read) but that the
    reader never gave: one cut inside its own headers. Checked for files with a gzip member per record (the next
    member after the last one read) and for plain WARC files (a further `WARC/` header line)."""
    with open(path, "rb") as stream:
        data_start = stream.read(2)
        size = path.stat().st_size
        if data_start != b"\x1f\x8b":
            stream.seek(after or 0)
            rest = stream.read()
            if after is None:
                return 0 if rest.startswith(b"WARC/") else None
            found = rest.find(b"\r\n\r\nWARC/", 1)
            return None if found < 0 else after + found + 4
        if after is None:
            stream.seek(0)
            head = zlib.decompressobj(31).decompress(stream.read(1 << 16), 64)
            return 0 if head.startswith(b"WARC/") else None
        stream.seek(after)
        inflate = zlib.decompressobj(31)
        consumed = 0
        while not inflate.eof:
            chunk = stream.read(1 << 16)
            if not chunk:
                return None  # the last member read is itself cut: its record says so
            try:
                inflate.decompress(chunk)
            except zlib.error:
                return None
            consumed += len(chunk)
        following = after + consumed - len(inflate.unused_data)
        return following if following < size else None


class _ArcHttpHeaders:
    def __init__(self, http: Any) -> None:
        self._http = http
        self.status_code: int | None = None
        if http is not None:
            try:
                self.status_code = int(http.get_statuscode())
            except (TypeError, ValueError):
                self.status_code = None

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self._http.get_header(name) if self._http is not None else None
        return default if value is None else str(value)


class _ArcHeaders:
    def __init__(self, headers: Any) -> None:
        self._headers = headers

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self._headers.get_header(name)
        return default if value is None else str(value)


class _ArcReader:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        return data

    def consume(self) -> int:
        total = 0
        while chunk := self._stream.read(1 << 16):
            total += len(chunk)
        return total


class ArcRecord:
    """An ARC record as warcio reads it (turned into a WARC response record), with the attributes of a FastWARC
    record that `_record` reads, so ARC and WARC records go through the same rules."""

    def __init__(self, record: Any, offset: int) -> None:
        self.stream_pos = offset
        self.headers = _ArcHeaders(record.rec_headers)
        self.record_type = WarcRecordType.response if record.rec_type == "response" else WarcRecordType.unknown
        self.is_http = record.http_headers is not None
        self.http_headers = _ArcHttpHeaders(record.http_headers)
        self.http_content_type = self.http_headers.get("Content-Type")
        charset = re.search(r"charset=[\"']?([\w.:-]+)", self.http_content_type or "", re.IGNORECASE)
        self.http_charset = charset.group(1) if charset else None
        self.content_length = int(getattr(record.raw_stream, "limit", 0) or 0)  # the payload's declared length
        self.reader = _ArcReader(record.raw_stream)


def _is_arc(path: Path) -> bool:
    """An ARC file (plain or gzipped) begins with its `filedesc://` header record."""
    with open(path, "rb") as stream:
        head = stream.read(1 << 12)
    if head.startswith(b"\x1f\x8b"):
        head = zlib.decompressobj(31).decompress(head, 16)
    return head.startswith(b"filedesc:")


def _arc_records(stream: IO[bytes]) -> Iterator[ArcRecord]:
    """The records of an ARC file, read by warcio (FastWARC reads WARC only); each at its byte offset (of its
    gzip member in an .arc.gz)."""
    from warcio.archiveiterator import ArchiveIterator as ArcIterator
    from warcio.exceptions import ArchiveLoadFailed

    records = ArcIterator(stream, arc2warc=True)
    try:
        for record in records:
            yield ArcRecord(record, int(records.offset))  # where this record starts (set before it is read)
    except ArchiveLoadFailed as exc:
        raise OSError(f"ARC record: {exc}") from exc


def read_warc(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """Response records of a WARC (.warc, .warc.gz) or ARC file (.arc, .arc.gz, told by its content) in batches; a
    broken stream ends the file with `error` set. Revisit records (a page seen before, stored without its body)
    are counted as skipped."""
    records: list[dict[str, Any]] = []
    rejects: list[PreReject] = []
    summaries: dict[int, str] = {}
    skipped: dict[str, int] = {}
    tallies: dict[str, int] = {}
    seen = 0
    offset: int | None = None
    error: str | None = None

    def batch(**extra: Any) -> RawBatch:
        return RawBatch(
            records_frame(records), rejects, raw_lookup(summaries), skipped=skipped, tallies=tallies, **extra
        )

    arc = _is_arc(path)
    try:
        with open(path, "rb") if arc else _open_warc(path) as stream:
            source: Iterator[WarcRecord | ArcRecord] = (
                _arc_records(stream) if arc else iter(ArchiveIterator(stream, parse_http=True))
            )
            for record in source:
                seen += 1
                offset = record.stream_pos
                if record.headers.get("Content-Length") is None:  # cut inside its WARC headers
                    rejects.append(PreReject(offset, "truncated_record", _summary(record, offset, None, None)))
                    error = f"{path}: truncated: the record at byte offset {offset} ends inside its headers"
                    continue
                if record.record_type == WarcRecordType.revisit:
                    record.reader.consume()
                    skipped["skipped:revisit"] = skipped.get("skipped:revisit", 0) + 1
                    continue
                if record.record_type != WarcRecordType.response:
                    record.reader.consume()
                    continue
                good, bad, truncated = _record(record, offset, tallies)
                if bad is not None:
                    rejects.append(bad)
                    if truncated:
                        error = f"{path}: truncated: the record at byte offset {offset} ends early"
                elif good is not None:
                    records.append(good)
                    summaries[offset] = _summary(record, offset, 200, "text/html")
                if len(records) + len(rejects) + sum(skipped.values()) >= batch_size:
                    yield batch()
                    records, rejects, summaries, skipped, tallies = [], [], {}, {}, {}
            raw = getattr(stream, "raw", None)
            cut = isinstance(raw, _CutTolerantGzip) and raw.cut
    except (OSError, EOFError, zlib.error) as exc:  # a broken gzip member or stream, an unreadable file
        if seen == 0:
            raise ReadError(f"{path}: cannot read: {exc}") from exc
        error = f"{path}: unreadable after the record at byte offset {offset} ({exc}); records before it are loaded"
    else:
        unread = None if arc else _unread_record(path, offset)
        if unread is not None:
            seen += 1
            rejects.append(PreReject(unread, "truncated_record", json.dumps({"warc_offset": unread})))
            error = f"{path}: truncated: the record at byte offset {unread} ends inside its headers"
        elif cut and error is None:
            error = f"{path}: truncated: the gzip stream ends early, after the record at byte offset {offset}"
    if seen == 0 and path.stat().st_size > 0:
        raise ReadError(f"{path}: not a WARC file (no WARC record found)")
    yield batch(error=error)
