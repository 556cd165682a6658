"""Page type, dates, bylines, titles and boilerplate of archived pages (jobs/readers/pages.py, through
jobs/readers/warc.py's extract_page)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.readers.pages import (
    LISTING,
    LIVE_BLOG,
    best_published,
    clean_authors,
    clean_title,
    declared_date,
    strip_boilerplate,
    url_date,
    visible_date,
)
from jobs.readers.warc import extract_page, not_an_article
from tests.jobs.readers.test_warc import _SENTENCES, body_text


def _paragraphs(n: int = 6) -> str:
    return "".join(f"<p>{p}</p>" for p in body_text(paragraphs=n))


def test_a_section_front_that_declares_an_article_is_a_listing() -> None:
    ld = {"@type": "NewsArticle", "headline": "Politics", "datePublished": "2021-10-18", "author": "Desk"}
    teasers = "".join(
        f'<div class="teaser"><h3><a href="/p/{i}">Story {i}: the council votes again</a></h3>'
        f"<p>{_SENTENCES[i % 5]} {_SENTENCES[(i + 1) % 5]}</p><time datetime='2021-10-1{i % 9}'>Oct</time></div>"
        for i in range(12)
    )
    html = (
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head><body>{teasers}</body></html>'
    )
    page = extract_page(html)
    assert page.declared_article and page.page_type == LISTING
    assert not_an_article(page) == "not_an_article:listing:teaser_headlines_12"


def test_a_paged_archive_is_a_listing() -> None:
    items = "".join(
        f'<li><h2><a href="/a/{i}">Archive entry {i}</a></h2><p>{_SENTENCES[i % 5]}</p></li>' for i in range(6)
    )
    html = f'<html><body><ul>{items}</ul>{_paragraphs(2)}<a rel="next" href="?page=2">Next</a></body></html>'
    assert not_an_article(extract_page(html)) == "not_an_article:listing:paging_and_headlines_6"


def test_an_article_with_a_few_related_links_stays_an_article() -> None:
    related = "".join(f'<h3><a href="/r/{i}">Related story {i}</a></h3>' for i in range(5))
    html = f"<html><body><article><h1>Bus plan</h1>{_paragraphs()}</article><aside>{related}</aside></body></html>"
    page = extract_page(html)
    assert page.page_type == "article" and not_an_article(page) is None


def test_a_live_blog_is_one_article_of_its_posts_in_time_order() -> None:
    posts = [
        (f"2021-10-18T1{h}:00:00+02:00", f"Update at 1{h}: {_SENTENCES[h % 5]} {_SENTENCES[(h + 2) % 5]}")
        for h in range(7)
    ]
    markup = "".join(
        f'<div class="post"><time datetime="{when}">{when[11:16]}</time><p>{text}</p></div>'
        for when, text in reversed(posts)
    )
    script = "<script>//<![CDATA[\nvar x = 1;\n// ]]></script>"
    html = (
        f"<html><head><title>Live: the vote</title></head><body><h1>Live: the vote</h1>{script}{markup}</body></html>"
    )
    page = extract_page(html)
    assert page.page_type == LIVE_BLOG and not_an_article(page) is None
    order = [page.text.index(f"Update at 1{h}") for h in range(7)]
    assert order == sorted(order) and "]]>" not in page.text


def test_a_live_blog_from_its_json_ld_updates() -> None:
    updates = [
        {"@type": "BlogPosting", "headline": f"Post {i}", "articleBody": f"{_SENTENCES[i % 5]} " * 3,
         "datePublished": f"2021-10-18T1{i}:00:00Z"}
        for i in (3, 1, 2, 0, 4)
    ]  # fmt: skip
    ld = {"@type": "LiveBlogPosting", "headline": "Election night", "liveBlogUpdate": updates}
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    html = f"<html><head>{script}</head><body><p>Loading</p></body></html>"
    page = extract_page(html)
    assert page.page_type == LIVE_BLOG and page.page_type_reason == "live_posts_5"
    assert [page.text.index(f"Post {i}") for i in range(5)] == sorted(page.text.index(f"Post {i}") for i in range(5))


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Frissítve: 2018.08.03. 14:05", "2018-08-03T14:05"),
        ("2021. október 18.", "2021-10-18"),
        ("Publicat 18 octombrie 2021, ora 10:30", "2021-10-18T10:30"),
        ("am 3. August 2018 um 12:14 Uhr", "2018-08-03T12:14"),
        ("le 3 août 2018", "2018-08-03"),
        ("Published March 2, 2024", "2024-03-02"),
        ("03.08.2018", "2018-08-03"),
        ("2021-13-40 is not a date", None),
        ("Tuesday, Aug. 17, 2010", "2010-08-17"),
        ("jueves, 09 enero 2014 - 10:21 h", "2014-01-09T10:21"),
        ("quinta-feira, 9 de janeiro de 2014 às 10:21", "2014-01-09T10:21"),
        ("giovedì 9 gennaio 2014, alle 10:21", "2014-01-09T10:21"),
        ("Donnerstag, 9. Januar 2014, 10:21 Uhr", "2014-01-09T10:21"),
        ("jeudi 9 janvier 2014 à 10h21", "2014-01-09T10:21"),
        ("August 13, 2010 7:08 p.m. EDT", "2010-08-13T19:08"),
        ("Dec. 1, 2012 12:05 a.m.", "2012-12-01T00:05"),
        ("Palma | 08/01/2014", "2014-01-08"),  # day first, unless the page is English
        ("Sunset 12, 2010", None),  # a month's abbreviation inside a word is no month
    ],
)
def test_visible_dates_in_several_languages(text: str, iso: str | None) -> None:
    assert visible_date(text) == iso


def test_slashed_dates_read_month_first_on_english_pages_unless_only_one_order_is_a_date() -> None:
    assert visible_date("08/01/2014", month_first=True) == "2014-08-01"
    assert visible_date("13/01/2014", month_first=True) == "2014-01-13"
    assert visible_date("01/13/2014") == "2014-01-13"


def test_a_date_before_the_web_or_after_the_crawl_is_not_the_publication_date() -> None:
    # the 1935 date an article about Social Security's anniversary mentions in its highlights
    text = "The Social Security Act was signed into law on August 14, 1935.\nPosted August 13, 2010"
    assert visible_date(text) == "2010-08-13"
    assert visible_date("signed into law on August 14, 1935") is None
    assert visible_date("Due March 2, 2031; posted March 2, 2024", not_after="2024-03-05") == "2024-03-02"
    html = (
        "<html><body><article><h1>Democrats to use Social Security</h1><ul><li>The Social Security Act was signed"
        f" into law on August 14, 1935</li></ul>{_paragraphs()}</article></body></html>"
    )
    assert extract_page(html).published_at is None


@pytest.mark.parametrize(
    ("url", "iso"),
    [
        ("http://www.huffingtonpost.com/2011/10/06/alabama-workers/", "2011-10-06"),
        ("http://www.guardian.co.uk/film/2011/nov/18/kristen-wiig-bridesmaids", "2011-11-18"),
        ("http://www.polygon.com/2014/6/26/5842180/shovel-knight", "2014-06-26"),
        ("http://www.cnn.com/2010/POLITICS/08/13/democrats/index.html", None),  # not a whole y/m/d path
        ("http://example.com/2013/13/01/x", None),
        ("http://example.com/1900/01/01/x", None),
        ("http://example.com/story/2012/05?id=2011/10/06/", None),  # a query is not the path
        ("http://example.com/20111006/x", None),
    ],
)
def test_the_date_of_a_url_path(url: str, iso: str | None) -> None:
    assert url_date(url) == iso


def test_a_url_date_is_the_last_resort() -> None:
    url = "http://techcrunch.com/2011/08/13/zuckerberg/"
    bare = f"<html><body><article><h1>H</h1>{_paragraphs()}</article></body></html>"
    assert extract_page(bare, url).published_at == "2011-08-13"
    dated = f"<html><body><article><h1>H</h1><p>Aug. 14, 2011 10:05 p.m.</p>{_paragraphs()}</article></body></html>"
    assert extract_page(dated, url).published_at == "2011-08-14T22:05"
    assert url_date(url, not_after="2011-08-12") is None
    assert extract_page(bare, url, crawled="2011-08-12T09:00:00Z").published_at is None  # crawled before that day
    assert extract_page(dated, url, crawled="2011-08-12T09:00:00Z").published_at is None


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("Tuesday, Aug. 17, 2010", "2010-08-17"),
        ("Sat, 09 Oct 2010 07:15:45 EST", "2010-10-09T07:15"),  # the day and clock the page gives
        ("2018/06/18", "2018-06-18"),
        ("20100812", "2010-08-12"),
        ("2021-10-18T23:30:00-05:00", "2021-10-18T23:30:00-05:00"),  # ISO 8601 is kept as given, with its offset
        ("1634567890", "1634567890"),
        ("not a date", "not a date"),
    ],
)
def test_declared_dates_that_are_not_iso_are_read_as_written(value: str, iso: str) -> None:
    assert declared_date(value) == iso


def test_the_published_time_element_wins_over_a_modified_one_and_a_display_string() -> None:
    html = (
        '<html><body><header><time datetime="jueves, 09 enero 2014 10:21">jueves, 09 enero 2014</time></header>'
        '<article><h1>H</h1><p>Mis à jour <time itemprop="dateModified" datetime="2013-04-06T10:37:32+02:00">'
        'le 06/04/2013</time> Publié <time itemprop="datePublished" datetime="2013-04-05T17:08:23+02:00">'
        f"le 05/04/2013</time></p>{_paragraphs()}</article></body></html>"
    )
    assert extract_page(html).published_at == "2013-04-05T17:08:23+02:00"
    served = (
        '<html lang="es"><body><header><time datetime="jueves, 09 enero 2014 10:21">jueves</time></header>'
        f"<article><h1>H</h1><p>Patricio Candia | Palma de Mallorca | 08/01/2014</p>{_paragraphs()}</article>"
        "</body></html>"
    )
    assert extract_page(served).published_at == "2014-01-08"


def test_meta_dates_in_other_names_and_forms() -> None:
    for name, value, iso in (
        ("date", "Tuesday, Aug. 17, 2010", "2010-08-17"),
        ("publish_date", "Sat, 09 Oct 2010 07:15:45 EST", "2010-10-09T07:15"),
        ("cXenseParse:recs:publishtime", "2018-06-18T10:01:00.000Z", "2018-06-18T10:01:00.000Z"),
    ):
        html = f'<html><head><meta name="{name}" content="{value}"></head><body><article>{_paragraphs()}</article>'
        assert extract_page(html + "</body></html>").published_at == iso


def test_a_date_only_json_ld_value_gives_way_to_a_meta_tag_with_the_time() -> None:
    assert best_published(["2021-10-18", None, "2021-10-18T14:05:00+02:00"]) == "2021-10-18T14:05:00+02:00"
    assert best_published(["2021-10-18", "2021-10-19T14:05:00"]) == "2021-10-18"  # another day: the first stays
    ld = {"@type": "NewsArticle", "headline": "H", "datePublished": "2021-10-18"}
    html = (
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script>'
        '<meta property="article:published_time" content="2021-10-18T14:05:00+02:00"></head>'
        f"<body><article>{_paragraphs()}</article></body></html>"
    )
    assert extract_page(html).published_at == "2021-10-18T14:05:00+02:00"


def test_a_visible_hungarian_date_is_the_publication_date() -> None:
    html = f"<html><body><article><h1>Cím</h1><p>2021. október 18. 14:05</p>{_paragraphs()}</article></body></html>"
    assert extract_page(html).published_at == "2021-10-18T14:05"


def test_bylines_lose_dates_weekdays_urls_and_the_publisher() -> None:
    names = [
        "Kovács János péntek 12:14",
        "https://twitter.com/someone",
        "444",
        "Jan Novak",
        "By Jane Doe, 2021. október 18.",
    ]
    assert clean_authors(names, ["444.hu"]) == ["Kovács János", "Jan Novak", "Jane Doe"]
    html = (
        '<html><head><meta name="author" content="Mérce"><meta property="og:site_name" content="Mérce"></head>'
        f'<body><div class="byline">Szabó Éva, péntek 12:14</div><article>{_paragraphs()}</article></body></html>'
    )
    assert extract_page(html).authors == []  # the publisher is no author; the meta tag wins over the byline


def test_bylines_lose_times_prepositions_prefixes_and_roles() -> None:
    names = [
        "Griffin McElroy on",
        "at 9:00a",
        "USA TODAY a.m. EDT",
        "Soumis par Titiou Lecoq",
        "le à 15h46",
        "Von Max Muster",
        "Por Ana Pérez",
        "RACHEL METZ - AP Technology Writer AP – 1 hr 4 mins ago",
        "Maria Lopez de la Cruz",
        "De la Cruz",
        "David Von Drehle",
        "Von Drehle",
        "de Juan Gómez",
    ]
    assert clean_authors(names, ["usatoday.com"]) == [
        "Griffin McElroy",
        "Titiou Lecoq",
        "Max Muster",
        "Ana Pérez",
        "RACHEL METZ",
        "Maria Lopez de la Cruz",
        "De la Cruz",  # a name's particle is no prefix
        "David Von Drehle",
        "Von Drehle",
        "Juan Gómez",
    ]


def test_the_publisher_of_the_pages_metadata_is_no_author_but_an_agency_otherwise_stays() -> None:
    page = (
        '<html><head><meta name="author" content="{author}"><meta name="DC.publisher" content="{publisher}">'
        f'<meta property="og:site_name" content="Site"></head><body><article>{_paragraphs()}</article></body></html>'
    )
    assert extract_page(page.format(author="Ediciones El País", publisher="Ediciones El País")).authors == []
    assert extract_page(page.format(author="AP", publisher="AP")).authors == []
    assert extract_page(page.format(author="AP", publisher="The Huffington Post")).authors == ["AP"]


@given(st.lists(st.text(max_size=40), max_size=5))
def test_clean_authors_never_returns_a_url_or_a_time(names: list[str]) -> None:
    for name in clean_authors(names):
        assert "http" not in name.lower() or "://" not in name
        assert name.strip() == name and name


def test_titles_lose_the_site_name_and_a_section_header_is_not_the_title() -> None:
    assert clean_title("Ez történt - 444", ["444.hu"]) == "Ez történt"
    assert clean_title("Valami történt « Mérce", ["Mérce"]) == "Valami történt"
    assert clean_title("A headline: with a colon", ["Example"]) == "A headline: with a colon"
    html = (
        "<html><head><title>Council expands bus network | Example News</title></head><body><h1>Blogs</h1>"
        f"<article>{_paragraphs()}</article></body></html>"
    )
    assert extract_page(html, "https://www.example-news.com/blogs/1").title == "Council expands bus network"


def test_widget_and_prompt_lines_and_script_fragments_are_removed() -> None:
    prose = "The plan costs twelve million, and a newsletter reported it first to the readers."
    text = "\n".join(
        ["The council voted on Tuesday.", "Tetszett a cikk?", "// ]]>", "Névnap: Lukács", "Támogasd a munkánkat!",
         "Sign up for our newsletter", "Címkék:", prose]
    )  # fmt: skip
    assert strip_boilerplate(text) == f"The council voted on Tuesday.\n{prose}"


def test_a_body_of_paragraphs_outweighs_the_teasers_around_it() -> None:
    """Real articles carry related-story teasers, most-read lists and pagers: a run of paragraphs is their body."""
    related = "".join(
        f'<h3><a href="/r/{i}">Related story {i} about the council and its buses</a></h3>' for i in range(12)
    )
    html = f"<html><body><article><h1>Bus plan</h1>{_paragraphs(8)}</article><aside>{related}</aside></body></html>"
    page = extract_page(html)
    assert page.page_type == "article" and page.page_type_reason.endswith("_over_teaser_headlines_12")
    assert not_an_article(page) is None


def test_a_front_of_long_headlines_and_summaries_is_no_body() -> None:
    """Teaser headlines of sentence length between one-paragraph summaries break the run: still a listing."""
    teasers = "".join(
        f'<div class="teaser"><h3><a href="/s/{i}">The council votes on the new bus network, part {i} of a series</a>'
        f"</h3><p>{_SENTENCES[i % 5]} {_SENTENCES[(i + 1) % 5]}</p></div>"
        for i in range(12)
    )
    page = extract_page(f"<html><body><main>{teasers}</main></body></html>")
    assert page.page_type == LISTING and page.page_type_reason == "teaser_headlines_12"


def test_sign_up_boxes_tag_labels_and_cookie_notices_are_removed_but_prose_about_them_stays() -> None:
    """Lines seen in real pages (pages.csv): a newsletter box, "RELATED TOPICS", "Log In Sign Up", a cookie notice
    in Latvian; a sentence that says "related to" or mentions a newsletter in passing stays."""
    prose = "Three flights were cancelled, none of them related to the weather, the airline said on Tuesday."
    mention = (
        "The council's own newsletter, sent to every household in the borough since the spring of 2012, had warned "
        "residents about the closures weeks before the vote."
    )
    lines = [
        prose,
        "Subscribe to the HuffPost Money newsletter!",
        "RELATED TOPICS",
        "Log In Sign Up",
        "J'accepte de recevoir la newsletter quotidienne du Figaro.fr",
        'Informējam, ka LSM portālā tiek izmantotas sīkdatnes (angļu val. "cookies"). Turpinot lietot šo portālu.',
        mention,
    ]
    assert strip_boilerplate("\n".join(lines)) == f"{prose}\n{mention}"
