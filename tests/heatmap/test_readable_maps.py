"""Maps a designer can read (issue 20): a scroll map leaves the page visible (a tint and a side
band, not a wash), uses the legend's whole range (nobody reached: the blue end, not blank), and
its 75 / 50 / 25 % and fold labels never overlap, at any drawn size; a phone-width map keeps its
colour scale and dates that read as dates."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from PIL import Image, ImageDraw

from heatmap.render import LEGEND_PX, RAMP, Legend, _legend_lines
from heatmap.scrollmap import LABEL_PX, SIDE_BAND_PX, mark_labels, render_scrollmap
from heatmap.totals import ScrollStats

BLUE_END, RED_END = RAMP[1][:3].astype(int), RAMP[255][:3].astype(int)


def stats(reached: list[float], fold: float = 800.0) -> ScrollStats:
    return ScrollStats(np.array(reached), 100, fold)


def page(width: int, height: int) -> Image.Image:
    """White with black text-like bars every 100 px: what must stay readable."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for y in range(20, height, 100):
        draw.rectangle((40, y, width // 2, y + 10), fill="black")
    return image


def legend(kind: str = "scroll") -> Legend:
    return Legend("/product/:id", "desktop", "2026-11-26 to 2026-12-02", 100, 100, kind)


def test_the_page_stays_readable_under_a_tint_with_the_colour_in_a_side_band() -> None:
    drawn = render_scrollmap(stats([1.0] * 20 + [0.5] * 20), legend(), page(1280, 3000))
    pixels = np.asarray(drawn.convert("RGB")).astype(int)
    bar = pixels[LEGEND_PX + 25, 60]  # on a black bar, in the fully reached part
    paper = pixels[LEGEND_PX + 60, 60]
    assert bar.max() < 80, "the page's dark text must stay dark"
    assert paper.min() > 180, "the page's white must stay light: a tint, not a wash"
    band = pixels[LEGEND_PX + 60, 1280 - SIDE_BAND_PX // 2]
    assert np.abs(band - RED_END).max() < 30  # the full colour, down the right edge


def test_nobody_reached_is_the_legends_blue_end_not_blank() -> None:
    drawn = render_scrollmap(stats([1.0] * 4), legend(), page(1280, 1000))  # 200 px of 1000
    pixels = np.asarray(drawn.convert("RGB")).astype(int)
    deep = pixels[drawn.height - 20, drawn.width - SIDE_BAND_PX // 2]
    assert np.abs(deep - BLUE_END).max() < 40


@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_mark_labels_never_overlap_even_when_their_lines_do(scale: float) -> None:
    # the fold at 780 px, 75 % reached at 800, 50 % and 25 % both at 850: four labels in 70 px
    reached = [1.0] * 15 + [0.75] + [0.5] + [0.1] * 5
    labels = mark_labels(stats(reached, fold=780.0), scale)
    tops = [label for _, label, _ in labels]
    assert all(b - a >= LABEL_PX for a, b in pairwise(tops))
    assert [text.split()[0] for _, _, text in labels] == ["average", "75%", "50%", "25%"]


def test_a_phone_width_map_keeps_its_colour_scale_and_readable_dates() -> None:
    drawn = render_scrollmap(stats([1.0] * 10 + [0.4] * 10), legend(), None, 390)
    strip = np.asarray(drawn.convert("RGB"))[:LEGEND_PX].astype(int)
    # the colour scale's red end is in the legend strip on the right
    right = strip[:, 390 // 2 :]
    assert (np.abs(right - RED_END).max(axis=2) < 30).any()
    second = _legend_lines(legend(), 390)[1][1]
    assert "2026-11-26  to  2026-12-02" in second  # the font's spaces are 2 px: doubled


def test_a_scroll_map_legend_runs_from_0_to_100_percent() -> None:
    lines = " ".join(text for _, text, _, _ in _legend_lines(legend(), 1280))
    assert "share of page views that scrolled at least this far" in lines
