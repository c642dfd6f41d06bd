"""Rendering on tiny inputs: exact colours, conserved mass, the heat where the clicks are."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from heatmap import render
from heatmap.grid import cells_of, grid_from_cells
from heatmap.render import (
    FADE_LEVELS,
    LEGEND_PX,
    MAX_DRAWN_HEIGHT_PX,
    MAX_DRAWN_PIXELS,
    RAMP,
    Legend,
    _one_fade_level,
    _percentile,
    blur,
    colour_ramp,
    cut_note,
    drawn_height_px,
    palette_index,
    render_heatmap,
    scale_heat,
)

LEGEND = Legend("/cart", "desktop", "2026-11-01 to 2026-11-22", 0, 0)


def test_the_ramp_runs_from_transparent_through_blue_green_yellow_to_red() -> None:
    ramp = colour_ramp()
    assert ramp[0].tolist() == [0, 0, 0, 0]
    assert ramp[255].tolist()[:3] == [230, 20, 20]
    assert ramp[26][2] > ramp[26][0]  # blue end
    assert ramp[102][1] > 200  # green
    assert list(ramp[:, 3]) == sorted(ramp[:, 3])  # heat never gets more transparent


def test_blur_spreads_heat_but_keeps_its_total() -> None:
    grid = np.zeros((40, 100))
    grid[20, 50] = 10
    blurred = blur(grid, 2.0, 3.0)
    assert blurred.sum() == pytest.approx(10)
    assert [int(i) for i in np.unravel_index(blurred.argmax(), blurred.shape)] == [20, 50]
    assert blurred[20, 51] < blurred[20, 50] and blurred[21, 50] < blurred[20, 50]


def test_scaling_tops_out_at_a_high_percentile_not_the_maximum() -> None:
    density = np.concatenate([np.full(995, 1.0), np.full(5, 1000.0)])
    assert scale_heat(density, "linear").max() == 1.0
    assert np.median(scale_heat(density, "linear")) > 0.0  # the diffuse part stays visible
    assert scale_heat(np.zeros(4)).tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="scale"):
        scale_heat(density, "cubic")


def test_no_clicks_leaves_the_background_untouched() -> None:
    background = Image.new("RGB", (320, 240), (10, 120, 200))
    image = render_heatmap(np.zeros((15, 100)), LEGEND, background)
    assert image.size == (320, 240 + LEGEND_PX)
    assert image.getpixel((160, LEGEND_PX + 120)) == (10, 120, 200)


def test_the_hottest_pixel_lies_where_the_clicks_were_concentrated() -> None:
    rng = np.random.default_rng(5)
    xs = np.concatenate([rng.uniform(900, 960, 400), rng.uniform(0, 1280, 300)])
    ys = np.concatenate([rng.uniform(1500, 1540, 400), rng.uniform(0, 3000, 300)])
    cells, counts = np.unique(cells_of(xs, ys, 1280), return_counts=True)
    background = Image.new("RGB", (1280, 3000), (255, 255, 255))
    image = np.asarray(render_heatmap(grid_from_cells(cells, counts), LEGEND, background))
    page = image[LEGEND_PX:].astype(int)
    redness = page[..., 0] - page[..., 1]  # the ramp's red end: red high, green low (not yellow)
    ys, xs = np.nonzero(redness == redness.max())  # the hottest pixels (the ramp tops out)
    assert 900 <= xs.mean() <= 960 and 1500 <= ys.mean() <= 1540
    assert redness.max() > 150


def test_a_wider_output_scales_the_page_and_keeps_the_legend() -> None:
    image = render_heatmap(np.ones((10, 100)), LEGEND, Image.new("RGB", (400, 240)), width=800)
    assert image.size == (800, 480 + LEGEND_PX)


def test_the_ramp_constant_is_the_default_ramp() -> None:
    assert np.array_equal(RAMP, colour_ramp())


@given(
    st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=300),
    st.floats(0, 100),
)
def test_the_colour_scale_s_percentile_is_numpy_s(values: list[float], percent: float) -> None:
    array = np.asarray(values)
    assert _percentile(array, percent) == pytest.approx(np.percentile(array, percent))


@pytest.mark.parametrize("seed", range(6))
def test_skipping_a_uniform_fade_changes_no_pixel(seed: int) -> None:
    # Colour in rows 10-19, columns 5-14; full fade there and one cell around; any fade beyond.
    rng = np.random.default_rng(seed)
    heat = np.zeros((30, 20), dtype=np.uint8)
    heat[10:20, 5:15] = rng.integers(0, 256, (10, 10))
    fade = rng.integers(0, 256, (30, 20)).astype(np.uint8)
    fade[9:21, 4:16] = 255
    fast, full = (palette_index(heat, fade, (256, 480), shortcut) for shortcut in (True, False))
    assert _one_fade_level(heat, fade) == FADE_LEVELS - 1
    shown = np.asarray(full) >= FADE_LEVELS  # heat level 0 is transparent whatever the fade
    assert np.array_equal(np.asarray(fast)[shown], np.asarray(full)[shown])
    assert np.array_equal(np.asarray(fast) >= FADE_LEVELS, shown)
    fade[12, 7] = 0  # a thin spot where colour shows: the fade is upscaled after all
    assert _one_fade_level(heat, fade) is None


def test_a_map_narrower_than_its_grid_takes_the_full_path() -> None:
    # Shrinking blends more than four cells per pixel: one fade level nearby proves nothing.
    heat = np.zeros((30, 20), dtype=np.uint8)
    heat[10:20, 5:15] = 200
    fade = np.full((30, 20), 255, dtype=np.uint8)
    fade[:, :3] = 0
    small = [np.asarray(palette_index(heat, fade, (10, 15), s)) for s in (True, False)]
    assert np.array_equal(small[0], small[1])


def _red_text_pixels(image: Image.Image) -> int:
    """Pixels of the legend's red cut note (left of the colour bar, on its second line)."""
    strip = np.asarray(image.convert("RGB"))[30:50, :400].astype(int)
    return int(((strip[..., 0] > 120) & (strip[..., 1] < 80) & (strip[..., 2] < 80)).sum())


def test_a_grid_deeper_than_the_drawn_height_is_cut_and_its_clicks_are_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render, "MAX_DRAWN_HEIGHT_PX", 320)  # 20 rows: a tiny page
    grid = np.zeros((100, 100))
    grid[5, 50], grid[80, 10], grid[99, 90] = 5, 7, 2

    image = render_heatmap(grid, LEGEND)
    shallow = render_heatmap(grid[:10], LEGEND)

    assert image.size == (1280, LEGEND_PX + 320)
    assert _red_text_pixels(image) > 20 and _red_text_pixels(shallow) == 0
    assert cut_note(Legend("/", "desktop", "", 14, 3, below=9)) == (
        "9 clicks below the drawn height"
    )
    assert cut_note(Legend("/", "desktop", "", 14, 3, "rage", 2)).startswith("2 rage clicks")
    assert cut_note(LEGEND) == ""


def test_the_drawn_height_bounds_the_pixels_before_and_after_scaling() -> None:
    assert drawn_height_px(1280) == MAX_DRAWN_HEIGHT_PX
    assert drawn_height_px(4000) == MAX_DRAWN_PIXELS // 4000
    assert drawn_height_px(390, 4000) * 4000 * 4000 // 390 <= MAX_DRAWN_PIXELS


@given(st.integers(1, 10_000), st.none() | st.integers(100, 4000))
def test_no_page_width_and_asked_width_draw_more_than_the_pixel_bound(
    width: int, scaled_to: int | None
) -> None:
    height = drawn_height_px(width, scaled_to)
    assert 16 <= height <= MAX_DRAWN_HEIGHT_PX
    out_width = max(width, scaled_to or 0)
    assert height * width <= MAX_DRAWN_PIXELS or height == 16
    assert height * out_width * out_width // width <= MAX_DRAWN_PIXELS or height == 16
