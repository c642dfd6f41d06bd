"""Scroll map: each 50 px band of the page coloured by the share of page views that reached it,
with the 75 / 50 / 25 % lines and the average fold."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from heatmap.render import LEGEND_PX, RAMP, Legend, canvas, drawn_height_px, finish, page_width
from heatmap.totals import ScrollStats

SCROLL_ALPHA = 150
MARKS = (0.75, 0.50, 0.25)


def depth_reached_by(stats: ScrollStats, share: float) -> int | None:
    """The deepest pixel that at least `share` of page views reached, or None."""
    reached = np.nonzero(stats.reached >= share)[0]
    return int((reached[-1] + 1) * stats.bucket_px) if reached.size else None


def render_scrollmap(
    stats: ScrollStats,
    legend: Legend,
    background: Image.Image | None = None,
    width: int | None = None,
) -> Image.Image:
    """The scroll map; depths below the drawn height are cut, and the legend counts the page
    views that went deeper."""
    buckets = drawn_height_px(page_width(background, legend.band), width) // stats.bucket_px
    if len(stats.reached) > buckets:
        legend = replace(legend, below=round(float(stats.reached[buckets]) * stats.views))
        stats = replace(stats, reached=stats.reached[:buckets])
    out = canvas(background, legend.band, len(stats.reached) * stats.bucket_px, width)
    shades = np.zeros((out.height - LEGEND_PX, 1, 4), dtype=np.uint8)
    for bucket, share in enumerate(np.clip(stats.reached, 0.0, 1.0)):
        colour = RAMP[max(1, round(float(share) * 255))].copy()
        colour[3] = SCROLL_ALPHA
        shades[bucket * stats.bucket_px : (bucket + 1) * stats.bucket_px] = colour
    size = (out.width, out.height - LEGEND_PX)
    layer = Image.fromarray(shades, "RGBA").resize(size, Image.Resampling.NEAREST)
    out.paste(layer, (0, LEGEND_PX), layer)
    _draw_marks(out, stats)
    return finish(out, legend, width)


def _draw_marks(out: Image.Image, stats: ScrollStats) -> None:
    """The 75 / 50 / 25 % lines and the fold, on the page below the legend strip."""
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=13)
    for share in MARKS:
        depth = depth_reached_by(stats, share)
        if depth is None:
            continue
        y = LEGEND_PX + depth
        draw.line([(0, y), (out.width, y)], fill=(20, 20, 20), width=2)
        draw.text(
            (out.width - 260, y - 18),
            f"{share:.0%} of visitors saw this far",
            fill=(20, 20, 20),
            font=font,
        )
    if stats.fold_px:
        fold = round(stats.fold_px)
        y = LEGEND_PX + fold
        for x in range(0, out.width, 16):
            draw.line([(x, y), (x + 8, y)], fill=(255, 255, 255), width=2)
        draw.text((10, y + 4), f"average fold ({fold} px)", fill=(255, 255, 255), font=font)
