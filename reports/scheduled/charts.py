"""Charts for the cart abandonment report, drawn with Pillow alone: a horizontal funnel and a
daily conversion-rate line, on the canvas of `canvas.py`. Blue against grey, solid against dashed
and filled against hatched: no reading of the charts rests on telling two hues apart."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from reports.charts.canvas import (
    ACCENT,
    AXIS,
    GRID,
    MUTED,
    PAD_PX,
    PREVIOUS,
    TEXT,
    TRACK,
    WHITE,
    Canvas,
    Point,
    check_width,
    dashed,
    shorten,
)

MIN_STEPS, MAX_STEPS = 2, 20

# funnel row, in output pixels: a text line, then the bar, then a gap
LINE_H, BAR_H, ROW_GAP = 22, 20, 14
ROW_H = LINE_H + BAR_H + ROW_GAP
NOTE_H = 30  # the note under the funnel (hatch legend or "no data")
MIN_HATCH_PX = 4

DAILY_ASPECT = 0.45  # height / width of the daily chart
DAILY_MIN_HEIGHT_PX = 240
HEADER_H = 34  # title and legend above the plot
X_LABELS_H = 26
DAY_INSET_PX = 8  # first and last day sit this far inside the plot


def percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "n/a"
    share = 100 * part / whole
    if 0 < share < 0.05:
        return "<0.1%"
    return "100%" if part == whole else f"{share:.1f}%"


def funnel_chart(
    steps: Sequence[tuple[str, int]],
    *,
    in_progress: Sequence[int] | None = None,
    width: int = 800,
) -> Image.Image:
    """One bar per step, scaled to step 1, with its count and shares of step 1 and the step before.

    `in_progress`: units per step still inside their time window, drawn hatched at the bar's end."""
    counts = [count for _, count in steps]
    pending = checked_funnel(counts, in_progress, width)
    noted = counts[0] == 0 or any(pending)
    canvas = Canvas(width, 2 * PAD_PX + len(steps) * ROW_H - ROW_GAP + (NOTE_H if noted else 0))
    track_w = width - 2 * PAD_PX
    longest = max(counts)  # not step 1 alone: a later step with more (bad data) still fits
    for index, (label, count) in enumerate(steps):
        y = PAD_PX + index * ROW_H
        step_line(canvas, index, label, counts, pending[index], y)
        canvas.bar((PAD_PX, y + LINE_H), track_w, 0, BAR_H, TRACK)
        if count:
            length = max(2.0, track_w * count / longest)  # a few units still show
            done = length * (count - pending[index]) / count
            if pending[index]:  # a sliver of hatching would read as a ragged edge
                done = max(0.0, min(done, length - MIN_HATCH_PX))
            canvas.bar((PAD_PX, y + LINE_H), done, length - done, BAR_H)
    funnel_note(canvas, counts[0] == 0, any(pending))
    return canvas.finish()


def checked_funnel(counts: list[int], in_progress: Sequence[int] | None, width: int) -> list[int]:
    """The in-progress units per step, each clipped to its step's count."""
    check_width(width)
    if not MIN_STEPS <= len(counts) <= MAX_STEPS:
        raise ValueError(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(counts)}")
    if min(counts) < 0:
        raise ValueError(f"step counts cannot be negative: {counts}")
    if in_progress is None:
        return [0] * len(counts)
    if len(in_progress) != len(counts):
        raise ValueError(f"in_progress has {len(in_progress)} counts for {len(counts)} steps")
    return [max(0, min(units, count)) for units, count in zip(in_progress, counts, strict=True)]


def step_line(
    canvas: Canvas, index: int, label: str, counts: list[int], pending: int, y: float
) -> None:
    """Above a bar: step number, label and units in progress; count and shares on the right."""
    count, first = counts[index], counts[0]
    content = canvas.width - 2 * PAD_PX
    total = f"{count:,}"
    shares = ""
    if first > 0:
        shares = "100%" if index == 0 else f"{percent(count, first)} of step 1"
        longer = f"{shares} · {percent(count, counts[index - 1])} of previous"
        taken = canvas.text_width(longer, 12) + canvas.text_width(total, 13) + 8
        if index > 0 and content - taken >= 0.4 * content:
            shares = longer
    baseline, right = y + LINE_H - 7, float(canvas.width - PAD_PX)
    if shares:
        canvas.text((right, baseline), shares, 12, MUTED, "rs")
        right -= canvas.text_width(shares, 12) + 8
    canvas.text((right, baseline), total, 13, TEXT, "rs")
    right -= canvas.text_width(total, 13) + 16
    canvas.text((PAD_PX, baseline), str(index + 1), 12, MUTED, "ls")
    suffix = f"  · {pending:,} in progress" if pending else ""
    left = PAD_PX + 20
    label = shorten(canvas, label, 13, right - left - canvas.text_width(suffix, 12))
    canvas.text((left, baseline), label, 13, TEXT, "ls")
    if suffix:
        canvas.text((left + canvas.text_width(label, 13), baseline), suffix, 12, MUTED, "ls")


def funnel_note(canvas: Canvas, empty: bool, hatched: bool) -> None:
    middle = canvas.height - PAD_PX - NOTE_H / 2 + 3
    if empty:
        note = "No data for this period: nobody reached step 1."
        canvas.text((PAD_PX, middle), note, 13, TEXT, "lm")
    elif hatched:
        canvas.bar((PAD_PX, middle - 6), 0, 24, 12)
        room = canvas.width - 2 * PAD_PX - 32
        note = "Hatched: still inside the time window, so they may yet go on"
        if canvas.text_width(note, 12) > room:
            note = "Hatched: may yet go on"
        canvas.text((PAD_PX + 32, middle), note, 12, MUTED, "lm")


Day = tuple[datetime.date, int, int]


@dataclass(frozen=True)
class Plot:
    """The plot area in output pixels and the percentage at its top gridline."""

    left: float
    top: float
    right: float
    bottom: float
    top_value: float

    def x(self, index: int, days: int) -> float:
        if days <= 1:
            return (self.left + self.right) / 2
        spacing = (self.right - self.left - 2 * DAY_INSET_PX) / (days - 1)
        return self.left + DAY_INSET_PX + index * spacing

    def y(self, value: float) -> float:
        return self.bottom - value / self.top_value * (self.bottom - self.top)


def daily_rates(days: Sequence[Day]) -> list[float | None]:
    """Converted / entered in percent per day; None where nobody entered."""
    return [100 * converted / entered if entered > 0 else None for _, entered, converted in days]


def overall_rate(days: Sequence[Day]) -> float | None:
    """Converted / entered over the whole period, in percent."""
    entered = sum(entered for _, entered, _ in days)
    return 100 * sum(converted for _, _, converted in days) / entered if entered else None


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """From 0 in steps of 1, 2 or 5 (times a power of ten) until `top` is covered."""
    raw = (top if top > 0 else 1.0) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    steps = math.ceil(top / step - 1e-9) if top > 0 else count
    return [round(i * step, 10) for i in range(steps + 1)]


def daily_chart(
    days: Sequence[Day],
    *,
    previous: Sequence[Day] | None = None,
    width: int = 800,
) -> Image.Image:
    """Conversion rate per day in percent; the previous period, aligned by day, dashed grey.

    Each day is (date, entered, converted); days nobody entered leave a gap."""
    check_width(width)
    canvas = Canvas(width, max(DAILY_MIN_HEIGHT_PX, round(width * DAILY_ASPECT)))
    current = daily_rates(days)
    before = daily_rates(previous or [])[: len(days)]
    shown = [rate for rate in current + before if rate is not None]
    ticks = nice_ticks(max(shown, default=0.0))
    labels = [f"{tick:g}%" for tick in ticks] if shown else []
    label_w = max((canvas.text_width(label, 11) for label in labels), default=0)
    plot = Plot(
        PAD_PX + label_w + 10,
        PAD_PX + HEADER_H,
        width - PAD_PX,
        canvas.height - PAD_PX - X_LABELS_H,
        ticks[-1],
    )
    daily_header(canvas, days, previous)
    for index, tick in enumerate(ticks):
        canvas.box(plot.left, plot.y(tick), plot.right, plot.y(tick) + 1, GRID)
        if labels:
            canvas.text((plot.left - 8, plot.y(tick)), labels[index], 11, MUTED, "rm")
    canvas.box(plot.left, plot.bottom, plot.right, plot.bottom + 1, AXIS)
    x_labels(canvas, plot, [day for day, _, _ in days])
    for run in runs(plot, before, len(days)):
        if len(run) == 1:  # a lone day has no line to dash
            canvas.dot(run[0], 2.5, PREVIOUS)
        else:
            dashed(canvas, run, PREVIOUS, 2)
    for run in runs(plot, current, len(days)):
        if len(run) > 1:
            canvas.line(run, ACCENT, 2.5)
        for point in run:
            canvas.dot(point, dot_radius(plot, len(days)), ACCENT, ring=1)
    if not any(rate is not None for rate in current):
        no_data(canvas, plot)
    return canvas.finish()


def no_data(canvas: Canvas, plot: Plot) -> None:
    """The message mid-plot, on white so that gridlines and the previous period don't cross it."""
    x, y = (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2
    text = "No data for this period"
    half = canvas.text_width(text, 14) / 2 + 10
    canvas.box(x - half, y - 14, x + half, y + 14, WHITE)
    canvas.text((x, y), text, 14, MUTED, "mm")


def daily_header(canvas: Canvas, days: Sequence[Day], previous: Sequence[Day] | None) -> None:
    """Title on the left, legend with each period's overall rate on the right."""
    items = [(legend_text("This period", days), False)]
    if previous is not None:
        items.append((legend_text("Previous period", previous), True))
    middle, sample_w, gap = PAD_PX + 10, 20, 18
    legend_w = sum(sample_w + 6 + canvas.text_width(text, 12) for text, _ in items)
    x = canvas.width - PAD_PX - legend_w - gap * (len(items) - 1)
    title = "Daily conversion rate"
    if PAD_PX + canvas.text_width(title, 14) + 24 <= x:  # dropped before it could overlap
        canvas.text((PAD_PX, middle), title, 14, TEXT, "lm")
    for text, is_previous in items:
        ends = [(x, middle), (x + sample_w, middle)]
        if is_previous:
            dashed(canvas, ends, PREVIOUS, 2)
        else:
            canvas.line(ends, ACCENT, 2.5)
            canvas.dot((x + sample_w / 2, middle), 3.5, ACCENT, ring=1)
        canvas.text((x + sample_w + 6, middle), text, 12, MUTED, "lm")
        x += sample_w + 6 + canvas.text_width(text, 12) + gap


def legend_text(name: str, days: Sequence[Day]) -> str:
    rate = overall_rate(days)
    return name if rate is None else f"{name} {rate:.1f}%"


def x_labels(canvas: Canvas, plot: Plot, dates: list[datetime.date]) -> None:
    """Date labels counted back from the last day, as many as fit."""
    if not dates:
        return
    labels = [f"{day:%b} {day.day}" for day in dates]
    room = max(canvas.text_width(label, 11) for label in labels) + 14
    fits = int((plot.right - plot.left) // room)
    for index in range(len(dates) - 1, -1, -label_every(len(dates), fits)):
        x, text_w = plot.x(index, len(dates)), canvas.text_width(labels[index], 11)
        left = min(max(x - text_w / 2, 2), canvas.width - 2 - text_w)  # kept inside the image
        canvas.box(x, plot.bottom, x + 1, plot.bottom + 5, AXIS)
        canvas.text((left, plot.bottom + 8), labels[index], 11, MUTED, "la")


def label_every(days: int, fits: int) -> int:
    """Label every n-th day so that at most `fits` labels show; weeks once days run short."""
    need = math.ceil(days / max(1, fits))
    return next((n for n in (1, 2, 3, 7, 14) if n >= need), 28 * math.ceil(need / 28))


def runs(plot: Plot, rates: list[float | None], days: int) -> list[list[Point]]:
    """The points of each stretch of days with a rate; a day without one breaks the line."""
    out: list[list[Point]] = [[]]
    for index, rate in enumerate(rates):
        if rate is None:
            out.append([])
        else:
            out[-1].append((plot.x(index, days), plot.y(rate)))
    return [run for run in out if run]


def dot_radius(plot: Plot, days: int) -> float:
    spacing = (plot.right - plot.left - 2 * DAY_INSET_PX) / max(1, days - 1)
    return min(3.5, max(1.5, spacing / 4))
