"""Scroll map: each 50 px band of the page coloured by the share of page views that reached it,
in a band down the right edge and as a light tint over the page (which stays readable), with
the 75 / 50 / 25 % lines and the average fold, their labels never on top of each other."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from heatmap.render import LEGEND_PX, RAMP, Legend, canvas, drawn_height_px, finish, page_width
from heatmap.totals import ScrollStats

TINT_ALPHA = 60  # over the page: a light tint, so the page stays readable under it
SIDE_BAND_PX = 28  # the full colour, in a band down the right edge
LABEL_PX = 18  # a mark's label height: labels closer than this are moved apart
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
    views that went deeper. Below the deepest depth anyone reached the share is 0: coloured as
    0, the legend's far end, not left blank."""
    buckets = drawn_height_px(page_width(background, legend.band), width) // stats.bucket_px
    if len(stats.reached) > buckets:
        legend = replace(legend, below=round(float(stats.reached[buckets]) * stats.views))
        stats = replace(stats, reached=stats.reached[:buckets])
    out = canvas(background, legend.band, len(stats.reached) * stats.bucket_px, width)
    page_px = out.height - LEGEND_PX
    shares = np.zeros(-(-page_px // stats.bucket_px))
    shares[: len(stats.reached)] = np.clip(stats.reached[: len(shares)], 0.0, 1.0)
    colours = scroll_colours(shares)
    rows = np.repeat(colours, stats.bucket_px, axis=0)[:page_px, None, :]
    tint = rows.copy()
    tint[..., 3] = TINT_ALPHA
    layer = Image.fromarray(tint, "RGBA").resize((out.width, page_px), Image.Resampling.NEAREST)
    out.paste(layer, (0, LEGEND_PX), layer)
    drawn = finish(out, legend, width)
    # The band, lines and labels at the drawn size, so that a map scaled down stays legible.
    scale = drawn.width / out.width
    page_px = drawn.height - LEGEND_PX
    band = Image.fromarray(rows, "RGBA").resize((SIDE_BAND_PX, page_px), Image.Resampling.NEAREST)
    drawn.paste(band.convert("RGB"), (drawn.width - SIDE_BAND_PX, LEGEND_PX))
    _draw_marks(drawn, stats, scale)
    return drawn


def scroll_colours(shares: np.ndarray) -> np.ndarray:
    """RGBA per share: the legend's whole range, 0 the blue end and 1 the red one, opaque."""
    index = np.rint(np.clip(shares, 0.0, 1.0) * 254).astype(np.int64) + 1
    colours: np.ndarray = RAMP[index].copy()
    colours[:, 3] = 255
    return colours


def mark_labels(stats: ScrollStats, scale: float = 1.0) -> list[tuple[int, int, str]]:
    """(line y, label y, text) of the 75 / 50 / 25 % lines and the average fold, in px from
    the page's top as drawn (`scale`: drawn / page width), labels moved down where they would
    overlap the one above."""
    marks = [(round(d * scale), f"{share:.0%} of page views scrolled this far") for share in MARKS
             if (d := depth_reached_by(stats, share)) is not None]  # fmt: skip
    if stats.fold_px:
        fold = round(stats.fold_px)
        marks.append((round(fold * scale), f"average fold ({fold} px)"))
    out = []
    free = -LABEL_PX
    for depth, text in sorted(marks, key=lambda mark: mark[0]):  # stable: 75 before 50 at a tie
        label = max(depth - LABEL_PX, free)  # above its line when there is room
        out.append((depth, label, text))
        free = label + LABEL_PX
    return out


def _draw_marks(out: Image.Image, stats: ScrollStats, scale: float) -> None:
    """The lines and their labels, on the page below the legend strip: labels on white so
    they read over any page, never on top of each other."""
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=13)
    right = out.width - SIDE_BAND_PX
    for depth, label, text in mark_labels(stats, scale):
        y = LEGEND_PX + depth
        fold = text.startswith("average fold")
        if fold:
            for x in range(0, right, 16):
                draw.line([(x, y), (x + 8, y)], fill=(20, 20, 20), width=2)
        else:
            draw.line([(0, y), (right, y)], fill=(20, 20, 20), width=2)
        top = LEGEND_PX + max(0, label)
        box = draw.textbbox((10, top + 2), text, font=font)
        draw.rectangle((box[0] - 4, box[1] - 2, box[2] + 4, box[3] + 2), fill=(255, 255, 255))
        draw.text((10, top + 2), text, fill=(20, 20, 20), font=font)
