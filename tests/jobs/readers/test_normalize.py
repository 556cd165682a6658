"""URL normalisation at ingest (jobs/readers/normalize.py, jobs/readers/prepare.py): canonical URLs, userinfo
removed before anything is stored, IP hosts rejected, internationalised hosts one outlet.

The property test builds URLs from parts it knows (a registered domain in one of its written forms, userinfo,
port, path with percent-escapes, query, fragment; or an IP address) and checks what normalisation makes of them
against those parts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.readers.normalize import NormalizeOptions, normalize_batch, with_canonical_url
from jobs.readers.outlets import OutletResolver
from jobs.readers.prepare import prepare_batch, scrub_userinfo
from jobs.readers.records import RawBatch, raw_lookup, records_frame

OPTIONS = NormalizeOptions(resolver=OutletResolver(), now=datetime(2024, 12, 31))
MARK = "QX"  # in every generated userinfo and nowhere else (hosts and paths are lower case)

# registered domain (Unicode, the outlet) -> the ways it may be written in a URL's host
DOMAINS: dict[str, tuple[str, ...]] = {
    "bücher-nachrichten.de": (
        "bücher-nachrichten.de",
        "xn--bcher-nachrichten-22b.de",
        "XN--BCHER-NACHRICHTEN-22B.DE",
        "Bücher-Nachrichten.de",
        "b%C3%BCcher-nachrichten.de",
    ),
    "пример.рф": ("пример.рф", "xn--e1afmkfd.xn--p1ai", "ПРИМЕР.РФ"),
    "cred-news.com": ("cred-news.com", "Cred-News.COM"),
    "example.co.uk": ("example.co.uk",),
}
IPS = st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(lambda ip: f"[{ip}]")


@dataclass(frozen=True)
class Url:
    text: str
    outlet: str | None  # the registered domain it names; None for an IP address
    userinfo: str | None
    path: str


@st.composite
def urls(draw: st.DrawFn) -> Url:
    outlet = None if draw(st.integers(0, 4)) == 0 else draw(st.sampled_from(sorted(DOMAINS)))
    if outlet is None:
        host = draw(IPS)
    else:
        sub = draw(st.sampled_from(["", "www.", "news.", "m."]))
        host = sub + draw(st.sampled_from(DOMAINS[outlet])) + draw(st.sampled_from(["", "."]))
    userinfo = draw(
        st.none()
        | st.builds(
            lambda user, pw: f"{user}:{MARK}{pw}@" if pw is not None else f"{MARK}{user}@",
            st.text("abcdefghij-._~!$&'()*+,;=%40", max_size=6),
            st.none() | st.text("ABCDEFGHIJ0123456789-._~!$&'()*+,;=:@%25", max_size=8),
        )
    )
    port = draw(st.sampled_from(["", ":80", ":8443", ":"]))
    path = draw(st.from_regex(r"\A(/([a-z0-9._~-]|%[0-9A-F]{2}){0,6}){0,3}\Z"))
    query = draw(st.sampled_from(["", "?id=7", "?utm_source=x&id=7"]))
    fragment = draw(st.sampled_from(["", "#top", "#a@b"]))
    scheme = draw(st.sampled_from(["https://", "http://", "HTTP://", "//", ""]))
    port = "" if scheme == "" and port == ":" else port  # host://... would be a scheme
    text = f"{scheme}{userinfo or ''}{host}{port}{path}{query}{fragment}"
    return Url(text, outlet, userinfo, path.rstrip("/"))


def _raw(items: list[Url]) -> RawBatch:
    records = [
        {"rn": rn, "url": u.text, "text": f"Body {rn}.", "authors": [], "issues": []} for rn, u in enumerate(items, 1)
    ]
    raws = {rn: json.dumps({"url": u.text, "text": f"Body {rn}."}) for rn, u in enumerate(items, 1)}
    return RawBatch(records_frame(records), [], raw_lookup(raws))


@settings(max_examples=150, deadline=None)
@given(st.lists(urls(), min_size=1, max_size=25))
def test_random_urls_keep_no_userinfo_one_outlet_per_domain_and_reject_ips(items: list[Url]) -> None:
    prepared = prepare_batch(_raw(items), OPTIONS)
    good, rejects = prepared.good, prepared.rejects
    # counts reconcile: every record is loaded or rejected, once
    assert good.height + rejects.height == len(items) == prepared.n_records
    assert sorted(good["rn"].to_list() + rejects["rn"].to_list()) == list(range(1, len(items) + 1))
    assert prepared.userinfo_stripped == sum(u.userinfo is not None for u in items)
    stored = json.dumps([good.rows(), rejects.rows()], ensure_ascii=False, default=str)
    assert MARK not in stored  # no userinfo in any field of a loaded row, nor in any reject's raw record
    reasons = dict(zip(rejects["rn"], rejects["reason"], strict=True))
    rows = {r["rn"]: r for r in good.iter_rows(named=True)}
    for rn, u in enumerate(items, 1):
        if u.outlet is None:
            assert reasons[rn] == "ip_address_host"  # an IP address never becomes an outlet
            continue
        row = rows[rn]
        assert row["outlet"] == u.outlet  # one outlet per registered domain, whatever form the host is in
        canonical = row["url_canonical"]
        assert canonical.startswith("https://") and "#" not in canonical and "@" not in canonical
        host = canonical.removeprefix("https://").split("/")[0].split("?")[0]
        assert host.isascii() and ":" not in host  # ASCII (punycode) host, no port
        assert canonical.removeprefix(f"https://{host}").split("?")[0] == u.path  # the path as written


@given(st.lists(urls(), min_size=2, max_size=10))
def test_one_domain_in_any_form_has_one_canonical_host(items: list[Url]) -> None:
    frame = pl.DataFrame({"url": [u.text for u in items]})
    hosts = with_canonical_url(frame)["_host"].to_list()
    by_outlet: dict[str, set[str]] = {}
    for u, host in zip(items, hosts, strict=True):
        if u.outlet is not None:
            by_outlet.setdefault(u.outlet, set()).add(host.removeprefix("www.").removeprefix("news."))
    assert all(len(forms) == 1 for forms in by_outlet.values())


def test_canonical_urls_drop_port_fragment_userinfo_and_tracking() -> None:
    frame = pl.DataFrame(
        {
            "url": [
                "https://alice:s3cr3t@Cred-News.com:8443/a/2/?utm_source=x&id=7#frag",
                "http://www.xn--bcher-nachrichten-22b.de/a/1",
                "//bücher-nachrichten.de/a/1",
                "bücher-nachrichten.de/a/1",
                "http://192.168.1.10/a",
                "http://[::1]/x",
                "mailto:someone",
                "https:\\\\cred-news.com\\a",
            ]
        }
    )
    out = with_canonical_url(frame)
    assert out["url_canonical"].to_list() == [
        "https://cred-news.com/a/2?id=7",
        "https://xn--bcher-nachrichten-22b.de/a/1",
        "https://xn--bcher-nachrichten-22b.de/a/1",
        "https://xn--bcher-nachrichten-22b.de/a/1",
        None,
        None,
        None,
        "https://cred-news.com\\a",
    ]
    assert out["_url_ip"].to_list() == [False, False, False, False, True, True, False, False]


def test_userinfo_is_removed_from_url_and_outlet_fields_and_counted() -> None:
    raw = records_frame(
        [
            {"rn": 1, "url": "https://alice:s3cr3t@cred-news.com/a/1", "text": "x", "authors": [], "issues": []},
            {"rn": 2, "url": "bob:pw@cred-news.com/a/2", "text": "x", "authors": [], "issues": []},
            {"rn": 3, "outlet": "https://carol:pw3@cred-news.com", "text": "x", "authors": [], "issues": []},
            {"rn": 4, "url": "https://dave:pw4@cred-news.com/a/4", "authors": [], "issues": []},  # no text
            {"rn": 5, "url": "https://cred-news.com/p?email=a@b.com", "text": "x", "authors": [], "issues": []},
        ]
    )
    good, rejects, stripped = normalize_batch(raw, OPTIONS)
    assert stripped == 4
    assert good["url"].to_list() == ["https://cred-news.com/a/1", "cred-news.com/a/2", None, raw["url"][4]]
    assert good["outlet"].to_list() == ["cred-news.com"] * 4
    assert rejects.rows() == [(4, "missing_text", ["dave:pw4@"])]


def test_raw_records_lose_userinfo() -> None:
    assert scrub_userinfo('{"url": "https://alice:s3cr3t@cred-news.com/a/1"}') == '{"url": "https://cred-news.com/a/1"}'
    assert scrub_userinfo('{"u": "https:\\/\\/a:s3cr3t\\u0040x.com"}') == '{"u": "https:\\/\\/x.com"}'
    assert scrub_userinfo('{"url": "bob:pw@x.com/a"}', ["bob:pw@"]) == '{"url": "x.com/a"}'
    assert scrub_userinfo("mail bob@x.com, see https://x.com/a?b=c@d") == "mail bob@x.com, see https://x.com/a?b=c@d"


def test_idn_outlets_in_any_script_load_and_invalid_ones_are_rejected() -> None:
    urls = ["https://ข่าวไทย.com/x", "https://नमस्ते.भारत/a", "https://faß.de/a", "https://i❤.ws/a"]
    raw = records_frame([{"rn": i, "url": u, "text": "x", "authors": [], "issues": []} for i, u in enumerate(urls)])
    good, rejects, _ = normalize_batch(raw, OPTIONS)
    assert good.select("outlet", "url_canonical").rows() == [
        ("ข่าวไทย.com", "https://xn--22c6b7as8c3fza.com/x"),  # combining marks are part of an outlet's name
        ("नमस्ते.भारत", "https://xn--h2bhs4b8d8a.xn--h2brj9c/a"),
        ("faß.de", "https://xn--fa-hia.de/a"),  # IDNA 2008, non-transitional: ß is not ss
    ]
    assert rejects.select("rn", "reason").rows() == [(3, "no_outlet_from_url")]  # emoji are not valid in IDNA 2008
