"""Reading the aggregates back: summed over a site's shards and a range of days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import redis

from collector import keys
from collector.pages import BANDS
from collector.sites import Site
from heatmap.aggregate import SCROLL_BUCKET_PX
from heatmap.grid import grid_from_cells


def days_between(first: date, last: date) -> list[str]:
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days > 3660:
        raise ValueError("a range holds at most ten years")
    return [(first + timedelta(d)).strftime("%Y%m%d") for d in range((last - first).days + 1)]


def _hashes(client: redis.Redis, names: list[str]) -> list[dict[bytes, bytes]]:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(name)
    result: list[dict[bytes, bytes]] = pipe.execute()
    return result


def load_grid(
    client: redis.Redis,
    site: Site,
    template: str,
    band: str,
    kind: str,
    layer: str,
    days: list[str],
) -> npt.NDArray[np.float64]:
    """Clicks per cell, rows x GRID_COLUMNS."""
    names = [
        keys.grid(site.name, shard, day, band, kind, layer, template)
        for shard in range(site.shards)
        for day in days
    ]
    cells: list[int] = []
    counts: list[int] = []
    for found in _hashes(client, names):
        cells += [int(c) for c in found]
        counts += [int(n) for n in found.values()]
    return grid_from_cells(cells, counts)


@dataclass(frozen=True)
class PageStats:
    template: str
    band: str
    views: int
    clicks: int
    rage: int
    dead: int


def load_pages(client: redis.Redis, site: Site, days: list[str]) -> list[PageStats]:
    """Every page template with activity, per band, most viewed first."""
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names = [
        keys.page_counts(site.name, shard, day) for shard in range(site.shards) for day in days
    ]
    for found in _hashes(client, names):
        for name, count in found.items():
            band, counter, template = name.decode().split("|", 2)
            totals[(template, band)][counter] += int(count)
    pages = [
        PageStats(template, band, c["views"], c["click"], c["rage"], c["dead"])
        for (template, band), c in totals.items()
    ]
    return sorted(pages, key=lambda p: (-p.views, -p.clicks, p.template, BANDS.index(p.band)))


@dataclass(frozen=True)
class ElementStats:
    selector: str
    clicks: int
    rage: int
    dead: int


def load_elements(
    client: redis.Redis, site: Site, template: str, band: str, days: list[str]
) -> list[ElementStats]:
    """Clicked elements of a page, most clicked first."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names = [
        keys.element_counts(site.name, shard, day, band, template)
        for shard in range(site.shards)
        for day in days
    ]
    for found in _hashes(client, names):
        for name, count in found.items():
            kind, selector = name.decode().split("|", 1)
            totals[selector][kind] += int(count)
    elements = [ElementStats(sel, c["c"], c["r"], c["d"]) for sel, c in totals.items()]
    return sorted(elements, key=lambda e: (-e.clicks, -e.rage, e.selector))


@dataclass(frozen=True)
class ScrollStats:
    reached: npt.NDArray[np.float64]  # share of page views reaching each SCROLL_BUCKET_PX band
    views: int
    fold_px: float  # average viewport height

    @property
    def bucket_px(self) -> int:
        return SCROLL_BUCKET_PX


def load_scroll(
    client: redis.Redis, site: Site, template: str, band: str, days: list[str]
) -> ScrollStats:
    deepest: dict[int, int] = defaultdict(int)
    views = fold = 0
    names = [
        keys.scroll_depths(site.name, shard, day, band, template)
        for shard in range(site.shards)
        for day in days
    ]
    for found in _hashes(client, names):
        for name, count in found.items():
            label = name.decode()
            if label == "views":
                views += int(count)
            elif label == "fold":
                fold += int(count)
            else:
                deepest[int(label)] += int(count)
    if not views:
        return ScrollStats(np.zeros(0), 0, 0.0)
    counts = np.zeros(max(deepest) + 1)
    counts[list(deepest)] = list(deepest.values())
    reached = counts[::-1].cumsum()[::-1] / views  # reached bucket b: deepest at b or below
    return ScrollStats(reached, views, fold / views)
