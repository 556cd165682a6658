"""Generate a WARC of news-site HTML pages from the shared corpus texts, with the truth of every page.

The texts, titles, dates, authors and URLs are the shared corpora's; the HTML around them is made here, in three
page layouts of the kind news sites use (JSON-LD + <article>; <meta> tags + div soup with ads, a most-read box
and comments; a bare page with a visible date line and byline only), so that an extractor has boilerplate to
remove and metadata to find. Besides articles the WARC holds what a news crawl holds: section fronts (index
pages of teasers), short photo pages, PDFs and images, 404s, redirects, and request records.

Example: python -m bench.warc_corpus --shared ../shared --pages 12000 --out bench/out/news.warc.gz
"""

from __future__ import annotations

import argparse
import html
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

SECTIONS = ("politics", "world", "business", "health", "science", "opinion", "sport")
_MOST_READ = (
    "Ten things to know before the markets open",
    "Weather service warns of heavy rain this weekend",
    "Quiz: how well did you follow this week's news?",
    "Local team wins in overtime thriller",
    "Recipe: a quick pasta for busy evenings",
)
_COMMENTS = (
    "Great article, thanks for sharing!",
    "I completely disagree with the premise here. Did anyone check the numbers?",
    "This is exactly what I have been saying for years.",
)


@dataclass
class Page:
    url: str
    kind: str  # article, index, short, pdf, image, 404, redirect
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    title: str | None = None
    text: str | None = None
    date: str | None = None  # YYYY-MM-DD
    authors: list[str] = field(default_factory=list)
    language: str | None = None


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _site(url: str) -> str:
    host = url.split("/")[2] if "://" in url else url
    return host.removeprefix("www.")


def _nav(site: str) -> str:
    links = "".join(f'<li><a href="/{s}">{s.title()}</a></li>' for s in SECTIONS)
    return f'<header><a class="logo" href="/">{html.escape(site)}</a><nav><ul>{links}</ul></nav></header>'


def _footer(site: str) -> str:
    return (
        '<footer><div class="newsletter">Sign up for our daily newsletter. Get the best stories in your inbox.'
        '<form><input type="email"><button>Subscribe</button></form></div>'
        f"<p>&copy; {html.escape(site)}. All rights reserved. Terms of use. Privacy policy. Cookie settings."
        " Contact us. Advertise with us.</p></footer>"
    )


def _byline(authors: list[str]) -> str:
    return "By " + " and ".join(authors) if authors else ""


def _visible_date(date: str) -> str:
    return datetime.fromisoformat(date).strftime("%B %-d, %Y")


def article_page(row: dict[str, object], layout: int, rng: random.Random) -> str:
    """One article as a page in layout 0 (JSON-LD, <article>), 1 (<meta>, div soup) or 2 (bare)."""
    title, url, lang = str(row["title"]), str(row["url"]), str(row["language"])
    date = row["date"] if isinstance(row["date"], str) else None
    authors = [str(a) for a in row["authors"]]  # type: ignore[attr-defined]
    paras = [f"<p>{html.escape(p)}</p>" for p in _paragraphs(str(row["text"]))]
    site = _site(url)
    esc_title = html.escape(title)
    if layout == 0:
        ld: dict[str, object] = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title}
        if date:
            ld["datePublished"] = f"{date}T{rng.randrange(6, 22):02d}:{rng.randrange(60):02d}:00Z"
        if authors:
            ld["author"] = [{"@type": "Person", "name": a} for a in authors]
        head = (
            f"<title>{esc_title} | {html.escape(site)}</title>"
            f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        )
        meta = f'<p class="byline">{html.escape(_byline(authors))}</p>' if authors else ""
        if date:
            meta += f'<time datetime="{date}">{_visible_date(date)}</time>'
        related = "".join(f'<li><a href="/r/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(_MOST_READ[:3]))
        body = (
            f"{_nav(site)}<main><article><h1>{esc_title}</h1>{meta}{''.join(paras)}</article>"
            f"<aside><h2>Related</h2><ul>{related}</ul></aside></main>{_footer(site)}"
        )
        return f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    if layout == 1:
        head = f'<title>{esc_title}</title><meta property="og:title" content="{esc_title}">'
        if authors:
            head += f'<meta name="author" content="{html.escape(", ".join(authors))}">'
        if date:
            head += f'<meta property="article:published_time" content="{date}T08:00:00+00:00">'
        ad = '<div class="ad">Advertisement</div>'
        mixed = [p + (ad if i % 4 == 3 else "") for i, p in enumerate(paras)]
        most_read = "".join(f'<li><a href="/m/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(_MOST_READ))
        comments = "".join(f'<div class="comment"><b>reader{i}</b><p>{c}</p></div>' for i, c in enumerate(_COMMENTS))
        body = (
            f'{_nav(site)}<div id="wrap"><div id="content"><div class="headline"><h1>{esc_title}</h1></div>'
            f'<div class="story-body">{"".join(mixed)}</div>'
            f'<div id="comments"><h3>{len(_COMMENTS)} comments</h3>{comments}</div></div>'
            f'<div id="sidebar"><h3>Most read</h3><ol>{most_read}</ol>{ad}</div></div>{_footer(site)}'
        )
        return f'<html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    date_line = f'<div class="date">Published {_visible_date(date)}</div>' if date else ""
    by = f'<div class="author">{html.escape(_byline(authors))}</div>' if authors else ""
    return (
        f'<html><head><meta charset="utf-8"><title>{esc_title}</title></head><body>{_nav(site)}'
        f'<div class="main"><h1>{esc_title}</h1>{date_line}{by}{"".join(paras)}</div>{_footer(site)}</body></html>'
    )


def index_page(site: str, section: str, teasers: list[tuple[str, str, str]]) -> str:
    """A section front: a list of teasers (headline, first sentence, link)."""
    items = "".join(
        f'<div class="teaser"><h3><a href="{html.escape(u)}">{html.escape(t)}</a></h3><p>{html.escape(s)}</p></div>'
        for t, s, u in teasers
    )
    return (
        f"<html><head><title>{section.title()} news | {html.escape(site)}</title></head><body>{_nav(site)}"
        f'<main><h1>{section.title()}</h1><div class="river">{items}</div></main>{_footer(site)}</body></html>'
    )


def short_page(site: str, title: str) -> str:
    """A photo page: a headline and a one-line caption."""
    return (
        f"<html><head><title>{html.escape(title)}</title></head><body>{_nav(site)}<main><h1>{html.escape(title)}</h1>"
        f'<figure><img src="/p.jpg"><figcaption>Photo: staff.</figcaption></figure></main>{_footer(site)}</body></html>'
    )


def load_rows(shared: Path, seed: int = 7) -> pl.DataFrame:
    """Articles with url, title, text, date, authors (list) and language, English and German, shuffled."""
    corpora = shared / "data" / "corpora"
    allsides = pl.read_parquet(corpora / "allsides_2012_2020.parquet").select(
        "url", "title", "text", "date", "authors", language=pl.lit("en")
    )
    extra = pl.read_parquet(corpora / "extra_2010_2021.parquet").select(
        "url", "title", "text", "date", "authors", "language"
    )
    rows = pl.concat([allsides, extra]).filter(
        pl.col("url").str.starts_with("http") & pl.col("title").is_not_null() & (pl.col("text").str.len_chars() > 0)
    )
    return (
        rows.unique("url", keep="first", maintain_order=True)
        .with_columns(
            authors=pl.col("authors")
            .fill_null("")
            .str.split(",")
            .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""))
        )
        .sample(fraction=1.0, shuffle=True, seed=seed)
    )


def pages(rows: pl.DataFrame, n: int, seed: int = 7) -> Iterator[Page]:
    """n pages: ~86% articles (three layouts, resampled with new URLs beyond the corpus), the rest other pages."""
    rng = random.Random(seed)
    records = rows.to_dicts()
    for i in range(n):
        row = records[i % len(records)]
        url = str(row["url"]) if i < len(records) else f"{row['url']}?page-copy={i}"
        site = _site(url)
        roll = rng.random()
        if roll < 0.86:
            layout = i % 3
            body = article_page(row, layout, rng).encode()
            yield Page(
                url,
                "article",
                body,
                title=str(row["title"]),
                text="\n".join(_paragraphs(str(row["text"]))),
                date=row["date"] if isinstance(row["date"], str) else None,
                authors=list(row["authors"]),  # type: ignore[call-overload]
                language=str(row["language"]),
            )
        elif roll < 0.91:
            section = SECTIONS[i % len(SECTIONS)]
            teasers = []
            for j in range(1, 16):
                other = records[(i + j * 7) % len(records)]
                first = _paragraphs(str(other["text"]))[0][:160]
                teasers.append((str(other["title"]), first, str(other["url"])))
            yield Page(f"https://{site}/{section}/?p={i}", "index", index_page(site, section, teasers).encode())
        elif roll < 0.93:
            yield Page(f"https://{site}/photos/{i}", "short", short_page(site, str(row["title"])).encode())
        elif roll < 0.95:
            pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
            yield Page(f"https://{site}/files/report-{i}.pdf", "pdf", pdf, content_type="application/pdf")
        elif roll < 0.96:
            yield Page(
                f"https://{site}/img/{i}.png", "image", b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png"
            )
        elif roll < 0.98:
            body = b"<html><head><title>Page not found</title></head><body><h1>404</h1><p>Sorry.</p></body></html>"
            yield Page(f"https://{site}/gone/{i}", "404", body, status=404)
        else:
            yield Page(
                f"http://{site}/old/{i}",
                "redirect",
                b"",
                status=301,
                headers=[("Location", f"https://{site}/new/{i}")],
            )


_REASONS = {200: "OK", 301: "Moved Permanently", 404: "Not Found"}


def write_warc(path: Path, items: Iterator[Page], *, gzip: bool = True, requests: bool = True) -> list[Page]:
    """Write pages as WARC response records (each after its request record); return the pages written."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    written = []
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "presstrust bench"}))
        for page in items:
            if requests:
                req = StatusAndHeaders("GET / HTTP/1.1", [("Host", _site(page.url))], is_http_request=True)
                writer.write_record(writer.create_warc_record(page.url, "request", http_headers=req))
            headers = [("Content-Type", page.content_type), ("Content-Length", str(len(page.body))), *page.headers]
            status = StatusAndHeaders(f"{page.status} {_REASONS[page.status]}", headers, protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    page.url,
                    "response",
                    payload=io.BytesIO(page.body),
                    http_headers=status,
                    warc_headers_dict={"WARC-Date": "2024-03-05T10:20:30Z"},
                )
            )
            written.append(page)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--pages", type=int, default=12_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    written = write_warc(args.out, pages(load_rows(args.shared), args.pages))
    kinds: dict[str, int] = {}
    for page in written:
        kinds[page.kind] = kinds.get(page.kind, 0) + 1
    print(f"wrote {len(written)} pages to {args.out}: {kinds}")


if __name__ == "__main__":
    main()
