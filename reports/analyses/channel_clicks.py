"""Click maps of one channel's visits: drawn from the sessions' click rows (as the report's
abandonment heatmaps are), since the heatmap aggregates know nothing of where a visit came from.

The visits are those that started on the map's days (UTC, as heatmaps count) in the band, of the
channel; their clicks on pages of the template are counted, rage clicks apart. Dead clicks are
not kept per visit, so a channel's dead-click map cannot be drawn (ChannelMapError).
"""

from __future__ import annotations

import numpy as np
import redis

from collector.pages import PageTemplates
from heatmap.grid import GRID_COLUMNS, grid_from_cells
from heatmap.render import Legend, render_heatmap
from heatmap.view import HeatmapRequest, HeatmapView
from reports.analyses.channel_names import Channel
from reports.analyses.channel_rules import ChannelRule
from reports.analyses.journey_request import VisitFilter, load_visits
from reports.sessions.layout import CLICK_RAGE, SESSION_GAP_MS, SESSION_MAX_MS, concat_ranges

CHANNEL_KINDS = ("click", "rage")


class ChannelMapError(ValueError):
    """A map that cannot be drawn for one channel."""


def channel_click_view(
    client: redis.Redis,
    request: HeatmapRequest,
    channel: str,
    rules: tuple[ChannelRule, ...] = (),
    templates: tuple[str, ...] = (),
    gap_ms: int = SESSION_GAP_MS,
    max_ms: int = SESSION_MAX_MS,
) -> HeatmapView:
    if request.kind not in CHANNEL_KINDS:
        raise ChannelMapError(
            f"{request.kind} maps are not kept per visit: a channel's map shows clicks or rage"
        )
    first, last = request.period
    chosen = VisitFilter(
        first, last, "UTC", request.band, None, templates, channel, channel_rules=rules
    )
    loaded = load_visits(client, request.site, chosen, None, gap_ms, max_ms)
    table, sessions = loaded.table, loaded.sessions
    names = PageTemplates(templates)
    on_page = np.array(
        [e.startswith("p:") and names.template(e[2:]) == request.template for e in table.vocab],
        dtype=bool,
    )
    nav = concat_ranges(table.offsets[sessions], table.offsets[sessions + 1])
    views = int(on_page[table.item[nav]].sum()) if len(on_page) else 0
    rows = concat_ranges(table.click_offsets[sessions], table.click_offsets[sessions + 1])
    clicks = table.clicks[rows]
    rage = (clicks["flags"] & CLICK_RAGE) > 0
    keep = (on_page[clicks["item"]] if len(on_page) else np.zeros(len(clicks), bool)) & (
        rage if request.kind == "rage" else ~rage
    )
    clicks = clicks[keep]
    grid = grid_from_cells(clicks["row"].astype(np.int64) * GRID_COLUMNS + clicks["col"])
    label = f"{first} to {last}, {Channel(channel).label} visits only"
    legend = Legend(request.template, request.band, label, len(clicks), views, request.kind)
    image = render_heatmap(grid, legend, request.background, request.width, request.scale)
    return HeatmapView(image, len(clicks), views, request.template, request.band)
