"""What an archived HTML page is and the clean-up of what is read from it (jobs/readers/warc.py uses these).

- The page type (article, listing, live_blog, other) with its reason, judged by the page's structure: headline
  links in teaser blocks, paging, many dated items, text that is a list rather than prose, the share of words in
  links; declared metadata alone does not make an article (section fronts declare NewsArticle too).
- Visible publication dates in several languages and numeric forms ("2018.08.03.", "2021. október 18.",
  "3. August 2018", "18 octombrie 2021") as ISO dates, and the best of the declared dates (a date-only value
  gives way to one with the time on the same day).
- Bylines without dates, weekdays, times, URLs or the publisher; titles without the site's name appended.
- Widget and prompt lines (newsletter, donation, push-notification and ad-blocker appeals, "did you like this
  article?", name-day and weather boxes) and script fragments (`// ]]>`) removed from the text.

Pure functions on strings and counts, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ARTICLE, LISTING, LIVE_BLOG, OTHER = "article", "listing", "live_blog", "other"

TEASER_HEADLINES = 10  # headline links (h2-h4 with a link) from which a page is a front of teasers
PAGED_HEADLINES = 5  # with paging (rel=next, a pager), this many headline links make a listing
DATED_HEADLINES = 6  # headline links with as many dated items: an archive or section page
LIVE_POSTS = 5  # timestamped posts (in a live blog's markup, or its JSON-LD updates) that make a live blog
MIN_PROSE_SHARE = 0.35  # under this share of the words in sentence-long lines, the text is a list, not prose
MAX_LINK_SHARE = 0.25  # more of the page's words inside links: an index page, unless it declares an article
BODY_RUN_WORDS = 120  # words in one unbroken run of sentence-long paragraphs: an article's body, whatever is around it


@dataclass(frozen=True)
class Shape:
    """What a page's structure shows (counted in jobs/readers/warc.py)."""

    headline_links: int = 0  # h2-h4 headings holding a link (or links holding one): teasers
    dated_items: int = 0  # <time> elements
    paging: bool = False  # rel=next, a pager or pagination block
    live_posts: int = 0  # live-blog posts: JSON-LD liveBlogUpdate entries or post blocks with a time
    declared_article: bool = False  # JSON-LD @type or og:type says article
    declared_listing: bool = False  # JSON-LD CollectionPage, ItemList, SearchResultsPage, ...
    link_share: float = 0.0
    prose_share: float = 1.0  # share of the main text's words in lines of 8 words or more
    body_run: int = 0  # words of the main text's longest run of sentence-long lines (body_run())


def page_type(shape: Shape) -> tuple[str, str]:
    """(type, reason): what the page is, and the structural fact that decided it. A body of paragraphs (a run of
    BODY_RUN_WORDS words or more) outweighs the teasers, pager and links around it: the reason then names both."""
    if shape.live_posts >= LIVE_POSTS:
        return LIVE_BLOG, f"live_posts_{shape.live_posts}"
    listing = _listing_reason(shape)
    if listing is None:
        return ARTICLE, "declared" if shape.declared_article else "prose"
    if shape.body_run >= BODY_RUN_WORDS and listing != "declared_listing" and not listing.startswith("list_text"):
        return ARTICLE, f"body_run_{shape.body_run}_over_{listing}"
    return LISTING, listing


def _listing_reason(shape: Shape) -> str | None:
    if shape.headline_links >= TEASER_HEADLINES:
        return f"teaser_headlines_{shape.headline_links}"
    if shape.paging and shape.headline_links >= PAGED_HEADLINES:
        return f"paging_and_headlines_{shape.headline_links}"
    if shape.dated_items >= DATED_HEADLINES and shape.headline_links >= DATED_HEADLINES:
        return f"dated_headlines_{min(shape.dated_items, shape.headline_links)}"
    if shape.declared_listing and not shape.declared_article:
        return "declared_listing"
    if shape.prose_share < MIN_PROSE_SHARE:
        return f"list_text_prose_share_{shape.prose_share:.2f}"
    if not shape.declared_article and shape.link_share > MAX_LINK_SHARE:
        return f"link_share_{shape.link_share:.2f}"
    return None


# Han, kana, hangul and other scripts written without spaces between words
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_UNSPACED_CHARS_PER_WORD = 2  # about two characters a word in Chinese and Japanese text


def count_words(text: str) -> int:
    """Words of a text: whitespace-separated tokens, and in scripts written without spaces (Chinese, Japanese,
    Thai) one word per two characters, so a Japanese article is not `too_little_text`."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    spaced = sum(1 for token in text.split() if not _UNSPACED.search(token))
    return spaced + unspaced // _UNSPACED_CHARS_PER_WORD


def prose_share(text: str, *, min_words: int = 8) -> float:
    """Share of a text's words in lines of at least `min_words` words (paragraphs, not list entries)."""
    if _UNSPACED.search(text) is not None:
        counts = [count_words(line) for line in text.split("\n")]
    else:  # words between single spaces, as the extracted text has them: counted without splitting each line
        counts = [line.count(" ") + 1 if line.strip() else 0 for line in text.split("\n")]
    total = sum(counts)
    return 1.0 if not total else sum(n for n in counts if n >= min_words) / total


def body_run(text: str, headlines: Iterable[str] = (), *, min_words: int = 8) -> int:
    """Words in the text's longest run of consecutive lines of at least `min_words` words (blank lines do not
    break a run; a heading, or a line that is one of the page's `headlines` (its teasers' linked headlines), does):
    an article's body of paragraphs, where a front of teasers alternates headlines and one-paragraph summaries."""
    linked = {" ".join(h.split()) for h in headlines}
    best = run = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        words = count_words(line)
        run = run + words if words >= min_words and " ".join(line.split()) not in linked else 0
        best = max(best, run)
    return best


# Visible dates beyond English: month names (nominative and genitive forms where they differ) per language
_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "januar", "január", "janvier", "enero", "ianuarie", "gennaio", "januari", "stycznia",
        "ledna"),
    2: ("february", "feb", "februar", "február", "février", "febrero", "februarie", "febbraio", "februari",
        "lutego", "února"),
    3: ("march", "mar", "märz", "március", "mars", "marzo", "martie", "maart", "marca", "března"),
    4: ("april", "apr", "április", "avril", "abril", "aprilie", "aprile", "kwietnia", "dubna"),
    5: ("may", "mai", "május", "mayo", "maggio", "mei", "maja", "května"),
    6: ("june", "jun", "juni", "június", "juin", "junio", "iunie", "giugno", "czerwca", "června"),
    7: ("july", "jul", "juli", "július", "juillet", "julio", "iulie", "luglio", "lipca", "července"),
    8: ("august", "aug", "augusztus", "août", "agosto", "augustus", "sierpnia", "srpna"),
    9: ("september", "sep", "sept", "szeptember", "septembre", "septiembre", "septembrie", "settembre", "września",
        "září"),
    10: ("october", "oct", "oktober", "október", "octobre", "octubre", "octombrie", "ottobre", "października", "října"),
    11: ("november", "nov", "novembre", "noviembre", "noiembrie", "listopada", "listopadu"),
    12: ("december", "dec", "dezember", "décembre", "diciembre", "decembrie", "dicembre", "grudnia", "prosince"),
}  # fmt: skip
_MONTH = {name: number for number, names in _MONTH_NAMES.items() for name in names}
_MONTH_RE = "|".join(sorted((re.escape(n) for n in _MONTH), key=len, reverse=True))
_TIME = r"(?:[,\s]+(?:um\s+|à\s+|at\s+|ora\s+)?(?P<h>\d{1,2})[:.h](?P<mi>\d{2})(?!\d))?"
_VISIBLE_DATES = (
    # 2018-08-03, 2018.08.03., 2018. 08. 03., 2018/08/03
    re.compile(
        rf"(?<!\d)(?P<y>(?:19|20)\d\d)(?:-|\.\s?|/)(?P<m>\d{{1,2}})(?:-|\.\s?|/)(?P<d>\d{{1,2}})\.?(?!\d){_TIME}"
    ),
    # 2021. október 18. (Hungarian: year, month name, day)
    re.compile(rf"(?<!\d)(?P<y>(?:19|20)\d\d)\.?\s+(?P<mn>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})\.?(?!\d){_TIME}", re.I),
    # 3. August 2018, 18 octombrie 2021, 3 de agosto de 2018
    re.compile(
        rf"(?<!\d)(?P<d>\d{{1,2}})\.?\s+(?:de\s+)?(?P<mn>{_MONTH_RE})\.?,?\s+(?:de\s+)?(?P<y>(?:19|20)\d\d){_TIME}",
        re.I,
    ),
    # August 3, 2018
    re.compile(rf"(?P<mn>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>(?:19|20)\d\d){_TIME}", re.I),
    # 03.08.2018 (day first, as in most of Europe)
    re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})\.\s?(?P<m>\d{{1,2}})\.\s?(?P<y>(?:19|20)\d\d)(?!\d){_TIME}"),
)


_A_YEAR = re.compile(r"(?:19|20)\d\d")


def visible_date(text: str) -> str | None:
    """The first date written in a text, in any of the forms above, as an ISO date (with the time when one
    follows it: "YYYY-MM-DDTHH:MM"); None when there is none or it is not a real date."""
    if _A_YEAR.search(text) is None:
        return None  # every form has a four-digit year
    best: tuple[int, str] | None = None
    for pattern in _VISIBLE_DATES:
        for match in pattern.finditer(text):
            iso = _iso(match)
            if iso is not None:
                if best is None or match.start() < best[0]:
                    best = (match.start(), iso)
                break
    return best[1] if best else None


def _iso(match: re.Match[str]) -> str | None:
    parts = match.groupdict()
    month = int(parts["m"]) if parts.get("m") else _MONTH.get((parts.get("mn") or "").lower().rstrip("."))
    year, day = int(parts["y"]), int(parts["d"])
    if month is None or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    date = f"{year:04d}-{month:02d}-{day:02d}"
    if parts.get("h") is not None and int(parts["h"]) < 24 and int(parts["mi"] or 0) < 60:
        return f"{date}T{int(parts['h']):02d}:{parts['mi']}"
    return date


def best_published(candidates: Iterable[str | None]) -> str | None:
    """The first declared publication date, except that a date-only value gives way to a later candidate with
    the time on the same day (a JSON-LD `2021-10-18` against a meta tag's `2021-10-18T14:05:00+02:00`)."""
    values = [c.strip() for c in candidates if c and c.strip()]
    if not values:
        return None
    first = values[0]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", first):
        for other in values[1:]:
            if other.startswith(first) and re.match(r"[T ]\d{2}:\d{2}", other[10:]):
                return other
    return first


_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|hétfő|kedd|szerda|csütörtök|péntek|szombat|vasárnap|"
    "luni|marți|marti|miercuri|joi|vineri|sâmbătă|sambata|duminică|duminica|montag|dienstag|mittwoch|donnerstag|"
    "freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|"
    "viernes|sábado|domingo"
)
_BYLINE_NOISE = re.compile(
    rf"https?://\S+|www\.\S+|@\w+|\b(?:{_WEEKDAYS})\b|\b\d{{1,2}}[:.]\d{{2}}\b|\b(?:19|20)\d\d\b[\d.\s/-]*|"
    rf"\b\d{{1,2}}[./-]\d{{1,2}}[./-]?\b|\b\d{{1,2}}\.?\s*(?:{_MONTH_RE})\b\.?|\b(?:{_MONTH_RE})\.?\s+\d{{1,2}}\b",
    re.IGNORECASE,
)
_NOT_A_NAME = re.compile(r"^(?:by|von|de|par|por|írta|szerző|autor|author|updated|frissítve|publicat)\b[:\s]*", re.I)


def clean_authors(names: Sequence[str], publishers: Iterable[str] = ()) -> list[str]:
    """Author names without dates, weekdays, times, URLs, handles or the publisher's name; empty ones dropped."""
    publisher_keys = {_key(p) for p in publishers if p and _key(p)}
    out: list[str] = []
    for name in names:
        cleaned = re.sub(r"\s+[,.;:|]+(?=\s|$)", "", " ".join(_BYLINE_NOISE.sub(" ", name).split()))
        cleaned = _NOT_A_NAME.sub("", cleaned.strip(" ,;:|-–—·/")).strip(" ,;:|-–—·/")
        if not cleaned or not re.search(r"[^\W\d_]", cleaned) or _key(cleaned) in publisher_keys:
            continue
        if cleaned not in out:
            out.append(cleaned)
    return out


def _key(value: str) -> str:
    """A name compared without case, spaces, punctuation or a leading www. / trailing domain suffix."""
    value = value.lower().removeprefix("www.")
    value = re.sub(r"\.(?:com|hu|ro|de|fr|org|net|co\.uk|es|it)$", "", value)
    return re.sub(r"[\W_]+", "", value)


_TITLE_SEPARATORS = re.compile(r"\s+(?:[-–—|«»:·•/]|::)\s+")


def clean_title(title: str | None, site_names: Iterable[str] = ()) -> str | None:
    """A title without the site's name appended or prepended ("Headline - 444", "Headline « Mérce",
    "Site | Headline"): a part equal to the site's name (or its host) is dropped when the rest is kept."""
    if not title:
        return title
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    names = {_key(n) for n in site_names if n and _key(n)}
    if _key(parts[-1]) in names:
        return " - ".join(parts[:-1]) if len(parts) > 2 else parts[0]
    if _key(parts[0]) in names:
        return parts[1] if len(parts) == 2 else title
    return title


# Lines of widgets and prompts, not of the article: phrases anywhere in a short line, labels that are the whole
# line, and widget headings that begin one (lower case; English, Hungarian, Romanian, German)
_PROMPT_PHRASES = (
    "did you like this article", "did you enjoy this article", "was this article helpful", "tetszett a cikk",
    "sign up for our newsletter", "subscribe to our newsletter", "iratkozz fel", "iratkozzon fel", "abonează-te",
    "abonnieren sie", "support our journalism", "support independent journalism", "támogasd", "támogassa",
    "donate", "adományoz", "donează", "spenden sie", "turn on notifications", "turn on push notifications",
    "értesítéseket", "notificări", "benachrichtigungen", "ad blocker", "adblock", "hirdetésblokkoló",
    "werbeblocker", "névnap", "<![cdata[", "]]>", "// -->",
)  # fmt: skip
_LABEL_LINES = frozenset((
    "related", "related articles", "related stories", "read also", "read more", "kapcsolódó", "kapcsolódó cikkek",
    "ajánló", "citește și", "lesen sie auch", "tag", "tags", "címkék", "etichete", "schlagwörter", "share",
    "share this", "megosztás", "distribuie", "teilen", "previous", "next", "previous page", "next page", "előző",
    "következő", "előző oldal", "következő oldal", "înapoi", "următor", "pagina următoare", "weiter", "zurück",
    "related tags", "related topics", "related content", "log in", "sign in", "sign up", "log in sign up",
    "sign in sign up", "mots-clés", "à lire aussi", "lire aussi", "voir aussi", "temas relacionados", "etiquetas",
))  # fmt: skip
_SHORT_PROMPT_WORDS = ("newsletter", "hírlevél", "buletin informativ")  # in a line of a few words: a sign-up box
_SHORT_PROMPT_MAX_WORDS = 12
_COOKIE_NOTICE_MAX_CHARS = 400  # a cookie notice is a paragraph; a line of that length about cookies is one
_WIDGET_STARTS = ("időjárás", "vremea", "wetter", "weather:")
_PROMPT_MAX_CHARS = 160  # longer lines are text that merely mentions a newsletter or a donation


def _is_prompt(line: str) -> bool:
    if not line or len(line) > _COOKIE_NOTICE_MAX_CHARS:
        return False
    low = line.strip().lower()
    if "cookie" in low or "sīkdatne" in low:
        return True
    if len(line) > _PROMPT_MAX_CHARS:
        return False
    if len(low.split()) <= _SHORT_PROMPT_MAX_WORDS and any(word in low for word in _SHORT_PROMPT_WORDS):
        return True
    return (
        low.rstrip(" :") in _LABEL_LINES
        or low.startswith(_WIDGET_STARTS)
        or any(phrase in low for phrase in _PROMPT_PHRASES)
    )


def strip_boilerplate(text: str) -> str:
    """The text without widget and prompt lines and script fragments (each matched on a whole, short line)."""
    kept = [line for line in text.split("\n") if not _is_prompt(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
