from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.readers.labels import load_labels
from jobs.readers.outlets import (
    OutletResolver,
    data_lines,
    domain_forms,
    load_aliases,
    names_ip,
    normalize_host,
    registered_domain,
)

IDN = "bücher-nachrichten.de"
PUNYCODE = "xn--bcher-nachrichten-22b.de"  # idna.encode(IDN, uts46=True); the issue's "-1vb" is another name


@pytest.fixture
def small() -> OutletResolver:
    return OutletResolver(
        aliases={"the guardian": "theguardian.com", "feeds.reuters.com": "reuters.com"},
        known_hosts={"abcnews.go.com", "news.yahoo.com"},
        platforms=["substack.com"],
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.abcnews.go.com/Politics/story?id=1", "abcnews.go.com"),  # known longer host wins
        ("https://go.com/x", "go.com"),
        ("someone.substack.com", "someone.substack.com"),  # platform subdomain is its own outlet
        ("https://a.b.substack.com/p/x", "b.substack.com"),
        ("foo.blogspot.com", "foo.blogspot.com"),  # public-suffix list, private section
        ("http://M.CNN.com:80/a", "cnn.com"),
        ("amp.theguardian.com", "theguardian.com"),
        ("https://edition.cnn.com/2020/x", "cnn.com"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("feeds.reuters.com", "reuters.com"),  # host alias
        ("The  Guardian", "theguardian.com"),  # name alias, case and spaces folded
        ("Fox News", None),  # unknown name
        ("https://", None),
        ("localhost", None),
        ("unknown-origin.example", "unknown-origin.example"),  # no public suffix: the host itself
    ],
)
def test_resolve(small: OutletResolver, value: str, expected: str | None) -> None:
    assert small.resolve(value) == expected


def test_registered_domain_is_offline_snapshot() -> None:
    assert registered_domain("abcnews.go.com") == "go.com"
    assert registered_domain("x.github.io") == "x.github.io"


def test_normalize_host() -> None:
    assert normalize_host("HTTPS://user@WWW.Example.COM.:8080/path?q") == "example.com"
    assert normalize_host("m.com") == "m.com"  # a prefix is stripped only when a domain remains
    assert normalize_host("not a host") is None


@pytest.mark.parametrize(
    "value",
    [
        f"https://{IDN}/a/1",
        f"https://{PUNYCODE}/a/1",
        PUNYCODE.upper(),
        "Bücher-Nachrichten.DE",
        f"https://www.{IDN}.:8443/a#x",
        "http://b%C3%BCcher-nachrichten.de/a",  # a percent-escaped host, as browsers decode it
        "bücher-nachrichten\uff0ede",  # a full-width dot (UTS #46 maps it to '.')
    ],
)
def test_an_idn_is_one_outlet_in_unicode_whatever_its_form(value: str) -> None:
    assert OutletResolver().resolve(value) == IDN
    assert normalize_host(value) == IDN


def test_the_issue_punycode_is_another_name() -> None:
    """`xn--bcher-nachrichten-1vb.de` (in the issue) is not bücher-nachrichten.de: it decodes to another name."""
    assert domain_forms("xn--bcher-nachrichten-1vb.de") == ("xn--bcher-nachrichten-1vb.de", "bcher-nîachrichten.de")
    assert domain_forms(IDN) == (PUNYCODE, IDN)


@pytest.mark.parametrize(
    ("host", "registered"),
    [
        (f"news.{IDN}", IDN),
        (f"news.{PUNYCODE}", PUNYCODE),  # tldextract takes either form and keeps it
        ("a.b.пример.рф", "пример.рф"),  # an IDN top-level domain
        ("a.b.xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("nachrichten.münchen.blogspot.com", "münchen.blogspot.com"),  # private suffix
    ],
)
def test_registered_domain_of_either_idn_form(host: str, registered: str) -> None:
    assert registered_domain(host) == registered


def test_idn_registered_domains_resolve_to_unicode() -> None:
    resolver = OutletResolver(platforms=["blogspot.com"])
    assert resolver.resolve("https://a.b.xn--e1afmkfd.xn--p1ai/x") == "пример.рф"
    assert resolver.resolve("https://a.b.пример.рф/x") == "пример.рф"
    assert resolver.resolve("https://x.xn--mnchen-3ya.blogspot.com/") == "münchen.blogspot.com"


@pytest.mark.parametrize(
    "value",
    [
        "192.168.1.10",
        "http://[::1]/x",
        "http://10.0.0.1:8080/a",
        "::1",
        "[2001:db8::1]",
        "0x7f.1",
        "http://2130706433/",
    ],
)
def test_ip_hosts_are_no_outlet(value: str) -> None:
    assert OutletResolver().resolve(value) is None
    assert names_ip(value)


def test_a_name_ending_in_a_number_is_no_outlet_and_no_ip() -> None:
    assert OutletResolver().resolve("example.123") is None
    assert not names_ip("example.123") and not names_ip("example.com")


def test_aliases_and_label_files_name_an_idn_in_either_form(tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.csv"
    aliases.write_text(f"alias,outlet\nBücher Nachrichten,{PUNYCODE}\nBN Online,https://www.{IDN}/\n", encoding="utf-8")
    assert load_aliases(aliases) == {"bücher nachrichten": IDN, "bn online": IDN}
    labels = tmp_path / "labels.csv"
    labels.write_text(f"domain,score\nlokal.{PUNYCODE},0.8\nwww.пример.рф,0.3\n", encoding="utf-8")
    resolver = OutletResolver.from_files(aliases=aliases, labels=[labels])
    assert resolver.resolve(f"https://lokal.{IDN}/a") == f"lokal.{IDN}"  # a label file's host stays itself
    assert resolver.resolve("Bücher Nachrichten") == IDN
    scores = load_labels(labels, resolver=resolver)
    assert dict(zip(scores["outlet"], scores["label_score"], strict=True)) == {f"lokal.{IDN}": 0.8, "пример.рф": 0.3}


def test_data_lines_skip_comments_and_blanks(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("# header\n\n  a  \n#b\nc\n", encoding="utf-8")
    assert list(data_lines(f)) == ["a", "c"]


def test_load_aliases(tmp_path: Path) -> None:
    f = tmp_path / "aliases.csv"
    f.write_text("# about\nalias,outlet\n\nThe  Times,WWW.NYTimes.com\n", encoding="utf-8")
    assert load_aliases(f) == {"the times": "nytimes.com"}
    f.write_text("alias,outlet\nX,not a domain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a domain"):
        load_aliases(f)
    f.write_text("name,domain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        load_aliases(f)


def test_shipped_files_load(resolver: OutletResolver) -> None:
    assert len(resolver.aliases) > 300
    assert "abcnews.go.com" in resolver.known_hosts
    assert resolver.resolve("https://abcnews.go.com/US/x") == "abcnews.go.com"
    assert resolver.resolve("https://someone.substack.com/p/x") == "someone.substack.com"


def test_aliases_cover_pac_outlets(resolver: OutletResolver, shared_data: Path) -> None:
    with gzip.open(shared_data / "corpora" / "pac_story_pairs.jsonl.gz", "rt", encoding="utf-8") as f:
        names = {json.loads(line)["outlet"] for line in f}
    placeholders = {"Guest Writer - Right", "Multiple Writers - Lean Left"}  # AllSides placeholders, not outlets
    assert {n for n in names if resolver.resolve(n) is None} <= placeholders


@given(st.text(max_size=80) | st.from_regex(r"\A(https?://)?[\w.%@:\[\]-]{1,40}(/\w*)?\Z"))
def test_resolve_never_crashes(value: str) -> None:
    result = OutletResolver(platforms=["substack.com"]).resolve(value)
    assert result is None or normalize_host(result) == result
