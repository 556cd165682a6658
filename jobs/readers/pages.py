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
    1: ("january", "jan", "januar", "január", "janvier", "janv", "enero", "ene", "ianuarie", "gennaio", "januari",
        "stycznia", "ledna", "janeiro"),
    2: ("february", "feb", "februar", "február", "février", "févr", "febrero", "februarie", "febbraio", "februari",
        "lutego", "února", "fevereiro", "fev"),
    3: ("march", "mar", "märz", "március", "mars", "marzo", "martie", "maart", "marca", "března", "março"),
    4: ("april", "apr", "április", "avril", "avr", "abril", "abr", "aprilie", "aprile", "kwietnia", "dubna"),
    5: ("may", "mai", "május", "mayo", "maggio", "mei", "maja", "května", "maio"),
    6: ("june", "jun", "juni", "június", "juin", "junio", "iunie", "giugno", "czerwca", "června", "junho"),
    7: ("july", "jul", "juli", "július", "juillet", "juil", "julio", "iulie", "luglio", "lipca", "července",
        "julho"),
    8: ("august", "aug", "augusztus", "août", "agosto", "ago", "augustus", "sierpnia", "srpna"),
    9: ("september", "sep", "sept", "szeptember", "septembre", "septiembre", "septembrie", "settembre", "września",
        "září", "setembro", "set"),
    10: ("october", "oct", "oktober", "okt", "október", "octobre", "octubre", "octombrie", "ottobre", "października",
         "října", "outubro", "out"),
    11: ("november", "nov", "novembre", "noviembre", "noiembrie", "listopada", "listopadu", "novembro"),
    12: ("december", "dec", "dezember", "dez", "décembre", "déc", "diciembre", "dic", "decembrie", "dicembre",
         "grudnia", "prosince", "dezembro"),
}  # fmt: skip
_MONTH = {name: number for number, names in _MONTH_NAMES.items() for name in names}
_MONTH_RE = "|".join(sorted((re.escape(n) for n in _MONTH), key=len, reverse=True))
_TIME = (
    r"(?:[,\s]+(?:-\s+)?(?:um\s+|à\s+|at\s+|ora\s+|a\s+las\s+|às\s+|alle\s+)?(?P<h>\d{1,2})[:.h](?P<mi>\d{2})(?!\d)"
    r"(?::\d{2})?(?:\s*(?P<ap>[ap])\.?\s?m\b\.?)?)?"
)
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
    # August 3, 2018; Tuesday, Aug. 17, 2010
    re.compile(rf"(?<![^\W\d_])(?P<mn>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>(?:19|20)\d\d){_TIME}", re.I),
    # 03.08.2018 (day first, as in most of Europe)
    re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})\.\s?(?P<m>\d{{1,2}})\.\s?(?P<y>(?:19|20)\d\d)(?!\d){_TIME}"),
    # 08/01/2014: day first, or month first on English pages, unless one of the two is over 12
    re.compile(rf"(?<![\d/])(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})/(?P<y>(?:19|20)\d\d)(?![\d/]){_TIME}"),
)


_A_YEAR = re.compile(r"(?:19|20)\d\d")
EARLIEST_YEAR = 1990  # no web page was published before; an older date in a text is a date it talks about


def visible_date(text: str, *, month_first: bool = False, not_after: str | None = None) -> str | None:
    """The first plausible date written in a text, in any of the forms above, as an ISO date (with the time when
    one follows it: "YYYY-MM-DDTHH:MM", the clock the page shows, a.m./p.m. read); None when there is none.
    Plausible: a real date, from EARLIEST_YEAR on, not after `not_after` (an ISO date: when the page was crawled).
    `month_first`: read 08/01/2014 as August 1 (English pages) rather than 8 January."""
    if _A_YEAR.search(text) is None:
        return None  # every form has a four-digit year
    best: tuple[int, str] | None = None
    for pattern in _VISIBLE_DATES:
        for match in pattern.finditer(text):
            iso = _iso(match, month_first=month_first)
            if iso is not None and int(iso[:4]) >= EARLIEST_YEAR and (not not_after or iso[:10] <= not_after[:10]):
                if best is None or match.start() < best[0]:
                    best = (match.start(), iso)
                break
    return best[1] if best else None


def _iso(match: re.Match[str], *, month_first: bool = False) -> str | None:
    parts = match.groupdict()
    if parts.get("a"):  # a slashed day and month: the order by the language, unless only one order is a date
        first, second = int(parts["a"]), int(parts["b"])
        if (first > 12) != (second > 12):
            month_first = second > 12
        parts["d"], parts["m"] = (str(second), str(first)) if month_first else (str(first), str(second))
    month = int(parts["m"]) if parts.get("m") else _MONTH.get((parts.get("mn") or "").lower().rstrip("."))
    year, day = int(parts["y"]), int(parts["d"])
    if month is None or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    date = f"{year:04d}-{month:02d}-{day:02d}"
    hour = int(parts["h"]) if parts.get("h") is not None else None
    if hour is not None and parts.get("ap"):
        hour = hour % 12 + (12 if parts["ap"].lower() == "p" else 0)
    if hour is not None and hour < 24 and int(parts["mi"] or 0) < 60:
        return f"{date}T{hour:02d}:{parts['mi']}"
    return date


_URL_DATE = re.compile(
    rf"/(?P<y>(?:19|20)\d\d)/(?:(?P<m>\d{{1,2}})|(?P<mn>{_MONTH_RE}))/(?P<d>\d{{1,2}})(?:/|$)", re.IGNORECASE
)


def url_date(url: str | None, *, not_after: str | None = None) -> str | None:
    """The date of a URL's path when it holds a whole one (/2010/08/17/, /2011/nov/18/): year, month and day, each
    its own path segment, a real date from EARLIEST_YEAR on and not after `not_after`; None otherwise."""
    path = (url or "").split("?")[0].split("#")[0]
    path = path.split("://", 1)[1] if "://" in path else path
    match = _URL_DATE.search(path[path.find("/") :] if "/" in path else "")
    iso = _iso(match) if match else None
    if iso is None or int(iso[:4]) < EARLIEST_YEAR or (not_after and iso > not_after[:10]):
        return None
    return iso


_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ]\d)|\d{9,13}(?:\.\d+)?$")


def declared_date(value: str | None, *, month_first: bool = False) -> str | None:
    """A declared date (meta tag, JSON-LD) as given when it is ISO 8601 (or epoch seconds), else read like a
    visible one ("Tuesday, Aug. 17, 2010", "Sat, 09 Oct 2010 07:15:45 EST", "2018/06/18") into an ISO date with
    the clock the page gives, "20100812" as 2010-08-12; None when empty; kept as given when nothing reads it."""
    value = " ".join((value or "").split())
    if not value or _ISO_START.match(value):
        return value or None
    if re.fullmatch(r"(?:19|20)\d{6}", value):  # 20100812
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return visible_date(value, month_first=month_first) or value


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
    rf"https?://\S+|www\.\S+|@\w+|\b(?:{_WEEKDAYS})\b|\b\d{{1,2}}[:.h]\d{{2}}(?!\d)(?:\s*[ap]\.?(?:m\.?)?(?![^\W\d_]))?|"
    rf"\b(?:19|20)\d\d\b[\d.\s/-]*|\b\d{{1,2}}[./-]\d{{1,2}}[./-]?\b|\b\d{{1,2}}\.?\s*(?:{_MONTH_RE})\b\.?|"
    rf"\b(?:{_MONTH_RE})\.?\s+\d{{1,2}}\b|\b[ap]\.\s?m\.(?!\w)|"
    rf"\b\d+\s*(?:hrs?|hours?|mins?|minutes?|days?|stunden|minuten|heures|horas)\b(?:\s+ago)?|\bago\b",
    re.IGNORECASE,
)
_TIME_ZONES = re.compile(r"\b(?:[ECMP][SD]T|GMT|UTC|CES?T|EES?T|BST|IST|JST|KST)\b")  # upper case: not in names
_NOT_A_NAME = re.compile(
    r"^(?:(?i:(?:posted|written|reported|soumis|publié|publicado|escrito|geschrieben|a\s+cura)\s+(?:by|par|por|von|di)|"
    r"by|par|por|írta|szerző|autor|author|updated|frissítve|publicat)|"
    # "von", "de", "di" start names too ("David Von Drehle", "De la Cruz"): a prefix only lowercase, or "Von"
    # before two more words
    r"de|di|von|(?i:von)(?=\s+\S+\s+\S))\b[:\s]*"
)
# Words a byline's name does not end with: prepositions and articles left before a date or time
# ("Griffin McElroy on", "le à")
_FUNCTION_WORDS = frozenset((
    "on", "at", "by", "in", "of", "the", "and", "le", "la", "les", "à", "au", "de", "du", "des", "et", "par", "el",
    "los", "las", "en", "y", "por", "em", "às", "e", "di", "il", "alle", "am", "um", "von", "und",
))  # fmt: skip
_ROLE_DASH = re.compile(r"\s+[-–—|]\s+")  # "Rachel Metz - AP Technology Writer": the name, then a role or outlet


def clean_authors(names: Sequence[str], publishers: Iterable[str] = ()) -> list[str]:
    """Author names without dates, weekdays, times (9:00a, a.m. EDT, 1 hr ago), URLs, handles, "Soumis par"-like
    prefixes, prepositions left at their ends, a role after a dash, or the publisher's name (`publishers`: the
    page's own publisher and site names); empty ones dropped."""
    publisher_keys = {_key(p) for p in publishers if p and _key(p)}
    out: list[str] = []
    for name in names:
        cleaned = _TIME_ZONES.sub(" ", _BYLINE_NOISE.sub(" ", name))
        cleaned = re.sub(r"\s+[,.;:|]+(?=\s|$)", "", " ".join(cleaned.split()))
        cleaned = _NOT_A_NAME.sub("", cleaned.strip(" ,;:|-–—·/")).strip(" ,;:|-–—·/")
        cleaned = _ROLE_DASH.split(cleaned)[0]
        words = cleaned.split()
        while words and words[-1].lower() in _FUNCTION_WORDS:
            words.pop()
        cleaned = " ".join(words).strip(" ,;:|-–—·/")
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
