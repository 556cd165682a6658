from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.readers.outlets import OutletResolver, data_lines, load_aliases, normalize_host, registered_domain


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


@given(st.text(max_size=80))
def test_resolve_never_crashes(value: str) -> None:
    result = OutletResolver(platforms=["substack.com"]).resolve(value)
    assert result is None or normalize_host(result) == result
