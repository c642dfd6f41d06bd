"""Which category a referrer host or a utm_source belongs to (search, social, ai, video, email,
shopping, referral, spam), from the list this project keeps in channel_hosts.toml.

A host is looked up on itself and then on each parent domain, longest first, so `m.facebook.com`
is facebook.com and `mail.google.com` (email) wins over `google.*` (search). A `name.*` entry
stands for the name under any public suffix: one label (`google.de`) or a common second level
under a country code (`google.co.uk`, `google.com.br`). Every lookup is a handful of dict hits.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("channel_hosts.toml")
CATEGORIES = ("search", "social", "ai", "video", "email", "shopping", "referral", "spam")
# Second-level labels under a two-letter country code that act as a public suffix (co.uk).
SECOND_LEVELS = frozenset(
    "co com net org ac gov edu ne or go gob nic mil ltd plc sch info biz web nom".split()
)
MAX_LABELS = 6  # hosts in the list have at most 4 labels; longer hosts are looked up by the tail
HTTP_SCHEMES = ("http", "https", "")
MAX_HOST_CHARS = 300  # a DNS name is at most 253; longer values are no known host


@dataclass(frozen=True)
class HostList:
    hosts: dict[str, str]  # host or "name.*" -> category
    apps: dict[str, str]  # Android application id -> category
    names: dict[str, str]  # utm_source name -> category
    ad_names: dict[str, str]  # utm_source name of an ad platform -> category


@cache
def host_list(path: Path = DATA_FILE) -> HostList:
    """The data file, parsed once; ValueError names a bad category or a repeated entry."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    tables: dict[str, dict[str, str]] = {"hosts": {}, "apps": {}, "names": {}, "ad_names": {}}
    for category, entries in data.items():
        if category not in CATEGORIES:
            raise ValueError(f"{path.name}: unknown category [{category}]")
        for kind, values in entries.items():
            if kind not in tables:
                raise ValueError(f"{path.name}: [{category}] has an unknown list {kind!r}")
            for value in values:
                key = value.lower()
                if key in tables[kind]:
                    raise ValueError(f"{path.name}: {value!r} is listed twice")
                tables[kind][key] = category
    return HostList(**tables)


def normalize_host(value: str) -> str:
    """A referrer as the classifier compares it: lower case, no path, port, user or `www.`;
    `scheme://` kept when the scheme is not http(s) (`android-app://com.google.android.gm`)."""
    text = value.strip().lower()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    for stop in "/?#":
        rest = rest.partition(stop)[0]
    rest = rest.rpartition("@")[2]
    if rest.startswith("["):  # an IPv6 literal: [::1]:8080
        rest = rest.partition("]")[0] + "]"
    else:
        rest = rest.partition(":")[0]
    host = rest.strip(".").removeprefix("www.")
    if scheme in HTTP_SCHEMES or not host:
        return host
    return f"{scheme}://{host}"


def host_category(host: str) -> str | None:
    """The category of a normalised referrer host (or Android app referrer), or None."""
    return _host_category(host) if len(host) <= MAX_HOST_CHARS else None


def source_category(source: str) -> tuple[str | None, bool]:
    """The category of a normalised utm_source and whether it names an ad platform: a name
    (`google`, `facebook_ads`) or, when it has a dot or a scheme, a host (`chatgpt.com`)."""
    return _source_category(source) if len(source) <= MAX_HOST_CHARS else (None, False)


@lru_cache(maxsize=65_536)  # keys bounded by MAX_HOST_CHARS
def _host_category(host: str) -> str | None:
    hosts = host_list()
    _, sep, app = host.partition("://")
    if sep:  # an app's referrer: its id only, never its parent domains
        return hosts.apps.get(app)
    found = hosts.apps.get(host)  # sessions filed before the scheme was kept: a bare app id
    if found:
        return found
    labels = host.split(".")[-MAX_LABELS:]
    suffix = _suffix_length(labels)
    for start in range(len(labels)):
        found = hosts.hosts.get(".".join(labels[start:]))
        if found:
            return found
        if start < len(labels) - suffix:
            found = hosts.hosts.get(".".join(labels[start : len(labels) - suffix]) + ".*")
            if found:
                return found
    return None


@lru_cache(maxsize=65_536)
def _source_category(source: str) -> tuple[str | None, bool]:
    hosts = host_list()
    if source in hosts.ad_names:
        return hosts.ad_names[source], True
    if source in hosts.names:
        return hosts.names[source], False
    if "." in source or "://" in source:
        return host_category(normalize_host(source)), False
    return None, False


def _suffix_length(labels: list[str]) -> int:
    """How many trailing labels are the public suffix: 2 for `co.uk`-style, else 1."""
    if len(labels) >= 3 and labels[-2] in SECOND_LEVELS and len(labels[-1]) == 2:
        return 2
    return 1
