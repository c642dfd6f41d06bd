"""Chart rendering: sizes, exact colours where the bars and lines are, edge cases that must not
crash, and the pure helpers (ticks, label spacing, shortening, gaps) on tiny inputs."""

from __future__ import annotations

import datetime
import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from reports.charts.canvas import (
    ACCENT,
    BAR_RADIUS,
    PAD_PX,
    PREVIOUS,
    TRACK,
    WHITE,
    Canvas,
    png_bytes,
    shorten,
)
from reports.scheduled.charts import (
    BAR_H,
    LINE_H,
    NOTE_H,
    ROW_GAP,
    ROW_H,
    Plot,
    daily_chart,
    funnel_chart,
    label_every,
    nice_ticks,
    runs,
)

STEPS = [("/product/*", 5230), ("/cart", 1410), ("/checkout", 620), ("/thanks", 402)]
START = datetime.date(2026, 11, 1)


def days(
    count: int, entered: int = 200, converted: int = 15
) -> list[tuple[datetime.date, int, int]]:
    return [(START + datetime.timedelta(days=i), entered, converted + i % 5) for i in range(count)]


Colour = tuple[int, int, int]


def bar_row(image: Image.Image, step: int) -> list[Colour]:
    """The pixels across the middle of a funnel step's bar."""
    y = PAD_PX + step * ROW_H + LINE_H + BAR_H // 2
    return [(r, g, b) for r, g, b in np.asarray(image)[y].tolist()]


def colours(image: Image.Image) -> set[Colour]:
    pixels = np.asarray(image).astype(np.uint32)
    packed = np.unique((pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2])
    return {(int(p) >> 16, (int(p) >> 8) & 255, int(p) & 255) for p in packed}


def light_blue(colour: Colour) -> bool:
    """The hatching: light accent ground and accent stripes, blended by downsampling."""
    r, _, b = colour
    return 100 <= r <= 230 and b - r >= 25


def columns_of(image: Image.Image, colour: Colour) -> npt.NDArray[np.intp]:
    """x of every pixel of the colour below the daily chart's legend."""
    below_legend = np.asarray(image)[PAD_PX + 40 :]
    return np.nonzero((below_legend == colour).all(axis=2))[1]


def funnel_height(steps: int, noted: bool) -> int:
    return 2 * PAD_PX + steps * ROW_H - ROW_GAP + (NOTE_H if noted else 0)


@pytest.mark.parametrize("width", [800, 480])
def test_the_funnel_has_the_asked_width_and_a_row_per_step(width: int) -> None:
    image = funnel_chart(STEPS, width=width)
    assert image.size == (width, funnel_height(4, noted=False))
    assert {WHITE, ACCENT, TRACK} <= colours(image)
    assert len(colours(image)) > 20  # text antialiasing too, not three flat blocks


def test_funnel_bars_shrink_with_their_counts_in_proportion() -> None:
    image = funnel_chart(STEPS)
    widths = [bar_row(image, step).count(ACCENT) for step in range(4)]
    assert widths == sorted(widths, reverse=True) and widths[-1] > 0
    for width, (_, count) in zip(widths, STEPS, strict=True):
        # rounded, antialiased ends are not pure accent
        assert width == pytest.approx((800 - 2 * PAD_PX) * count / 5230, abs=2 * BAR_RADIUS)


def test_units_in_progress_are_hatched_at_the_end_of_their_bar_and_explained() -> None:
    image = funnel_chart(STEPS, in_progress=[0, 40, 12, 0])
    assert image.height == funnel_height(4, noted=True)
    hatched = [any(map(light_blue, bar_row(image, step))) for step in range(4)]
    assert hatched == [False, True, True, False]
    row = bar_row(image, 1)
    last_solid = max(x for x, c in enumerate(row) if c == ACCENT)
    assert min(x for x, c in enumerate(row) if light_blue(c)) > last_solid  # at the bar's end
    assert not any(map(light_blue, bar_row(funnel_chart(STEPS), 1)))
    note_y = image.height - PAD_PX - NOTE_H // 2 + 3
    swatch = np.asarray(image)[note_y, PAD_PX : PAD_PX + 24].tolist()
    assert any(light_blue((r, g, b)) for r, g, b in swatch)


def test_in_progress_beyond_a_step_count_is_clipped_to_it() -> None:
    image = funnel_chart([("/a", 100), ("/b", 10)], in_progress=[0, 500])
    row = bar_row(image, 1)
    assert sum(map(light_blue, row)) > 30  # all of step 2's 77 px are in progress
    assert row.count(ACCENT) < 10


def test_an_empty_funnel_renders_its_steps_and_says_there_is_no_data() -> None:
    image = funnel_chart([("/product/*", 0), ("/cart", 0), ("/checkout", 0)])
    assert image.size == (800, funnel_height(3, noted=True))
    assert ACCENT not in colours(image)
    assert TRACK in bar_row(image, 0)
    note = np.asarray(image.convert("L"))[image.height - PAD_PX - NOTE_H :, :400]
    assert note.min() < 60  # dark text on the note line


def test_zero_count_steps_after_the_first_have_no_bar() -> None:
    image = funnel_chart([("/a", 100), ("/b", 0), ("/c", 0)])
    assert ACCENT in bar_row(image, 0)
    assert ACCENT not in bar_row(image, 1) + bar_row(image, 2)
    later_steps_only = funnel_chart([("/a", 0), ("/b", 5)])  # inconsistent data, still drawn
    assert ACCENT in bar_row(later_steps_only, 1)


def test_twenty_steps_with_very_long_labels_render() -> None:
    label = "/checkout/" + "very-long-segment/" * 20 + "step"
    steps = [(f"{label}-{i}", 1000 - 40 * i) for i in range(20)]
    image = funnel_chart(steps, in_progress=[5] * 20, width=400)
    assert image.size == (400, funnel_height(20, noted=True))
    assert all(ACCENT in bar_row(image, step) for step in range(20))


@pytest.mark.parametrize(
    ("steps", "in_progress", "width", "message"),
    [
        ([("/a", 1)], None, 800, "2 to 20 steps"),
        ([("/a", 1)] * 21, None, 800, "2 to 20 steps"),
        ([("/a", 1), ("/b", -1)], None, 800, "negative"),
        ([("/a", 1), ("/b", 1)], [0], 800, "in_progress"),
        ([("/a", 1), ("/b", 1)], None, 100, "wide"),
    ],
)
def test_a_funnel_that_cannot_be_drawn_is_refused_with_the_reason(
    steps: list[tuple[str, int]], in_progress: list[int] | None, width: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        funnel_chart(steps, in_progress=in_progress, width=width)


def test_long_labels_keep_their_start_and_end_around_an_ellipsis() -> None:
    canvas = Canvas(400, 100)
    label = "/checkout/" + "x" * 200 + "/step-3"
    short = shorten(canvas, label, 13, 150)
    assert "…" in short and short.startswith("/che") and short.endswith("step-3")
    assert canvas.text_width(short, 13) <= 150
    assert shorten(canvas, "/cart", 13, 150) == "/cart"
    assert shorten(canvas, label, 13, 1) == "…"


@pytest.mark.parametrize("count", [1, 7, 31])
def test_the_daily_chart_has_the_asked_size_and_draws_the_period(count: int) -> None:
    image = daily_chart(days(count))
    assert image.size == (800, 360)
    assert {WHITE, ACCENT} <= colours(image) and len(colours(image)) > 20
    assert PREVIOUS not in colours(image)


def test_a_single_day_is_one_dot_in_the_middle() -> None:
    image = daily_chart(days(1))
    xs = columns_of(image, ACCENT)
    assert xs.size and xs.max() - xs.min() <= 8
    assert 0.45 * image.width < xs.mean() < 0.6 * image.width


def test_thirty_one_days_span_the_plot() -> None:
    image = daily_chart(days(31), width=600)
    xs = columns_of(image, ACCENT)
    assert xs.min() < 0.15 * image.width and xs.max() > 0.9 * image.width


def test_the_previous_period_is_drawn_in_grey() -> None:
    image = daily_chart(days(30), previous=days(30, converted=10), width=1000)
    assert image.size == (1000, 450)
    assert PREVIOUS in colours(image)


@pytest.mark.parametrize(
    "data",
    [[], days(7, entered=0, converted=0), days(5, entered=100, converted=0)],
    ids=["no days", "nobody entered", "nobody converted"],
)
def test_days_without_data_still_give_a_readable_chart(
    data: list[tuple[datetime.date, int, int]],
) -> None:
    image = daily_chart(data, previous=data or None, width=400)
    assert image.size == (400, 240)
    assert len(colours(image)) > 10  # gridlines and text


def test_days_nobody_entered_break_the_line() -> None:
    plot = Plot(0, 0, 116, 100, 10.0)
    assert runs(plot, [1.0, None, 2.0, 3.0, None], 5) == [
        [(8.0, 90.0)],
        [(58.0, 80.0), (83.0, 70.0)],
    ]
    assert runs(plot, [None, None], 2) == []


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (9.2, [0, 2, 4, 6, 8, 10]),
        (10.0, [0, 2, 4, 6, 8, 10]),
        (98.0, [0, 20, 40, 60, 80, 100]),
        (31.0, [0, 10, 20, 30, 40]),
        (0.3, [0, 0.1, 0.2, 0.3]),
        (0.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_ticks_are_round_and_cover_the_highest_rate(top: float, ticks: list[float]) -> None:
    assert nice_ticks(top) == ticks


@pytest.mark.parametrize(
    ("count", "fits", "every"),
    [(7, 13, 1), (14, 13, 2), (31, 13, 3), (31, 5, 7), (90, 5, 28), (1, 0, 1)],
)
def test_date_labels_thin_out_when_days_outnumber_the_room(
    count: int, fits: int, every: int
) -> None:
    assert label_every(count, fits) == every


def test_png_bytes_keep_a_charts_flat_colours_exact() -> None:
    image = funnel_chart(STEPS, in_progress=[0, 40, 12, 0])
    data = png_bytes(image)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    back = Image.open(io.BytesIO(data)).convert("RGB")
    assert back.size == image.size
    assert bar_row(back, 0) == bar_row(image, 0)
    assert colours(back.crop((0, 0, 8, 8))) == {WHITE}


def test_png_bytes_leave_an_image_of_more_colours_than_a_chart_lossless() -> None:
    y, x = np.mgrid[0:80, 0:80]
    ramp = Image.fromarray(np.stack([x * 3, y * 3, (x + y) % 256], axis=2).astype(np.uint8))
    assert len(colours(ramp)) == 6400
    assert Image.open(io.BytesIO(png_bytes(ramp))).convert("RGB").tobytes() == ramp.tobytes()
