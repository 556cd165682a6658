"""Outlet canonicalisation: any URL, host or outlet name -> one canonical outlet domain.

Rules, in order: the alias file (a name or host -> domain) wins; otherwise the longest host, from
the full host down to its registered domain, that the alias or label files know (abcnews.go.com
stays abcnews.go.com); otherwise a subdomain of a hosting platform (someone.substack.com); otherwise
the registered domain from the public-suffix list bundled with tldextract, private section
included (no network). www./m./amp./mobile. prefixes are stripped first.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import tldextract

from jobs.infra import paths

_EXTRACT = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)
_PREFIX = re.compile(r"^(?:(?:www\d*|m|amp|mobile)\.)+")
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)+$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
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


def normalize_host(value: str) -> str | None:
    """Lower-case host without scheme, userinfo, port, path, trailing dot or www./m./amp. prefixes."""
    host = value.strip().lower()
    host = _SCHEME.sub("", host)
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    stripped = _PREFIX.sub("", host)
    if "." in stripped:
        host = stripped
    return host if _HOST.match(host) else None


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
    from jobs.readers.label_files import DOMAIN_COLUMNS, LabelFileError, read_label_table

    table = read_label_table(path)
    column = next((c for c in DOMAIN_COLUMNS if c in table.columns), None)
    if column is None:
        raise LabelFileError(path, f"expected a 'domain' column (columns: {table.columns[:-1]})")
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
