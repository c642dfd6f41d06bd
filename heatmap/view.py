"""A heatmap or scroll map of one page, band, kind and period, read from the store and drawn:
what `clicktrail heatmap` writes and `GET /api/sites/{site}/heatmap.png` serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import redis
from PIL import Image

from collector.days import day_names
from collector.sites import Site
from heatmap.render import FloatGrid, Legend, render_heatmap
from heatmap.scrollmap import render_scrollmap
from heatmap.totals import load_grid, load_pages, load_scroll, unmatched_page

MAP_KINDS = ("click", "rage", "dead", "scroll")
SCALES = ("sqrt", "log", "linear")


@dataclass(frozen=True)
class HeatmapView:
    image: Image.Image
    events: int  # clicks of the kind drawn, or page views with a scroll depth
    views: int  # page views of the page and band in the period
    template: str = ""
    band: str = ""

    @property
    def warnings(self) -> list[str]:
        return [] if self.views else [unmatched_page(self.template, self.band)]


@dataclass(frozen=True)
class HeatmapRequest:
    """Which map to draw: a page template of a site, in a band, of a kind, over whole days."""

    site: Site
    template: str
    band: str
    kind: str  # one of MAP_KINDS
    period: tuple[date, date]  # first and last day
    background: Image.Image | None = None  # the page's picture, drawn under the map
    width: int | None = None  # of the image, px; None: the band's width
    scale: str = "sqrt"  # one of SCALES; click maps only


def heatmap_view(client: redis.Redis, request: HeatmapRequest) -> HeatmapView:
    """The map the request asks for, and the counts its legend shows."""
    site, template, band, kind = request.site, request.template, request.band, request.kind
    background, width = request.background, request.width
    first, last = request.period
    days = day_names(first, last)
    views = sum(
        p.views for p in load_pages(client, site, days) if p.template == template and p.band == band
    )
    label = f"{first} to {last}"
    if kind == "scroll":
        stats = load_scroll(client, site, template, band, days)
        legend = Legend(template, band, label, stats.views, views, "scroll")
        image = render_scrollmap(stats, legend, background, width)
        return HeatmapView(image, stats.views, views, template, band)
    grid = load_grid(client, site, template, band, kind, "doc", days)
    fixed = load_grid(client, site, template, band, kind, "fixed", days)
    rows = max(grid.shape[0], fixed.shape[0])
    total = _padded(grid, rows) + _padded(fixed, rows)  # fixed: where they sit at the top
    events = int(total.sum())
    legend = Legend(template, band, label, events, views, kind)
    image = render_heatmap(total, legend, background, width, request.scale)
    return HeatmapView(image, events, views, template, band)


def _padded(grid: FloatGrid, rows: int) -> FloatGrid:
    return np.pad(grid, ((0, rows - grid.shape[0]), (0, 0)))
