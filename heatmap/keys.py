"""Redis key names of the heatmap aggregates and screenshots.

Every aggregate carries its stream shard's hash tag (collector.keys.shard_tag), so a worker's
commit (acknowledgement and counters) is one atomic script on one Redis Cluster slot; readers
sum the shards. Templates go last: they contain ':'.
"""

from __future__ import annotations

from collector.keys import PREFIX, shard_tag


def grid(site: str, shard: int, day: str, band: str, kind: str, layer: str, template: str) -> str:
    """Hash: cell (row * GRID_COLUMNS + column) -> clicks. layer: doc, or fixed (viewport)."""
    return f"{PREFIX}:{shard_tag(site, shard)}:grid:{day}:{band}:{kind}:{layer}:{template}"


def page_counts(site: str, shard: int, day: str) -> str:
    """Hash: 'band|counter|template' -> count (page views, clicks, rage, dead)."""
    return f"{PREFIX}:{shard_tag(site, shard)}:pages:{day}"


def element_counts(site: str, shard: int, day: str, band: str, template: str) -> str:
    """Hash: 'kind|selector' -> count, kind one of c (clicks), r (rage), d (dead)."""
    return f"{PREFIX}:{shard_tag(site, shard)}:elements:{day}:{band}:{template}"


def element_labels(site: str, shard: int, day: str, band: str, template: str) -> str:
    """Hash: collector.labels.labelled(selector, label) -> clicks with that label; readers keep
    each selector's most frequent label."""
    return f"{PREFIX}:{shard_tag(site, shard)}:labels:{day}:{band}:{template}"


def element_boxes(site: str, shard: int, day: str, band: str, template: str) -> str:
    """Sorted set: 'edge|selector' -> the cell edge of the box around the selector's clicks,
    edge one of x0, y0 (scores negated, so that ZADD GT keeps the least), x1, y1 (grid columns
    and rows, heatmap.grid). Clicks of both layers (document and fixed) as the map draws them."""
    return f"{PREFIX}:{shard_tag(site, shard)}:boxes:{day}:{band}:{template}"


BOX_EDGES = ("x0", "y0", "x1", "y1")


def scroll_depths(site: str, shard: int, day: str, band: str, template: str) -> str:
    """Hash: depth bucket -> page views whose deepest point is in it; 'views' -> page views;
    'fold' -> sum of their viewport heights."""
    return f"{PREFIX}:{shard_tag(site, shard)}:scroll:{day}:{band}:{template}"


def scroll_peaks(site: str, shard: int, day: str) -> str:
    """Hash: scroll_peak_member -> deepest bucket counted for it in scroll_depths, so a page
    view reported again (the snippet reports on every leave) moves its count, not adds one.
    Kept SCROLL_PEAK_TTL_S."""
    return f"{PREFIX}:{shard_tag(site, shard)}:scrollpeak:{day}"


def scroll_peak_member(page_view: str, band: str, template: str) -> str:
    """'page view id|band|template': one member per histogram a page view is counted in (the
    site and day are in the hash's key). Page view ids are tokens: no '|'."""
    return f"{page_view}|{band}|{template}"


SCROLL_PEAK_TTL_S = 2 * 86_400


def live_counts(site: str, shard: int, minute: int) -> str:
    """Hash of one minute (server receipt time, ms // 60000) of the events that happened within
    30 minutes of their receipt: 't|TYPE' -> events, 'p|TEMPLATE' -> page views, 's|' ->
    batches. Kept LIVE_TTL_S; the dashboard's live view and install check read it."""
    return f"{PREFIX}:{shard_tag(site, shard)}:live:{minute}"


LIVE_TTL_S = 2 * 3600


def screenshot(site: str, band: str, template: str) -> str:
    """String: a PNG of the page at the band's width, drawn under its heatmaps."""
    return f"{PREFIX}:{{{site}}}:shot:{band}:{template}"


def picture_paths(site: str, shard: int, day: str, template: str) -> str:
    """Hash: '["host","path"]' (JSON) -> page views of that raw path of the template, the host
    one of the site's origins' or "": where a picture of the template is taken from. Kept
    PICTURE_WINDOW_DAYS."""
    return f"{PREFIX}:{shard_tag(site, shard)}:picpaths:{day}:{template}"


def picture_visitors(site: str, shard: int, day: str, template: str) -> str:
    """HyperLogLog of the visitor ids (daily hashes) that viewed the template that day: a
    trigger for taking its picture, never a number shown. Kept PICTURE_WINDOW_DAYS."""
    return f"{PREFIX}:{shard_tag(site, shard)}:picvisitors:{day}:{template}"


PICTURE_WINDOW_DAYS = 14  # page views and visitors that make a template due for its picture


def picture_states(site: str) -> str:
    """Hash: template -> JSON of its automatic picture (heatmap.pictures.PictureState)."""
    return f"{PREFIX}:{{{site}}}:picstate"


def picture_lease(site: str, template: str) -> str:
    """String, set NX with a TTL while one worker process captures the template's picture."""
    return f"{PREFIX}:{{{site}}}:piclease:{template}"
