"""Reading the aggregates back: summed over a site's shards and a range of days."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import redis

from collector.bounds import MAX_DOC_HEIGHT_PX
from collector.pages import BANDS
from collector.sites import Site
from heatmap import keys
from heatmap.aggregate import SCROLL_BUCKET_PX
from heatmap.grid import grid_from_cells

MAX_SCROLL_BUCKETS = MAX_DOC_HEIGHT_PX // SCROLL_BUCKET_PX  # ingest clamps depths to this


class StoredDataError(ValueError):
    """Stored aggregates contradict themselves (written before a fix, or by hand): they are
    refused with this message, never drawn."""


def _hashes(client: redis.Redis, names: list[str]) -> list[dict[bytes, bytes]]:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(name)
    result: list[dict[bytes, bytes]] = pipe.execute()
    return result


def _summed(client: redis.Redis, names: list[str]) -> dict[str, int]:
    """Field -> total over the hashes (one per shard and day)."""
    totals: dict[str, int] = defaultdict(int)
    for found in _hashes(client, names):
        for name, count in found.items():
            totals[name.decode()] += int(count)
    return totals


def _names(site: Site, days: list[str], key: Callable[..., str], *rest: str) -> list[str]:
    """The key of every shard and day; `key` takes (site, shard, day, *rest)."""
    return [key(site.name, shard, day, *rest) for shard in range(site.shards) for day in days]


Templates = str | Sequence[str]  # one page template, or several whose counts are summed


def _of_templates(
    site: Site, days: list[str], key: Callable[..., str], templates: Templates, *rest: str
) -> list[str]:
    """The key of every shard, day and template; `key` takes (site, shard, day, *rest,
    template)."""
    names = [templates] if isinstance(templates, str) else list(templates)
    return [n for t in names for n in _names(site, days, key, *rest, t)]


def load_grid(
    client: redis.Redis,
    site: Site,
    templates: Templates,
    band: str,
    kind: str,
    layer: str,
    days: list[str],
) -> npt.NDArray[np.float64]:
    """Clicks per cell, rows x GRID_COLUMNS (summed over the templates)."""
    names = _of_templates(site, days, keys.grid, templates, band, kind, layer)
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
    names = _names(site, days, keys.page_counts)
    for name, count in _summed(client, names).items():
        band, counter, template = name.split("|", 2)
        totals[(template, band)][counter] += count
    pages = [
        PageStats(template, band, c["views"], c["click"], c["rage"], c["dead"])
        for (template, band), c in totals.items()
    ]
    return sorted(pages, key=lambda p: (-p.views, -p.clicks, p.template, BANDS.index(p.band)))


def load_page_views(
    client: redis.Redis, site: Site, templates: Templates, band: str, days: list[str]
) -> int:
    """Page views of page templates in one band."""
    wanted = [templates] if isinstance(templates, str) else list(templates)
    pipe = client.pipeline(transaction=False)
    for name in _names(site, days, keys.page_counts):
        for template in wanted:
            pipe.hget(name, f"{band}|views|{template}")
    return sum(int(count) for count in pipe.execute() if count is not None)


def unmatched_page(template: str, band: str) -> str:
    """The warning of a page asked for that matched nothing: said, never silent."""
    return f"page {template} matched no {band} page view in this range"


@dataclass(frozen=True)
class ElementStats:
    selector: str
    clicks: int
    rage: int
    dead: int


def load_elements(
    client: redis.Redis, site: Site, templates: Templates, band: str, days: list[str]
) -> list[ElementStats]:
    """Clicked elements of a page (or several, summed), most clicked first."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names = _of_templates(site, days, keys.element_counts, templates, band)
    for name, count in _summed(client, names).items():
        kind, selector = name.split("|", 1)
        totals[selector][kind] += count
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
    client: redis.Redis, site: Site, templates: Templates, band: str, days: list[str]
) -> ScrollStats:
    """Share of page views reaching each depth (of several templates: of all their page views);
    StoredDataError when the stored histogram does not add up (a bucket below zero, or counts
    that are not one per page view)."""
    names = _of_templates(site, days, keys.scroll_depths, templates, band)
    totals = _summed(client, names)
    views, fold = totals.pop("views", 0), totals.pop("fold", 0)
    deepest = {int(bucket): count for bucket, count in totals.items()}
    below_zero = sorted(bucket for bucket, count in deepest.items() if count < 0)
    if below_zero or sum(deepest.values()) != views:
        problem = f"bucket {below_zero[0]} is below zero" if below_zero else "counts do not add up"
        raise StoredDataError(
            f"the stored scroll depths of {_named(templates)} ({band}) are inconsistent: {problem} "
            f"({sum(deepest.values())} deepest points for {views} page views)"
        )
    if not views:
        return ScrollStats(np.zeros(0), 0, 0.0)
    counts = np.zeros(min(max(deepest), MAX_SCROLL_BUCKETS - 1) + 1)
    # Depths stored before the clamp at ingest count in the last bucket, as it would have put them.
    np.add.at(counts, np.minimum(list(deepest), MAX_SCROLL_BUCKETS - 1), list(deepest.values()))
    reached = counts[::-1].cumsum()[::-1] / views  # reached bucket b: deepest at b or below
    return ScrollStats(reached, views, fold / views)


def _named(templates: Templates) -> str:
    return templates if isinstance(templates, str) else ", ".join(templates)
