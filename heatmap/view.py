"""A heatmap or scroll map of one page, band, kind and period, read from the store and drawn:
what `clicktrail heatmap` writes and `GET /api/sites/{site}/heatmap.png` serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import redis
from PIL import Image

from collector.days import day_names
from collector.pages import PageTemplates
from collector.sites import Site
from heatmap.page_selection import PageSelection, select_pages
from heatmap.render import FloatGrid, Legend, render_heatmap
from heatmap.screenshots import load_screenshot
from heatmap.scrollmap import render_scrollmap
from heatmap.totals import load_grid, load_page_views, load_pages, load_scroll

MAP_KINDS = ("click", "rage", "dead", "scroll")
SCALES = ("sqrt", "log", "linear")


@dataclass(frozen=True)
class HeatmapView:
    image: Image.Image
    events: int  # clicks of the kind drawn, or page views with a scroll depth
    views: int  # page views of the page and band in the period
    template: str = ""  # what the legend calls the page: a template, or a pattern and its own
    band: str = ""
    selection: PageSelection | None = None  # what the page asked for selected; None: template

    @property
    def warnings(self) -> list[str]:
        chosen = self.selection or PageSelection(self.template, (self.template,))
        return chosen.warnings_for(self.views, self.band)


@dataclass(frozen=True)
class HeatmapRequest:
    """Which map to draw: a page template of a site (or several, summed), in a band, of a
    kind, over whole days."""

    site: Site
    template: str  # the template; with `templates`, what the legend calls them
    band: str
    kind: str  # one of MAP_KINDS
    period: tuple[date, date]  # first and last day
    background: Image.Image | None = None  # the page's picture, drawn under the map
    width: int | None = None  # of the image, px; None: the band's width
    scale: str = "sqrt"  # one of SCALES; click maps only
    selection: PageSelection | None = None  # the templates summed; None: `template` alone

    @property
    def summed(self) -> tuple[str, ...]:
        return (self.template,) if self.selection is None else self.selection.templates


def selected(
    client: redis.Redis,
    site: Site,
    asked: str,
    days: list[str],
    templates: PageTemplates,
) -> PageSelection:
    """The templates a page asked for selects among those seen on these days; ValueError for
    a pattern that cannot be read."""
    seen: dict[str, int] = {}
    for page in load_pages(client, site, days):
        seen[page.template] = seen.get(page.template, 0) + page.views
    return select_pages(asked, list(seen.items()), templates)


def selection_request(
    client: redis.Redis,
    site: Site,
    selection: PageSelection,
    band: str,
    kind: str,
    period: tuple[date, date],
    width: int | None = None,
    scale: str = "sqrt",
    background: Image.Image | None = None,
) -> HeatmapRequest:
    """The request for the map of a page selection, over the stored picture of its most viewed
    template unless another background is given."""
    if background is None and selection.templates:
        background = load_screenshot(client, site.name, band, selection.templates[0])
    return HeatmapRequest(
        site,
        selection.label,
        band,
        kind,
        period,
        background,
        width,
        scale,
        selection,
    )


def heatmap_view(client: redis.Redis, request: HeatmapRequest) -> HeatmapView:
    """The map the request asks for, and the counts its legend shows."""
    site, template, band, kind = request.site, request.template, request.band, request.kind
    background, width, summed = request.background, request.width, list(request.summed)
    first, last = request.period
    days = day_names(first, last)
    views = load_page_views(client, site, summed, band, days) if summed else 0
    label = f"{first} to {last}"
    chosen = request.selection
    if kind == "scroll":
        stats = load_scroll(client, site, summed, band, days)
        legend = Legend(template, band, label, stats.views, views, "scroll")
        image = render_scrollmap(stats, legend, background, width)
        return HeatmapView(image, stats.views, views, template, band, chosen)
    grid = load_grid(client, site, summed, band, kind, "doc", days)
    fixed = load_grid(client, site, summed, band, kind, "fixed", days)
    rows = max(grid.shape[0], fixed.shape[0])
    total = _padded(grid, rows) + _padded(fixed, rows)  # fixed: where they sit at the top
    events = int(total.sum())
    legend = Legend(template, band, label, events, views, kind)
    image = render_heatmap(total, legend, background, width, request.scale)
    return HeatmapView(image, events, views, template, band, chosen)


def _padded(grid: FloatGrid, rows: int) -> FloatGrid:
    return np.pad(grid, ((0, rows - grid.shape[0]), (0, 0)))
