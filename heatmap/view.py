"""A heatmap or scroll map of one page, band, kind and period, read from the store and drawn:
what `clicktrail heatmap` writes and `GET /api/sites/{site}/heatmap.png` serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import redis
from PIL import Image

from collector.sites import Site
from heatmap.render import FloatGrid, Legend, render_heatmap
from heatmap.scrollmap import render_scrollmap
from heatmap.totals import days_between, load_grid, load_pages, load_scroll

MAP_KINDS = ("click", "rage", "dead", "scroll")
SCALES = ("sqrt", "log", "linear")


@dataclass(frozen=True)
class HeatmapView:
    image: Image.Image
    events: int  # clicks of the kind drawn, or page views with a scroll depth
    views: int  # page views of the page and band in the period


def heatmap_view(
    client: redis.Redis,
    site: Site,
    template: str,
    band: str,
    kind: str,
    period: tuple[date, date],
    background: Image.Image | None = None,
    width: int | None = None,
    scale: str = "sqrt",
) -> HeatmapView:
    first, last = period
    days = days_between(first, last)
    views = sum(
        p.views for p in load_pages(client, site, days) if p.template == template and p.band == band
    )
    label = f"{first} to {last}"
    if kind == "scroll":
        stats = load_scroll(client, site, template, band, days)
        legend = Legend(template, band, label, stats.views, views, "scroll")
        return HeatmapView(render_scrollmap(stats, legend, background, width), stats.views, views)
    grid = load_grid(client, site, template, band, kind, "doc", days)
    fixed = load_grid(client, site, template, band, kind, "fixed", days)
    rows = max(grid.shape[0], fixed.shape[0])
    total = _padded(grid, rows) + _padded(fixed, rows)  # fixed: where they sit at the top
    events = int(total.sum())
    legend = Legend(template, band, label, events, views, kind)
    return HeatmapView(render_heatmap(total, legend, background, width, scale), events, views)


def _padded(grid: FloatGrid, rows: int) -> FloatGrid:
    return np.pad(grid, ((0, rows - grid.shape[0]), (0, 0)))
