"""What a page template's automatic picture needs, counted as the aggregator goes: page views of
each raw path of the template with the host it was seen on (the most viewed is the example the
picture is taken of), and the template's distinct visitors (a HyperLogLog: a trigger, not a
number shown). Paths come folded to the site's per-day bounds; a host that is not one of the
site's origins' is stored as "", so neither adds to what a stranger can make us store."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

import redis

from collector.cardinality import OVER_LIMIT
from collector.consumer import Commit
from collector.days import DAY_MS, day_name
from collector.schema import Event, PageView, StoredHeader
from collector.sites import SiteError, get_site
from heatmap import keys

SITE_HOSTS_TTL_S = 30.0  # how long the hosts of a site's origins are taken as known
KEEP_S = (keys.PICTURE_WINDOW_DAYS + 1) * 86_400

Hosts = Callable[[str], Collection[str]]  # site name -> hostnames of its origins


def example_field(host: str, path: str) -> str:
    """The field of keys.picture_paths: JSON, since paths and hosts are strangers' strings."""
    return json.dumps([host, path])


def parse_example(field: bytes | str) -> tuple[str, str] | None:
    """(host, path) of a keys.picture_paths field, or None for one that is not ours."""
    try:
        host, path = json.loads(field)
    except (ValueError, TypeError):
        return None
    return (host, path) if isinstance(host, str) and isinstance(path, str) else None


def count_examples(
    commit: Commit,
    site: str,
    shard: int,
    batches: list[tuple[StoredHeader, list[Event]]],
    template_of: Callable[[str], str],
    hosts: Collection[str],
) -> None:
    """Add the page views of `batches` to the example paths and visitors of their templates."""
    views: Counter[tuple[int, str, str]] = Counter()
    for header, events in batches:
        for event in events:
            if not isinstance(event, PageView) or event.p == OVER_LIMIT:
                continue
            day = (event.ts + header.skew) // DAY_MS
            host = event.host.lower() if event.host.lower() in hosts else ""
            views[(day, event.p, host)] += 1
            visitor = header.vid or header.sid
            visitors_key = keys.picture_visitors(site, shard, day_name(day), template_of(event.p))
            commit.counted.add((visitors_key, visitor))
            commit.expiries[visitors_key] = KEEP_S
    for (day, path, host), count in views.items():
        paths_key = keys.picture_paths(site, shard, day_name(day), template_of(path))
        name = example_field(host, path)
        commit.increments[(paths_key, name)] = commit.increments.get((paths_key, name), 0) + count
        commit.expiries[paths_key] = KEEP_S


class SiteHosts:
    """The hostnames of each site's origins, read from the store at most every SITE_HOSTS_TTL_S."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._known: dict[str, tuple[float, frozenset[str]]] = {}

    def __call__(self, site: str) -> frozenset[str]:
        read_at, hosts = self._known.get(site, (0.0, frozenset()))
        if time.monotonic() - read_at > SITE_HOSTS_TTL_S:
            try:
                origins = get_site(self.client, site).origins
            except SiteError:  # removed meanwhile: its events are counted without hosts
                origins = ()
            hosts = frozenset((urlsplit(origin).hostname or "") for origin in origins)
            self._known[site] = (time.monotonic(), hosts)
        return hosts
