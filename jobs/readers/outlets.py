"""Outlet canonicalisation: any URL, host or outlet name -> one canonical outlet domain.

Rules, in order: the alias file (a name or host -> domain) wins; otherwise the longest host, from
the full host down to its registered domain, that the alias or label files know (abcnews.go.com
stays abcnews.go.com); otherwise a subdomain of a hosting platform (someone.substack.com); otherwise
the registered domain from the public-suffix list bundled with tldextract, private section
included (no network). www./m./amp./mobile. prefixes are stripped first.

Internationalised domain names are mapped by UTS #46 (IDNA 2008, non-transitional): `bücher-nachrichten.de`
and its punycode `xn--bcher-nachrichten-22b.de` are one outlet, named in Unicode. IP addresses are hosts but
never outlets (`is_ip_host`).
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote

import idna
import tldextract

from jobs.infra import paths

_EXTRACT = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)
_PREFIX = re.compile(r"^(?:(?:www\d*|m|amp|mobile)\.)+")
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)+$")
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?[/\\]{2}", re.IGNORECASE)
_IPV4_PART = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_SPACE = re.compile(r"\s+")


def data_lines(path: Path) -> Iterator[str]:
    """Lines of a data file, stripped, without blank lines and '#' comment lines."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line


def normalize_name(value: str) -> str:
    """Case-folded, whitespace-collapsed form used to match outlet names and aliases."""
    return _SPACE.sub(" ", value).strip().casefold()


def host_of(value: str) -> str:
    """The host part of a URL or bare host, as written: no scheme, userinfo, port, path, query or fragment
    (an IPv6 literal keeps its brackets)."""
    rest = _SCHEME.sub("", value.strip())
    rest = re.split(r"[/\\?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest.split("]", 1)[0] + "]"
    return rest.split(":", 1)[0]


def _ipv4_number(part: str) -> bool:
    """A part of an IPv4 address as browsers read it (WHATWG URL): decimal, 0x hex or 0-led octal."""
    if not _IPV4_PART.match(part):
        return False
    return not (part.startswith("0") and not part.startswith("0x") and set(part) - set("01234567"))


def is_ip_host(host: str) -> bool:
    """Whether a host (as `host_of` gives it) is an IP address: an IPv6 literal in brackets, an IPv4 address, or a
    name a browser reads as one (`10.1`, `0x7f.1`: its last label is a number)."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    parts = host.split(".")
    return bool(host) and len(parts) <= 4 and _ipv4_number(parts[-1]) and all(_ipv4_number(p) for p in parts)


def names_ip(value: str) -> bool:
    """Whether a URL, host or outlet value names an IP address rather than a domain (`::1` bare included)."""
    return is_ip_host(host_of(value)) or is_ip_host(value.strip().strip("[]"))


def domain_forms(host: str) -> tuple[str, str] | None:
    """(ASCII, Unicode) forms of a host name, lower case, without a trailing dot: internationalised names mapped by
    UTS #46 (IDNA 2008, non-transitional: ß stays ß), percent-escapes decoded first. None when it is not a domain
    name of two or more labels (an IP address is not)."""
    try:
        host = (unquote(host, errors="strict") if "%" in host else host).strip().rstrip(".")
    except UnicodeDecodeError:  # a percent-escape that is not UTF-8
        return None
    if not host or is_ip_host(host) or _ipv4_number(host.rsplit(".", 1)[-1].lower()):
        return None  # an IP address; or a name ending in a number, which no top-level domain is
    if host.isascii() and "xn--" not in host.lower():
        host = host.lower()
        return (host, host) if _HOST.match(host) else None
    try:
        encoded = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        unicode = idna.decode(encoded)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    return (encoded, unicode) if _HOST.match(encoded) and not is_ip_host(encoded) else None


def strip_host_prefix(host: str) -> str:
    """The host without www./m./amp./mobile. prefixes, when a domain remains (m.com stays m.com)."""
    stripped = _PREFIX.sub("", host)
    return stripped if "." in stripped else host


def normalize_host(value: str) -> str | None:
    """The host of a URL or bare host as an outlet key: in Unicode, lower case, without scheme, userinfo, port,
    path, trailing dot or www./m./amp. prefixes; None when it is no domain name (an IP address, a single label)."""
    forms = domain_forms(host_of(value))
    return strip_host_prefix(forms[1]) if forms else None


def registered_domain(host: str) -> str:
    """The registered domain of a normalised host (private suffixes included); the host if none."""
    return _EXTRACT(host).top_domain_under_public_suffix or host


def load_aliases(path: Path) -> dict[str, str]:
    """Read an alias CSV (alias,outlet; '#' lines and blanks skipped) into normalised alias -> domain."""
    aliases: dict[str, str] = {}
    rows = csv.reader(data_lines(path))
    header = next(rows, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["alias", "outlet"]:
        raise ValueError(f"{path}: expected a header 'alias,outlet'")
    for number, row in enumerate(rows, start=2):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise ValueError(f"{path}: row {number} needs an alias and an outlet: {row!r}")
        outlet = normalize_host(row[1])
        if outlet is None:
            raise ValueError(f"{path}: row {number}: {row[1]!r} is not a domain")
        aliases[normalize_name(row[0])] = outlet
    return aliases


def load_label_domains(path: Path) -> set[str]:
    """The normalised domain column of a label file (CSV, TSV or Parquet, read as labels are): hosts the labels
    know. LabelFileError when the file cannot be read."""
    from jobs.readers.label_files import domain_column, read_label_table

    table = read_label_table(path)
    column = domain_column(table, path)
    hosts = (normalize_host(value or "") for value in table[column].to_list())
    return {h for h in hosts if h}


class OutletResolver:
    """Maps URLs, hosts and names to canonical outlet domains; results are cached per value."""

    def __init__(
        self,
        *,
        aliases: dict[str, str] | None = None,
        known_hosts: Iterable[str] = (),
        platforms: Iterable[str] = (),
    ) -> None:
        self.aliases = dict(aliases or {})
        self.known_hosts = frozenset(known_hosts) | frozenset(self.aliases.values())
        self.platforms = frozenset(platforms)
        self._hosts: dict[str, str | None] = {}

    @classmethod
    def from_files(
        cls, *, aliases: Path | None, labels: Iterable[Path] = (), platforms: Path | None = None
    ) -> OutletResolver:
        known: set[str] = set()
        for label_file in labels:
            known |= load_label_domains(label_file)
        return cls(
            aliases=load_aliases(aliases) if aliases else {},
            known_hosts=known,
            platforms=list(data_lines(platforms)) if platforms else (),
        )

    @classmethod
    def default(cls, *, labels: Iterable[Path] = ()) -> OutletResolver:
        """The shipped alias, label and platform files, plus any other label files whose hosts are outlets."""
        return cls.from_files(
            aliases=paths.ALIASES_FILE, labels=[paths.LABELS_FILE, *labels], platforms=paths.PLATFORMS_FILE
        )

    def resolve_host(self, value: str) -> str | None:
        """Canonical outlet for a URL or host; None when it has no usable host."""
        if value not in self._hosts:
            self._hosts[value] = self._resolve_host(value)
        return self._hosts[value]

    def _resolve_host(self, value: str) -> str | None:
        host = normalize_host(value)
        if host is None:
            return None
        registered = registered_domain(host)
        labels = host.split(".")
        n_registered = len(registered.split("."))
        for i in range(len(labels) - n_registered + 1):
            candidate = ".".join(labels[i:])
            if candidate in self.aliases:
                return self.aliases[candidate]
            if candidate in self.known_hosts:
                return candidate
        if registered in self.platforms and len(labels) > n_registered:
            return ".".join(labels[-n_registered - 1 :])
        return registered

    def resolve(self, value: str) -> str | None:
        """Canonical outlet for an outlet column value: a URL, a host, or a name in the alias file."""
        name = normalize_name(value)
        if name in self.aliases:
            return self.aliases[name]
        if _SCHEME.match(value.strip()) or (" " not in name and normalize_host(name)):
            return self.resolve_host(value)
        return None


def citation_names(aliases: Path = paths.ALIASES_FILE) -> dict[str, str]:
    """Outlet names as written (alias file rows that are not hosts) -> canonical domain: the names an article
    may cite an outlet by (scorer.cues.citation_patterns)."""
    names: dict[str, str] = {}
    rows = csv.reader(data_lines(aliases))
    next(rows, None)
    for row in rows:
        if len(row) >= 2 and "." not in row[0]:
            domain = normalize_host(row[1])
            if domain:
                names[" ".join(row[0].split())] = domain
    return names


def link_outlets(hosts: Iterable[str], aliases: Path = paths.ALIASES_FILE) -> dict[str, str]:
    """Link host -> the outlet it belongs to, for hosts of outlets the alias data knows (news.ria.ru -> ria.ru);
    other hosts are left out (a link to an unknown site names no outlet)."""
    table = load_aliases(aliases)
    resolver = OutletResolver(aliases=table)
    known = set(table.values())
    found = {host: resolver.resolve_host(host) for host in hosts}
    return {host: outlet for host, outlet in found.items() if outlet in known}


def load_owners(path: Path = paths.OWNERS_FILE) -> dict[str, str]:
    """Canonical outlet domain -> owning group, from the ownership file (jobs/data/outlet_owners.csv). Rows
    without an owner or with a domain that does not normalise are skipped."""
    owners: dict[str, str] = {}
    rows = csv.reader(data_lines(path))
    next(rows, None)
    for row in rows:
        if len(row) >= 2 and row[1].strip():
            domain = normalize_host(row[0])
            if domain:
                owners[domain] = " ".join(row[1].split())
    return owners
